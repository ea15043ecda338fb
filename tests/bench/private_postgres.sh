# Sourced by the PostgreSQL bench scripts: a private PostgreSQL 15 for benchmarks. Run as root (initdb runs as the
# postgres user). private_postgres DIR PORT: initdb in DIR/pg/data (user qkms, SCRAM password in DIR/db.pass), TLS
# with a throw-away CA (DIR/ca.pem) and a certificate for 127.0.0.1/localhost, only hostssl on 127.0.0.1, then start.
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
private_postgres() {
  local dir=$1 port=$2
  mkdir -p "$dir/pg"; chown postgres "$dir/pg"
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=bench-ca 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
    printf "subjectAltName=IP:127.0.0.1,DNS:localhost\n" > ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
      -extfile ext.cnf 2>/dev/null
    echo bench-pass-Ae3 > db.pass; chmod 600 db.pass
    echo bench-pass-Ae3 > pg/pw; chown postgres pg/pw
  )
  su postgres -c "$PGBIN/initdb -D $dir/pg/data -U qkms --auth-host=scram-sha-256 --auth-local=trust --pwfile=$dir/pg/pw" >/dev/null
  cp "$dir/server.crt" "$dir/server.key" "$dir/pg/data/"
  chown postgres "$dir"/pg/data/server.*; chmod 600 "$dir/pg/data/server.key"
  cat >> "$dir/pg/data/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/pg'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
max_connections = 200
CONF
  echo "hostssl all all 127.0.0.1/32 scram-sha-256" > "$dir/pg/data/pg_hba.conf"
  echo "local all all trust" >> "$dir/pg/data/pg_hba.conf"
  chown postgres "$dir"/pg/data/*
  su postgres -c "$PGBIN/pg_ctl -D $dir/pg/data -l $dir/pg/log -w start" >/dev/null
}
