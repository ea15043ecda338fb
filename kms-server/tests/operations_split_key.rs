//! Create Split Key and Join Split Key through `dispatch`: split / join round trips from any threshold of parts
//! (GF(2^8) polynomial sharing and XOR), the parts' Split Key fields and links, and the refusals of malformed
//! part sets and of keys that must not be split.

mod key_objects_support;
mod operations_harness;

use key_objects_support::*;
use kmip::attributes::{Attribute, CryptographicUsageMask};
use kmip::enums::{CryptographicAlgorithm, KeyFormatType, LinkType, ObjectType, SplitKeyMethod};
use kmip::objects::{KeyBlock, KeyMaterial, ManagedObject};
use kmip::payloads::*;
use kmip::ResultReason;
use operations_harness::*;
use zeroize::Zeroizing;

fn split(h: &Harness, request: CreateSplitKeyRequest) -> Vec<String> {
    match h.ok(&h.alice, V2_1, request) {
        ResponsePayload::CreateSplitKey(r) => r.unique_identifiers,
        other => panic!("{other:?}"),
    }
}

fn split_request(
    uid: Option<&str>,
    parts: i32,
    threshold: i32,
    method: SplitKeyMethod,
) -> CreateSplitKeyRequest {
    CreateSplitKeyRequest {
        object_type: ObjectType::SymmetricKey,
        unique_identifier: uid.map(str::to_owned),
        split_key_parts: parts,
        split_key_threshold: threshold,
        split_key_method: method,
        prime_field_size: None,
        attributes: None,
    }
}

fn join(uids: &[String]) -> JoinSplitKeyRequest {
    JoinSplitKeyRequest {
        object_type: ObjectType::SymmetricKey,
        unique_identifiers: uids.to_vec(),
        secret_data_type: None,
        attributes: None,
    }
}

fn joined(h: &Harness, uids: &[String]) -> Vec<u8> {
    let uid = match h.ok(&h.alice, V2_1, join(uids)) {
        ResponsePayload::JoinSplitKey(r) => r.unique_identifier,
        other => panic!("{other:?}"),
    };
    key_bytes(&h.ok(&h.alice, V2_1, get(&uid)))
}

#[test]
fn a_split_key_joins_from_any_threshold_of_its_parts() {
    let h = Harness::new();
    let key: Vec<u8> = (200u8..232).collect();
    let base = aes_key(&h, &key, CryptographicUsageMask::ENCRYPT);
    let parts = split(
        &h,
        split_request(Some(&base), 5, 3, SplitKeyMethod::PolynomialSharingGf2_8),
    );
    assert_eq!(parts.len(), 5);
    // Each part is a Split Key object saying which part it is, linked to the key it came from.
    for (i, uid) in parts.iter().enumerate() {
        let ResponsePayload::Get(got) = h.ok(&h.alice, V2_1, get(uid)) else {
            panic!()
        };
        let Some(ManagedObject::SplitKey(part)) = got.object.0 else {
            panic!("a Split Key")
        };
        assert_eq!(
            (
                part.key_part_identifier,
                part.split_key_parts,
                part.split_key_threshold
            ),
            (i as i32 + 1, 5, 3)
        );
        assert_ne!(key_bytes(&h.ok(&h.alice, V2_1, get(uid))), key);
        assert!(links(&h, uid)
            .iter()
            .any(|l| l.link_type == LinkType::ParentLink && l.linked_object_identifier == base));
    }
    for subset in [[0, 1, 2], [4, 2, 0], [1, 3, 4]] {
        let chosen: Vec<String> = subset.iter().map(|&i| parts[i].clone()).collect();
        assert_eq!(joined(&h, &chosen), key);
    }
    assert_eq!(joined(&h, &parts), key);
    // Too few parts, a repeated part, or a part of another split are refused.
    assert_failed(
        &h.one(&h.alice, V2_1, join(&parts[..2])),
        ResultReason::InvalidField,
    );
    let repeated = vec![parts[0].clone(), parts[0].clone(), parts[1].clone()];
    assert_failed(
        &h.one(&h.alice, V2_1, join(&repeated)),
        ResultReason::InvalidField,
    );
    let other = split(
        &h,
        split_request(Some(&base), 5, 3, SplitKeyMethod::PolynomialSharingGf2_8),
    );
    let mixed = vec![
        parts[0].clone(),
        parts[1].clone(),
        parts[2].clone(),
        other[3].clone(),
    ];
    assert_failed(
        &h.one(&h.alice, V2_1, join(&mixed)),
        ResultReason::InvalidField,
    );
    // Not a Split Key.
    assert_failed(
        &h.one(&h.alice, V2_1, join(std::slice::from_ref(&base))),
        ResultReason::InvalidObjectType,
    );
}

#[test]
fn xor_and_new_key_splits_and_their_refusals() {
    let h = Harness::new();
    // Without an identifier, a new AES key from the pool is split; XOR needs every part.
    let mut request = split_request(None, 3, 3, SplitKeyMethod::Xor);
    request.attributes = Some(
        vec![
            Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Aes),
            Attribute::CryptographicLength(128),
        ]
        .into(),
    );
    let parts = split(&h, request);
    let key = joined(&h, &parts);
    assert_eq!(key.len(), 16);
    assert_failed(
        &h.one(&h.alice, V2_1, join(&parts[..2])),
        ResultReason::InvalidField,
    );
    let base = aes_key(&h, &[7u8; 16], CryptographicUsageMask::ENCRYPT);
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            split_request(Some(&base), 3, 2, SplitKeyMethod::Xor),
        ),
        ResultReason::InvalidField,
    );
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            split_request(Some(&base), 3, 4, SplitKeyMethod::PolynomialSharingGf2_8),
        ),
        ResultReason::InvalidField,
    );
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            split_request(Some(&base), 3, 2, SplitKeyMethod::PolynomialSharingGf2_16),
        ),
        ResultReason::UnsupportedCryptographicParameters,
    );
    // A Sensitive key is not split.
    let sensitive = register(
        &h,
        ManagedObject::SymmetricKey(KeyBlock::new(
            KeyFormatType::Raw,
            KeyMaterial::Bytes(Zeroizing::new(vec![9u8; 16])),
            Some(CryptographicAlgorithm::Aes),
            Some(128),
        )),
        vec![Attribute::Sensitive(true)],
    );
    assert_failed(
        &h.one(
            &h.alice,
            V2_1,
            split_request(
                Some(&sensitive),
                3,
                2,
                SplitKeyMethod::PolynomialSharingGf2_8,
            ),
        ),
        ResultReason::PermissionDenied,
    );
}
