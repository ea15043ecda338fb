#!/usr/bin/env bash
# Java's SunPKCS11 provider (keytool, jarsigner; Debian's OpenJDK 17) drives libqkms_pkcs11.so against a running
# qkms-server: key pairs generated on the token, an RSA key made in software and imported (-providerClass), a jar
# signed with each key and verified (by jarsigner and by openssl cms), entries deleted.
# Usage: java.sh MODULE WORKDIR   (QKMS_PKCS11_CONFIG set; PIN in $QKMS_PIN)
set -euo pipefail
module="$1"
work="$2"
step() { echo "== $*"; }
cfg="$work/sunpkcs11.cfg"
cat > "$cfg" <<CFG
name = qkms
library = $module
slotListIndex = 0
CFG
store=(-keystore NONE -storetype PKCS11 -addprovider SunPKCS11 -providerArg "$cfg" -storepass "$QKMS_PIN")

step "keytool -list: an empty token"
keytool -list "${store[@]}" | tee "$work/list0.txt"
grep -q "Your keystore contains 0 entries" "$work/list0.txt"

step "keytool -genkeypair EC secp256r1 and RSA 2048 on the token (self-signed through C_Sign, stored by C_CreateObject)"
keytool -genkeypair "${store[@]}" -alias ec -keyalg EC -groupname secp256r1 -dname CN=qkms-java-ec
keytool -genkeypair "${store[@]}" -alias rsa -keyalg RSA -keysize 2048 -dname CN=qkms-java-rsa

step "keytool -genkeypair -providerClass: the RSA key is made in software and imported (C_CreateObject)"
keytool -genkeypair -keystore NONE -storetype PKCS11 -providerClass sun.security.pkcs11.SunPKCS11 \
    -providerArg "$cfg" -storepass "$QKMS_PIN" -alias imported -keyalg RSA -keysize 2048 -dname CN=qkms-java-imported

step "keytool -list shows three private-key entries"
keytool -list "${store[@]}" | tee "$work/list3.txt"
grep -q "Your keystore contains 3 entries" "$work/list3.txt"
for alias in ec rsa imported; do grep -q "^$alias, PrivateKeyEntry" "$work/list3.txt"; done

step "jarsigner signs a jar with each key; jarsigner -verify and openssl cms check the signatures"
mkdir -p "$work/content"
echo "signed by a qkms token key" > "$work/content/hello.txt"
(cd "$work/content" && jar cf "$work/app.jar" hello.txt)
for alias in ec rsa imported; do
    cp "$work/app.jar" "$work/app-$alias.jar"
    jarsigner "${store[@]}" "$work/app-$alias.jar" "$alias"
    jarsigner -verify "$work/app-$alias.jar" | tee "$work/verify-$alias.txt"
    grep -q "^jar verified." "$work/verify-$alias.txt"
    rm -rf "$work/meta-$alias" && mkdir "$work/meta-$alias"
    (cd "$work/meta-$alias" && jar xf "$work/app-$alias.jar" META-INF)
    block=$(find "$work/meta-$alias/META-INF" -name '*.EC' -o -name '*.RSA')
    test -n "$block"
    openssl cms -verify -binary -noverify -inform DER -in "$block" -content "${block%.*}.SF" -out /dev/null
done

step "a tampered jar no longer verifies"
rm -rf "$work/tamper" && mkdir "$work/tamper"
(cd "$work/tamper" && jar xf "$work/app-ec.jar" && echo "changed" > hello.txt && jar cfM "$work/tampered.jar" .)
if jarsigner -verify -strict "$work/tampered.jar" > "$work/tampered.txt" 2>&1; then
    cat "$work/tampered.txt"; exit 1
fi
grep -qi "digest error\|SecurityException\|does not match" "$work/tampered.txt"

step "keytool -delete removes the entries"
for alias in ec rsa imported; do keytool -delete "${store[@]}" -alias "$alias"; done
keytool -list "${store[@]}" | tee "$work/list-end.txt"
grep -q "Your keystore contains 0 entries" "$work/list-end.txt"

echo "all steps passed"
