#!/usr/bin/env bash
# osslsigncode signs code with a key held by qkms through libqkms_pkcs11.so (osslsigncode 2.9 reaches PKCS#11
# through OpenSSL's pkcs11 engine, libp11), then verifies the Authenticode signature. The signing certificate is
# made by `openssl req` through the same engine, and is read once from a file and once from the token.
# Usage: osslsigncode.sh MODULE WORKDIR   (QKMS_PKCS11_CONFIG set; PIN in $QKMS_PIN)
set -euo pipefail
module="$1"
work="$2"
step() { echo "== $*"; }
user() { pkcs11-tool --module "$module" --login --pin "$QKMS_PIN" "$@"; }
key='pkcs11:token=qkms%20default;object=osc-rsa;type=private'

step "an RSA-2048 key pair on the token (pkcs11-tool)"
user --keypairgen --key-type rsa:2048 --label osc-rsa --id 0c01 >/dev/null

step "the code-signing certificate: openssl req through the pkcs11 engine with the token key"
cat > "$work/engine.cnf" <<CNF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
MODULE_PATH = $module
PIN = $QKMS_PIN
init = 0
[req]
distinguished_name = dn
[dn]
[codesign]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
CNF
OPENSSL_CONF="$work/engine.cnf" openssl req -new -x509 -engine pkcs11 -keyform engine -key "$key" \
    -subj "/CN=qkms code signing test" -days 2 -sha256 -extensions codesign -out "$work/cert.pem"
openssl verify -CAfile "$work/cert.pem" "$work/cert.pem"
openssl x509 -in "$work/cert.pem" -outform DER -out "$work/cert.der"
user --write-object "$work/cert.der" --type cert --label osc-rsa --id 0c01 >/dev/null

printf 'Write-Output "signed by a qkms key"\r\n' > "$work/script.ps1"
sign_and_verify() { # sign_and_verify NAME CERT-OPTIONS...
    local name="$1"
    shift
    step "$name: osslsigncode sign, then verify"
    osslsigncode sign -pkcs11module "$module" -pass "$QKMS_PIN" "$@" -key "$key" -h sha256 \
        -n "qkms test" -in "$work/script.ps1" -out "$work/$name.ps1"
    osslsigncode verify -in "$work/$name.ps1" -CAfile "$work/cert.pem" | tee "$work/$name.verify.txt"
    grep -q "Signature verification: ok" "$work/$name.verify.txt"
    grep -q "CN=qkms code signing test" "$work/$name.verify.txt"
    # The signature covers the content: a changed script no longer verifies.
    sed 's/signed by/changed by/' "$work/$name.ps1" > "$work/$name.tampered.ps1"
    if osslsigncode verify -in "$work/$name.tampered.ps1" -CAfile "$work/cert.pem" >/dev/null 2>&1; then
        echo "a changed script still verified"; exit 1
    fi
}
sign_and_verify with-cert-file -certs "$work/cert.pem"
sign_and_verify with-token-cert -pkcs11cert 'pkcs11:token=qkms%20default;object=osc-rsa;type=cert'

echo "all steps passed"
