//! The configuration's unit tests: defaults, the documented template, paths, validation.

use super::*;

#[test]
fn empty_file_is_the_documented_defaults_resolved_against_the_directory() {
    let config = Config::from_toml("", Path::new("/etc/qkms")).unwrap();
    assert_eq!(config.server.listen, "127.0.0.1:5696");
    assert_eq!(
        config.tls.ca_files,
        vec![PathBuf::from("/etc/qkms/pki/ca.pem")]
    );
    assert_eq!(config.store.path, PathBuf::from("/etc/qkms/store"));
    assert_eq!(config.auth.tenant_mapping, TenantMapping::SubjectCn);
    assert_eq!(config.limits.ttlv(), ttlv::Limits::default());
    assert!(config.entropy.sources.is_empty());
    assert!(!config.https.enabled);
    assert_eq!(config.https.listen, "127.0.0.1:8443");
    assert_eq!(
        config.tls.on_entropy_failure,
        entropy::tls::OnEntropyFailure::OsFallback
    );
}

#[test]
fn tls_on_entropy_failure_is_written_documented_and_read_back() {
    let mut config = Config::default();
    config.tls.on_entropy_failure = entropy::tls::OnEntropyFailure::Refuse;
    let text = config.documented_toml().unwrap();
    assert!(text.contains("on_entropy_failure = \"refuse\""), "{text}");
    assert!(text.contains("\"os-fallback\" or \"refuse\""), "{text}");
    let parsed = Config::from_toml(&text, Path::new("/")).unwrap();
    assert_eq!(
        parsed.tls.on_entropy_failure,
        entropy::tls::OnEntropyFailure::Refuse
    );
}

#[test]
fn documented_template_parses_back_to_the_same_configuration() {
    let mut config = Config::default();
    config.tls.host_names = vec!["kms.example.org".into(), "10.0.0.7".into()];
    config.auth.operators = vec!["ops".into()];
    config
        .auth
        .fingerprints
        .insert("ab".repeat(32), "tenant-x".into());
    config.limits.idle_timeout_secs = 7;
    config.store.cache_mb = 512;
    config.server.allocator_purge_delay_ms = 100;
    config.server.allocator_transparent_huge_pages = true;
    config.https.enabled = true;
    config.https.listen = "0.0.0.0:9443".into();
    config.audit.path = "logs/qkms-audit.log".into();
    config.audit.max_file_bytes = 1 << 20;
    config.root_key.kind = RootKeyKind::Pkcs11;
    config.root_key.module = "/usr/lib/softhsm/libsofthsm2.so".into();
    config.root_key.token_label = "qkms".into();
    config.root_key.mechanism = hsm_bridge::MechanismChoice::AesGcm;
    config.hsm.seed.interval_secs = 60;
    let text = config.documented_toml().unwrap();
    let mut expected = config.clone();
    expected.resolve_paths(Path::new("/d"));
    assert_eq!(Config::from_toml(&text, Path::new("/d")).unwrap(), expected);
}

#[test]
fn the_audit_section_has_its_defaults_and_the_old_store_key_still_works() {
    let config = Config::from_toml("", Path::new("/etc/qkms")).unwrap();
    assert_eq!(config.audit.path, PathBuf::from("/etc/qkms/audit.log"));
    assert_eq!(config.audit.max_file_bytes, 64 * 1024 * 1024);
    let config = Config::from_toml(
        "[audit]\npath = \"logs/audit.log\"\nmax_file_bytes = 1048576\n",
        Path::new("/etc/qkms"),
    )
    .unwrap();
    assert_eq!(config.audit.path, PathBuf::from("/etc/qkms/logs/audit.log"));
    assert_eq!(config.audit.max_file_bytes, 1_048_576);
    let old = Config::from_toml("[store]\naudit_log = \"old.log\"\n", Path::new("/d")).unwrap();
    assert_eq!(old.audit.path, PathBuf::from("/d/old.log"));
    assert_eq!(old.store.audit_log, None);
    // The node id of a chain in the database: set, written and read back; else from the listen address.
    let mut named = Config::from_toml("[audit]\nnode_id = \"node-7\"\n", Path::new("/d")).unwrap();
    assert_eq!(named.audit.node_id(&named.server.listen), "node-7");
    let text = named.documented_toml().unwrap();
    assert!(text.contains("node_id = \"node-7\""), "{text}");
    named.audit.node_id = None;
    assert!(named
        .audit
        .node_id("127.0.0.1:5696")
        .ends_with("/127.0.0.1:5696"));
    // When reads are answered on a database store: spooled by default, committed when set; written back.
    assert_eq!(
        named.audit.answer_reads_after,
        crate::config::ReadsAnsweredAfter::Spooled
    );
    assert!(text.contains("answer_reads_after = \"spooled\""), "{text}");
    let committed = Config::from_toml(
        "[audit]\nanswer_reads_after = \"committed\"\n",
        Path::new("/d"),
    )
    .unwrap();
    assert_eq!(
        committed.audit.answer_reads_after,
        crate::config::ReadsAnsweredAfter::Committed
    );
    let again = Config::from_toml(&committed.documented_toml().unwrap(), Path::new("/d")).unwrap();
    assert_eq!(
        again.audit.answer_reads_after,
        committed.audit.answer_reads_after
    );
    for (text, needle) in [
        (
            "[store]\naudit_log = \"a\"\n[audit]\npath = \"b\"\n",
            "set twice",
        ),
        ("[audit]\nmax_file_bytes = 100\n", "max_file_bytes"),
        ("[audit]\nnode_id = \" \"\n", "audit.node_id"),
        ("[audit]\nnode_id = \"a\\nb\"\n", "audit.node_id"),
        (
            "[audit]\nanswer_reads_after = \"never\"\n",
            "answer_reads_after",
        ),
    ] {
        let error = Config::from_toml(text, Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(error.contains(needle), "{text}: {error}");
    }
}

#[test]
fn absolute_paths_stay_absolute() {
    let config =
        Config::from_toml("[store]\npath = \"/var/lib/qkms\"\n", Path::new("/etc")).unwrap();
    assert_eq!(config.store.path, PathBuf::from("/var/lib/qkms"));
}

#[test]
fn invalid_settings_are_refused_with_the_reason() {
    for (text, needle) in [
        ("[server]\nlisten = \"localhost\"\n", "server.listen"),
        ("[https]\nlisten = \"localhost:8443\"\n", "https.listen"),
        ("[tls]\nca_files = []\n", "ca_files"),
        ("[limits]\nread_timeout_secs = 0\n", "timeouts"),
        ("[auth.fingerprints]\n\"zz\" = \"t\"\n", "fingerprint"),
        ("[server]\nlisten_address = \"x\"\n", "unknown field"),
        ("[auth]\ntenant_mapping = \"email\"\n", "unknown variant"),
        ("[root_key]\nkind = \"pkcs11\"\n", "root_key.module"),
        ("[root_key]\nkind = \"tpm\"\n", "unknown variant"),
        ("[hsm.seed]\nbytes = 1\n", "hsm.seed.bytes"),
        (
            "[tls]\non_entropy_failure = \"ignore\"\n",
            "unknown variant",
        ),
        ("[store]\ncache_mb = 0\n", "store.cache_mb"),
        (
            "[server]\nallocator_purge_delay_ms = 10001\n",
            "allocator_purge_delay_ms",
        ),
        ("[store]\ncache_mb = 65537\n", "store.cache_mb"),
        ("[store]\ncache_mb = -1\n", "cache_mb"),
    ] {
        let error = Config::from_toml(text, Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(error.contains(needle), "{text}: {error}");
    }
}

#[test]
fn the_store_cache_size_reaches_the_sled_options() {
    let default = Config::from_toml("", Path::new("/d")).unwrap();
    assert_eq!(default.store.cache_mb, 16);
    assert_eq!(
        crate::root_custody::store_options(&default).cache_capacity_bytes,
        16 * 1024 * 1024
    );
    assert_eq!(
        crate::store::StoreOptions::default().cache_capacity_bytes,
        16 * 1024 * 1024
    );
    assert_eq!(default.server.allocator_purge_delay_ms, 100);
    assert!(!default.server.allocator_transparent_huge_pages);
    let set = Config::from_toml("[store]\ncache_mb = 200\n", Path::new("/d")).unwrap();
    assert_eq!(set.store.cache_mb, 200);
    assert_eq!(
        crate::root_custody::store_options(&set).cache_capacity_bytes,
        200 * 1024 * 1024
    );
}
