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

step "--list-all without login shows the public objects only (public keys; no private key)"
p11 --list-all "$token" | tee "$work/public.txt" | grep -E "URL|Type" || true
grep -q "object=gnutls-ec;type=public" "$work/public.txt"
grep -q "object=gnutls-rsa;type=public" "$work/public.txt"
if grep -q "type=private" "$work/public.txt"; then echo "a private object is visible before login"; exit 1; fi

step "--generate-random: p11tool opens a session without logging in; the machine identity reaches the server"
p11 --generate-random 64 "$token" > "$work/r1.bin"
p11 --generate-random 64 "$token" > "$work/r2.bin"
test "$(stat -c %s "$work/r1.bin")" = 64
test "$(stat -c %s "$work/r2.bin")" = 64
if cmp -s "$work/r1.bin" "$work/r2.bin"; then echo "two random draws are equal"; exit 1; fi
p11 --generate-random 100000 "$token" > "$work/r3.bin"
test "$(stat -c %s "$work/r3.bin")" = 100000

echo "all steps passed"
