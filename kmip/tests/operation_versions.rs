//! `Operation::introduced_in` agrees with the specifications' Operation Enumeration tables
//! (`tests/data/operation-versions.txt`): every operation is defined from exactly the version that added it, and
//! every value the tables list is an operation this crate knows.

use kmip::{Operation, ProtocolVersion};

fn spec_table() -> Vec<(ProtocolVersion, u32, String)> {
    let text = include_str!("data/operation-versions.txt");
    let mut rows = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (version, ops) = line.split_once(':').expect("VERSION: list");
        let (major, minor) = version.split_once('.').expect("major.minor");
        let version = ProtocolVersion::new(major.parse().unwrap(), minor.parse().unwrap());
        for op in ops.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = op.rsplit_once('=').expect("name = value");
            let value = u32::from_str_radix(value.trim(), 16).expect("hex value");
            rows.push((version, value, name.trim().to_owned()));
        }
    }
    rows
}

#[test]
fn every_operation_is_defined_from_the_version_whose_table_adds_it() {
    let table = spec_table();
    assert_eq!(table.len(), Operation::ALL.len(), "one row per operation");
    for (version, value, name) in &table {
        let op = Operation::from_u32(*value)
            .unwrap_or_else(|| panic!("{name} (0x{value:02X}) is not a known operation"));
        assert_eq!(
            op.introduced_in(),
            *version,
            "{name} (0x{value:02X}) is a KMIP {version} operation"
        );
    }
}

#[test]
fn discover_versions_and_rekey_key_pair_are_kmip_1_1_operations() {
    assert_eq!(
        Operation::DiscoverVersions.introduced_in(),
        ProtocolVersion::V1_1
    );
    assert_eq!(
        Operation::ReKeyKeyPair.introduced_in(),
        ProtocolVersion::V1_1
    );
    assert_eq!(Operation::Encrypt.introduced_in(), ProtocolVersion::V1_2);
}
