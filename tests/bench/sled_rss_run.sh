#!/usr/bin/env bash
# One run of "RSS at a million objects" (BENCHMARKS.md): starts BIN/qkms-server on the set-up DIR, reads its RSS
# at rest once it listens (+5 s), samples VmRSS every second into DIR/rss.LABEL while `qkms bench --op create
# --connections 16 --duration DURATION` runs, prints the bench's summary, RSS at rest and max, the server's
# RSS breakdown at the end and the load average before -> after, then stops the server (SIGINT).
# Usage: tests/bench/sled_rss_run.sh DIR BIN LABEL DURATION   (BIN holds qkms-server and qkms)
set -euo pipefail
DIR=$1 BIN=$2 LABEL=$3 DURATION=$4
load() { cut -d' ' -f1 /proc/loadavg; }
LOAD_BEFORE=$(load)
START=$(date +%s)
"$BIN/qkms-server" --config "$DIR/qkms.toml" > "$DIR/server.$LABEL.log" 2>&1 &
PID=$!
trap 'kill -INT $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
until ss -ltnp 2>/dev/null | grep -q "pid=$PID,"; do
  kill -0 $PID || { echo "server exited"; tail "$DIR/server.$LABEL.log"; exit 1; }
  sleep 0.5
done
echo "listening after $(( $(date +%s) - START )) s"
sleep 5
REST=$(awk '/VmRSS/{print $2}' /proc/$PID/status)
( while kill -0 $PID 2>/dev/null; do awk '/VmRSS/{print $2}' /proc/$PID/status; sleep 1; done ) > "$DIR/rss.$LABEL" 2>/dev/null &
SAMPLER=$!
"$BIN/qkms" bench --config "$DIR/qkms.toml" --op create --connections 16 --duration "$DURATION" --server-pid $PID 2>&1 | tail -8
grep -E '^(Rss|Anonymous|AnonHugePages)' /proc/$PID/smaps_rollup
kill -INT $PID; wait $PID 2>/dev/null || true
kill $SAMPLER 2>/dev/null || true
MAX=$(sort -n "$DIR/rss.$LABEL" | tail -1)
echo "$LABEL: RSS at rest $((REST / 1024)) MB, max under load $(awk -v k="$MAX" 'BEGIN{printf "%.1f", k/1024}') MB, load $LOAD_BEFORE -> $(load)"
