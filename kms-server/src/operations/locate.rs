//! Locate: the caller's objects (never another tenant's, never the server's internal ones) whose attributes
//! match every filter exactly. A date given twice is a range; a Cryptographic Usage Mask matches objects
//! allowing at least those usages; multi-valued attributes match when the object has each value asked for.
//! Results are newest first, then Offset Items and Maximum Items apply; Located Items counts all matches.
//! Destroyed objects are found only when the Storage Status Mask asks for them.
//!
//! [`Search`] turns the request into what the store can answer from its indexes (Name, type, the stored States
//! a match can have, Object Groups, date ranges: PostgreSQL does it in SQL) and the exact filter, which decides.

use kmip::attributes::{Attribute, AttributeName, Attributes};
use kmip::enums::State;
use kmip::payloads::{object_group_member, storage_status, LocateRequest, LocateResponse};
use kmip::{ProtocolVersion, ResultReason};

use crate::error::KmipError;
use crate::managed::attribute_policy::unsupported_error;
use crate::managed::certificates::filters as certificate_filters;
use crate::managed::{lifecycle, store_error};
use crate::state::RequestContext;
use crate::store::locate_query::{date_value, is_locate_date};
use crate::store::{DateRange, IndexQuery, StoredStates};

/// One filter: an attribute name and the values asked for.
#[derive(Debug)]
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
    let search = Search::new(
        ctx.version,
        request.attributes.0,
        request.storage_status_mask,
        request.object_group_member.map(|m| m.0),
        ctx.now,
    )?;
    let mut found = ctx
        .state
        .store
        .locate(&ctx.caller.tenant, &search.index, &mut |a| {
            search.matches(a)
        })
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

/// A Locate's filters, checked: what the store's indexes narrow on ([`Self::index`]) and the exact test every
/// candidate must pass ([`Self::matches`]), which implies the index query (so a store may answer from its
/// indexes without ever dropping a match).
#[derive(Debug)]
pub struct Search {
    pub index: IndexQuery,
    filters: Vec<Filter>,
    want_online: bool,
    want_destroyed: bool,
    fresh_only: bool,
    now: i64,
}

impl Search {
    /// From a Locate request's attributes, Storage Status Mask and Object Group Member, at time `now`.
    pub fn new(
        version: ProtocolVersion,
        attributes: Attributes,
        storage_status_mask: Option<i32>,
        object_group_member: Option<u32>,
        now: i64,
    ) -> Result<Self, KmipError> {
        let mask = storage_status_mask.unwrap_or(storage_status::ON_LINE);
        let want_online = mask & storage_status::ON_LINE != 0;
        let want_destroyed = mask & storage_status::DESTROYED != 0;
        let fresh_only = object_group_member == Some(object_group_member::GROUP_MEMBER_FRESH);
        let filters = group(version, attributes)?;
        let index = IndexQuery {
            name: single_name(&filters),
            object_type: filters.iter().find_map(|f| match f.values.as_slice() {
                [Attribute::ObjectType(t)] => Some(*t),
                _ => None,
            }),
            stored_states: stored_states(&filters, want_online, want_destroyed),
            groups: filters
                .iter()
                .flat_map(|f| &f.values)
                .filter_map(|a| match a {
                    Attribute::ObjectGroup(group) => Some(group.clone()),
                    _ => None,
                })
                .collect(),
            dates: filters.iter().filter_map(date_range).collect(),
        };
        Ok(Self {
            index,
            filters,
            want_online,
            want_destroyed,
            fresh_only,
            now,
        })
    }

    /// Whether an object with these stored attributes is a match.
    pub fn matches(&self, stored: &Attributes) -> bool {
        let mut attributes = stored.clone();
        lifecycle::apply_date_transitions(&mut attributes, self.now);
        let destroyed = matches!(
            attributes.state(),
            Some(State::Destroyed | State::DestroyedCompromised)
        );
        if (destroyed && !self.want_destroyed) || (!destroyed && !self.want_online) {
            return false;
        }
        if self.fresh_only && !attributes.iter().any(|a| *a == Attribute::Fresh(true)) {
            return false;
        }
        self.filters.iter().all(|f| matches(f, &attributes))
    }
}

/// The stored States a match can have: those the Storage Status Mask allows (Destroyed and Destroyed
/// Compromised are the destroyed ones; dates never lead to or from them), and for each State filter, the stored
/// States that dates can turn into each value asked for (an object without a State attribute matches no State
/// filter and is on-line). `None` when every object qualifies.
fn stored_states(
    filters: &[Filter],
    want_online: bool,
    want_destroyed: bool,
) -> Option<StoredStates> {
    let is_destroyed = |s: &State| matches!(s, State::Destroyed | State::DestroyedCompromised);
    let mut states: Vec<State> = State::ALL
        .iter()
        .copied()
        .filter(|s| {
            if is_destroyed(s) {
                want_destroyed
            } else {
                want_online
            }
        })
        .collect();
    let mut stateless = want_online;
    for value in filters.iter().flat_map(|f| &f.values) {
        if let Attribute::State(wanted) = value {
            let possible = lifecycle::stored_states_shown_as(*wanted);
            states.retain(|s| possible.contains(s));
            stateless = false;
        }
    }
    let everything = stateless && states.len() == State::ALL.len();
    (!everything).then_some(StoredStates { states, stateless })
}

/// The range a date filter asks for (one value is a range of one).
fn date_range(filter: &Filter) -> Option<DateRange> {
    let AttributeName::Known(attribute) = filter.name else {
        return None;
    };
    if !is_locate_date(&filter.name) {
        return None;
    }
    let dates: Vec<i64> = filter.values.iter().filter_map(date_value).collect();
    let (low, high) = match dates.as_slice() {
        [one] => (*one, *one),
        [a, b] => ((*a).min(*b), (*a).max(*b)),
        _ => return None,
    };
    Some(DateRange {
        attribute,
        low,
        high,
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
fn group(version: ProtocolVersion, attributes: Attributes) -> Result<Vec<Filter>, KmipError> {
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
        if is_locate_date(&filter.name) && filter.values.len() > 2 {
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
    if is_locate_date(&filter.name) {
        let dates: Vec<i64> = filter.values.iter().filter_map(date_value).collect();
        let (low, high) = match dates.as_slice() {
            [one] => (*one, *one),
            [a, b] => ((*a).min(*b), (*a).max(*b)),
            _ => return false,
        };
        return present
            .iter()
            .filter_map(|a| date_value(a))
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
