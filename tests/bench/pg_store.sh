#!/usr/bin/env bash
# Durable Create and Get at 16 connections: sled (one node), PostgreSQL (one node), PostgreSQL (two nodes, 8 + 8
# connections), all from one build, in one run. Run as root (initdb runs as postgres).
# Usage: pg_store.sh setup                 private PostgreSQL 15 on 127.0.0.1:55533 (TLS, scram), database rq
#        pg_store.sh run BINDIR [SECONDS]  e.g. pg_store.sh run target/release 10
# SETTLE=N (default 30): seconds of quiet before every Get phase, for sled and PostgreSQL alike, so that Get is not
# measured while the store still digests the Create phase (PostgreSQL vacuums and checkpoints its rows, sled flushes).
set -euo pipefail
source "$(dirname "$0")/private_postgres.sh"
B=/tmp/pgstore-bench
PGBIN=/usr/lib/postgresql/15/bin
PORT=55533
bench() { # CONFIG ADDR PID OP CONNECTIONS
  "$BIN/qkms" bench --config "$1" --addr "$2" --server-name localhost --duration "${SECONDS_EACH}s" --op "$4" \
    --connections "$5" --server-pid "$3" 2>&1 | tail -8
}
wait_listening() { for _ in $(seq 150); do grep -q "listening for KMIP" "$1" 2>/dev/null && return; sleep 0.2; done; cat "$1"; exit 1; }
if [ "$1" = setup ]; then
  if [ -f $B/pg/data/postmaster.pid ]; then su postgres -c "$PGBIN/pg_ctl -D $B/pg/data -w stop" >/dev/null || true; fi
  rm -rf $B
  private_postgres $B $PORT
  psql -h $B/pg -p $PORT -U qkms -d postgres -c "CREATE DATABASE rq" >/dev/null
  exit 0
fi
[ "$1" = run ] || { echo "usage: $0 setup | run BINDIR [SECONDS]" >&2; exit 2; }
BIN=$(cd "$2" && pwd); SECONDS_EACH=${3:-10}; SETTLE=${SETTLE:-30}
cd $B
rm -rf sled-dir pg-dir
"$BIN/qkms-server" --init sled-dir >/dev/null
"$BIN/qkms-server" --init pg-dir >/dev/null
psql -h $B/pg -p $PORT -U qkms -d postgres -c "DROP DATABASE IF EXISTS rq" -c "CREATE DATABASE rq" >/dev/null
"$BIN/qkms" store migrate --from pg-dir/qkms.toml --to-postgres postgresql://qkms@127.0.0.1:$PORT/rq \
  --password-file $B/db.pass --tls-ca-file $B/ca.pem >/dev/null
python3 - pg-dir $PORT <<'PY'
import sys
d, port = sys.argv[1], sys.argv[2]
s = open(f"{d}/qkms.toml").read()
s = s.replace('kind = "sled"', 'kind = "postgres"', 1)
s = s.replace('# url = "postgresql://qkms@db.example:5432/qkms"', f'url = "postgresql://qkms@127.0.0.1:{port}/rq"')
s = s.replace('# password_file = "db.pass"', 'password_file = "/tmp/pgstore-bench/db.pass"')
s = s.replace('# tls_ca_file = "db-ca.pem"', 'tls_ca_file = "/tmp/pgstore-bench/ca.pem"')
open(f"{d}/qkms.toml", "w").write(s)
# node 2: the same set-up, node-local files of its own
n2 = s.replace('path = "store"', 'path = "node2/store"', 1).replace('path = "audit.log"', 'path = "node2/audit.log"', 1)
n2 = n2.replace('beacon_dir = "beacon"', 'beacon_dir = "node2/beacon"', 1).replace('state_file = "eaas.state"', 'state_file = "node2/eaas.state"', 1)
open(f"{d}/node2.toml", "w").write(n2)
PY
mkdir -p pg-dir/node2
echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for what in sled pg; do
  "$BIN/qkms-server" --config $what-dir/qkms.toml --listen 127.0.0.1:47101 > $what-dir/server.log 2>&1 &
  PID=$!; wait_listening $what-dir/server.log
  for op in create get; do
    [ $op = get ] && sleep "$SETTLE"
    echo "== $what, one node, $op, 16 connections (load $(cut -d' ' -f1 /proc/loadavg))"
    bench $what-dir/qkms.toml 127.0.0.1:47101 $PID $op 16
  done
  kill $PID; wait $PID 2>/dev/null || true
done
"$BIN/qkms-server" --config pg-dir/qkms.toml --listen 127.0.0.1:47102 > pg-dir/node1.log 2>&1 &
P1=$!
"$BIN/qkms-server" --config pg-dir/node2.toml --listen 127.0.0.1:47103 > pg-dir/node2.log 2>&1 &
P2=$!
wait_listening pg-dir/node1.log; wait_listening pg-dir/node2.log
for op in create get; do
  [ $op = get ] && sleep "$SETTLE"
  echo "== pg, two nodes, $op, 8 + 8 connections (load $(cut -d' ' -f1 /proc/loadavg))"
  bench pg-dir/qkms.toml 127.0.0.1:47102 $P1 $op 8 > pg-dir/n1.$op &
  BP=$!
  bench pg-dir/node2.toml 127.0.0.1:47103 $P2 $op 8 > pg-dir/n2.$op
  wait $BP
  echo "-- node 1"; cat pg-dir/n1.$op; echo "-- node 2"; cat pg-dir/n2.$op
done
kill $P1 $P2; wait $P1 $P2 2>/dev/null || true
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
