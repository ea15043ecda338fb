//! Each typed attribute round-trips through both wire forms in every version that has it; versions that lack
//! an attribute never see it; malformed attributes are Invalid Field naming the attribute.

use kmip::attributes::{
    decode_references, encode_references, AlternativeName, ApplicationSpecificInformation,
    Attribute, AttributeName, Attributes, CryptographicDomainParameters, CryptographicParameters,
    CryptographicUsageMask, CustomAttribute, Digest, KeyValueLocation, KnownAttribute, Link, Name,
    RandomNumberGenerator, RevocationReason, UnknownAttribute, UsageLimits,
    X509CertificateIdentifier, X509Names,
};
use kmip::enums::*;
use kmip::{ProtocolVersion, ResultReason};
use ttlv::{tags, Item, Tag, Value};

fn sample_of(known: KnownAttribute) -> Attribute {
    use KnownAttribute as K;
    let t = 1_700_000_000;
    match known {
        K::UniqueIdentifier => Attribute::UniqueIdentifier("uid-1".into()),
        K::Name => Attribute::Name(Name {
            value: "key".into(),
            name_type: NameType::Uri,
        }),
        K::ObjectType => Attribute::ObjectType(ObjectType::PrivateKey),
        K::CryptographicAlgorithm => Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Aes),
        K::CryptographicLength => Attribute::CryptographicLength(256),
        K::CryptographicParameters => Attribute::CryptographicParameters(CryptographicParameters {
            block_cipher_mode: Some(BlockCipherMode::Gcm),
            padding_method: Some(PaddingMethod::Oaep),
            hashing_algorithm: Some(HashingAlgorithm::Sha256),
            key_role_type: Some(KeyRoleType::Kek),
            digital_signature_algorithm: Some(DigitalSignatureAlgorithm::RsassaPss),
            cryptographic_algorithm: Some(CryptographicAlgorithm::Rsa),
            random_iv: Some(true),
            iv_length: Some(96),
            tag_length: Some(16),
            fixed_field_length: Some(32),
            invocation_field_length: Some(64),
            counter_length: Some(32),
            initial_counter_value: Some(1),
            salt_length: Some(32),
            mask_generator: Some(MaskGenerator::Mgf1),
            mask_generator_hashing_algorithm: Some(HashingAlgorithm::Sha384),
            p_source: Some(vec![1, 2, 3]),
            trailer_field: Some(1),
        }),
        K::CryptographicDomainParameters => {
            Attribute::CryptographicDomainParameters(CryptographicDomainParameters {
                qlength: Some(256),
                recommended_curve: Some(RecommendedCurve::P256),
            })
        }
        K::CertificateType => Attribute::CertificateType(CertificateType::X509),
        K::CertificateLength => Attribute::CertificateLength(1234),
        K::X509CertificateIdentifier => {
            Attribute::X509CertificateIdentifier(X509CertificateIdentifier {
                issuer_distinguished_name: vec![0x30, 0x00],
                certificate_serial_number: vec![0x01],
            })
        }
        K::X509CertificateSubject => Attribute::X509CertificateSubject(X509Names {
            distinguished_name: vec![0x30, 0x01],
            alternative_names: vec![vec![0x82, 0x01], vec![0x82, 0x02]],
        }),
        K::X509CertificateIssuer => Attribute::X509CertificateIssuer(X509Names {
            distinguished_name: vec![0x30, 0x02],
            alternative_names: vec![],
        }),
        K::DigitalSignatureAlgorithm => {
            Attribute::DigitalSignatureAlgorithm(DigitalSignatureAlgorithm::EcdsaWithSha256)
        }
        K::Digest => Attribute::Digest(Digest {
            hashing_algorithm: HashingAlgorithm::Sha256,
            digest_value: Some(vec![9; 32]),
            key_format_type: Some(KeyFormatType::Raw),
        }),
        K::OperationPolicyName => Attribute::OperationPolicyName("default".into()),
        K::CryptographicUsageMask => Attribute::CryptographicUsageMask(
            CryptographicUsageMask::ENCRYPT | CryptographicUsageMask::DECRYPT,
        ),
        K::LeaseTime => Attribute::LeaseTime(3600),
        K::UsageLimits => Attribute::UsageLimits(UsageLimits {
            total: 16,
            count: Some(4),
            unit: UsageLimitsUnit::Byte,
        }),
        K::State => Attribute::State(State::Active),
        K::InitialDate => Attribute::InitialDate(t),
        K::ActivationDate => Attribute::ActivationDate(t + 1),
        K::ProcessStartDate => Attribute::ProcessStartDate(t + 2),
        K::ProtectStopDate => Attribute::ProtectStopDate(t + 3),
        K::DeactivationDate => Attribute::DeactivationDate(t + 4),
        K::DestroyDate => Attribute::DestroyDate(t + 5),
        K::CompromiseOccurrenceDate => Attribute::CompromiseOccurrenceDate(t + 6),
        K::CompromiseDate => Attribute::CompromiseDate(t + 7),
        K::RevocationReason => Attribute::RevocationReason(RevocationReason {
            code: RevocationReasonCode::KeyCompromise,
            message: Some("leaked".into()),
        }),
        K::ArchiveDate => Attribute::ArchiveDate(t + 8),
        K::ObjectGroup => Attribute::ObjectGroup("group".into()),
        K::Fresh => Attribute::Fresh(true),
        K::Link => Attribute::Link(Link {
            link_type: LinkType::PublicKeyLink,
            linked_object_identifier: "uid-2".into(),
        }),
        K::ApplicationSpecificInformation => {
            Attribute::ApplicationSpecificInformation(ApplicationSpecificInformation {
                namespace: "ssl".into(),
                data: Some("www.example.com".into()),
            })
        }
        K::ContactInformation => Attribute::ContactInformation("ops@example.com".into()),
        K::LastChangeDate => Attribute::LastChangeDate(t + 9),
        K::AlternativeName => Attribute::AlternativeName(AlternativeName {
            value: "alt".into(),
            name_type: AlternativeNameType::DnsName,
        }),
        K::KeyValuePresent => Attribute::KeyValuePresent(false),
        K::KeyValueLocation => Attribute::KeyValueLocation(KeyValueLocation {
            value: "hsm://slot/1".into(),
            location_type: KeyValueLocationType::Uri,
        }),
        K::OriginalCreationDate => Attribute::OriginalCreationDate(t + 10),
        K::RandomNumberGenerator => Attribute::RandomNumberGenerator(RandomNumberGenerator {
            drbg_algorithm: Some(DrbgAlgorithm::Ctr),
            cryptographic_algorithm: Some(CryptographicAlgorithm::Aes),
            cryptographic_length: Some(256),
            prediction_resistance: Some(true),
            ..RandomNumberGenerator::new(RngAlgorithm::Drbg)
        }),
        K::Description => Attribute::Description("a key".into()),
        K::Comment => Attribute::Comment("a comment".into()),
        K::Sensitive => Attribute::Sensitive(true),
        K::AlwaysSensitive => Attribute::AlwaysSensitive(true),
        K::Extractable => Attribute::Extractable(false),
        K::NeverExtractable => Attribute::NeverExtractable(true),
        K::KeyFormatType => Attribute::KeyFormatType(KeyFormatType::TransparentSymmetricKey),
        K::QuantumSafe => Attribute::QuantumSafe(true),
    }
}

fn provenance() -> Attribute {
    Attribute::Custom(CustomAttribute {
        vendor_identification: "x".into(),
        attribute_name: "qkms-entropy-source".into(),
        value: Value::TextString("quantis:/dev/qrandom0".into()),
    })
}

#[test]
fn every_typed_attribute_round_trips_in_every_version_that_has_it() {
    for &known in KnownAttribute::ALL {
        let attribute = sample_of(known);
        assert_eq!(attribute.known(), Some(known));
        for &version in ProtocolVersion::SUPPORTED {
            let encoded = attribute.to_ttlv(version, None);
            if !known.is_available_in(version) {
                assert_eq!(encoded, None, "{known:?} must not be encoded for {version}");
                continue;
            }
            let item = encoded.unwrap_or_else(|| panic!("{known:?} has a form in {version}"));
            let expected_tag = if version.is_v2() {
                known.tag()
            } else {
                tags::ATTRIBUTE
            };
            assert_eq!(item.tag, expected_tag);
            let back = Attribute::from_ttlv(&item, version).unwrap();
            assert_eq!(back, attribute, "{known:?} in {version}");
        }
    }
}

#[test]
fn name_has_the_1x_attribute_form_and_the_2x_structure_form() {
    let name = Attribute::Name(Name::text("k1"));
    let value = vec![
        Item::new(tags::NAME_VALUE, Value::TextString("k1".into())),
        Item::new(tags::NAME_TYPE, Value::Enumeration(1)),
    ];
    assert_eq!(
        name.to_v1(None).unwrap(),
        Item::structure(
            tags::ATTRIBUTE,
            vec![
                Item::new(tags::ATTRIBUTE_NAME, Value::TextString("Name".into())),
                Item::structure(tags::ATTRIBUTE_VALUE, value.clone()),
            ]
        )
    );
    assert_eq!(name.to_v2().unwrap(), Item::structure(tags::NAME, value));
}

#[test]
fn attribute_index_is_written_and_read_in_the_1x_form() {
    let item = sample_of(KnownAttribute::Link).to_v1(Some(2)).unwrap();
    assert_eq!(
        item.child(tags::ATTRIBUTE_INDEX).unwrap().value,
        Value::Integer(2)
    );
    let (attribute, index) = Attribute::from_v1_indexed(&item).unwrap();
    assert_eq!(
        (attribute, index),
        (sample_of(KnownAttribute::Link), Some(2))
    );
}

#[test]
fn a_1_0_encoding_drops_attributes_from_later_versions() {
    let attributes: Attributes = vec![
        Attribute::CryptographicAlgorithm(CryptographicAlgorithm::Aes),
        sample_of(KnownAttribute::OriginalCreationDate),
        sample_of(KnownAttribute::Sensitive),
        sample_of(KnownAttribute::Comment),
        sample_of(KnownAttribute::Fresh),
        Attribute::CryptographicLength(128),
    ]
    .into();
    let encoded = attributes.to_ttlv(
        ProtocolVersion::V1_0,
        tags::TEMPLATE_ATTRIBUTE,
        tags::ATTRIBUTES,
    );
    let names: Vec<&Value> = encoded
        .children()
        .iter()
        .map(|a| &a.child(tags::ATTRIBUTE_NAME).unwrap().value)
        .collect();
    assert_eq!(
        names,
        [
            &Value::TextString("Cryptographic Algorithm".into()),
            &Value::TextString("Cryptographic Length".into())
        ]
    );
    for known in [
        KnownAttribute::OriginalCreationDate,
        KnownAttribute::Sensitive,
        KnownAttribute::Comment,
    ] {
        assert_eq!(sample_of(known).to_ttlv(ProtocolVersion::V1_0, None), None);
        assert_eq!(
            AttributeName::Known(known).to_reference(ProtocolVersion::V1_0),
            None
        );
    }
    // 1.4 keeps all of them.
    let encoded = attributes.to_ttlv(
        ProtocolVersion::V1_4,
        tags::TEMPLATE_ATTRIBUTE,
        tags::ATTRIBUTES,
    );
    assert_eq!(encoded.children().len(), 6);
}

#[test]
fn operation_policy_name_is_never_encoded_for_2x() {
    let attribute = sample_of(KnownAttribute::OperationPolicyName);
    assert!(attribute.to_ttlv(ProtocolVersion::V1_4, None).is_some());
    assert_eq!(attribute.to_ttlv(ProtocolVersion::V2_0, None), None);
    assert_eq!(attribute.to_ttlv(ProtocolVersion::V2_1, None), None);
}

#[test]
fn custom_x_attributes_round_trip_and_map_between_families() {
    let attribute = provenance();
    let v1 = attribute.to_v1(None).unwrap();
    assert_eq!(
        v1.child(tags::ATTRIBUTE_NAME).unwrap().value,
        Value::TextString("x-qkms-entropy-source".into())
    );
    assert_eq!(Attribute::from_v1(&v1).unwrap(), attribute);

    let v2 = attribute.to_v2().unwrap();
    assert_eq!(v2.tag, tags::ATTRIBUTE);
    assert_eq!(
        v2.child(tags::VENDOR_IDENTIFICATION).unwrap().value,
        Value::TextString("x".into())
    );
    assert_eq!(
        v2.child(tags::ATTRIBUTE_NAME).unwrap().value,
        Value::TextString("qkms-entropy-source".into())
    );
    assert_eq!(Attribute::from_v2(&v2).unwrap(), attribute);

    // A structured custom value survives too.
    let structured = Attribute::Custom(CustomAttribute {
        vendor_identification: "y".into(),
        attribute_name: "provenance".into(),
        value: Value::Structure(vec![Item::new(tags::DATA, Value::ByteString(vec![1, 2]))]),
    });
    for &version in ProtocolVersion::SUPPORTED {
        let item = structured.to_ttlv(version, None).unwrap();
        assert_eq!(Attribute::from_ttlv(&item, version).unwrap(), structured);
    }

    // A vendor other than x/y is written under x- in 1.x.
    let vendor = Attribute::Custom(CustomAttribute {
        vendor_identification: "qkms".into(),
        attribute_name: "seed-epoch".into(),
        value: Value::Integer(7),
    });
    let v1 = vendor.to_v1(None).unwrap();
    assert_eq!(
        v1.child(tags::ATTRIBUTE_NAME).unwrap().value,
        Value::TextString("x-qkms-seed-epoch".into())
    );
}

#[test]
fn unknown_1x_names_are_kept_not_rejected() {
    let item = Item::structure(
        tags::ATTRIBUTE,
        vec![
            Item::new(
                tags::ATTRIBUTE_NAME,
                Value::TextString("Certificate Identifier".into()),
            ),
            Item::structure(
                tags::ATTRIBUTE_VALUE,
                vec![Item::new(tags::ISSUER, Value::TextString("CA".into()))],
            ),
        ],
    );
    let attribute = Attribute::from_v1(&item).unwrap();
    let Attribute::Unknown(UnknownAttribute { text_name, tag, .. }) = &attribute else {
        panic!("expected Unknown, got {attribute:?}");
    };
    assert_eq!(
        (text_name.as_deref(), *tag),
        (Some("Certificate Identifier"), None)
    );
    assert_eq!(attribute.to_v1(None).unwrap(), item);
    // It has no 2.x tag, so a 2.x encoding leaves it out.
    assert_eq!(attribute.to_ttlv(ProtocolVersion::V2_1, None), None);
}

#[test]
fn unknown_2x_tags_are_kept_not_rejected() {
    let item = Item::new(Tag(0x42015E), Value::Integer(1));
    let attribute = Attribute::from_v2(&item).unwrap();
    assert!(matches!(attribute, Attribute::Unknown(_)));
    assert_eq!(attribute.to_ttlv(ProtocolVersion::V2_1, None), Some(item));
    assert_eq!(attribute.to_ttlv(ProtocolVersion::V1_4, None), None);
}

#[test]
fn wrong_value_type_is_invalid_field_naming_the_attribute() {
    let item = Item::structure(
        tags::ATTRIBUTE,
        vec![
            Item::new(
                tags::ATTRIBUTE_NAME,
                Value::TextString("Cryptographic Length".into()),
            ),
            Item::new(tags::ATTRIBUTE_VALUE, Value::TextString("256".into())),
        ],
    );
    let err = Attribute::from_v1(&item).unwrap_err();
    assert_eq!(err.reason, ResultReason::InvalidField);
    assert!(
        err.message.contains("Cryptographic Length"),
        "{}",
        err.message
    );

    let err = Attribute::from_v2(&Item::new(tags::STATE, Value::Integer(2))).unwrap_err();
    assert_eq!(err.reason, ResultReason::InvalidField);
    assert!(err.message.contains("State"), "{}", err.message);
}

#[test]
fn unassigned_enumeration_values_are_invalid_field() {
    let err = Attribute::from_v2(&Item::new(
        tags::CRYPTOGRAPHIC_ALGORITHM,
        Value::Enumeration(0x7777),
    ))
    .unwrap_err();
    assert_eq!(err.reason, ResultReason::InvalidField);
    assert!(
        err.message.contains("Cryptographic Algorithm"),
        "{}",
        err.message
    );
}

#[test]
fn missing_attribute_value_or_name_is_invalid_field() {
    let no_value = Item::structure(
        tags::ATTRIBUTE,
        vec![Item::new(
            tags::ATTRIBUTE_NAME,
            Value::TextString("State".into()),
        )],
    );
    assert_eq!(
        Attribute::from_v1(&no_value).unwrap_err().reason,
        ResultReason::InvalidField
    );
    let no_name = Item::structure(
        tags::ATTRIBUTE,
        vec![Item::new(tags::ATTRIBUTE_VALUE, Value::Enumeration(1))],
    );
    assert_eq!(
        Attribute::from_v1(&no_name).unwrap_err().reason,
        ResultReason::InvalidField
    );
    let negative_index = Item::structure(
        tags::ATTRIBUTE,
        vec![
            Item::new(tags::ATTRIBUTE_NAME, Value::TextString("State".into())),
            Item::new(tags::ATTRIBUTE_INDEX, Value::Integer(-1)),
            Item::new(tags::ATTRIBUTE_VALUE, Value::Enumeration(1)),
        ],
    );
    assert_eq!(
        Attribute::from_v1(&negative_index).unwrap_err().reason,
        ResultReason::InvalidField
    );
}

#[test]
fn template_attribute_keeps_template_names_in_1x_and_rejects_strangers() {
    let mut attributes: Attributes = vec![sample_of(KnownAttribute::State)].into();
    attributes.template_names.push(Name::text("tmpl"));
    let v1 = attributes.to_ttlv(
        ProtocolVersion::V1_2,
        tags::TEMPLATE_ATTRIBUTE,
        tags::ATTRIBUTES,
    );
    assert_eq!(v1.children()[0].tag, tags::NAME);
    assert_eq!(
        Attributes::from_ttlv(&v1, ProtocolVersion::V1_2).unwrap(),
        attributes
    );
    // 2.x has no template names.
    let v2 = attributes.to_ttlv(
        ProtocolVersion::V2_0,
        tags::TEMPLATE_ATTRIBUTE,
        tags::ATTRIBUTES,
    );
    assert_eq!(
        v2,
        Item::structure(
            tags::ATTRIBUTES,
            vec![Item::new(tags::STATE, Value::Enumeration(2))]
        )
    );

    let stranger = Item::structure(
        tags::TEMPLATE_ATTRIBUTE,
        vec![Item::new(tags::STATE, Value::Enumeration(2))],
    );
    let err = Attributes::from_ttlv(&stranger, ProtocolVersion::V1_4).unwrap_err();
    assert_eq!(err.reason, ResultReason::InvalidField);
}

#[test]
fn collection_is_multi_valued_aware() {
    let link = |t, id: &str| {
        Attribute::Link(Link {
            link_type: t,
            linked_object_identifier: id.into(),
        })
    };
    let mut attributes: Attributes = vec![
        Attribute::Name(Name::text("a")),
        link(LinkType::PublicKeyLink, "p"),
        Attribute::Name(Name::text("b")),
        provenance(),
    ]
    .into();
    let name = AttributeName::Known(KnownAttribute::Name);
    assert_eq!(attributes.get_all(&name).count(), 2);
    assert_eq!(
        attributes
            .names()
            .map(|n| n.value.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(attributes.linked(LinkType::PublicKeyLink), Some("p"));
    assert_eq!(
        attributes.custom("x", "qkms-entropy-source"),
        Some(&Value::TextString("quantis:/dev/qrandom0".into()))
    );

    let removed = attributes.remove(&name, Some(1));
    assert_eq!(removed, vec![Attribute::Name(Name::text("b"))]);
    attributes.set(Attribute::Name(Name::text("c")));
    assert_eq!(
        attributes
            .names()
            .map(|n| n.value.as_str())
            .collect::<Vec<_>>(),
        ["c"]
    );
    attributes.set(Attribute::State(State::PreActive));
    assert_eq!(attributes.state(), Some(State::PreActive));
    assert_eq!(attributes.len(), 4);
}

#[test]
fn attribute_references_have_both_forms() {
    let names = vec![
        AttributeName::Known(KnownAttribute::State),
        AttributeName::Known(KnownAttribute::Sensitive),
        provenance().name(),
    ];
    let v2 = encode_references(&names, ProtocolVersion::V2_1);
    assert_eq!(
        v2[0],
        Item::new(tags::ATTRIBUTE_REFERENCE, Value::Enumeration(tags::STATE.0))
    );
    assert_eq!(
        v2[2].child(tags::VENDOR_IDENTIFICATION).unwrap().value,
        Value::TextString("x".into())
    );
    assert_eq!(
        decode_references(&v2, ProtocolVersion::V2_1).unwrap(),
        names
    );

    let v1 = encode_references(&names, ProtocolVersion::V1_4);
    assert_eq!(
        v1[0],
        Item::new(tags::ATTRIBUTE_NAME, Value::TextString("State".into()))
    );
    assert_eq!(
        v1[2],
        Item::new(
            tags::ATTRIBUTE_NAME,
            Value::TextString("x-qkms-entropy-source".into())
        )
    );
    assert_eq!(
        decode_references(&v1, ProtocolVersion::V1_4).unwrap(),
        names
    );

    // 1.0 lacks Sensitive: it is left out of the list.
    assert_eq!(encode_references(&names, ProtocolVersion::V1_0).len(), 2);

    let bad = Item::new(tags::ATTRIBUTE_REFERENCE, Value::TextString("State".into()));
    assert_eq!(
        AttributeName::from_v2_reference(&bad).unwrap_err().reason,
        ResultReason::InvalidField
    );
}

#[test]
fn usage_mask_names_its_bits_and_keeps_unknown_ones() {
    let mask = CryptographicUsageMask::ENCRYPT
        | CryptographicUsageMask::DECRYPT
        | CryptographicUsageMask(1 << 30);
    assert_eq!(mask.names(), ["Encrypt", "Decrypt"]);
    assert_eq!(mask.to_string(), "Encrypt Decrypt 0x40000000");
    assert!(mask.contains(CryptographicUsageMask::DECRYPT));
    assert!(!mask.contains(CryptographicUsageMask::SIGN));
    assert_eq!(
        CryptographicUsageMask::from_name("MACVerify"),
        Some(CryptographicUsageMask::MAC_VERIFY)
    );
    let high = CryptographicUsageMask(0x8000_0001);
    assert_eq!(CryptographicUsageMask::from_wire(high.to_wire()), high);
}

#[test]
fn attribute_names_know_their_versions() {
    assert_eq!(
        KnownAttribute::OriginalCreationDate.since(),
        ProtocolVersion::V1_2
    );
    assert_eq!(KnownAttribute::Sensitive.since(), ProtocolVersion::V1_4);
    assert_eq!(KnownAttribute::Fresh.since(), ProtocolVersion::V1_1);
    assert_eq!(
        AttributeName::from_text_name("Cryptographic Usage Mask").tag(),
        Some(tags::CRYPTOGRAPHIC_USAGE_MASK)
    );
    assert_eq!(
        AttributeName::from_tag(tags::LINK).text_name().as_deref(),
        Some("Link")
    );
    for &known in KnownAttribute::ALL {
        assert_eq!(
            KnownAttribute::from_text_name(known.text_name()),
            Some(known)
        );
        assert_eq!(KnownAttribute::from_tag(known.tag()), Some(known));
    }
}
