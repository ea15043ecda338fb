#!/usr/bin/env bash
# OpenSSL 3 with pkcs11-provider drives libqkms_pkcs11.so against a running qkms-server: the provider finds the
# token's keys (storeutl), signs with them (dgst), and makes a self-signed certificate (req); everything it signs
# is verified by plain OpenSSL with the exported public key. One command runs under OpenSC's pkcs11-spy to check
# the calls the provider makes at load (its probes) and that the spy can wrap the module.
# Usage: openssl.sh MODULE WORKDIR   (QKMS_PKCS11_CONFIG set; PIN in $QKMS_PIN)
set -euo pipefail
module="$1"
work="$2"
provider=/usr/lib/x86_64-linux-gnu/ossl-modules/pkcs11.so
spy=/usr/lib/x86_64-linux-gnu/pkcs11-spy.so
step() { echo "== $*"; }
user() { pkcs11-tool --module "$module" --login --pin "$QKMS_PIN" "$@"; }

# The PIN is given literally: pkcs11-provider 1.0 reads at most 31 bytes from a `file:` PIN source
# (BIO_gets with MAX_PIN_LENGTH 32), shorter than the PIN `qkms-server --init` writes.
write_config() { # write_config FILE MODULE_PATH
    cat > "$1" <<CNF
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
pkcs11 = pkcs11_sect
[default_sect]
activate = 1
[pkcs11_sect]
module = $provider
pkcs11-module-path = $2
pkcs11-module-token-pin = file:$work/token.pin
activate = 1
CNF
}
# The PIN as --init's pkcs11.pin holds it (no newline), read through the provider's file: source as CLIENTS.md
# recommends; the provider reads at most 31 characters, which the 30-digit PIN fits.
printf '%s' "$QKMS_PIN" > "$work/token.pin"
write_config "$work/openssl.cnf" "$module"
write_config "$work/openssl-spy.cnf" "$spy"
ossl() { OPENSSL_CONF="$work/openssl.cnf" openssl "$@"; }
token='pkcs11:token=qkms%20default'

step "key pairs on the token (pkcs11-tool): RSA-2048 and P-256"
user --keypairgen --key-type rsa:2048 --label ossl-rsa --id 0a01 >/dev/null
user --keypairgen --key-type EC:prime256v1 --label ossl-ec --id 0a02 >/dev/null

step "storeutl -keys lists both private keys with their sizes"
ossl storeutl -keys -text "$token" > "$work/store.txt"
grep -E "Total found|Private Key" "$work/store.txt" || true
grep -q "Total found: 2$" "$work/store.txt"
ossl storeutl -keys -text "$token;object=ossl-rsa;type=private" > "$work/store-rsa.txt"
grep -q "RSA Private Key (2048 bits)" "$work/store-rsa.txt"
ossl storeutl -keys -text "$token;object=ossl-ec;type=private" > "$work/store-ec.txt"
grep -q "EC Private Key (256 bits)" "$work/store-ec.txt"

for kind in rsa ec; do
    key="$token;object=ossl-$kind"
    step "$kind: export the public key through the provider"
    ossl pkey -pubin -in "$key;type=public" -out "$work/$kind.pub.pem"
    openssl pkey -pubin -in "$work/$kind.pub.pem" -noout -text | head -1

    step "$kind: dgst -sha256 -sign with the token key, verified by plain openssl"
    head -c 100000 /dev/urandom > "$work/$kind.data"
    ossl dgst -sha256 -sign "$key;type=private" -out "$work/$kind.sig" "$work/$kind.data"
    openssl dgst -sha256 -verify "$work/$kind.pub.pem" -signature "$work/$kind.sig" "$work/$kind.data"
    printf 'x' >> "$work/$kind.data"
    if openssl dgst -sha256 -verify "$work/$kind.pub.pem" -signature "$work/$kind.sig" "$work/$kind.data" >/dev/null 2>&1; then
        echo "a changed file still verified"; exit 1
    fi

    step "$kind: req -new -x509 signed by the token key; plain openssl verifies its signature"
    ossl req -new -x509 -key "$key;type=private" -subj "/CN=qkms $kind provider test" -days 2 -sha256 \
        -out "$work/$kind.cert.pem"
    openssl verify -CAfile "$work/$kind.cert.pem" "$work/$kind.cert.pem"
    openssl x509 -in "$work/$kind.cert.pem" -noout -pubkey > "$work/$kind.cert.pub.pem"
    cmp <(openssl pkey -pubin -in "$work/$kind.cert.pub.pem" -outform DER) \
        <(openssl pkey -pubin -in "$work/$kind.pub.pem" -outform DER)
done

step "the provider's calls, traced by pkcs11-spy wrapping the module (storeutl, dgst, req)"
spied() { PKCS11SPY="$module" PKCS11SPY_OUTPUT="$work/spy.log" OPENSSL_CONF="$work/openssl-spy.cnf" openssl "$@"; }
spied storeutl -keys "$token" > /dev/null
spied dgst -sha256 -sign "$token;object=ossl-ec;type=private" -out "$work/spy.sig" "$work/ec.data"
openssl dgst -sha256 -verify "$work/ec.pub.pem" -signature "$work/spy.sig" "$work/ec.data"
spied req -new -x509 -key "$token;object=ossl-rsa;type=private" -subj "/CN=spied" -days 1 -out "$work/spy.cert.pem"
openssl verify -CAfile "$work/spy.cert.pem" "$work/spy.cert.pem"
# "FUNCTION CK_RV" for every call, from the spy's log.
awk '/^[0-9]+: C_/ { call = $2 } /^Returned:/ { print call, $3 }' "$work/spy.log" > "$work/calls.txt"
sort "$work/calls.txt" | uniq -c
# The probes: C_GenerateRandom(8) comes before C_Login and succeeds (the machine identity reaches the server),
# so the provider registers its PKCS11-RAND; C_GetOperationState is not supported; C_CopyObject (key caching)
# is not called by these commands in pkcs11-provider 1.0.
grep -q "^C_GenerateRandom CKR_OK$" "$work/calls.txt"
grep -q "^C_GetOperationState CKR_FUNCTION_NOT_SUPPORTED$" "$work/calls.txt"
grep -q "^C_SignFinal CKR_OK$" "$work/calls.txt"
# Every refusal is one of the expected answers: nothing failed for another reason.
if grep -v -E " (CKR_OK|CKR_USER_NOT_LOGGED_IN|CKR_FUNCTION_NOT_SUPPORTED|CKR_ATTRIBUTE_TYPE_INVALID)$" \
    "$work/calls.txt"; then
    echo "unexpected answers above"; exit 1
fi
if grep "^C_GenerateRandom " "$work/calls.txt" | grep -v -E "CKR_OK$"; then exit 1; fi

echo "all steps passed"
