//! Full TLS 1.3 handshakes per second, mutual TLS as every KMIP client does (server ECDSA P-256 certificate from
//! `--init`, client certificate), client and server in one thread over memory (no sockets): rustls' default
//! ring provider against qkms' provider (`entropy::tls`: every ephemeral secret from the pool, the hedged ECDSA
//! server signer), per key-exchange group. Each iteration is one whole handshake, timed in the thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`, as `entropy/benches/drbg.rs`), so the figures are handshakes per core-second
//! even while other processes share the cores. Two counts: the server's CPU alone, against one client for every
//! case (rustls' aws-lc-rs provider: the server's capacity, the figure an operator sizes for), and both sides'
//! CPU with the same provider on each side.
//!
//! `cargo bench -p kms-server --bench tls_handshake`

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use entropy::{EntropyConfig, EntropyPool};
use kmip::client::{certificates_from_file, private_key_from_file};
use kms_server::config::Config;
use kms_server::setup::{self, InitOptions};
use kms_server::store::Argon2Params;
use nix::time::{clock_gettime, ClockId};
use rustls::crypto::{CryptoProvider, SupportedKxGroup};
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, Connection, ServerConnection};

/// The `--init` PKI: server chain and key, client chain and key, the CA.
struct Pki {
    _dir: tempfile::TempDir,
    config: Config,
    client: kms_server::pki::files::ClientBundle,
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut base = Config::default();
    base.store.argon2 = Argon2Params::insecure_for_tests();
    let options = InitOptions {
        host_names: Vec::new(),
        base,
    };
    let report = setup::init(dir.path(), &options).expect("--init");
    let config = Config::load(&report.config_file).expect("configuration");
    Pki {
        _dir: dir,
        config,
        client: report.client,
    }
}

fn with_groups(provider: &CryptoProvider, name: rustls::NamedGroup) -> Arc<CryptoProvider> {
    let groups: Vec<&'static dyn SupportedKxGroup> = provider
        .kx_groups
        .iter()
        .copied()
        .filter(|g| g.name() == name)
        .collect();
    assert_eq!(groups.len(), 1, "{name:?} offered");
    Arc::new(CryptoProvider {
        kx_groups: groups,
        ..provider.clone()
    })
}

/// qkms' server configuration (`listener::tls_server_config`: hedged signer, KMIP suites, no tickets).
fn qkms_server(pki: &Pki, provider: Arc<CryptoProvider>) -> Arc<rustls::ServerConfig> {
    let config = kms_server::listener::tls_server_config(
        provider,
        certificates_from_file(&pki.config.tls.ca_files[0]).unwrap(),
        certificates_from_file(&pki.config.tls.certificate).unwrap(),
        private_key_from_file(&pki.config.tls.key).unwrap(),
    )
    .expect("server configuration");
    Arc::new(config)
}

/// The same server with rustls' stock ring provider and ring's own signer.
fn ring_server(pki: &Pki, provider: Arc<CryptoProvider>) -> Arc<rustls::ServerConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in certificates_from_file(&pki.config.tls.ca_files[0]).unwrap() {
        roots.add(ca).unwrap();
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            certificates_from_file(&pki.config.tls.certificate).unwrap(),
            private_key_from_file(&pki.config.tls.key).unwrap(),
        )
        .unwrap();
    config.send_tls13_tickets = 0;
    Arc::new(config)
}

fn client(pki: &Pki, provider: Arc<CryptoProvider>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in certificates_from_file(&pki.client.ca).unwrap() {
        roots.add(ca).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(
            certificates_from_file(&pki.client.certificate).unwrap(),
            private_key_from_file(&pki.client.key).unwrap(),
        )
        .unwrap();
    Arc::new(config)
}

/// Moves every pending TLS record from one side to the other; returns the thread CPU time the receiving side
/// spent processing them (the sending side's work was done when it produced them).
fn pump(from: &mut Connection, to: &mut Connection, buf: &mut Vec<u8>) -> Duration {
    buf.clear();
    while from.wants_write() {
        from.write_tls(buf).expect("write to memory");
    }
    let start = thread_cpu_time();
    let mut reader = &buf[..];
    while !reader.is_empty() {
        to.read_tls(&mut reader).expect("read from memory");
        to.process_new_packets().expect("handshake");
    }
    thread_cpu_time() - start
}

/// One full handshake; returns the negotiated group, the whole thread CPU time and the server's share of it
/// (processing the client's flights, which is where a server computes and signs everything).
fn handshake(
    client_config: &Arc<rustls::ClientConfig>,
    server_config: &Arc<rustls::ServerConfig>,
) -> (rustls::NamedGroup, Duration, Duration) {
    let start = thread_cpu_time();
    let name = ServerName::try_from("localhost").unwrap();
    let mut client =
        Connection::from(ClientConnection::new(Arc::clone(client_config), name).unwrap());
    let mut server = Connection::from(ServerConnection::new(Arc::clone(server_config)).unwrap());
    let mut buf = Vec::with_capacity(8192);
    let mut server_time = Duration::ZERO;
    while client.is_handshaking() || server.is_handshaking() {
        server_time += pump(&mut client, &mut server, &mut buf);
        pump(&mut server, &mut client, &mut buf);
    }
    let group = server
        .negotiated_key_exchange_group()
        .expect("a group was negotiated")
        .name();
    (group, thread_cpu_time() - start, server_time)
}

/// CPU time the calling thread has used.
fn thread_cpu_time() -> Duration {
    let t = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
        .expect("Linux always has a thread CPU-time clock");
    Duration::new(t.tv_sec() as u64, t.tv_nsec() as u32)
}

/// Which side's CPU time a benchmark counts.
#[derive(Clone, Copy)]
enum Counted {
    /// Both sides, each with the same provider (ring with ring, qkms with qkms).
    BothSides,
    /// The server alone, the client being rustls' aws-lc-rs provider in every case.
    Server,
}

fn handshakes(c: &mut Criterion) {
    let pki = pki();
    let pool = EntropyPool::new(EntropyConfig::default()).expect("default pool");
    let qkms = pool.rustls_provider();
    let ring = rustls::crypto::ring::default_provider();
    let aws_lc_rs = rustls::crypto::aws_lc_rs::default_provider();
    use rustls::NamedGroup::{secp256r1, X25519, X25519MLKEM768};
    let cases = [
        ("ring/X25519", false, X25519),
        ("qkms/X25519", true, X25519),
        ("qkms/X25519MLKEM768", true, X25519MLKEM768),
        ("ring/secp256r1", false, secp256r1),
        ("qkms/secp256r1", true, secp256r1),
    ];
    for (group_name, counted) in [
        ("tls13-mutual-handshake-server-cpu", Counted::Server),
        ("tls13-mutual-handshake-both-sides-cpu", Counted::BothSides),
    ] {
        let mut group = c.benchmark_group(group_name);
        group.throughput(Throughput::Elements(1));
        group.measurement_time(Duration::from_secs(4));
        group.sample_size(50);
        for (label, ours, named) in cases {
            let server_provider = with_groups(if ours { &qkms } else { &ring }, named);
            let server_config = if ours {
                qkms_server(&pki, Arc::clone(&server_provider))
            } else {
                ring_server(&pki, Arc::clone(&server_provider))
            };
            let client_config = match counted {
                Counted::BothSides => client(&pki, server_provider),
                Counted::Server => client(&pki, with_groups(&aws_lc_rs, named)),
            };
            assert_eq!(
                handshake(&client_config, &server_config).0,
                named,
                "{label}"
            );
            group.bench_function(label, |b| {
                b.iter_custom(|iterations| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iterations {
                        let (_, both, server) = handshake(&client_config, &server_config);
                        total += match counted {
                            Counted::BothSides => both,
                            Counted::Server => server,
                        };
                    }
                    total
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, handshakes);
criterion_main!(benches);
