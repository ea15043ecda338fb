//! Locate: the caller's objects (never another tenant's, never the server's internal ones) whose attributes
//! match every filter exactly. A date given twice is a range; a Cryptographic Usage Mask matches objects
//! allowing at least those usages; multi-valued attributes match when the object has each value asked for.
//! Results are newest first, then Offset Items and Maximum Items apply; Located Items counts all matches.
//! Destroyed objects are found only when the Storage Status Mask asks for them.

use kmip::attributes::{Attribute, AttributeName, Attributes, KnownAttribute};
use kmip::enums::State;
use kmip::payloads::{object_group_member, storage_status, LocateRequest, LocateResponse};
use kmip::ResultReason;

use crate::error::KmipError;
use crate::managed::attribute_policy::unsupported_error;
use crate::managed::certificates::filters as certificate_filters;
use crate::managed::{lifecycle, store_error};
use crate::state::RequestContext;
use crate::store::IndexQuery;

/// One filter: an attribute name and the values asked for.
struct Filter {
    name: AttributeName,
    values: Vec<Attribute>,
}

pub fn locate(
    ctx: &RequestContext<'_>,
    request: LocateRequest,
) -> Result<LocateResponse, KmipError> {
    let maximum = non_negative(request.maximum_items, "Maximum Items")?;
    let offset = non_negative(request.offset_items, "Offset Items")?.unwrap_or(0);
    let mask = request
        .storage_status_mask
        .unwrap_or(storage_status::ON_LINE);
    let want_online = mask & storage_status::ON_LINE != 0;
    let want_destroyed = mask & storage_status::DESTROYED != 0;
    let fresh_only = request
        .object_group_member
        .is_some_and(|m| m.0 == object_group_member::GROUP_MEMBER_FRESH);
    let filters = group(ctx.version, request.attributes.0)?;
    let index = IndexQuery {
        name: single_name(&filters),
        object_type: filters.iter().find_map(|f| match f.values.as_slice() {
            [Attribute::ObjectType(t)] => Some(*t),
            _ => None,
        }),
    };
    let now = ctx.now;
    let mut filter = |stored: &Attributes| {
        let mut attributes = stored.clone();
        lifecycle::apply_date_transitions(&mut attributes, now);
        let destroyed = matches!(
            attributes.state(),
            Some(State::Destroyed | State::DestroyedCompromised)
        );
        if (destroyed && !want_destroyed) || (!destroyed && !want_online) {
            return false;
        }
        if fresh_only && !attributes.iter().any(|a| *a == Attribute::Fresh(true)) {
            return false;
        }
        filters.iter().all(|f| matches(f, &attributes))
    };
    let mut found = ctx
        .state
        .store
        .locate(&ctx.caller.tenant, &index, &mut filter)
        .map_err(store_error)?;
    found.reverse();
    let located = i32::try_from(found.len()).unwrap_or(i32::MAX);
    let selected: Vec<String> = found
        .into_iter()
        .skip(offset)
        .take(maximum.unwrap_or(usize::MAX))
        .collect();
    Ok(LocateResponse {
        located_items: Some(located),
        unique_identifiers: selected,
    })
}

fn non_negative(value: Option<i32>, what: &str) -> Result<Option<usize>, KmipError> {
    value
        .map(|v| {
            usize::try_from(v)
                .map_err(|_| KmipError::invalid_field(format!("{what} must not be negative ({v})")))
        })
        .transpose()
}

/// Groups the request's attributes by name, refusing attributes the server does not know.
fn group(version: kmip::ProtocolVersion, attributes: Attributes) -> Result<Vec<Filter>, KmipError> {
    let mut filters: Vec<Filter> = Vec::new();
    for attribute in attributes {
        let name = attribute.name();
        if matches!(name, AttributeName::Unknown { .. })
            && !certificate_filters::is_certificate_filter(&name)
        {
            return Err(unsupported_error(version, &name));
        }
        match filters.iter_mut().find(|f| f.name == name) {
            Some(filter) => filter.values.push(attribute),
            None => filters.push(Filter {
                name,
                values: vec![attribute],
            }),
        }
    }
    for filter in &filters {
        if is_date(&filter.name) && filter.values.len() > 2 {
            return Err(KmipError::new(
                ResultReason::InvalidField,
                format!(
                    "{} is given {} times: one value or a range of two",
                    filter.name,
                    filter.values.len()
                ),
            ));
        }
    }
    Ok(filters)
}

/// The Name to look up in the index when exactly one is asked for.
fn single_name(filters: &[Filter]) -> Option<String> {
    filters.iter().find_map(|f| match f.values.as_slice() {
        [Attribute::Name(name)] => Some(name.value.clone()),
        _ => None,
    })
}

fn is_date(name: &AttributeName) -> bool {
    use KnownAttribute as K;
    matches!(
        name,
        AttributeName::Known(
            K::InitialDate
                | K::ActivationDate
                | K::ProcessStartDate
                | K::ProtectStopDate
                | K::DeactivationDate
                | K::DestroyDate
                | K::CompromiseOccurrenceDate
                | K::CompromiseDate
                | K::ArchiveDate
                | K::LastChangeDate
                | K::OriginalCreationDate
        )
    )
}

fn date_of(attribute: &Attribute) -> Option<i64> {
    match attribute {
        Attribute::InitialDate(d)
        | Attribute::ActivationDate(d)
        | Attribute::ProcessStartDate(d)
        | Attribute::ProtectStopDate(d)
        | Attribute::DeactivationDate(d)
        | Attribute::DestroyDate(d)
        | Attribute::CompromiseOccurrenceDate(d)
        | Attribute::CompromiseDate(d)
        | Attribute::ArchiveDate(d)
        | Attribute::LastChangeDate(d)
        | Attribute::OriginalCreationDate(d) => Some(*d),
        _ => None,
    }
}

fn matches(filter: &Filter, attributes: &Attributes) -> bool {
    // KMIP 1.0 certificate filters match the certificate's X.509 attributes (see `certify::filters`).
    let v1_certificate = filter
        .values
        .iter()
        .map(|w| certificate_filters::matches_v1(w, attributes));
    if let Some(v1) = v1_certificate.collect::<Option<Vec<bool>>>() {
        return v1.into_iter().all(|m| m);
    }
    let mut present = attributes.get_all(&filter.name).peekable();
    if present.peek().is_none() {
        return false;
    }
    let present: Vec<&Attribute> = present.collect();
    if is_date(&filter.name) {
        let dates: Vec<i64> = filter.values.iter().filter_map(date_of).collect();
        let (low, high) = match dates.as_slice() {
            [one] => (*one, *one),
            [a, b] => ((*a).min(*b), (*a).max(*b)),
            _ => return false,
        };
        return present
            .iter()
            .filter_map(|a| date_of(a))
            .any(|d| (low..=high).contains(&d));
    }
    filter.values.iter().all(|wanted| match wanted {
        Attribute::CryptographicUsageMask(mask) => present
            .iter()
            .any(|a| matches!(a, Attribute::CryptographicUsageMask(have) if have.contains(*mask))),
        Attribute::ApplicationSpecificInformation(info) if info.data.is_none() => present.iter().any(|a| {
            matches!(a, Attribute::ApplicationSpecificInformation(have) if have.namespace == info.namespace)
        }),
        other => present.contains(&other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kmip::attributes::{CryptographicUsageMask, Name};

    fn filter(values: Vec<Attribute>) -> Filter {
        Filter {
            name: values[0].name(),
            values,
        }
    }

    fn object() -> Attributes {
        vec![
            Attribute::Name(Name::text("a")),
            Attribute::Name(Name::text("b")),
            Attribute::CryptographicUsageMask(CryptographicUsageMask(0x0C)),
            Attribute::InitialDate(100),
        ]
        .into()
    }

    #[test]
    fn dates_match_exactly_or_within_a_range() {
        assert!(matches(
            &filter(vec![Attribute::InitialDate(100)]),
            &object()
        ));
        assert!(!matches(
            &filter(vec![Attribute::InitialDate(101)]),
            &object()
        ));
        assert!(matches(
            &filter(vec![
                Attribute::InitialDate(150),
                Attribute::InitialDate(50)
            ]),
            &object()
        ));
        assert!(!matches(
            &filter(vec![
                Attribute::InitialDate(101),
                Attribute::InitialDate(150)
            ]),
            &object()
        ));
    }

    #[test]
    fn usage_masks_match_by_containment_and_names_exactly() {
        let mask = |m| {
            filter(vec![Attribute::CryptographicUsageMask(
                CryptographicUsageMask(m),
            )])
        };
        assert!(matches(&mask(0x04), &object()));
        assert!(!matches(&mask(0x01), &object()));
        assert!(matches(
            &filter(vec![Attribute::Name(Name::text("b"))]),
            &object()
        ));
        assert!(!matches(
            &filter(vec![Attribute::Name(Name::text("B"))]),
            &object()
        ));
        assert!(!matches(
            &filter(vec![Attribute::Description("x".into())]),
            &object()
        ));
    }
}
