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

step "-M: exactly the working mechanisms (hw: performed by the server; digests in the module)"
tool -M | tee "$work/mechs.txt"
grep -q "AES-KEY-GEN, keySize={16,32}, hw, generate" "$work/mechs.txt"
grep -q "RSA-PKCS-KEY-PAIR-GEN, keySize={2048,4096}, hw, generate_key_pair" "$work/mechs.txt"
grep -q "ECDSA-KEY-PAIR-GEN, keySize={256,384}, hw, generate_key_pair" "$work/mechs.txt"
grep -q "^ *RSA-PKCS, keySize={2048,4096}, hw, encrypt, decrypt, sign, verify$" "$work/mechs.txt"
for m in SHA256-RSA-PKCS SHA384-RSA-PKCS SHA512-RSA-PKCS RSA-PKCS-PSS SHA256-RSA-PKCS-PSS \
         SHA384-RSA-PKCS-PSS SHA512-RSA-PKCS-PSS; do
  grep -q "^ *$m, keySize={2048,4096}, hw, sign, verify$" "$work/mechs.txt"
done
for m in ECDSA ECDSA-SHA256 ECDSA-SHA384; do
  grep -q "^ *$m, keySize={256,384}, hw, sign, verify" "$work/mechs.txt"
done
grep -q "RSA-PKCS-OAEP, keySize={2048,4096}, hw, encrypt, decrypt$" "$work/mechs.txt"
for m in AES-ECB AES-CBC AES-CBC-PAD AES-GCM; do
  grep -q "^ *$m, keySize={16,32}, hw, encrypt, decrypt$" "$work/mechs.txt"
done
grep -q "AES-KEY-WRAP, keySize={16,32}, hw, wrap, unwrap$" "$work/mechs.txt"
# OpenSC 0.23 has no name for CKM_AES_KEY_WRAP_PAD (0x210A)
grep -Eq "(AES-KEY-WRAP-PAD|mechtype-0x210A), keySize=\\{16,32\\}, hw, wrap, unwrap$" "$work/mechs.txt"
grep -q "SHA256-HMAC, keySize={14,1024}, hw, sign, verify$" "$work/mechs.txt"
grep -q "GENERIC-SECRET-KEY-GEN, keySize={112,8192}, hw, generate$" "$work/mechs.txt"
test "$(grep -c keySize "$work/mechs.txt")" = 23
# the digests, computed in the module (OpenSC 0.23 names SHA3 by number)
for m in SHA-1 SHA224 SHA256 SHA384 SHA512 "mechtype-0x2B5" "mechtype-0x2B0" "mechtype-0x2C0" "mechtype-0x2D0"; do
  grep -Eq "^ *($m|SHA3-[0-9]+), digest$" "$work/mechs.txt"
done
test "$(grep -c ", digest$" "$work/mechs.txt")" = 9

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

step "data object round trip, with CKA_APPLICATION and CKA_OBJECT_ID (--application-label/-id)"
printf 'qkms data object' > "$work/data.bin"
user --write-object "$work/data.bin" --type data --label tool-data
user --read-object --type data --label tool-data -o "$work/data-back.bin"
cmp "$work/data.bin" "$work/data-back.bin"
user --write-object "$work/data.bin" --type data --label tool-app-data --application-label qkms-tests \
  --application-id 1.2.840.113549.1.7.1 | tee "$work/app-data.txt"
grep -q "application: *'qkms-tests'" "$work/app-data.txt"
grep -q "app_id: *1.2.840.113549.1.7.1" "$work/app-data.txt"
user --read-object --type data --application-label qkms-tests -o "$work/app-back.bin"
cmp "$work/data.bin" "$work/app-back.bin"
user --read-object --type data --application-id 1.2.840.113549.1.7.1 -o "$work/oid-back.bin"
cmp "$work/data.bin" "$work/oid-back.bin"

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

step "without --login: --read-object --type pubkey finds the public key; -O lists public objects only"
tool --read-object --type pubkey --label tool-rsa -o "$work/rsa-pub-nologin.der"
cmp "$work/rsa-pub.der" "$work/rsa-pub-nologin.der"
tool -O | tee "$work/public-objects.txt"
grep -q "Public Key Object; RSA 2048 bits" "$work/public-objects.txt"
# (pkcs11-tool makes keys with CKA_PRIVATE false unless --private: tool-aes is a public secret key, listed
# as SoftHSM2 lists it; a private key always has CKA_PRIVATE true.)
if grep -q "Private Key Object" "$work/public-objects.txt"; then
  echo "a private object is visible before login"; exit 1
fi
tool --generate-random 32 > "$work/r-nologin.bin"
test "$(stat -c %s "$work/r-nologin.bin")" = 32
if tool --sign -m SHA256-RSA-PKCS --label tool-rsa -i "$work/rsa-pub.der" -o "$work/nologin.sig" </dev/null \
  2>"$work/nologin-sign.txt"; then exit 1; fi

step "RSA PKCS#1 v1.5 with SHA-256/384/512 verifies with openssl; RSA-PKCS over a DigestInfo and over raw bytes too"
printf 'qkms signs this' > "$work/msg.bin"
for bits in 256 384 512; do
  user --sign -m "SHA$bits-RSA-PKCS" --label tool-rsa -i "$work/msg.bin" -o "$work/rsa$bits.sig"
  openssl dgst "-sha$bits" -verify "$work/rsa-pub.pem" -signature "$work/rsa$bits.sig" "$work/msg.bin"
  user --verify -m "SHA$bits-RSA-PKCS" --label tool-rsa -i "$work/msg.bin" \
    --signature-file "$work/rsa$bits.sig" | grep -q "Signature is valid"
done
cp "$work/rsa256.sig" "$work/rsa.sig"
printf 'a different message' > "$work/other.bin"
user --verify -m SHA256-RSA-PKCS --label tool-rsa -i "$work/other.bin" \
  --signature-file "$work/rsa.sig" > "$work/bad-verify.txt" 2>&1 || true
grep -q "Invalid signature" "$work/bad-verify.txt"
# DigestInfo(SHA-256) = the fixed prefix, then the digest.
{ printf '\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20'
  openssl dgst -sha256 -binary "$work/msg.bin"; } > "$work/digest-info.bin"
user --sign -m RSA-PKCS --label tool-rsa -i "$work/digest-info.bin" -o "$work/rsa-raw.sig"
cmp "$work/rsa.sig" "$work/rsa-raw.sig"
# Any other value (here TLS 1.1's 36-byte MD5 || SHA-1) is signed as given: openssl pkeyutl with no digest
# checks the bare PKCS#1 v1.5 block; 246 bytes (k - 10) is one too many.
{ openssl dgst -md5 -binary "$work/msg.bin"; openssl dgst -sha1 -binary "$work/msg.bin"; } > "$work/md5sha1.bin"
user --sign -m RSA-PKCS --label tool-rsa -i "$work/md5sha1.bin" -o "$work/rsa-md5sha1.sig"
openssl pkeyutl -verify -pubin -inkey "$work/rsa-pub.pem" -pkeyopt rsa_padding_mode:pkcs1 \
  -in "$work/md5sha1.bin" -sigfile "$work/rsa-md5sha1.sig"
user --verify -m RSA-PKCS --label tool-rsa -i "$work/md5sha1.bin" \
  --signature-file "$work/rsa-md5sha1.sig" | grep -q "Signature is valid"
head -c 246 /dev/zero | tr '\0' 'q' > "$work/too-long.bin"
if user --sign -m RSA-PKCS --label tool-rsa -i "$work/too-long.bin" -o "$work/too-long.sig" \
  2> "$work/too-long.txt"; then exit 1; fi
# The module's C_Sign says CKR_DATA_LEN_RANGE (0x21) on stderr; pkcs11-tool then retries in parts, which a
# single-part mechanism refuses.
grep -q "C_Sign: CKM_RSA_PKCS signs 1 to k - 11 bytes .*(CK_RV 0x00000021)" "$work/too-long.txt"

step "RSA-PSS with SHA-256/384/512 (salt = digest length) verifies with openssl"
for bits in 256 384 512; do
  user --sign -m "SHA$bits-RSA-PKCS-PSS" --label tool-rsa -i "$work/msg.bin" -o "$work/pss$bits.sig"
  openssl dgst "-sha$bits" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1 \
    -verify "$work/rsa-pub.pem" -signature "$work/pss$bits.sig" "$work/msg.bin"
  user --verify -m "SHA$bits-RSA-PKCS-PSS" --label tool-rsa -i "$work/msg.bin" \
    --signature-file "$work/pss$bits.sig" | grep -q "Signature is valid"
done
openssl dgst -sha384 -binary "$work/msg.bin" > "$work/msg.sha384"
user --sign -m RSA-PKCS-PSS --hash-algorithm SHA384 --mgf MGF1-SHA384 --label tool-rsa \
  -i "$work/msg.sha384" -o "$work/pss-raw.sig"
openssl pkeyutl -verify -pubin -inkey "$work/rsa-pub.pem" -pkeyopt rsa_padding_mode:pss \
  -pkeyopt digest:sha384 -pkeyopt rsa_pss_saltlen:-1 -in "$work/msg.sha384" -sigfile "$work/pss-raw.sig"

for curve in prime256v1 secp384r1; do
  step "--keypairgen EC:$curve, --sign -m ECDSA / ECDSA-SHA256 / ECDSA-SHA384 verify with openssl"
  user --keypairgen --key-type "EC:$curve" --label "tool-$curve" --id 5a02
  user -O --type pubkey --label "tool-$curve" | tee "$work/ec-obj.txt"
  if [ "$curve" = prime256v1 ]; then
    user --read-object --type pubkey --label "tool-$curve" -o "$work/ec-pub.der"
  else
    # pkcs11-tool 0.23 cannot build a P-384 EVP_PKEY from any token (SoftHSM2 fails the same way), so the
    # SubjectPublicKeyInfo is assembled here from CKA_EC_POINT (DER OCTET STRING 04 61 || 04 x y).
    point=$(awk -v want="tool-$curve" '/EC_POINT:/ {p = $2} /label:/ && $2 == want {print p}' "$work/ec-obj.txt")
    test "${point:0:6}" = 046104
    test "${#point}" = 198
    { printf '3076301006072a8648ce3d020106052b81040022036200'; printf '%s' "${point:4}"; } \
      | xxd -r -p > "$work/ec-pub.der"
  fi
  openssl pkey -pubin -inform DER -in "$work/ec-pub.der" -out "$work/ec-pub.pem"
  openssl pkey -pubin -in "$work/ec-pub.pem" -text -noout > "$work/ec-pub.txt"
  grep -q "ASN1 OID: $curve" "$work/ec-pub.txt"
  openssl dgst -sha256 -binary "$work/msg.bin" > "$work/msg.sha256"
  user --sign -m ECDSA --label "tool-$curve" --signature-format openssl \
    -i "$work/msg.sha256" -o "$work/ec.sig"
  openssl dgst -sha256 -verify "$work/ec-pub.pem" -signature "$work/ec.sig" "$work/msg.bin"
  for bits in 256 384; do
    user --sign -m "ECDSA-SHA$bits" --label "tool-$curve" --signature-format openssl \
      -i "$work/msg.bin" -o "$work/ec$bits.sig"
    openssl dgst "-sha$bits" -verify "$work/ec-pub.pem" -signature "$work/ec$bits.sig" "$work/msg.bin"
    user --verify -m "ECDSA-SHA$bits" --label "tool-$curve" --signature-format openssl \
      -i "$work/msg.bin" --signature-file "$work/ec$bits.sig" | grep -q "Signature is valid"
  done
done

step "AES-CBC-PAD encrypt/decrypt with a known key agrees with openssl enc"
key_hex=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
iv_hex=f0e0d0c0b0a090807060504030201000
printf '%s' "$key_hex" | xxd -r -p > "$work/aes.key"
user --write-object "$work/aes.key" --type secrkey --key-type AES:32 --label tool-aes-known --id a5a5 --usage-decrypt
head -c 1000 /dev/urandom > "$work/plain.bin"
user --encrypt -m AES-CBC-PAD --iv "$iv_hex" --id a5a5 -i "$work/plain.bin" -o "$work/ct.bin"
openssl enc -aes-256-cbc -K "$key_hex" -iv "$iv_hex" -in "$work/plain.bin" -out "$work/ct-openssl.bin"
cmp "$work/ct.bin" "$work/ct-openssl.bin"
user --decrypt -m AES-CBC-PAD --iv "$iv_hex" --id a5a5 -i "$work/ct.bin" -o "$work/back.bin"
cmp "$work/plain.bin" "$work/back.bin"

step "--keygen GENERIC:32 (an HMAC-SHA256 key), SHA256-HMAC sign and verify"
user --keygen --key-type GENERIC:32 --label tool-hmac --id b2 --usage-sign
user --sign -m SHA256-HMAC --id b2 -i "$work/msg.bin" -o "$work/hmac.sig"
test "$(stat -c %s "$work/hmac.sig")" = 32
user --verify -m SHA256-HMAC --id b2 -i "$work/msg.bin" --signature-file "$work/hmac.sig" \
  | grep -q "Signature is valid"
user --verify -m SHA256-HMAC --id b2 -i "$work/other.bin" --signature-file "$work/hmac.sig" \
  > "$work/bad-hmac.txt" 2>&1 || true
grep -q "Invalid signature" "$work/bad-hmac.txt"

step "--hash with SHA-1/224/256/384/512 (computed in the module) agrees with openssl dgst"
head -c 100000 /dev/urandom > "$work/hash-input.bin"
for alg in sha1 sha224 sha256 sha384 sha512; do
  m=$(echo "$alg" | tr a-z A-Z | sed 's/^SHA1$/SHA-1/')
  tool --hash -m "$m" -i "$work/hash-input.bin" -o "$work/hash-$alg.bin"
  cmp "$work/hash-$alg.bin" <(openssl dgst -"$alg" -binary "$work/hash-input.bin")
done

step "--test --login: pkcs11-tool's own self-test (random, digests, RSA signatures, verify, decryption)"
tool --test --login --pin "$QKMS_PIN" 2>&1 | tee "$work/selftest.txt"
grep -q "all 4 digest functions seem to work" "$work/selftest.txt"
grep -Eq "^ +RSA-PKCS: OK" "$work/selftest.txt"
grep -Eq "^ +SHA256-RSA-PKCS: OK" "$work/selftest.txt"
grep -q "^No errors" "$work/selftest.txt"

step "--test-threads (no background threads in the module; several caller threads)"
tool --test-threads ILGISLT0 --test-threads ILGISLT0 > "$work/threads.txt" 2>&1
if grep -q "some errors" "$work/threads.txt"; then exit 1; fi

step "--test-fork (the child calls C_Initialize again)"
user --test-fork 2>&1 | tee "$work/fork.txt"
if grep -qi "error\|fail" "$work/fork.txt"; then exit 1; fi

echo "pkcs11-tool: all steps passed"
