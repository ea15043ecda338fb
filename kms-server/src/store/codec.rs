//! How records are laid out in sled: TTLV binary throughout.
//!
//! - The attribute record (clear): `qkms Record { Owner, Internal, Created, Attributes { attribute* } }`, each
//!   attribute in its KMIP 2.1 form whatever version it arrived in (1.x-only and untyped attributes keep their
//!   1.x `Attribute {name, value}` form, which the 2.x decoder also accepts), so nothing is lost.
//! - The object plaintext (sealed before it is stored): the `ManagedObject` encoded for KMIP 2.1.
//!
//! Private record tags live in the KMIP extension range (0x54xxxx); they never reach the wire.

use kmip::attributes::{Attribute, Attributes};
use kmip::enums::ObjectType;
use kmip::objects::ManagedObject;
use kmip::ProtocolVersion;
use ttlv::{tags, Item, Tag, Value};
use zeroize::{Zeroize, Zeroizing};

use super::StoreError;
use crate::tenant::TenantId;

/// The version stored objects are encoded in.
pub(crate) const STORAGE_VERSION: ProtocolVersion = ProtocolVersion::V2_1;

/// Initial capacity of an object's plaintext buffer.
const PLAINTEXT_RESERVE: usize = 8 * 1024;

const RECORD: Tag = Tag(0x54_F001);
const OWNER: Tag = Tag(0x54_F002);
const INTERNAL: Tag = Tag(0x54_F003);
const CREATED: Tag = Tag(0x54_F004);
const INDEXED_TYPE: Tag = Tag(0x54_F005);

/// The clear part of a stored object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    pub owner: TenantId,
    pub internal: bool,
    /// Creation sequence number: orders the Locate indexes.
    pub created: u64,
    /// The object type the type index files it under (from the attributes, else from the object).
    pub indexed_type: Option<ObjectType>,
    pub attributes: Attributes,
}

pub(crate) fn encode_record(record: &Record) -> Result<Vec<u8>, StoreError> {
    let items = record
        .attributes
        .iter()
        .map(|a| {
            a.to_v2().or_else(|| a.to_v1(None)).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "attribute {:?} has neither a tag nor a name and cannot be stored",
                    a.name()
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut fields = vec![
        Item::new(OWNER, Value::TextString(record.owner.0.clone())),
        Item::new(INTERNAL, Value::Boolean(record.internal)),
        Item::new(CREATED, Value::LongInteger(record.created as i64)),
    ];
    if let Some(object_type) = record.indexed_type {
        fields.push(Item::new(
            INDEXED_TYPE,
            Value::Enumeration(object_type.to_u32()),
        ));
    }
    fields.push(Item::structure(tags::ATTRIBUTES, items));
    ttlv::binary::encode(&Item::structure(RECORD, fields))
        .map_err(|e| StoreError::Corrupt(format!("record cannot be encoded: {e}")))
}

pub(crate) fn decode_record(bytes: &[u8]) -> Result<Record, StoreError> {
    let corrupt = |what: String| StoreError::Corrupt(format!("attribute record: {what}"));
    let item = ttlv::binary::decode(bytes).map_err(|e| corrupt(e.to_string()))?;
    if item.tag != RECORD {
        return Err(corrupt(format!("top tag {:?}", item.tag)));
    }
    let child = |tag: Tag| {
        item.child(tag)
            .map(|c| &c.value)
            .ok_or_else(|| corrupt(format!("missing field {tag:?}")))
    };
    let Value::TextString(owner) = child(OWNER)? else {
        return Err(corrupt("owner is not a text string".into()));
    };
    let Value::Boolean(internal) = child(INTERNAL)? else {
        return Err(corrupt("internal is not a boolean".into()));
    };
    let Value::LongInteger(created) = child(CREATED)? else {
        return Err(corrupt("created is not a long integer".into()));
    };
    let indexed_type = match item.child(INDEXED_TYPE).map(|c| &c.value) {
        None => None,
        Some(Value::Enumeration(code)) => Some(
            ObjectType::from_u32(*code)
                .ok_or_else(|| corrupt(format!("unknown object type {code:#x}")))?,
        ),
        Some(_) => return Err(corrupt("indexed type is not an enumeration".into())),
    };
    let attributes_item = item
        .child(tags::ATTRIBUTES)
        .ok_or_else(|| corrupt("missing attributes".into()))?;
    let attributes = attributes_item
        .children()
        .iter()
        .map(Attribute::from_v2)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| corrupt(e.to_string()))?;
    Ok(Record {
        owner: TenantId(owner.clone()),
        internal: *internal,
        created: *created as u64,
        indexed_type,
        attributes: Attributes::from(attributes),
    })
}

/// The plaintext to seal: `object` in its 2.1 encoding.
pub(crate) fn encode_object(object: &ManagedObject) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    let mut item = object.to_ttlv(STORAGE_VERSION);
    // Reserved up front so that growth (which frees the old buffer unzeroized) does not happen for any usual
    // object: a 4096-bit RSA private key in transparent form encodes to about 3 KiB.
    let mut out = Zeroizing::new(Vec::with_capacity(PLAINTEXT_RESERVE));
    let encoded = ttlv::binary::encode_into(&item, &mut out);
    scrub(&mut item);
    encoded.map_err(|e| StoreError::Corrupt(format!("object cannot be encoded: {e}")))?;
    Ok(out)
}

pub(crate) fn decode_object(uid: &str, plaintext: &[u8]) -> Result<ManagedObject, StoreError> {
    let corrupt = |what: String| StoreError::Corrupt(format!("object {uid:?}: {what}"));
    let mut item = ttlv::binary::decode(plaintext).map_err(|e| corrupt(e.to_string()))?;
    let object = ManagedObject::from_ttlv(&item, STORAGE_VERSION);
    scrub(&mut item);
    object.map_err(|e| corrupt(e.to_string()))
}

/// Zeroizes every byte, text and big-integer value in a tree that carried key material.
fn scrub(item: &mut Item) {
    match &mut item.value {
        Value::Structure(children) => children.iter_mut().for_each(scrub),
        Value::ByteString(bytes) | Value::BigInteger(bytes) => bytes.zeroize(),
        Value::TextString(text) => text.zeroize(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use kmip::attributes::{CustomAttribute, Name, UnknownAttribute};
    use kmip::enums::{CryptographicAlgorithm, KeyFormatType, State};
    use kmip::objects::{KeyBlock, KeyMaterial};

    use super::*;

    #[test]
    fn record_round_trips_every_attribute_form() {
        let attributes = Attributes::from(vec![
            Attribute::UniqueIdentifier("u1".into()),
            Attribute::ObjectType(ObjectType::SymmetricKey),
            Attribute::Name(Name::text("backup-key")),
            Attribute::Name(Name::text("second name")),
            Attribute::State(State::PreActive),
            Attribute::OperationPolicyName("default".into()),
            Attribute::Custom(CustomAttribute {
                vendor_identification: "x".into(),
                attribute_name: "qkms-entropy-source".into(),
                value: Value::TextString("os".into()),
            }),
            Attribute::Unknown(UnknownAttribute {
                text_name: Some("Some Future Attribute".into()),
                tag: None,
                value: Value::Integer(3),
            }),
            Attribute::Unknown(UnknownAttribute {
                text_name: None,
                tag: Some(Tag(0x42_0300)),
                value: Value::Boolean(true),
            }),
        ]);
        let record = Record {
            owner: TenantId("alice".into()),
            internal: true,
            created: 77,
            indexed_type: Some(ObjectType::SymmetricKey),
            attributes,
        };
        let bytes = encode_record(&record).unwrap();
        assert_eq!(decode_record(&bytes).unwrap(), record);
        let untyped = Record {
            indexed_type: None,
            ..record
        };
        assert_eq!(
            decode_record(&encode_record(&untyped).unwrap()).unwrap(),
            untyped
        );
    }

    #[test]
    fn object_round_trips_and_garbage_is_corrupt() {
        let object = ManagedObject::SymmetricKey(KeyBlock::new(
            KeyFormatType::Raw,
            KeyMaterial::Bytes(Zeroizing::new(vec![0x11; 32])),
            Some(CryptographicAlgorithm::Aes),
            Some(256),
        ));
        let plain = encode_object(&object).unwrap();
        assert_eq!(decode_object("u", &plain).unwrap(), object);
        assert!(matches!(
            decode_object("u", b"not ttlv"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(decode_record(&plain), Err(StoreError::Corrupt(_))));
    }
}
