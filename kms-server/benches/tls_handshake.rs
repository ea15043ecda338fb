//! Full TLS 1.3 handshakes per second, mutual TLS as every KMIP client does (server ECDSA P-256 certificate from
//! `--init`, client certificate), client and server in one thread over memory (no sockets): rustls' default
//! ring provider against qkms' provider (`entropy::tls`: every ephemeral secret from the pool, the hedged ECDSA
//! server signer), per key-exchange group. Each iteration is one whole handshake, both sides' work.
//!
//! `cargo bench -p kms-server --bench tls_handshake`

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use entropy::{EntropyConfig, EntropyPool};
use kmip::client::{certificates_from_file, private_key_from_file};
use kms_server::config::Config;
use kms_server::setup::{self, InitOptions};
use kms_server::store::Argon2Params;
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

/// Moves every pending TLS record from one side to the other.
fn pump(from: &mut Connection, to: &mut Connection, buf: &mut Vec<u8>) {
    buf.clear();
    while from.wants_write() {
        from.write_tls(buf).expect("write to memory");
    }
    let mut reader = &buf[..];
    while !reader.is_empty() {
        to.read_tls(&mut reader).expect("read from memory");
        to.process_new_packets().expect("handshake");
    }
}

fn handshake(
    client_config: &Arc<rustls::ClientConfig>,
    server_config: &Arc<rustls::ServerConfig>,
) -> rustls::NamedGroup {
    let name = ServerName::try_from("localhost").unwrap();
    let mut client =
        Connection::from(ClientConnection::new(Arc::clone(client_config), name).unwrap());
    let mut server = Connection::from(ServerConnection::new(Arc::clone(server_config)).unwrap());
    let mut buf = Vec::with_capacity(8192);
    while client.is_handshaking() || server.is_handshaking() {
        pump(&mut client, &mut server, &mut buf);
        pump(&mut server, &mut client, &mut buf);
    }
    server
        .negotiated_key_exchange_group()
        .expect("a group was negotiated")
        .name()
}

fn handshakes(c: &mut Criterion) {
    let pki = pki();
    let pool = EntropyPool::new(EntropyConfig::default()).expect("default pool");
    let qkms = pool.rustls_provider();
    let ring = rustls::crypto::ring::default_provider();
    use rustls::NamedGroup::{secp256r1, X25519, X25519MLKEM768};
    let cases = [
        ("ring/X25519", false, X25519),
        ("qkms/X25519", true, X25519),
        ("qkms/X25519MLKEM768", true, X25519MLKEM768),
        ("ring/secp256r1", false, secp256r1),
        ("qkms/secp256r1", true, secp256r1),
    ];
    let mut group = c.benchmark_group("tls13-mutual-handshake");
    group.throughput(Throughput::Elements(1));
    for (label, ours, named) in cases {
        let (client_config, server_config) = if ours {
            let provider = with_groups(&qkms, named);
            (client(&pki, provider.clone()), qkms_server(&pki, provider))
        } else {
            let provider = with_groups(&ring, named);
            (client(&pki, provider.clone()), ring_server(&pki, provider))
        };
        assert_eq!(handshake(&client_config, &server_config), named, "{label}");
        group.bench_function(label, |b| {
            b.iter(|| handshake(&client_config, &server_config))
        });
    }
    group.finish();
}

criterion_group!(benches, handshakes);
criterion_main!(benches);
