#!/usr/bin/env bash
# Server memory with N idle connections: reads the server's VmRSS before, and while `qkms bench --op idle`
# holds N mutual-TLS connections open (each proven with one 16-byte RNG Retrieve).
#
#   tests/bench/idle_rss.sh QKMS_BINARY DIR/qkms.toml SERVER_PID [N=1000] [ADDR]
set -euo pipefail
qkms=$1 config=$2 pid=$3 n=${4:-1000} addr=${5:-}
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
before=$(rss)
out=$(mktemp)
args=(bench --config "$config" --op idle --connections "$n" --duration 15s)
[ -n "$addr" ] && args+=(--addr "$addr")
"$qkms" "${args[@]}" >"$out" 2>&1 &
bench=$!
for _ in $(seq 1 600); do
    grep -q '^holding' "$out" && break
    kill -0 "$bench" 2>/dev/null || { cat "$out"; exit 1; }
    sleep 0.1
done
grep -q '^holding' "$out" || { echo "connections not established"; cat "$out"; exit 1; }
sleep 2
during=$(rss)
wait "$bench"
cat "$out"
echo "server VmRSS: ${before} kB before, ${during} kB with ${n} idle connections" \
     "(+$(( (during - before) / 1024 )) MiB, $(( (during - before) / n )) kB per connection)"
