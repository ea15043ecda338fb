#!/usr/bin/env bash
# Get at 16 connections: sled one node; PostgreSQL one node with the object cache on and off; PostgreSQL two nodes
# (cache on, 8 + 8 connections at once). Run as root (initdb runs as postgres); BIN holds release builds of
# qkms-server and qkms.
# Usage: pg_cache.sh setup; pg_cache.sh run BINDIR
set -euo pipefail
B=/tmp/pgcache-bench
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort | tail -1)
PORT=55547
if [ "$1" = setup ]; then
mkdir -p $B; cd $B
rm -rf pg
mkdir pg && chown postgres pg
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=bench-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
printf "subjectAltName=IP:127.0.0.1,DNS:localhost\n" > ext.cnf
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile ext.cnf 2>/dev/null
echo bench-pass-Ae3 > db.pass; chmod 600 db.pass
echo bench-pass-Ae3 > pg/pw; chown postgres pg/pw
su postgres -c "$PGBIN/initdb -D $B/pg/data -U qkms --auth-host=scram-sha-256 --auth-local=trust --pwfile=$B/pg/pw" >/dev/null
cp server.crt server.key pg/data/ && chown postgres pg/data/server.* && chmod 600 pg/data/server.key
cat >> pg/data/postgresql.conf <<CONF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$B/pg'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
max_connections = 200
CONF
echo "hostssl all all 127.0.0.1/32 scram-sha-256" > pg/data/pg_hba.conf
echo "local all all trust" >> pg/data/pg_hba.conf
chown postgres pg/data/*
su postgres -c "$PGBIN/pg_ctl -D $B/pg/data -l $B/pg/log -w start" >/dev/null
for d in on off two; do
  psql -h $B/pg -p $PORT -U qkms -d postgres -c "CREATE DATABASE rq_$d" >/dev/null
done
exit 0
fi
BIN=$(realpath "$2")
cd $B

# DIR NODE DATABASE CACHE_MB: a node's configuration (NODE 1 is the set-up's own file; 2 gets node-local files).
configure() {
python3 - "$1" "$2" "$3" "$4" <<'PY'
import sys
d, node, db, mb = sys.argv[1:]
src = open(f"{d}/qkms.toml").read()
out, section = [], None
for line in src.split("\n"):
    if line.startswith("["):
        section = line.strip()
    if section == "[store]":
        if line.startswith("kind = "): line = 'kind = "postgres"'
        if line.startswith("# url = "): line = f'url = "postgresql://qkms@127.0.0.1:55547/rq_{db}"'
        if line.startswith("# password_file = "): line = 'password_file = "/tmp/pgcache-bench/db.pass"'
        if line.startswith("# tls_ca_file = "): line = 'tls_ca_file = "/tmp/pgcache-bench/ca.pem"'
        if line.startswith("object_cache_mb = "): line = f"object_cache_mb = {mb}"
        if node == "2" and line.startswith("path = "): line = f'path = "{d}/node2/store"'
    if node == "2":
        if section == "[audit]" and line.startswith("path = "): line = f'path = "{d}/node2/audit.log"'
        if section == "[eaas]" and line.startswith("state_file = "): line = f'state_file = "{d}/node2/eaas-state.json"'
        if section == "[eaas]" and line.startswith("beacon_dir = "): line = f'beacon_dir = "{d}/node2/beacon"'
        if section == "[https]" and line.startswith("listen = "): line = 'listen = "127.0.0.1:0"'
    out.append(line)
open(f"{d}/node{node}.toml", "w").write("\n".join(out))
PY
mkdir -p "$1/node2"
}

# CONFIG PORT LOG: starts a node, prints its pid once it listens.
start() {
  $BIN/qkms-server --config "$1" --listen 127.0.0.1:$2 > "$3" 2>&1 &
  local pid=$!
  for i in $(seq 150); do grep -q "listening for KMIP" "$3" && break; sleep 0.2; done
  grep -q "listening for KMIP" "$3" || { cat "$3"; exit 1; }
  echo $pid
}

stop() { kill "$@"; for p in "$@"; do while kill -0 $p 2>/dev/null; do sleep 0.1; done; done; }

# CONFIG PORT PID CONNECTIONS
bench_get() {
  $BIN/qkms bench --config "$1" --addr 127.0.0.1:$2 --server-name localhost --duration 10s --op get \
    --connections $4 --server-pid $3 2>&1 | tail -8
}

rm -rf sled-dir on-dir off-dir two-dir
for d in sled on off two; do $BIN/qkms-server --init $B/$d-dir >/dev/null; done
for d in on off two; do
  $BIN/qkms store migrate --from $d-dir/qkms.toml --to-postgres postgresql://qkms@127.0.0.1:$PORT/rq_$d \
    --password-file $B/db.pass --tls-ca-file $B/ca.pem >/dev/null
done
configure $B/on-dir 1 on 32
configure $B/off-dir 1 off 0
configure $B/two-dir 1 two 32
configure $B/two-dir 2 two 32

echo "== sled, one node; load $(cut -d' ' -f1-3 /proc/loadavg)"
P=$(start $B/sled-dir/qkms.toml 47101 $B/sled-dir/server.log); bench_get $B/sled-dir/qkms.toml 47101 $P 16; stop $P
echo "== PostgreSQL, one node, cache on; load $(cut -d' ' -f1-3 /proc/loadavg)"
P=$(start $B/on-dir/node1.toml 47102 $B/on-dir/server.log); bench_get $B/on-dir/node1.toml 47102 $P 16; stop $P
echo "== PostgreSQL, one node, cache off; load $(cut -d' ' -f1-3 /proc/loadavg)"
P=$(start $B/off-dir/node1.toml 47103 $B/off-dir/server.log); bench_get $B/off-dir/node1.toml 47103 $P 16; stop $P
echo "== PostgreSQL, two nodes, cache on, 8 + 8 connections; load $(cut -d' ' -f1-3 /proc/loadavg)"
P1=$(start $B/two-dir/node1.toml 47104 $B/two-dir/server1.log)
P2=$(start $B/two-dir/node2.toml 47105 $B/two-dir/server2.log)
bench_get $B/two-dir/node1.toml 47104 $P1 8 > $B/two-1.txt & W1=$!
bench_get $B/two-dir/node2.toml 47105 $P2 8 > $B/two-2.txt & W2=$!
wait $W1 $W2
echo "-- node 1"; cat $B/two-1.txt; echo "-- node 2"; cat $B/two-2.txt
stop $P1 $P2
