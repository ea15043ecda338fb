#!/usr/bin/env bash
# Release rerun of the EaaS 1 MiB figures (#17) beside KMIP RNG Retrieve, one server, one run.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=target/release
D=/tmp/rb; rm -rf $D
$B/qkms-server --init $D > /dev/null
python3 - <<'PY'
import re
p='/tmp/rb/qkms.toml'
s=open(p).read()
s=re.sub(r'(?m)^(\[https\]\n(?:.*\n)*?)enabled = false', r'\1enabled = true', s, count=1)
s=re.sub(r'(?m)^(\[https\]\n(?:.*\n)*?)listen = ".*"', r'\1listen = "127.0.0.1:48443"', s, count=1)
s=s.replace('beacon_interval_secs = 60','beacon_interval_secs = 0',1).replace('requests_per_second = 1000','requests_per_second = 0',1)
open(p,'w').write(s)
PY
grep -n -A3 "^\[https\]" $D/qkms.toml | head -8; grep -n -A3 "^\[eaas\]" $D/qkms.toml
$B/qkms-server --config $D/qkms.toml --listen 127.0.0.1:45696 > $D/server.log 2>&1 &
PID=$!
trap 'kill $PID' EXIT
sleep 3
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for c in 1 16; do
  for extra in "" "--octet-stream" "--hpke --octet-stream" "--hpke"; do
    echo "== eaas 1M connections=$c $extra"
    $B/qkms bench --config $D/qkms.toml --op eaas --rng-bytes 1M --connections $c --duration 5s --server-pid $PID $extra 2>&1 | tail -4
  done
  echo "== rng 1M connections=$c"
  $B/qkms bench --config $D/qkms.toml --addr 127.0.0.1:45696 --server-name localhost --op rng --rng-bytes 1M --connections $c --duration 5s --server-pid $PID 2>&1 | tail -4
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
