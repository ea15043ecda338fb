//! The PostgreSQL store on its own: start-up refusals (newer schema, wrong password, unreachable, untrusted
//! certificate), nothing in clear in a database dump, no lost update between two nodes, a database restart
//! survived without reopening, and the copy from a sled store (`qkms store migrate`, from a store of the older sled
//! layout). Each test starts a private PostgreSQL (`pg_support`).

mod pg_options;
mod pg_support;

use pg_options::PgOptions;
use std::sync::Arc;
use std::time::{Duration, Instant};

use entropy::{EntropyConfig, EntropyPool};
use kmip::attributes::{Attribute, Attributes, Name};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, ObjectType};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kms_server::store::postgres::copy::copy_sled_to_postgres;
use kms_server::store::postgres::RetryPolicy;
use kms_server::store::{
    Argon2Params, Custody, Namespace, ObjectStore, PgStore, PostgresOptions, RevisionCheck,
    RootKey, SledStore, StoreCondition, StoreError, StoreOptions, StoredObject,
};
use kms_server::tenant::TenantId;
use pg_support::PgServer;
use zeroize::Zeroizing;

const ROOT: [u8; 32] = [0x5c; 32];

fn pool() -> EntropyPool {
    EntropyPool::new(EntropyConfig::default()).unwrap()
}

fn open(options: &PostgresOptions) -> Result<PgStore, StoreError> {
    PgStore::open_with_custody(
        options,
        |_| Ok(Custody::Raw(RootKey::from_bytes(ROOT))),
        pool(),
        &Argon2Params::insecure_for_tests(),
    )
}

fn alice() -> TenantId {
    TenantId("alice".into())
}

fn key_bytes(i: u8) -> Vec<u8> {
    (0..32u8)
        .map(|b| b.wrapping_mul(29).wrapping_add(i).wrapping_mul(113) ^ 0x3C)
        .collect()
}

fn symmetric_key(uid: &str, bytes: Vec<u8>) -> StoredObject {
    StoredObject {
        uid: uid.into(),
        owner: alice(),
        object: Some(ManagedObject::SymmetricKey(KeyBlock::new(
            KeyFormatType::Raw,
            KeyMaterial::Bytes(Zeroizing::new(bytes)),
            Some(CryptographicAlgorithm::Aes),
            Some(256),
        ))),
        attributes: Attributes::from(vec![
            Attribute::UniqueIdentifier(uid.into()),
            Attribute::ObjectType(ObjectType::SymmetricKey),
            Attribute::Name(Name::text(format!("name-{uid}"))),
        ]),
        internal: false,
    }
}

fn material(object: &StoredObject) -> Vec<u8> {
    match &object.object {
        Some(ManagedObject::SymmetricKey(block)) => {
            match &block.key_value.as_ref().unwrap().material {
                KeyMaterial::Bytes(bytes) => bytes.to_vec(),
                other => panic!("unexpected material {other:?}"),
            }
        }
        other => panic!("unexpected object {other:?}"),
    }
}

fn quick_retry(mut options: PostgresOptions) -> PostgresOptions {
    options.retry = RetryPolicy {
        attempts: 2,
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(10),
        budget: Duration::from_secs(5),
    };
    options.connect_timeout = Duration::from_secs(2);
    options
}

#[test]
fn a_database_of_a_newer_schema_is_refused_with_the_versions() {
    let db = PgServer::start();
    db.create_database("newer");
    drop(open(&db.options("newer")).unwrap());
    db.psql(
        "newer",
        "INSERT INTO qkms_schema_migrations (version, description) VALUES (99, 'from the future')",
    );
    match open(&db.options("newer")) {
        Err(StoreError::Config(message)) => {
            assert!(message.contains("version 99"), "{message}");
            assert!(message.contains("newer than this qkms-server"), "{message}");
        }
        other => panic!("expected a schema refusal, got {other:?}"),
    }
}

#[test]
fn wrong_password_unreachable_and_untrusted_certificates_are_clear_errors() {
    let db = PgServer::start();
    db.create_database("auth");

    let mut wrong = quick_retry(db.options("auth"));
    wrong.password = Some(Zeroizing::new("not-the-password".into()));
    let message = open(&wrong).unwrap_err().to_string();
    assert!(
        message.contains("password authentication failed"),
        "{message}"
    );
    assert!(!message.contains("not-the-password"), "{message}");

    let mut unreachable = quick_retry(db.options("auth"));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    unreachable.url = format!("postgresql://qkms@127.0.0.1:{port}/auth");
    let started = Instant::now();
    let message = open(&unreachable).unwrap_err().to_string();
    assert!(message.contains("the database is unavailable"), "{message}");
    assert!(message.contains("after 2 attempts"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(10));

    // A CA that did not sign the database's certificate: the TLS handshake fails, nothing is sent.
    let other_ca = db.dir().join("other-ca.pem");
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .arg("-keyout")
        .arg(db.dir().join("other-ca.key"))
        .arg("-out")
        .arg(&other_ca)
        .args(["-days", "1", "-subj", "/CN=someone else"])
        .output()
        .unwrap();
    assert!(status.status.success());
    let mut untrusted = quick_retry(db.options("auth"));
    untrusted.tls_ca_file = Some(other_ca);
    let message = open(&untrusted).unwrap_err().to_string();
    assert!(
        message.to_lowercase().contains("certificate"),
        "an untrusted database certificate is named: {message}"
    );

    assert!(open(&db.options("auth")).is_ok());
}

#[test]
fn a_database_dump_holds_no_key_material_in_clear() {
    let db = PgServer::start();
    db.create_database("dump");
    let store = open(&db.options("dump")).unwrap();
    let keys: Vec<Vec<u8>> = (0..20).map(key_bytes).collect();
    for (i, bytes) in keys.iter().enumerate() {
        store
            .insert(&symmetric_key(&format!("k{i}"), bytes.clone()))
            .unwrap();
    }
    // An update that changes the material reseals it.
    let mut changed = symmetric_key("k0", key_bytes(200));
    changed
        .attributes
        .set(Attribute::Name(Name::text("renamed")));
    store.update(&changed).unwrap();
    let dump = db.dump("dump");
    assert!(
        dump.contains("qkms_objects"),
        "the dump holds the objects table"
    );
    assert!(
        dump.contains("name-k7"),
        "attributes are in clear, as in sled"
    );
    for bytes in keys.iter().chain([&key_bytes(200), &ROOT.to_vec()]) {
        let hex = hex::encode(bytes);
        assert!(!dump.contains(&hex), "key bytes {hex} in clear in the dump");
        assert!(
            !dump
                .as_bytes()
                .windows(bytes.len())
                .any(|w| w == &bytes[..]),
            "raw key bytes in the dump"
        );
    }
    // And the store still opens them.
    let back = store
        .get(Namespace::Tenant(&alice()), "k3")
        .unwrap()
        .unwrap();
    assert_eq!(material(&back), keys[3]);
}

#[test]
fn two_nodes_updating_one_object_never_lose_an_update() {
    let db = PgServer::start();
    db.create_database("race");
    let node1: Arc<dyn ObjectStore> = Arc::new(open(&db.options("race")).unwrap());
    let node2: Arc<dyn ObjectStore> = Arc::new(open(&db.options("race")).unwrap());
    node1
        .insert(&symmetric_key("shared", key_bytes(1)))
        .unwrap();

    // Two messages read the same revision; the second write is refused, not applied over the first.
    let message1 = RevisionCheck::new(Arc::clone(&node1));
    let message2 = RevisionCheck::new(Arc::clone(&node2));
    let mut seen1 = message1
        .get(Namespace::Tenant(&alice()), "shared")
        .unwrap()
        .unwrap();
    let mut seen2 = message2
        .get(Namespace::Tenant(&alice()), "shared")
        .unwrap()
        .unwrap();
    seen1
        .attributes
        .push(Attribute::Name(Name::text("from-node-1")));
    seen2
        .attributes
        .push(Attribute::Name(Name::text("from-node-2")));
    message1.update(&seen1).unwrap();
    match message2.update(&seen2) {
        Err(StoreError::Conflict { uid, .. }) => assert_eq!(uid, "shared"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let now = node2
        .get(Namespace::Tenant(&alice()), "shared")
        .unwrap()
        .unwrap();
    let names: Vec<&str> = now.attributes.names().map(|n| n.value.as_str()).collect();
    assert!(
        names.contains(&"from-node-1") && !names.contains(&"from-node-2"),
        "{names:?}"
    );

    // Many read-modify-writes at once from both nodes, each retried on conflict: every one is kept.
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let node = Arc::clone(if t % 2 == 0 { &node1 } else { &node2 });
            std::thread::spawn(move || {
                for i in 0..10 {
                    loop {
                        let message = RevisionCheck::new(Arc::clone(&node));
                        let mut object = message
                            .get(Namespace::Tenant(&alice()), "shared")
                            .unwrap()
                            .unwrap();
                        object
                            .attributes
                            .push(Attribute::Name(Name::text(format!("t{t}-{i}"))));
                        match message.update(&object) {
                            Ok(()) => break,
                            Err(StoreError::Conflict { .. }) => continue,
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let now = node1
        .get(Namespace::Tenant(&alice()), "shared")
        .unwrap()
        .unwrap();
    let names: Vec<&str> = now.attributes.names().map(|n| n.value.as_str()).collect();
    for t in 0..8 {
        for i in 0..10 {
            assert!(
                names.contains(&format!("t{t}-{i}").as_str()),
                "t{t}-{i} lost: {names:?}"
            );
        }
    }
}

#[test]
fn a_restarted_database_is_reported_then_used_again_without_reopening() {
    let db = PgServer::start();
    db.create_database("restart");
    let store = open(&db.options("restart")).unwrap();
    store
        .insert(&symmetric_key("before", key_bytes(4)))
        .unwrap();
    assert_eq!(store.condition(), StoreCondition::Ok);

    db.stop_immediately();
    let started = Instant::now();
    let error = store
        .get(Namespace::Tenant(&alice()), "before")
        .unwrap_err();
    assert!(matches!(error, StoreError::Database(_)), "{error:?}");
    assert!(
        error.to_string().contains("the database is unavailable"),
        "{error}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "bounded retries"
    );
    let insert = store.insert(&symmetric_key("during", key_bytes(5)));
    assert!(matches!(insert, Err(StoreError::Database(_))), "{insert:?}");
    assert!(matches!(store.condition(), StoreCondition::Failing { .. }));

    db.restart();
    let back = store
        .get(Namespace::Tenant(&alice()), "before")
        .unwrap()
        .unwrap();
    assert_eq!(material(&back), key_bytes(4));
    store.insert(&symmetric_key("after", key_bytes(6))).unwrap();
    assert_eq!(store.condition(), StoreCondition::Ok);
    assert!(store
        .get(Namespace::Tenant(&alice()), "during")
        .unwrap()
        .is_none());
}

/// Rewrites the closed sled store at `dir` (typed objects only) in the layout stores had before sled layout 2: an
/// owner index (`lp(owner) || created -> uid`) beside the type index, and no layout version in `meta`.
fn rewrite_in_sled_layout_1(dir: &std::path::Path) {
    let db = sled::open(dir).unwrap();
    let owner_type = db.open_tree("index_type").unwrap();
    let owner_index = db.open_tree("index_owner").unwrap();
    for entry in owner_type.iter() {
        let (key, uid) = entry.unwrap();
        let owner_len = u32::from_be_bytes(key[..4].try_into().unwrap()) as usize;
        let (owner_part, rest) = key.split_at(4 + owner_len);
        owner_index
            .insert([owner_part, &rest[4..]].concat(), uid)
            .unwrap();
    }
    let meta = db.open_tree("meta").unwrap();
    assert!(meta.remove("sled_layout_version").unwrap().is_some());
    db.flush().unwrap();
}

#[test]
fn a_sled_store_is_copied_unchanged_verified_and_the_copy_can_be_rerun() {
    let db = PgServer::start();
    let options = db.options("copy");
    db.create_database("copy");
    let dir = tempfile::tempdir().unwrap();
    {
        let sled = SledStore::open_with_root_key(
            dir.path(),
            &RootKey::from_bytes(ROOT),
            pool(),
            &StoreOptions {
                argon2: Argon2Params::insecure_for_tests(),
                ..StoreOptions::default()
            },
        )
        .unwrap();
        for i in 0..40u8 {
            sled.insert(&symmetric_key(&format!("s{i}"), key_bytes(i)))
                .unwrap();
        }
        let mut internal = symmetric_key("ca", key_bytes(99));
        internal.internal = true;
        sled.insert(&internal).unwrap();
        sled.wait_durable().unwrap();
    }
    rewrite_in_sled_layout_1(dir.path());
    let provider = pool().rustls_provider();
    let first = copy_sled_to_postgres(dir.path(), &options, Arc::clone(&provider)).unwrap();
    assert_eq!((first.objects, first.copied), (41, 41));
    // A server start moves the sled store to layout 2 in between: the re-run still finds the same store.
    drop(
        SledStore::open_with_root_key(
            dir.path(),
            &RootKey::from_bytes(ROOT),
            pool(),
            &StoreOptions {
                argon2: Argon2Params::insecure_for_tests(),
                ..StoreOptions::default()
            },
        )
        .unwrap(),
    );
    let again = copy_sled_to_postgres(dir.path(), &options, Arc::clone(&provider)).unwrap();
    assert_eq!((again.objects, again.copied), (41, 0));
    assert_eq!(again.digest, first.digest);

    // The same root key opens the copy; Locate keeps sled's creation order; new objects come after.
    let store = open(&options).unwrap();
    for i in [0u8, 17, 39] {
        let object = store
            .get(Namespace::Tenant(&alice()), &format!("s{i}"))
            .unwrap()
            .unwrap();
        assert_eq!(material(&object), key_bytes(i));
    }
    assert!(
        store
            .get(Namespace::Server, "ca")
            .unwrap()
            .unwrap()
            .internal
    );
    store.insert(&symmetric_key("new", key_bytes(100))).unwrap();
    let found = store
        .locate(&alice(), &Default::default(), &mut |_| true)
        .unwrap();
    let mut expected: Vec<String> = (0..40).map(|i| format!("s{i}")).collect();
    expected.push("new".into());
    assert_eq!(found, expected);

    // Once the database has moved on, a re-run says the two differ instead of copying over it.
    let message = copy_sled_to_postgres(dir.path(), &options, provider)
        .unwrap_err()
        .to_string();
    assert!(message.contains("verification failed"), "{message}");
}

#[test]
fn nodes_opening_an_empty_database_at_once_agree_on_one_schema_and_one_data_key() {
    let db = PgServer::start();
    db.create_database("together");
    let options = db.options("together");
    let nodes: Vec<PgStore> = (0..4)
        .map(|_| {
            let options = options.clone();
            std::thread::spawn(move || open(&options).expect("every node opens"))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert_eq!(
        db.psql("together", "SELECT COUNT(*) FROM qkms_schema_migrations"),
        kms_server::store::postgres::SCHEMA_VERSION.to_string(),
        "each migration ran once"
    );
    nodes[0].insert(&symmetric_key("k", key_bytes(8))).unwrap();
    for node in &nodes {
        let object = node.get(Namespace::Tenant(&alice()), "k").unwrap().unwrap();
        assert_eq!(
            material(&object),
            key_bytes(8),
            "every node unseals with the same data key"
        );
    }
}
