#!/usr/bin/env bash
# Issue #6 "Performance": the qkms PKCS#11 module and SoftHSM2 side by side, in-process C_ calls through
# `cryptoki` (see vs_softhsm.rs). The bench sets up both itself, in temp dirs: a `qkms-server --init` on a free
# loopback port (the module configured via QKMS_PKCS11_CONFIG and its pkcs11.pin) and a fresh SoftHSM2 token
# (SOFTHSM2_CONF, softhsm2-util --init-token). This script installs SoftHSM2 if missing, builds both release
# artifacts, records the machine and its load, and runs the bench.
#
# Usage: pkcs11-module/benches/run_vs_softhsm.sh [bench arguments, e.g. --seconds 5 --threads 1,4]
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -e "${SOFTHSM2_MODULE:-/usr/lib/softhsm/libsofthsm2.so}" ] || ! command -v softhsm2-util >/dev/null; then
    apt-get install -y softhsm2
fi
if [ ! -e /usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so ] || ! command -v p11-kit >/dev/null; then
    apt-get install -y p11-kit p11-kit-modules
fi

cargo build --release -p pkcs11-module -p kms-server
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
echo "softhsm2: $(softhsm2-util --version), p11-kit: $(dpkg-query -W -f='${Version}' p11-kit 2>/dev/null || echo unknown)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
cargo bench -p pkcs11-module --bench vs_softhsm -- "$@"
