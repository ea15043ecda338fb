#!/usr/bin/env bash
# GnuTLS's p11tool and certtool drive libqkms_pkcs11.so (loaded with --provider, through p11-kit) against a running
# qkms-server: key pairs generated on the token, the tool's own signature self-test, random bytes, and a
# self-signed certificate whose signature plain OpenSSL verifies.
# Usage: gnutls.sh MODULE WORKDIR   (QKMS_PKCS11_CONFIG set; PIN in $QKMS_PIN)
set -euo pipefail
module="$1"
work="$2"
step() { echo "== $*"; }
export GNUTLS_PIN="$QKMS_PIN"
p11() { p11tool --provider "$module" "$@"; }
token='pkcs11:token=qkms%20default'

step "--list-tokens shows the token"
p11 --list-tokens | tee "$work/tokens.txt" | grep -E "Label|Manufacturer|Flags" || true
grep -q "Label: qkms default" "$work/tokens.txt"

step "--generate-privkey rsa (2048 bits) and ecdsa (P-256) on the token"
p11 --login --generate-privkey rsa --bits 2048 --label gnutls-rsa --outfile "$work/rsa.pub.pem" "$token"
p11 --login --generate-privkey ecdsa --curve secp256r1 --label gnutls-ec --outfile "$work/ec.pub.pem" "$token"
openssl pkey -pubin -in "$work/rsa.pub.pem" -noout -text | grep -q "2048 bit"
openssl pkey -pubin -in "$work/ec.pub.pem" -noout -text | grep -q "prime256v1\|P-256"

step "--list-privkeys shows both"
p11 --login --list-privkeys "$token" | tee "$work/privkeys.txt" | grep -E "Label|Type" || true
grep -q "Label: gnutls-rsa" "$work/privkeys.txt"
grep -q "Label: gnutls-ec" "$work/privkeys.txt"

for kind in rsa ec; do
    step "$kind: --test-sign (sign with the token key, verify with its public key)"
    p11 --login --test-sign "$token;object=gnutls-$kind;type=private" 2>&1 | tee "$work/$kind.test.txt"
    grep -q "Verifying against public key in the token... ok" "$work/$kind.test.txt"
    grep -q "Verifying against private key parameters... ok" "$work/$kind.test.txt" ||
        grep -q "Signing using .*\.\.\. ok" "$work/$kind.test.txt"

    step "$kind: certtool --generate-self-signed with the token key; openssl verifies it"
    cat > "$work/$kind.tmpl" <<TMPL
cn = "qkms gnutls $kind test"
serial = 7
expiration_days = 2
ca
cert_signing_key
signing_key
TMPL
    certtool --provider "$module" --generate-self-signed --load-privkey "$token;object=gnutls-$kind;type=private" \
        --template "$work/$kind.tmpl" --outfile "$work/$kind.cert.pem" 2>"$work/$kind.certtool.err"
    openssl verify -CAfile "$work/$kind.cert.pem" "$work/$kind.cert.pem"
    cmp <(openssl x509 -in "$work/$kind.cert.pem" -noout -pubkey | openssl pkey -pubin -outform DER) \
        <(openssl pkey -pubin -in "$work/$kind.pub.pem" -outform DER)
    certtool --verify --load-ca-certificate "$work/$kind.cert.pem" --infile "$work/$kind.cert.pem" \
        > "$work/$kind.verify.txt" 2>&1
    grep -q "Chain verification output: Verified" "$work/$kind.verify.txt"
done

step "--generate-random: p11tool opens a session without logging in (even with --login), so it draws from a"
step "token whose identity needs no PIN (PEM): a second token on the same configuration"
# C_GenerateRandom on the PIN-protected token is refused before C_Login (CKR_USER_NOT_LOGGED_IN): until the PIN
# opens its PKCS#12 bundle the module has no identity to reach the server with.
config_dir=$(dirname "$QKMS_PKCS11_CONFIG")
open_config="$config_dir/pkcs11-open.toml"
cp "$QKMS_PKCS11_CONFIG" "$open_config"
printf '\n[[token]]\nlabel = "qkms open"\ncertificate = "pki/client.pem"\nkey = "pki/client.key"\n' >> "$open_config"
QKMS_PKCS11_CONFIG="$open_config" p11 --list-tokens | grep -q "Label: qkms open"
QKMS_PKCS11_CONFIG="$open_config" p11 --generate-random 64 'pkcs11:token=qkms%20open' > "$work/r1.bin"
QKMS_PKCS11_CONFIG="$open_config" p11 --generate-random 64 'pkcs11:token=qkms%20open' > "$work/r2.bin"
test "$(stat -c %s "$work/r1.bin")" = 64
test "$(stat -c %s "$work/r2.bin")" = 64
if cmp -s "$work/r1.bin" "$work/r2.bin"; then echo "two random draws are equal"; exit 1; fi
QKMS_PKCS11_CONFIG="$open_config" p11 --generate-random 100000 'pkcs11:token=qkms%20open' > "$work/r3.bin"
test "$(stat -c %s "$work/r3.bin")" = 100000

echo "all steps passed"
