#!/usr/bin/env bash
# Drives libqkms_pkcs11.so with OpenSC pkcs11-tool against a running qkms-server.
# Usage: pkcs11_tool.sh MODULE WORKDIR   (QKMS_PKCS11_CONFIG set; PIN in $QKMS_PIN)
set -euo pipefail
module="$1"
work="$2"
tool() { pkcs11-tool --module "$module" "$@"; }
user() { tool --login --pin "$QKMS_PIN" "$@"; }
step() { echo "== $*"; }

step "-L: one slot, its token"
tool -L | tee "$work/slots.txt"
grep -q "token label *: qkms default" "$work/slots.txt"
grep -q "login required" "$work/slots.txt"

step "-M: exactly the working mechanisms"
tool -M | tee "$work/mechs.txt"
grep -q "AES-KEY-GEN, keySize={16,32}, generate" "$work/mechs.txt"

step "wrong PIN is refused"
if tool --login --pin wrong-pin -O 2>"$work/badpin.txt"; then exit 1; fi
grep -q "CKR_PIN_INCORRECT" "$work/badpin.txt"

step "--generate-random 64 (and a large draw)"
user --generate-random 64 > "$work/r1.bin"
user --generate-random 64 > "$work/r2.bin"
test "$(stat -c %s "$work/r1.bin")" = 64
if cmp -s "$work/r1.bin" "$work/r2.bin"; then exit 1; fi
user --generate-random 100000 > "$work/r3.bin"
test "$(stat -c %s "$work/r3.bin")" = 100000

step "--keygen AES:32, listed by -O with label and id"
user --keygen --key-type AES:32 --label tool-aes --id a1b2
user -O --type secrkey --label tool-aes | tee "$work/aes.txt"
grep -q "AES length 32" "$work/aes.txt"
grep -q "ID: *a1b2" "$work/aes.txt"

step "--write-object cert, --read-object gives it back, --delete-object removes it"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/cert.key" \
  -subj /CN=qkms-pkcs11-test -days 2 -outform DER -out "$work/cert.der" 2>/dev/null
user --write-object "$work/cert.der" --type cert --label tool-cert --id c0de
user --read-object --type cert --label tool-cert -o "$work/back.der"
cmp "$work/cert.der" "$work/back.der"
user -O --type cert | grep -q "subject: *DN: CN=qkms-pkcs11-test"
user --delete-object --type cert --label tool-cert
if user -O --type cert | grep -q tool-cert; then exit 1; fi

step "data object round trip"
printf 'qkms data object' > "$work/data.bin"
user --write-object "$work/data.bin" --type data --label tool-data
user --read-object --type data --label tool-data -o "$work/data-back.bin"
cmp "$work/data.bin" "$work/data-back.bin"

step "--test-threads (no background threads in the module; several caller threads)"
tool --test-threads ILGISLT0 --test-threads ILGISLT0 > "$work/threads.txt" 2>&1
if grep -q "some errors" "$work/threads.txt"; then exit 1; fi

step "--test-fork (the child calls C_Initialize again)"
user --test-fork 2>&1 | tee "$work/fork.txt"
if grep -qi "error\|fail" "$work/fork.txt"; then exit 1; fi

echo "pkcs11-tool: all steps passed"
