#!/usr/bin/env bash
# One qkms node on one of pg_store.sh's set-ups, one operation at 16 connections, with the CPU that PostgreSQL's
# processes spent per operation (utime + stime of every process of user postgres, plus the children they reaped:
# autovacuum workers and backends that ended in between; before and after).
# Run `pg_store.sh setup` and one `pg_store.sh run` first (they make /tmp/pgstore-bench/{sled,pg}-dir).
# Usage: store_cpu.sh BINDIR sled|pg OP [SECONDS]   e.g. store_cpu.sh target/release pg get 10
# PRE=create PAUSE=40: first PRE for 10 s, then PAUSE seconds, on the same node (what the previous phase leaves).
set -euo pipefail
BIN=$(cd "$1" && pwd); CFG=$2-dir/qkms.toml; OP=$3; S=${4:-10}; PORT=47190
cd /tmp/pgstore-bench
pg_ticks() { local t=0; for p in $(pgrep -u postgres); do read -r -a f < /proc/$p/stat 2>/dev/null || continue; t=$((t + f[13] + f[14] + f[15] + f[16])); done; echo $t; }
bench() { "$BIN/qkms" bench --config $CFG --addr 127.0.0.1:$PORT --server-name localhost --connections 16 "$@"; }
"$BIN/qkms-server" --config $CFG --listen 127.0.0.1:$PORT > store_cpu.log 2>&1 &
PID=$!
for _ in $(seq 150); do grep -q "listening for KMIP" store_cpu.log && break; sleep 0.2; done
if [ -n "${PRE:-}" ]; then bench --duration 10s --op "$PRE" > /dev/null 2>&1; sleep "${PAUSE:-0}"; fi
bench --duration 2s --op "$OP" > /dev/null 2>&1            # warm-up
before=$(pg_ticks)
bench --duration "${S}s" --op "$OP" --server-pid $PID 2>&1 | tail -4 | tee store_cpu.out
after=$(pg_ticks)
ops=$(grep -oE "[0-9]+ operations" store_cpu.out | cut -d' ' -f1)
echo "postgres CPU: $(( (after - before) * 10 )) ms, $(python3 -c "print(round(($after - $before) * 10000 / $ops, 1))") µs/op"
kill $PID; wait $PID 2>/dev/null || true
