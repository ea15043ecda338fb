#!/usr/bin/env bash
# PostgreSQL store, one node: durable Create and Get at 16 connections, audit log in files (BIN=the build before
# the audit moved into the database) vs in the database (this build). Run as root (initdb runs as postgres).
# Usage: pg_audit.sh setup; pg_audit.sh VERSION BINDIR PORT   (e.g. before /tmp/before 47011; after target/release 47012)
set -euo pipefail
source "$(dirname "$0")/private_postgres.sh"
if [ "$1" = setup ]; then
B=/tmp/pgaudit-bench
PGBIN=/usr/lib/postgresql/15/bin
PORT=55532
mkdir -p $B; cd $B
rm -rf pg before-dir after-dir
private_postgres $B $PORT
for v in before after; do  # one database per build: the older one refuses schema 2
  psql -h $B/pg -p $PORT -U qkms -d postgres -c "CREATE DATABASE rq_$v" >/dev/null
done
exit 0
fi
B=/tmp/pgaudit-bench; V=$1; BIN=$2; LP=$3
cd $B
rm -rf $V-dir
$BIN/qkms-server --init $V-dir >/dev/null
$BIN/qkms store migrate --from $V-dir/qkms.toml --to-postgres postgresql://qkms@127.0.0.1:55532/rq_$V \
  --password-file $B/db.pass --tls-ca-file $B/ca.pem >/dev/null
python3 - "$V-dir/qkms.toml" "$V" <<'PY'
import sys,re
p,v=sys.argv[1],sys.argv[2]
s=open(p).read()
s=s.replace('kind = "sled"','kind = "postgres"',1)
s=s.replace('# url = "postgresql://qkms@db.example:5432/qkms"',f'url = "postgresql://qkms@127.0.0.1:55532/rq_{v}"')
s=s.replace('# password_file = "db.pass"','password_file = "/tmp/pgaudit-bench/db.pass"')
s=s.replace('# tls_ca_file = "db-ca.pem"','tls_ca_file = "/tmp/pgaudit-bench/ca.pem"')
open(p,'w').write(s)
PY
$BIN/qkms-server --config $V-dir/qkms.toml --listen 127.0.0.1:$LP > $V-dir/server.log 2>&1 &
PID=$!
for i in $(seq 100); do grep -q "listening for KMIP" $V-dir/server.log && break; sleep 0.2; done
echo "== $V load: $(cut -d' ' -f1-3 /proc/loadavg)"
for op in create get; do
  $BIN/qkms bench --config $V-dir/qkms.toml --addr 127.0.0.1:$LP --server-name localhost --duration 10s --op $op \
    --connections 16 --server-pid $PID 2>&1 | tail -8
done
echo "audit: files $(ls $V-dir/ | grep -c audit) ; rows $(psql -h $B/pg -p 55532 -U qkms -d rq_$V -Atc 'SELECT COUNT(*) FROM qkms_audit' 2>/dev/null || echo n/a)"
kill $PID; wait $PID 2>/dev/null || true
