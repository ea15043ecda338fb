//! What a Locate asks a store for before its attribute filter runs: the part of the query a store can answer
//! from its indexes (sled: Names and types; PostgreSQL: also stored State, Object Groups and dates, in SQL).
//!
//! Every part is a condition the store enforces, so callers that pass no filter (Templates looked up by Name)
//! get the same answer from every store. [`IndexQuery::admits`] is the reference meaning of the parts beyond
//! Name and type: sled applies it to each record it scans, PostgreSQL pushes the same conditions into SQL and
//! re-checks with it. The caller's filter still decides what is finally returned.

use kmip::attributes::{Attribute, AttributeName, Attributes, KnownAttribute};
use kmip::enums::{ObjectType, State};

/// The date attributes Locate compares (one value, or a range of two) and stores index.
pub const LOCATE_DATES: &[KnownAttribute] = &[
    KnownAttribute::InitialDate,
    KnownAttribute::ActivationDate,
    KnownAttribute::ProcessStartDate,
    KnownAttribute::ProtectStopDate,
    KnownAttribute::DeactivationDate,
    KnownAttribute::DestroyDate,
    KnownAttribute::CompromiseOccurrenceDate,
    KnownAttribute::CompromiseDate,
    KnownAttribute::ArchiveDate,
    KnownAttribute::LastChangeDate,
    KnownAttribute::OriginalCreationDate,
];

/// Whether `name` is one of [`LOCATE_DATES`].
pub fn is_locate_date(name: &AttributeName) -> bool {
    matches!(name, AttributeName::Known(known) if LOCATE_DATES.contains(known))
}

/// The value of a date attribute of [`LOCATE_DATES`] (`None` for any other attribute).
pub fn date_value(attribute: &Attribute) -> Option<i64> {
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

/// Which objects a Locate considers before its attribute filter runs: the cheap, indexed part of the query.
/// An empty query (the default) admits every object of the tenant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexQuery {
    /// Only objects with a Name equal to this value.
    pub name: Option<String>,
    /// Only objects of this type.
    pub object_type: Option<ObjectType>,
    /// Only objects whose State as stored (before Locate's date transitions) is one of these.
    pub stored_states: Option<StoredStates>,
    /// Only objects with each of these Object Group values.
    pub groups: Vec<String>,
    /// Only objects with, for each range, a value of its date attribute within it.
    pub dates: Vec<DateRange>,
}

/// A set of stored States. An object with several different State values (which the server never writes) is
/// admitted by every set: a store cannot tell which one the filter will see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredStates {
    pub states: Vec<State>,
    /// Whether an object without any State attribute is admitted.
    pub stateless: bool,
}

/// Values of one date attribute from `low` to `high`, both included (`low <= high`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateRange {
    pub attribute: KnownAttribute,
    pub low: i64,
    pub high: i64,
}

/// An object's State as stored: what the State index files it under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoredState {
    Missing,
    One(State),
    /// Several different values.
    Several,
}

impl StoredState {
    pub fn of(attributes: &Attributes) -> Self {
        let mut found = Self::Missing;
        for attribute in attributes {
            if let Attribute::State(state) = attribute {
                found = match found {
                    Self::Missing => Self::One(*state),
                    Self::One(seen) if seen == *state => found,
                    _ => return Self::Several,
                };
            }
        }
        found
    }
}

impl StoredStates {
    pub fn admits(&self, stored: StoredState) -> bool {
        match stored {
            StoredState::Missing => self.stateless,
            StoredState::One(state) => self.states.contains(&state),
            StoredState::Several => true,
        }
    }
}

impl DateRange {
    pub fn admits(&self, attributes: &Attributes) -> bool {
        let name = AttributeName::Known(self.attribute);
        let found = attributes
            .get_all(&name)
            .filter_map(date_value)
            .any(|d| (self.low..=self.high).contains(&d));
        found
    }
}

impl IndexQuery {
    /// Whether an object with these attributes meets the query's State, Object Group and date parts (Name and
    /// type are checked by the stores against their indexes).
    pub fn admits(&self, attributes: &Attributes) -> bool {
        self.stored_states
            .as_ref()
            .is_none_or(|states| states.admits(StoredState::of(attributes)))
            && self.groups.iter().all(|group| {
                attributes
                    .iter()
                    .any(|a| matches!(a, Attribute::ObjectGroup(g) if g == group))
            })
            && self.dates.iter().all(|range| range.admits(attributes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locate_date_has_a_value_and_nothing_else_does() {
        for known in LOCATE_DATES {
            assert!(is_locate_date(&AttributeName::Known(*known)));
        }
        let dates = [
            Attribute::InitialDate(1),
            Attribute::ActivationDate(2),
            Attribute::ProcessStartDate(3),
            Attribute::ProtectStopDate(4),
            Attribute::DeactivationDate(5),
            Attribute::DestroyDate(6),
            Attribute::CompromiseOccurrenceDate(7),
            Attribute::CompromiseDate(8),
            Attribute::ArchiveDate(9),
            Attribute::LastChangeDate(10),
            Attribute::OriginalCreationDate(11),
        ];
        assert_eq!(dates.len(), LOCATE_DATES.len());
        for (i, date) in dates.iter().enumerate() {
            assert_eq!(date_value(date), Some(i as i64 + 1));
            assert!(LOCATE_DATES.contains(&date.known().unwrap()));
        }
        assert_eq!(date_value(&Attribute::ObjectGroup("g".into())), None);
        assert!(!is_locate_date(&AttributeName::Known(
            KnownAttribute::ObjectGroup
        )));
    }

    #[test]
    fn stored_states_admit_missing_one_and_several() {
        let set = StoredStates {
            states: vec![State::Active],
            stateless: false,
        };
        let of = |states: &[State]| {
            StoredState::of(&Attributes::from(
                states
                    .iter()
                    .map(|s| Attribute::State(*s))
                    .collect::<Vec<_>>(),
            ))
        };
        assert_eq!(of(&[]), StoredState::Missing);
        assert_eq!(
            of(&[State::Active, State::Active]),
            StoredState::One(State::Active)
        );
        assert_eq!(
            of(&[State::Active, State::Compromised]),
            StoredState::Several
        );
        assert!(!set.admits(of(&[])));
        assert!(set.admits(of(&[State::Active])));
        assert!(!set.admits(of(&[State::Compromised])));
        assert!(set.admits(of(&[State::Compromised, State::Active])));
    }

    #[test]
    fn groups_need_each_value_and_dates_any_value_in_range() {
        let attributes = Attributes::from(vec![
            Attribute::ObjectGroup("a".into()),
            Attribute::ObjectGroup("b".into()),
            Attribute::InitialDate(100),
        ]);
        let query = |groups: &[&str], low, high| IndexQuery {
            groups: groups.iter().map(|g| g.to_string()).collect(),
            dates: vec![DateRange {
                attribute: KnownAttribute::InitialDate,
                low,
                high,
            }],
            ..IndexQuery::default()
        };
        assert!(query(&["a", "b"], 100, 100).admits(&attributes));
        assert!(!query(&["a", "c"], 100, 100).admits(&attributes));
        assert!(query(&[], 50, 150).admits(&attributes));
        assert!(!query(&[], 101, 150).admits(&attributes));
    }
}
