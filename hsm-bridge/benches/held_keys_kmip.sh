#!/bin/sh
# Sign / Encrypt through KMIP with keys held in SoftHSM2 beside the same operations with ordinary (software) keys,
# then the same HSM operations made directly with cryptoki and through the bridge (criterion), in one run.
# Usage: sh hsm-bridge/benches/held_keys_kmip.sh [SECONDS]   (from the repository root; needs softhsm2-util)
set -eu
SECONDS_PER_RUN=${1:-8}
cargo build -q -p kms-server --bin qkms-server && cargo build -q -p qkms-cli --bin qkms
BIN=target/debug
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkdir "$WORK/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$WORK" > "$WORK/softhsm2.conf"
export SOFTHSM2_CONF="$WORK/softhsm2.conf"
softhsm2-util --init-token --free --label bench --so-pin 1111 --pin 2222 > /dev/null
echo 2222 > "$WORK/pin"
"$BIN/qkms-server" --init "$WORK/qkms" --root-key pkcs11 --hsm-module /usr/lib/softhsm/libsofthsm2.so \
    --hsm-token-label bench --hsm-pin-file "$WORK/pin" > /dev/null
sed -i 's/^hold_keys = false/hold_keys = true/' "$WORK/qkms/qkms.toml"
"$BIN/qkms-server" --config "$WORK/qkms/qkms.toml" --listen 127.0.0.1:35711 2> "$WORK/server.log" &
SERVER=$!
sleep 3
for op in "sign --key-type p256" "sign --key-type rsa2048" "encrypt --data-bytes 4K"; do
    for where in "" "--hsm bench"; do
        echo "== $op ${where:-(software key)}"
        # shellcheck disable=SC2086
        "$BIN/qkms" bench --config "$WORK/qkms/qkms.toml" --addr 127.0.0.1:35711 --server-pid "$SERVER" \
            --op $op --connections 1 --duration "${SECONDS_PER_RUN}s" $where
    done
done
kill $SERVER
cargo bench -q -p hsm-bridge --bench held --profile dev 2>&1 | grep -E "^[A-Z].*(direct|bridge)|time:"
