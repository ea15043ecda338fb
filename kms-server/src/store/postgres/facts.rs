//! What Locate's SQL looks at, drawn from an object's clear attributes whenever the object is written: its
//! stored State (a column), its Names, Object Groups and dates (rows of `qkms_names`, `qkms_groups`,
//! `qkms_dates`). Every write path (insert, update, `qkms store migrate`, the start-up backfill) derives them
//! here, so they cannot disagree.

use kmip::attributes::Attributes;

use crate::store::locate_query::{date_value, StoredState};

/// `state` column value of an object without a State attribute.
pub(super) const STATE_MISSING: i32 = 0;
/// `state` column value of an object with several different State values: every State condition admits it.
pub(super) const STATE_SEVERAL: i32 = -1;

/// The Locate columns and rows of one object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Facts {
    pub state: i32,
    /// Every Name value, without repeats.
    pub names: Vec<String>,
    /// Every Object Group value, without repeats.
    pub groups: Vec<String>,
    /// (attribute tag, value) of every date of `LOCATE_DATES`, without repeats, as two parallel arrays.
    pub date_tags: Vec<i32>,
    pub date_values: Vec<i64>,
}

/// The `state` column value of a stored State.
pub(super) fn state_code(stored: StoredState) -> i32 {
    match stored {
        StoredState::Missing => STATE_MISSING,
        StoredState::One(state) => state.to_u32() as i32,
        StoredState::Several => STATE_SEVERAL,
    }
}

fn push_new(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v == value) {
        list.push(value.to_owned());
    }
}

impl Facts {
    pub(super) fn of(attributes: &Attributes) -> Self {
        let mut facts = Self {
            state: state_code(StoredState::of(attributes)),
            ..Self::default()
        };
        for attribute in attributes {
            match attribute {
                kmip::attributes::Attribute::Name(name) => push_new(&mut facts.names, &name.value),
                kmip::attributes::Attribute::ObjectGroup(group) => {
                    push_new(&mut facts.groups, group)
                }
                other => {
                    let (Some(value), Some(known)) = (date_value(other), other.known()) else {
                        continue;
                    };
                    let tag = known.tag().0 as i32;
                    let seen = facts
                        .date_tags
                        .iter()
                        .zip(&facts.date_values)
                        .any(|(t, v)| *t == tag && *v == value);
                    if !seen {
                        facts.date_tags.push(tag);
                        facts.date_values.push(value);
                    }
                }
            }
        }
        facts
    }
}

#[cfg(test)]
mod tests {
    use kmip::attributes::{Attribute, KnownAttribute, Name};
    use kmip::enums::State;

    use super::*;

    #[test]
    fn facts_deduplicate_and_code_the_state() {
        let attributes = Attributes::from(vec![
            Attribute::State(State::Active),
            Attribute::Name(Name::text("n")),
            Attribute::Name(Name::text("n")),
            Attribute::ObjectGroup("g".into()),
            Attribute::ObjectGroup("g".into()),
            Attribute::InitialDate(5),
            Attribute::InitialDate(5),
            Attribute::LastChangeDate(5),
        ]);
        let facts = Facts::of(&attributes);
        assert_eq!(facts.state, 2);
        assert_eq!(facts.names, ["n"]);
        assert_eq!(facts.groups, ["g"]);
        assert_eq!(
            facts.date_tags,
            [
                KnownAttribute::InitialDate.tag().0 as i32,
                KnownAttribute::LastChangeDate.tag().0 as i32
            ]
        );
        assert_eq!(facts.date_values, [5, 5]);
        assert_eq!(Facts::of(&Attributes::default()).state, STATE_MISSING);
    }
}
