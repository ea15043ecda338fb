#!/usr/bin/env bash
# OpenSC's pkcs11-spy wraps libqkms_pkcs11.so and pkcs11-tool drives the pair against a running qkms-server. The
# spy asks the module for its "PKCS 11" interface and writes its own function list into the CK_INTERFACE it is
# given (as the reference modules allow); that write once crashed the process (the structure was read-only).
# Usage: pkcs11_spy.sh MODULE WORKDIR   (QKMS_PKCS11_CONFIG set; PIN in $QKMS_PIN)
set -euo pipefail
module="$1"
work="$2"
spy=/usr/lib/x86_64-linux-gnu/pkcs11-spy.so
step() { echo "== $*"; }
export PKCS11SPY="$module" PKCS11SPY_OUTPUT="$work/spy.log"
tool() { pkcs11-tool --module "$spy" "$@"; }
user() { tool --login --pin "$QKMS_PIN" "$@"; }

step "-L through the spy"
tool -L | tee "$work/slots.txt"
grep -q "token label *: qkms default" "$work/slots.txt"
grep -q "^Loaded: \"$module\"" "$work/spy.log"
grep -A8 "^[0-9]*: C_GetInterface$" "$work/spy.log" | grep -m1 "^Returned:" | grep -q CKR_OK

step "key pair, signature and verification through the spy"
user --keypairgen --key-type EC:prime256v1 --label spy-ec --id 5e01 >/dev/null
head -c 1000 /dev/urandom > "$work/data"
user --sign -m ECDSA-SHA256 --label spy-ec -i "$work/data" -o "$work/sig" --signature-format openssl
user --read-object --type pubkey --label spy-ec -o "$work/pub.der"
openssl dgst -sha256 -verify "$work/pub.der" -keyform DER -signature "$work/sig" "$work/data"
grep -q "^[0-9]*: C_Sign$" "$work/spy.log"

echo "all steps passed"
