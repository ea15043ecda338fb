//! DSA keys in the Transparent DSA Public / Private Key formats through `dispatch` (OASIS BL-M-12-21 and
//! BL-M-13-21): Register, Get as registered, and the KMIP errors for malformed keys and unsupported uses.

mod operations_harness;

use kmip::attributes::Attribute;
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, ObjectType};
use kmip::objects::{DsaPrivateParts, DsaPublicParts, KeyBlock, KeyMaterial, ManagedObject};
use kmip::payloads::*;
use kmip::ResultReason;
use operations_harness::*;
use zeroize::Zeroizing;

const P: &str = "fca682ce8e12caba26efccf7110e526db078b05edecbcd1eb4a208f3ae1617ae01f35b91a47e6df63413c5e12ed0899bcd132acd50d99151bdc43ee737592e17";
const Q: &str = "962eddcc369cba8ebb260ee6b6a126d9346e38c5";
const G: &str = "678471b27a9cf44ee91a49c5147db1a9aaf244f05a434d6486931d2d14271b9e35030b71fd73da179069b32e2935630e1c2062354d0da20a6c416e50be794ca4";
const Y: &str = "b3cb74d988dea7160a64a4edbb7f70404fa4c08a4208c19d76357a6a9df200cce79faecb22e3419be9b01128cbd998a2d9307101705e4a952462f34728ac5fcf";
const X: &str = "095411d740d2443fa3f97d1ed9a0411bb45e7131";

fn h(s: &str) -> Vec<u8> {
    let mut v = vec![0; 4];
    v.extend(hex::decode(s).unwrap());
    v
}

fn public_block(y: &str, length: Option<i32>) -> KeyBlock {
    KeyBlock::new(
        KeyFormatType::TransparentDsaPublicKey,
        KeyMaterial::TransparentDsaPublicKey(DsaPublicParts {
            p: h(P),
            q: h(Q),
            g: h(G),
            y: h(y),
        }),
        Some(CryptographicAlgorithm::Dsa),
        length,
    )
}

fn private_block(x: &str) -> KeyBlock {
    KeyBlock::new(
        KeyFormatType::TransparentDsaPrivateKey,
        KeyMaterial::TransparentDsaPrivateKey(DsaPrivateParts {
            p: h(P),
            q: h(Q),
            g: h(G),
            x: Zeroizing::new(h(x)),
        }),
        Some(CryptographicAlgorithm::Dsa),
        Some(512),
    )
}

fn register(object: ManagedObject, attributes: Vec<Attribute>) -> RegisterRequest {
    RegisterRequest {
        object_type: object.object_type(),
        attributes: attributes.into(),
        object: ObjectField(Some(object)),
        protection_storage_masks: None,
    }
}

fn registered(payload: ResponsePayload) -> String {
    match payload {
        ResponsePayload::Register(r) => r.unique_identifier,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_dsa_private_key_is_registered_and_returned_as_given() {
    let hx = Harness::new();
    let block = private_block(X);
    let uid = registered(hx.ok(
        &hx.alice,
        V2_1,
        register(
            ManagedObject::PrivateKey(block.clone()),
            vec![Attribute::Fresh(true)],
        ),
    ));
    let ResponsePayload::Get(got) = hx.ok(&hx.alice, V2_1, get(&uid)) else {
        panic!()
    };
    assert_eq!(got.object_type, ObjectType::PrivateKey);
    assert_eq!(got.object.0, Some(ManagedObject::PrivateKey(block)));
    let attributes = hx.attributes(&hx.alice, V2_1, &uid);
    assert_eq!(
        attributes.cryptographic_algorithm(),
        Some(CryptographicAlgorithm::Dsa)
    );
    assert_eq!(attributes.cryptographic_length(), Some(512));
    // Asking for a format qkms cannot convert a DSA key to is a clear refusal.
    let mut as_pkcs8 = get(&uid);
    as_pkcs8.key_format_type = Some(KeyFormatType::Pkcs8);
    assert_failed(
        &hx.one(&hx.alice, V2_1, as_pkcs8),
        ResultReason::KeyFormatTypeNotSupported,
    );
}

#[test]
fn a_sensitive_dsa_public_key_is_registered_but_not_served_in_the_clear() {
    let hx = Harness::new();
    // No Cryptographic Length: it is taken from P.
    let uid = registered(hx.ok(
        &hx.alice,
        V2_1,
        register(
            ManagedObject::PublicKey(public_block(Y, None)),
            vec![Attribute::Sensitive(true)],
        ),
    ));
    assert_failed(&hx.one(&hx.alice, V2_1, get(&uid)), ResultReason::Sensitive);
    let attributes = hx.attributes(&hx.alice, V2_1, &uid);
    assert_eq!(attributes.cryptographic_length(), Some(512));
    assert!(attributes
        .iter()
        .any(|a| *a == Attribute::AlwaysSensitive(true)));
}

#[test]
fn malformed_dsa_keys_are_invalid_field() {
    let hx = Harness::new();
    let cases = [
        // Y outside the order-Q subgroup.
        ManagedObject::PublicKey(public_block("02", None)),
        // A Cryptographic Length that is not P's.
        ManagedObject::PublicKey(public_block(Y, Some(1024))),
        // X = 0.
        ManagedObject::PrivateKey(private_block("00")),
        // Private material in a Public Key object.
        ManagedObject::PublicKey(private_block(X)),
    ];
    for object in cases {
        let item = hx.one(&hx.alice, V2_1, register(object, vec![]));
        assert_failed(&item, ResultReason::InvalidField);
    }
    // A DSA key in a format qkms does not read.
    let pkcs8 = KeyBlock::new(
        KeyFormatType::Pkcs8,
        KeyMaterial::Bytes(Zeroizing::new(vec![0x30, 0x00])),
        Some(CryptographicAlgorithm::Dsa),
        None,
    );
    let item = hx.one(
        &hx.alice,
        V2_1,
        register(ManagedObject::PrivateKey(pkcs8), vec![]),
    );
    assert_failed(&item, ResultReason::KeyFormatTypeNotSupported);
}
