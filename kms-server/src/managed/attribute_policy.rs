//! Who may set which attribute, and how many values it may have: the rules Create/Register templates and
//! Add / Set / Modify / Delete Attribute share.

use kmip::attributes::{Attribute, AttributeName, Attributes, KnownAttribute};
use kmip::enums::State;
use kmip::{ProtocolVersion, ResultReason};

use super::versioned;
use crate::error::KmipError;

/// The vendor namespace of qkms's own custom attributes (1.x `x-qkms-...`, 2.x Vendor Attribute `x` /
/// `qkms-...`): the entropy provenance. Only the server writes them.
pub const SERVER_VENDOR: &str = "x";
pub const SERVER_ATTRIBUTE_PREFIX: &str = "qkms-";

/// Attributes only the server sets: a client can neither add, modify nor delete them.
pub fn is_read_only(name: &AttributeName) -> bool {
    use KnownAttribute as K;
    match name {
        AttributeName::Known(known) => matches!(
            known,
            K::UniqueIdentifier
                | K::ObjectType
                | K::CryptographicAlgorithm
                | K::CryptographicLength
                | K::CertificateType
                | K::CertificateLength
                | K::X509CertificateIdentifier
                | K::X509CertificateSubject
                | K::X509CertificateIssuer
                | K::DigitalSignatureAlgorithm
                | K::Digest
                | K::State
                | K::InitialDate
                | K::DestroyDate
                | K::CompromiseOccurrenceDate
                | K::CompromiseDate
                | K::RevocationReason
                | K::ArchiveDate
                | K::LastChangeDate
                | K::Fresh
                | K::KeyValuePresent
                | K::OriginalCreationDate
                | K::RandomNumberGenerator
                | K::AlwaysSensitive
                | K::NeverExtractable
                | K::KeyFormatType
                | K::LeaseTime
        ),
        AttributeName::Vendor {
            vendor_identification,
            attribute_name,
        } => is_server_vendor_attribute(vendor_identification, attribute_name),
        // Set by the server (`kmip` does not type them): the Short Unique Identifier, derived from the Unique
        // Identifier, and the Protection Storage Mask, which says where the server keeps the object.
        AttributeName::Unknown { tag, .. } => matches!(
            *tag,
            Some(ttlv::tags::SHORT_UNIQUE_IDENTIFIER | ttlv::tags::PROTECTION_STORAGE_MASK)
        ),
    }
}

pub fn is_server_vendor_attribute(vendor: &str, name: &str) -> bool {
    vendor == SERVER_VENDOR && name.starts_with(SERVER_ATTRIBUTE_PREFIX)
}

/// Attributes that may hold several values (KMIP "multiple instances permitted").
pub fn is_multi_valued(name: &AttributeName) -> bool {
    use KnownAttribute as K;
    match name {
        AttributeName::Known(known) => matches!(
            known,
            K::Name
                | K::ObjectGroup
                | K::Link
                | K::ApplicationSpecificInformation
                | K::AlternativeName
                | K::CryptographicParameters
                | K::CryptographicDomainParameters
                | K::Digest
                | K::X509CertificateIdentifier
        ),
        AttributeName::Vendor { .. } => true,
        AttributeName::Unknown { .. } => false,
    }
}

/// A client tried to change an attribute only the server sets.
pub fn read_only_error(version: ProtocolVersion, name: &AttributeName) -> KmipError {
    versioned(
        version,
        ResultReason::AttributeReadOnly,
        ResultReason::PermissionDenied,
        format!("{name} is set by the server and cannot be changed by a client"),
    )
}

/// A second value for a single-valued attribute.
pub fn single_valued_error(version: ProtocolVersion, name: &AttributeName) -> KmipError {
    versioned(
        version,
        ResultReason::AttributeSingleValued,
        ResultReason::IllegalOperation,
        format!("{name} is single-valued and already present (use Modify Attribute)"),
    )
}

/// An attribute qkms does not know.
pub fn unsupported_error(version: ProtocolVersion, name: &AttributeName) -> KmipError {
    versioned(
        version,
        ResultReason::UnsupportedAttribute,
        ResultReason::InvalidField,
        format!("attribute {name} is not supported by this server"),
    )
}

/// Checks a client-supplied attribute for Add / Set / Modify: known, not read-only, and allowed in the
/// object's current state (Activation Date only before activation; Deactivation Date not after deactivation).
pub fn check_client_change(
    version: ProtocolVersion,
    attribute: &Attribute,
    state: Option<State>,
) -> Result<(), KmipError> {
    let name = attribute.name();
    if matches!(name, AttributeName::Unknown { .. }) {
        return Err(unsupported_error(version, &name));
    }
    if is_read_only(&name) {
        return Err(read_only_error(version, &name));
    }
    let state = state.unwrap_or(State::PreActive);
    let allowed = match attribute {
        Attribute::ActivationDate(_) => state == State::PreActive,
        Attribute::DeactivationDate(_)
        | Attribute::ProcessStartDate(_)
        | Attribute::ProtectStopDate(_) => {
            matches!(state, State::PreActive | State::Active)
        }
        _ => {
            !matches!(state, State::Destroyed | State::DestroyedCompromised)
                || is_descriptive(&name)
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(super::wrong_state(
            version,
            format!(
                "{name} cannot be changed while the object is {}",
                state.name()
            ),
        ))
    }
}

/// Descriptive attributes that stay editable on a destroyed object's remaining metadata.
fn is_descriptive(name: &AttributeName) -> bool {
    matches!(
        name,
        AttributeName::Known(
            KnownAttribute::Name
                | KnownAttribute::Description
                | KnownAttribute::Comment
                | KnownAttribute::ContactInformation
                | KnownAttribute::ObjectGroup
        ) | AttributeName::Vendor { .. }
    )
}

/// The attributes a Create / Register request supplies, checked: every attribute known, none that only the
/// server sets except those the operation takes as input (`inputs`), single-valued ones given once.
pub fn check_template(
    version: ProtocolVersion,
    attributes: &Attributes,
    inputs: &[KnownAttribute],
) -> Result<(), KmipError> {
    if !attributes.template_names.is_empty() {
        return Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            "this operation does not apply Templates (Create, Register and Create Key Pair do): give the attributes in the Template-Attribute itself",
        ));
    }
    let mut seen: Vec<AttributeName> = Vec::new();
    for attribute in attributes {
        let name = attribute.name();
        if matches!(name, AttributeName::Unknown { .. }) {
            return Err(unsupported_error(version, &name));
        }
        let is_input = attribute.known().is_some_and(|k| inputs.contains(&k));
        if is_read_only(&name) && !is_input {
            return Err(read_only_error(version, &name));
        }
        if !is_multi_valued(&name) && seen.contains(&name) {
            return Err(single_valued_error(version, &name));
        }
        if let Attribute::Name(new) = attribute {
            if attributes.names().filter(|n| n.value == new.value).count() > 1 {
                return Err(versioned(
                    version,
                    ResultReason::NonUniqueNameAttribute,
                    ResultReason::InvalidField,
                    format!("the Name {:?} is given twice", new.value),
                ));
            }
        }
        seen.push(name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kmip::attributes::{CustomAttribute, Name};

    fn custom(vendor: &str, name: &str) -> Attribute {
        Attribute::Custom(CustomAttribute {
            vendor_identification: vendor.into(),
            attribute_name: name.into(),
            value: ttlv::Value::TextString("v".into()),
        })
    }

    #[test]
    fn provenance_attributes_are_read_only_but_client_vendor_attributes_are_not() {
        assert!(is_read_only(&custom("x", "qkms-entropy-quantum").name()));
        assert!(!is_read_only(&custom("x", "attribute1").name()));
        assert!(is_read_only(&KnownAttribute::State.into()));
        assert!(!is_read_only(&KnownAttribute::Name.into()));
    }

    #[test]
    fn state_and_dates_follow_the_lifecycle() {
        let v2 = ProtocolVersion::V2_1;
        let e = check_client_change(
            v2,
            &Attribute::State(State::Compromised),
            Some(State::Active),
        )
        .unwrap_err();
        assert_eq!(e.reason, ResultReason::AttributeReadOnly);
        let e = check_client_change(
            ProtocolVersion::V1_4,
            &Attribute::ActivationDate(5),
            Some(State::Active),
        )
        .unwrap_err();
        assert_eq!(e.reason, ResultReason::PermissionDenied);
        let e = check_client_change(v2, &Attribute::ActivationDate(5), Some(State::Active))
            .unwrap_err();
        assert_eq!(e.reason, ResultReason::WrongKeyLifecycleState);
        check_client_change(v2, &Attribute::ActivationDate(5), Some(State::PreActive)).unwrap();
        check_client_change(
            v2,
            &Attribute::Description("d".into()),
            Some(State::Destroyed),
        )
        .unwrap();
    }

    #[test]
    fn templates_refuse_server_attributes_and_duplicates() {
        let v2 = ProtocolVersion::V2_1;
        let inputs = [KnownAttribute::CryptographicAlgorithm];
        let ok: Attributes = vec![
            Attribute::CryptographicAlgorithm(kmip::enums::CryptographicAlgorithm::Aes),
            Attribute::Name(Name::text("a")),
            Attribute::Name(Name::text("b")),
        ]
        .into();
        check_template(v2, &ok, &inputs).unwrap();
        let state: Attributes = vec![Attribute::State(State::Active)].into();
        assert_eq!(
            check_template(v2, &state, &inputs).unwrap_err().reason,
            ResultReason::AttributeReadOnly
        );
        let twice: Attributes = vec![
            Attribute::Description("a".into()),
            Attribute::Description("b".into()),
        ]
        .into();
        assert_eq!(
            check_template(v2, &twice, &inputs).unwrap_err().reason,
            ResultReason::AttributeSingleValued
        );
        let same_name: Attributes = vec![
            Attribute::Name(Name::text("a")),
            Attribute::Name(Name::text("a")),
        ]
        .into();
        assert_eq!(
            check_template(v2, &same_name, &inputs).unwrap_err().reason,
            ResultReason::NonUniqueNameAttribute
        );
    }
}
