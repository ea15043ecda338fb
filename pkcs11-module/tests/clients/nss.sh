#!/usr/bin/env bash
# NSS drives libqkms_pkcs11.so against a running qkms-server: the module is added to a fresh NSS database
# (modutil), certutil generates a key pair on the token and a self-signed certificate stored there, and cmsutil
# signs a message with the token key; cmsutil and plain OpenSSL verify the signature.
# Usage: nss.sh MODULE WORKDIR   (QKMS_PKCS11_CONFIG set; PIN in $QKMS_PIN)
set -euo pipefail
module="$1"
work="$2"
step() { echo "== $*"; }
db="sql:$work/nssdb"
mkdir -p "$work/nssdb"
printf '%s\n' "$QKMS_PIN" > "$work/pin.txt"
tokenname="qkms default"

step "a fresh NSS database; modutil -add the module"
certutil -N -d "$db" --empty-password
modutil -dbdir "$db" -add qkms -libfile "$module" -force
modutil -dbdir "$db" -list qkms | tee "$work/modutil.txt"
grep -q "Token Name: $tokenname" "$work/modutil.txt"
certutil -U -d "$db" | tee "$work/tokens.txt"
grep -q "token=qkms%20default" "$work/tokens.txt"

head -c 4096 /dev/urandom > "$work/noise.bin"
for kind in rsa ec; do
    case "$kind" in
        rsa) keyopts=(-k rsa -g 2048) ;;
        ec) keyopts=(-k ec -q nistp256) ;;
    esac
    step "$kind: certutil -S: key pair generated on the token, self-signed certificate stored there"
    certutil -S -d "$db" -h "$tokenname" -f "$work/pin.txt" -z "$work/noise.bin" "${keyopts[@]}" \
        -n "nss-$kind" -s "CN=qkms nss $kind test" -x -t "P,P,P" -v 2 -m "$RANDOM" -Z SHA256
    certutil -L -d "$db" -h "$tokenname" -f "$work/pin.txt" | tee "$work/$kind.list.txt"
    grep -q "nss-$kind" "$work/$kind.list.txt"
    certutil -K -d "$db" -h "$tokenname" -f "$work/pin.txt" | tee "$work/$kind.keys.txt"
    grep -q "nss-$kind" "$work/$kind.keys.txt"
    certutil -L -d "$db" -h "$tokenname" -f "$work/pin.txt" -n "$tokenname:nss-$kind" -a > "$work/$kind.cert.pem"
    openssl verify -CAfile "$work/$kind.cert.pem" "$work/$kind.cert.pem"

    step "$kind: cmsutil -S signs with the token key; cmsutil -D and openssl cms verify"
    head -c 20000 /dev/urandom > "$work/$kind.msg"
    cmsutil -S -d "$db" -f "$work/pin.txt" -N "$tokenname:nss-$kind" -H SHA256 -i "$work/$kind.msg" \
        -o "$work/$kind.p7s"
    cmsutil -D -d "$db" -f "$work/pin.txt" -i "$work/$kind.p7s" -o "$work/$kind.out"
    cmp "$work/$kind.msg" "$work/$kind.out"
    # -h 1 writes the verification result as a header instead of the content.
    cmsutil -D -d "$db" -f "$work/pin.txt" -i "$work/$kind.p7s" -o "$work/$kind.status" -h 1
    grep -a -o 'signer0.status=[A-Za-z]*' "$work/$kind.status"
    grep -a -q 'signer0.status=GoodSignature' "$work/$kind.status"
    openssl cms -verify -inform DER -in "$work/$kind.p7s" -binary -CAfile "$work/$kind.cert.pem" \
        -purpose any -out "$work/$kind.openssl.out"
    cmp "$work/$kind.msg" "$work/$kind.openssl.out"
done

echo "all steps passed"
