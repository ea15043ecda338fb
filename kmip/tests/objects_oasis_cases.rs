//! Every managed object (Symmetric Key, Public Key, Private Key, Certificate, Secret Data, Opaque Object, Split
//! Key) in the OASIS KMIP 1.4 and 2.1 test cases decodes into the typed model and re-encodes to the identical
//! tree for that message's protocol version.

mod oasis_support;

use kmip::objects::{KeyMaterial, ManagedObject};
use oasis_support::{case_files, read_messages, visit};
use ttlv::tags;

#[test]
fn every_oasis_managed_object_round_trips_in_its_version() {
    let object_tags = [
        tags::SYMMETRIC_KEY,
        tags::PUBLIC_KEY,
        tags::PRIVATE_KEY,
        tags::CERTIFICATE,
        tags::SECRET_DATA,
        tags::OPAQUE_OBJECT,
        tags::SPLIT_KEY,
    ];
    let mut checked = 0usize;
    let mut raw_material = 0usize;
    for path in case_files() {
        for (version, message) in read_messages(&path) {
            let mut items = Vec::new();
            visit(&message, &mut items);
            for item in items.into_iter().filter(|i| object_tags.contains(&i.tag)) {
                let where_ = format!(
                    "{} ({version}), {}",
                    path.display(),
                    ttlv::xml::to_string(item).unwrap()
                );
                let object = ManagedObject::from_ttlv(item, version)
                    .unwrap_or_else(|e| panic!("{where_}: {e}"));
                assert_eq!(object.to_ttlv(version), *item, "{where_}");
                if let Some(KeyMaterial::Raw(_)) = object
                    .key_block()
                    .and_then(|b| b.key_value.as_ref())
                    .map(|v| &v.material)
                {
                    raw_material += 1;
                }
                checked += 1;
            }
        }
    }
    println!("checked {checked} managed objects ({raw_material} with untyped key material)");
    assert!(checked > 150, "only {checked} managed objects checked");
}
