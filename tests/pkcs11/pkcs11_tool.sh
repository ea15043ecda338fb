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
grep -q "RSA-PKCS-KEY-PAIR-GEN, keySize={2048,4096}, generate_key_pair" "$work/mechs.txt"
grep -q "ECDSA-KEY-PAIR-GEN, keySize={256,256}, generate_key_pair" "$work/mechs.txt"
grep -q "SHA256-RSA-PKCS, keySize={2048,4096}, sign, verify" "$work/mechs.txt"
grep -q "ECDSA, keySize={256,256}, sign, verify" "$work/mechs.txt"
test "$(grep -c keySize "$work/mechs.txt")" = 7

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

step "--keypairgen rsa:2048: public key readable, private key sensitive"
user --keypairgen --key-type rsa:2048 --label tool-rsa --id 5a01 | tee "$work/rsa-gen.txt"
user --read-object --type pubkey --label tool-rsa -o "$work/rsa-pub.der"
openssl pkey -pubin -inform DER -in "$work/rsa-pub.der" -out "$work/rsa-pub.pem"
openssl pkey -pubin -in "$work/rsa-pub.pem" -text -noout > "$work/rsa-pub.txt"
grep -q "Public-Key: (2048 bit)" "$work/rsa-pub.txt"
user --read-object --type privkey --label tool-rsa -o "$work/rsa-priv.der" 2>"$work/priv-err.txt" || true
test ! -s "$work/rsa-priv.der"
user -O --type privkey --label tool-rsa | tee "$work/rsa-priv.txt"
grep -q "sensitive" "$work/rsa-priv.txt"

step "--sign -m SHA256-RSA-PKCS verifies with openssl; RSA-PKCS over a DigestInfo too"
printf 'qkms signs this' > "$work/msg.bin"
user --sign -m SHA256-RSA-PKCS --label tool-rsa -i "$work/msg.bin" -o "$work/rsa.sig"
openssl dgst -sha256 -verify "$work/rsa-pub.pem" -signature "$work/rsa.sig" "$work/msg.bin"
user --verify -m SHA256-RSA-PKCS --label tool-rsa -i "$work/msg.bin" --signature-file "$work/rsa.sig" \
  > "$work/good-verify.txt"
grep -q "Signature is valid" "$work/good-verify.txt"
printf 'a different message' > "$work/other.bin"
user --verify -m SHA256-RSA-PKCS --label tool-rsa -i "$work/other.bin" \
  --signature-file "$work/rsa.sig" > "$work/bad-verify.txt" 2>&1 || true
grep -q "Invalid signature" "$work/bad-verify.txt"
# DigestInfo(SHA-256) = the fixed prefix, then the digest.
{ printf '\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20'
  openssl dgst -sha256 -binary "$work/msg.bin"; } > "$work/digest-info.bin"
user --sign -m RSA-PKCS --label tool-rsa -i "$work/digest-info.bin" -o "$work/rsa-raw.sig"
cmp "$work/rsa.sig" "$work/rsa-raw.sig"

for curve in prime256v1; do
  step "--keypairgen EC:$curve, --sign -m ECDSA / ECDSA-SHA256 verify with openssl"
  user --keypairgen --key-type "EC:$curve" --label "tool-$curve" --id 5a02
  user --read-object --type pubkey --label "tool-$curve" -o "$work/ec-pub.der"
  openssl pkey -pubin -inform DER -in "$work/ec-pub.der" -out "$work/ec-pub.pem"
  openssl pkey -pubin -in "$work/ec-pub.pem" -text -noout > "$work/ec-pub.txt"
  grep -q "ASN1 OID: $curve" "$work/ec-pub.txt"
  openssl dgst -sha256 -binary "$work/msg.bin" > "$work/msg.sha256"
  user --sign -m ECDSA --label "tool-$curve" --signature-format openssl \
    -i "$work/msg.sha256" -o "$work/ec.sig"
  openssl dgst -sha256 -verify "$work/ec-pub.pem" -signature "$work/ec.sig" "$work/msg.bin"
  user --sign -m ECDSA-SHA256 --label "tool-$curve" --signature-format openssl \
    -i "$work/msg.bin" -o "$work/ec2.sig"
  openssl dgst -sha256 -verify "$work/ec-pub.pem" -signature "$work/ec2.sig" "$work/msg.bin"
  user --verify -m ECDSA-SHA256 --label "tool-$curve" --signature-format openssl \
    -i "$work/msg.bin" --signature-file "$work/ec2.sig" > "$work/ec-verify.txt"
  grep -q "Signature is valid" "$work/ec-verify.txt"
done

step "--test-threads (no background threads in the module; several caller threads)"
tool --test-threads ILGISLT0 --test-threads ILGISLT0 > "$work/threads.txt" 2>&1
if grep -q "some errors" "$work/threads.txt"; then exit 1; fi

step "--test-fork (the child calls C_Initialize again)"
user --test-fork 2>&1 | tee "$work/fork.txt"
if grep -qi "error\|fail" "$work/fork.txt"; then exit 1; fi

echo "pkcs11-tool: all steps passed"
