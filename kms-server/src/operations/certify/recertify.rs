//! Re-Certify (KMIP 1.x §4.8, 2.x): a new certificate for the public key of an existing one, with the same
//! subject and extensions, from the same issuer (the one its Certificate Link names) unless the template names
//! another (see [`crate::managed::certificates::issuer`]); a certificate without that link (one registered, not issued here) is renewed
//! by the server's issuing CA.
//!
//! A request may carry a PKCS#10 request: its signature is checked and its key must be the certificate's (proof
//! of possession for the renewal). With an Offset, the new certificate's validity starts Offset seconds from now
//! and lasts as long as the old one's did; its Activation Date is now + Offset and, when the old certificate
//! had both, its Deactivation Date keeps the old activation-to-deactivation span. The Names move to the new
//! certificate; the old one gets a Replacement Object Link to it, the new one a Replaced Object Link back, and
//! the public key's Certificate Link points to the new one.

use kmip::attributes::{Attribute, Attributes, KnownAttribute, Link};
use kmip::enums::{LinkType, State};
use kmip::objects::ManagedObject;
use kmip::payloads::{ReCertifyRequest, ReCertifyResponse};
use kmip::ResultReason;
use time::{Duration, OffsetDateTime};

use super::{
    csr_der, csr_error, end_entity_or_ca, invalid_csr, set_link, sign, store_certificate,
    take_template_subject, timestamp, wants_ca, CLOCK_SKEW_MINUTES,
};
use crate::crypto::certificate::{
    certificate_extensions, parse_and_verify_csr, parse_certificate, BasicConstraints,
    CertificateProfile,
};
use crate::crypto::PublicKey;
use crate::error::KmipError;
use crate::managed::certificates::issuer::{self, IssuerLinks};
use crate::managed::key_codec::crypto_error;
use crate::managed::{attribute_policy as policy, load, save, target, versioned, wrong_state};
use crate::state::RequestContext;

pub fn recertify(
    ctx: &RequestContext<'_>,
    request: ReCertifyRequest,
) -> Result<ReCertifyResponse, KmipError> {
    if request.protection_storage_masks.is_some() {
        return Err(KmipError::new(
            ResultReason::FeatureNotSupported,
            "Protection Storage Masks are not supported",
        ));
    }
    let old_uid = target(&request.unique_identifier)?;
    let mut old = load(ctx, old_uid)?;
    let old_der = match &old.object {
        Some(ManagedObject::Certificate(c)) => c.certificate_value.clone(),
        Some(_) => {
            return Err(versioned(
                ctx.version,
                ResultReason::InvalidObjectType,
                ResultReason::InvalidField,
                format!("Re-Certify renews a certificate; {old_uid} is not one"),
            ))
        }
        None => {
            return Err(wrong_state(
                ctx.version,
                format!("{old_uid} is destroyed and cannot be renewed"),
            ))
        }
    };
    if matches!(old.attributes.state(), Some(State::Compromised)) {
        return Err(wrong_state(
            ctx.version,
            format!("{old_uid} is compromised: certify a new key instead of renewing it"),
        ));
    }
    let info = parse_certificate(&old_der).map_err(|e| crypto_error(ctx.version, e))?;
    let extensions = certificate_extensions(&old_der).map_err(|e| crypto_error(ctx.version, e))?;
    let subject_key = PublicKey::from_spki_der(&info.subject_public_key_info)
        .map_err(|e| crypto_error(ctx.version, e))?;
    if let Some(value) = &request.certificate_request_value {
        let csr = csr_der(ctx, request.certificate_request_type.map(|t| t.0), value)?;
        let csr = parse_and_verify_csr(&csr).map_err(|e| csr_error(ctx, e))?;
        if csr.public_key != subject_key {
            return Err(invalid_csr(
                ctx,
                format!(
                    "the certificate request's public key is not the key certified by {old_uid}"
                ),
            ));
        }
    }

    let mut template = request.attributes.clone().unwrap_or_default();
    let template_subject = take_template_subject(&mut template)?;
    let mut links = issuer::take_issuer_links(&mut template)?;
    policy::check_template(ctx.version, &template, &[KnownAttribute::ObjectType])?;
    if links.is_empty() {
        links = IssuerLinks {
            private_key: None,
            certificate: old
                .attributes
                .linked(LinkType::CertificateLink)
                .map(str::to_owned),
        };
    }
    let authority = issuer::resolve(ctx, &links)?;
    let was_ca = matches!(
        extensions.basic_constraints,
        Some(BasicConstraints::Ca { .. })
    );
    let ca = wants_ca(&template, &authority)? || (was_ca && authority.is_server_ca);
    if was_ca && !ca {
        return Err(KmipError::invalid_field(format!(
            "{old_uid} is a CA certificate: only the server's issuing CA renews it"
        )));
    }

    let offset = request.offset.map(|o| i64::from(o.0));
    let (not_before, not_after) = renewed_validity(
        old_uid,
        info.not_before,
        info.not_after,
        timestamp(ctx.now)?,
        offset,
    )?;
    let profile = CertificateProfile {
        subject: template_subject.unwrap_or(info.subject),
        not_before,
        not_after,
        key_usage: extensions.key_usage,
        extended_key_usage: extensions.extended_key_usage,
        subject_alt_names: extensions.subject_alt_names,
        basic_constraints: end_entity_or_ca(ca),
    };
    let der = sign(ctx, &subject_key, &profile, &authority)?;

    let attributes = carried_attributes(&old.attributes, template, offset, ctx.now)?;
    let public = match old.attributes.linked(LinkType::PublicKeyLink) {
        Some(uid) => load(ctx, uid).ok(),
        None => None,
    };
    let replaced = Link {
        link_type: LinkType::ReplacedObjectLink,
        linked_object_identifier: old.uid.clone(),
    };
    let new_uid = store_certificate(ctx, der, attributes, &authority, public, vec![replaced])?;

    let _ = old.attributes.remove(&KnownAttribute::Name.into(), None);
    set_link(&mut old, LinkType::ReplacementObjectLink, &new_uid, ctx.now);
    save(ctx, &old)?;
    Ok(ReCertifyResponse {
        unique_identifier: new_uid,
        attributes: None,
    })
}

/// The last instant an X.509 validity can name (GeneralizedTime has four year digits; RFC 5280 §4.1.2.5).
fn latest_certificate_time() -> OffsetDateTime {
    time::macros::datetime!(9999-12-31 23:59:59 UTC)
}

/// The renewed certificate's validity: from now (less the clock-skew allowance) or from now + Offset, for as
/// long as the old certificate's. Every step is checked: an old validity such as 1970-01-02 .. 9999-12-31 or a
/// large Offset gives an end past what a certificate can name, which is refused as Invalid Field.
fn renewed_validity(
    old_uid: &str,
    old_not_before: OffsetDateTime,
    old_not_after: OffsetDateTime,
    now: OffsetDateTime,
    offset: Option<i64>,
) -> Result<(OffsetDateTime, OffsetDateTime), KmipError> {
    let out_of_range = |what: &str| {
        KmipError::invalid_field(format!(
            "cannot renew {old_uid}: {what} falls after {} (the latest date a certificate can carry); \
             its validity ({old_not_before} .. {old_not_after}) is too long to renew from now{}",
            latest_certificate_time(),
            offset.map_or(String::new(), |o| format!(" with an Offset of {o} s")),
        ))
    };
    // Two in-range instants are at most ~20,000 years apart: their difference cannot overflow a Duration.
    let lifetime = old_not_after - old_not_before;
    let not_before = match offset {
        Some(seconds) => now.checked_add(Duration::seconds(seconds)),
        None => now.checked_sub(Duration::minutes(CLOCK_SKEW_MINUTES)),
    }
    .filter(|start| *start <= latest_certificate_time())
    .ok_or_else(|| out_of_range("the new start (now + Offset)"))?;
    let not_after = not_before
        .checked_add(lifetime)
        .filter(|end| *end <= latest_certificate_time())
        .ok_or_else(|| out_of_range("the new end (start + the old certificate's lifetime)"))?;
    Ok((not_before, not_after))
}

/// The new certificate's client attributes: the old certificate's client-set ones (Names, groups, usage mask,
/// descriptions...), overridden by the template's, with the dates the Offset gives.
fn carried_attributes(
    old: &Attributes,
    template: Attributes,
    offset: Option<i64>,
    now: i64,
) -> Result<Attributes, KmipError> {
    let date_of = |known: KnownAttribute| {
        old.get(&known.into()).and_then(|a| match a {
            Attribute::ActivationDate(d) | Attribute::DeactivationDate(d) => Some(*d),
            _ => None,
        })
    };
    let old_activation = date_of(KnownAttribute::ActivationDate);
    let old_deactivation = date_of(KnownAttribute::DeactivationDate);
    let mut out = Attributes::new();
    for attribute in old.iter() {
        let name = attribute.name();
        let skip = policy::is_read_only(&name)
            || matches!(name, kmip::attributes::AttributeName::Unknown { .. })
            || matches!(
                attribute,
                Attribute::Link(_)
                    | Attribute::ActivationDate(_)
                    | Attribute::DeactivationDate(_)
                    | Attribute::ProcessStartDate(_)
                    | Attribute::ProtectStopDate(_)
            );
        if !skip {
            out.push(attribute.clone());
        }
    }
    for attribute in template {
        let name = attribute.name();
        if !policy::is_multi_valued(&name) {
            let _ = out.remove(&name, None);
        }
        out.push(attribute);
    }
    let out_of_range = |what: &str| {
        KmipError::invalid_field(format!(
            "the renewed certificate's {what} is out of range (the old dates or the Offset are too large)"
        ))
    };
    let activation = match (offset, out.activation_date()) {
        (Some(seconds), _) => Some(
            now.checked_add(seconds)
                .ok_or_else(|| out_of_range("Activation Date (now + Offset)"))?,
        ),
        (None, Some(given)) => Some(given),
        // A renewal of a certificate in use is usable at once.
        (None, None) => old_activation.map(|_| now),
    };
    if let Some(activation) = activation {
        out.set(Attribute::ActivationDate(activation));
        if let (Some(a1), Some(d1)) = (old_activation, old_deactivation) {
            if !out.contains(KnownAttribute::DeactivationDate) {
                // The old activation-to-deactivation span, moved to the new activation.
                let deactivation = activation
                    .checked_sub(a1)
                    .and_then(|shift| d1.checked_add(shift))
                    .ok_or_else(|| out_of_range("Deactivation Date"))?;
                out.push(Attribute::DeactivationDate(deactivation));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kmip::attributes::Name;

    fn old() -> Attributes {
        vec![
            Attribute::Name(Name::text("web")),
            Attribute::ActivationDate(1_000),
            Attribute::DeactivationDate(5_000),
            Attribute::InitialDate(900),
            Attribute::Description("front end".into()),
        ]
        .into()
    }

    #[test]
    fn an_offset_moves_activation_and_keeps_the_deactivation_span() {
        let carried = carried_attributes(&old(), Attributes::new(), Some(600), 10_000).unwrap();
        assert_eq!(carried.activation_date(), Some(10_600));
        assert!(carried
            .iter()
            .any(|a| *a == Attribute::DeactivationDate(14_600)));
        assert!(carried.names().any(|n| n.value == "web"));
        assert!(!carried
            .iter()
            .any(|a| matches!(a, Attribute::InitialDate(_))));
    }

    #[test]
    fn dates_that_overflow_are_invalid_fields_not_panics() {
        let extreme: Attributes = vec![
            Attribute::ActivationDate(i64::MIN),
            Attribute::DeactivationDate(i64::MAX),
        ]
        .into();
        let error = carried_attributes(&extreme, Attributes::new(), Some(1), 10_000).unwrap_err();
        assert_eq!(error.reason, kmip::ResultReason::InvalidField);
        let error = carried_attributes(&old(), Attributes::new(), Some(1), i64::MAX).unwrap_err();
        assert_eq!(error.reason, kmip::ResultReason::InvalidField);
    }

    #[test]
    fn a_validity_that_cannot_be_renewed_from_now_is_an_invalid_field() {
        use time::macros::datetime;
        let now = datetime!(2026-12-06 00:00 UTC);
        let error = renewed_validity(
            "c",
            datetime!(1970-01-02 00:00 UTC),
            datetime!(9999-12-31 23:59:59 UTC),
            now,
            None,
        )
        .unwrap_err();
        assert_eq!(error.reason, kmip::ResultReason::InvalidField);
        assert!(
            error.message.contains("cannot renew c"),
            "{}",
            error.message
        );
        let error = renewed_validity(
            "c",
            datetime!(2026-01-01 00:00 UTC),
            datetime!(2027-01-01 00:00 UTC),
            datetime!(9999-06-01 00:00 UTC),
            Some(i64::from(u32::MAX)),
        )
        .unwrap_err();
        assert_eq!(error.reason, kmip::ResultReason::InvalidField);
        let (start, end) = renewed_validity(
            "c",
            datetime!(2026-01-01 00:00 UTC),
            datetime!(2027-01-01 00:00 UTC),
            now,
            Some(60),
        )
        .unwrap();
        assert_eq!(start, datetime!(2026-12-06 00:01 UTC));
        assert_eq!(end, datetime!(2027-12-06 00:01 UTC));
    }

    #[test]
    fn without_offset_a_used_certificate_is_renewed_for_use_now_and_the_template_wins() {
        let template: Attributes = vec![Attribute::Description("renewed".into())].into();
        let carried = carried_attributes(&old(), template, None, 10_000).unwrap();
        assert_eq!(carried.activation_date(), Some(10_000));
        let descriptions: Vec<_> = carried
            .iter()
            .filter(|a| matches!(a, Attribute::Description(_)))
            .collect();
        assert_eq!(
            descriptions,
            vec![&Attribute::Description("renewed".into())]
        );
    }
}
