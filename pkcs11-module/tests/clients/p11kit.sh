#!/usr/bin/env bash
# p11-kit finds libqkms_pkcs11.so through the module file the repository ships (pkcs11-module/p11-kit/qkms.module):
# `p11-kit list-modules` lists it with its token, and GnuTLS's p11tool, which loads its modules through p11-kit,
# sees the token with no --provider. p11-kit reads no user configuration as root (as CI runs), so as root the
# file is installed into the system directory under a name of its own and removed on exit; otherwise into the
# user configuration of a private HOME. Then, with a PEM identity (no PIN, no login), public objects and random
# numbers are available without logging in, as on a real token.
# Usage: p11kit.sh MODULE WORKDIR   (QKMS_PKCS11_CONFIG set; PIN in $QKMS_PIN)
set -euo pipefail
module="$1"
work="$2"
step() { echo "== $*"; }
shipped="$(dirname "$0")/../../p11-kit/qkms.module"
name="qkms-test-$$"

step "install the shipped module file (module: the built library)"
if [ "$(id -u)" = 0 ]; then
    confdir=/etc/pkcs11/modules
else
    export HOME="$work/home"
    confdir="$HOME/.config/pkcs11/modules"
fi
mkdir -p "$confdir"
trap 'rm -f "$confdir/$name.module"' EXIT
sed "s|^module: .*|module: $module|" "$shipped" > "$confdir/$name.module"
grep -q "^critical: no" "$confdir/$name.module"

step "p11-kit list-modules lists the module and its token"
p11-kit list-modules 2>&1 | tee "$work/modules.txt"
grep -q "^$name: $module" "$work/modules.txt"
grep -A3 "^$name:" "$work/modules.txt" | grep -q "library-manufacturer: qkms"
grep -q "token: qkms default" "$work/modules.txt"

step "p11tool (GnuTLS through p11-kit) sees the token without --provider"
p11tool --list-tokens 2>&1 | tee "$work/tokens.txt"
grep -q "Label: qkms default" "$work/tokens.txt"

step "a PEM identity (no PIN): objects made on the token"
config_dir=$(dirname "$QKMS_PKCS11_CONFIG")
open_config="$config_dir/pkcs11-open.toml"
cp "$QKMS_PKCS11_CONFIG" "$open_config"
printf '\n[[token]]\nlabel = "qkms open"\ncertificate = "pki/client.pem"\nkey = "pki/client.key"\n' >> "$open_config"
export QKMS_PKCS11_CONFIG="$open_config"
tool() { pkcs11-tool --module "$module" --token-label "qkms open" "$@"; }
tool --keypairgen --key-type EC:prime256v1 --label open-ec --id 0e01
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/open.key" \
    -subj /CN=qkms-open-cert -days 2 -outform DER -out "$work/open.der" 2>/dev/null
tool --write-object "$work/open.der" --type cert --label open-cert --id 0e02

step "without login: p11tool --list-all shows the certificate and the public key; random works"
p11tool --list-all 'pkcs11:token=qkms%20open' 2>&1 | tee "$work/list-all.txt"
grep -q "Label: open-cert" "$work/list-all.txt"
grep -q "Label: open-ec" "$work/list-all.txt"
grep -q "Type: X.509 Certificate" "$work/list-all.txt"
grep -q "Type: Public key" "$work/list-all.txt"
p11tool --generate-random 32 'pkcs11:token=qkms%20open' > "$work/random.bin"
test "$(stat -c %s "$work/random.bin")" = 32

step "without login: pkcs11-tool reads the public key and the certificate"
tool --read-object --type pubkey --label open-ec -o "$work/open-ec.der"
openssl pkey -pubin -inform DER -in "$work/open-ec.der" -noout -text | grep -q "prime256v1\|P-256"
tool --read-object --type cert --label open-cert -o "$work/open-back.der"
cmp "$work/open.der" "$work/open-back.der"

echo "all steps passed"
