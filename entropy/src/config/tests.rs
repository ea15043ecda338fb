//! Unit tests of the entropy configuration: defaults, validation and the TOML form.

use super::*;

#[test]
fn empty_config_is_the_os_fallback() {
    let config = EntropyConfig::from_toml_str("").unwrap();
    assert!(config.is_os_fallback());
    let sources = config.effective_sources();
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0].kind, SourceKind::Os);
    assert!(sources[0].is_credited());
    assert!(!sources[0].quantum);
    assert_eq!(config.drbg.mechanism, DrbgMechanism::CtrAes256);
}

#[test]
fn parses_a_full_configuration() {
    let text = r#"
        allow_replay_credit = true

        [[sources]]
        kind = "replay"
        id = "rec"
        path = "/tmp/x.bin"
        min_entropy_per_sample = 7.5
        quantum = true

        [[sources]]
        kind = "https"
        id = "anu"
        url = "https://example.invalid/qrng"
        api_key = "very-secret"
        min_entropy_per_sample = 8.0

        [health]
        intermittent_alpha = 25
        persistent_alpha = 50

        [drbg]
        mechanism = "HmacSha256"
        instances = 2
        reseed_interval_generates = 10
        reseed_interval_seconds = 5
        seed_timeout_ms = 100
    "#;
    let config = EntropyConfig::from_toml_str(text).unwrap();
    assert_eq!(config.sources.len(), 2);
    assert!(config.effective_sources()[0].is_credited());
    assert_eq!(config.credited_replay_sources(), ["rec"]);
    assert!(
        !config.sources[1].is_credited(),
        "https defaults to uncredited"
    );
    assert_eq!(config.drbg.mechanism, DrbgMechanism::HmacSha256);
    assert_eq!(config.drbg.instance_count(), 2);
    assert!(!format!("{config:?}").contains("very-secret"));
}

#[test]
fn refuses_broken_configurations() {
    let cases = [
        ("[[sources]]\nkind = \"replay\"\nid = \"r\"\nmin_entropy_per_sample = 8.0\n", "path"),
        ("[[sources]]\nkind = \"replay\"\nid = \"r\"\npath = \"/x\"\n", "min_entropy_per_sample"),
        ("[[sources]]\nkind = \"os\"\nid = \"a\"\n[[sources]]\nkind = \"os\"\nid = \"a\"\n", "twice"),
        ("[[sources]]\nkind = \"os\"\nid = \"a\"\ncredited = false\n", "no credited source"),
        ("[[sources]]\nkind = \"os\"\nid = \"a\"\nmin_entropy_per_sample = 9.0\n", "exceeds"),
        // A recording is uncredited unless the test-only switch is on.
        ("[[sources]]\nkind = \"replay\"\nid = \"r\"\npath = \"/x\"\nmin_entropy_per_sample = 8.0\n", "allow_replay_credit"),
        ("[[sources]]\nkind = \"replay\"\nid = \"r\"\npath = \"/x\"\nmin_entropy_per_sample = 8.0\ncredited = true\n[[sources]]\nkind = \"os\"\nid = \"o\"\n", "tests only"),
        ("[drbg]\nreseed_interval_generates = 0\n", "reseed_interval_generates"),
        ("[drbg]\nseed_timeout_ms = 0\n", "seed_timeout_ms"),
        ("[health]\nintermittent_alpha = 0\n", "intermittent_alpha"),
        ("bogus = 1\n", "unknown field"),
        // H so low that the adaptive proportion test could never fire.
        (
            "[[sources]]\nkind = \"replay\"\nid = \"b\"\npath = \"/x\"\nsample_bits = 1\nmin_entropy_per_sample = 0.0178\n",
            "never fire",
        ),
    ];
    for (text, expected) in cases {
        let error = EntropyConfig::from_toml_str(text).unwrap_err().to_string();
        assert!(error.contains(expected), "{text:?}: {error}");
    }
}
