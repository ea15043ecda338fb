//! The lifecycle state machine (KMIP 1.4 §3.22, 2.1 §4.57 "State"), driven by the Activate, Revoke and Destroy
//! handlers (`operations/`) and by dates, which every load applies.
//!
//! ```text
//! Pre-Active --Activate / Activation Date passed--> Active --Revoke / Deactivation Date passed--> Deactivated
//! Pre-Active, Active, Deactivated --Revoke(compromise)--> Compromised
//! Pre-Active, Deactivated --Destroy--> Destroyed --Revoke(compromise)--> Destroyed Compromised
//! Compromised --Destroy--> Destroyed Compromised
//! ```
//! Pre-Active and Active also go to Deactivated on a non-compromise Revoke (the OASIS AX cases revoke a
//! Pre-Active key before destroying it).

use kmip::attributes::{Attribute, Attributes};
use kmip::enums::State;

/// Applies the transitions dates cause on their own: Pre-Active becomes Active once the Activation Date has
/// passed, Active becomes Deactivated once the Deactivation Date has. Returns whether the state changed.
pub fn apply_date_transitions(attributes: &mut Attributes, now: i64) -> bool {
    let deactivation = attributes.iter().find_map(|a| match a {
        Attribute::DeactivationDate(d) => Some(*d),
        _ => None,
    });
    let mut state = attributes.state();
    let before = state;
    if state == Some(State::PreActive) && attributes.activation_date().is_some_and(|d| d <= now) {
        state = Some(State::Active);
    }
    if state == Some(State::Active) && deactivation.is_some_and(|d| d <= now) {
        state = Some(State::Deactivated);
    }
    match state {
        Some(new) if state != before => {
            attributes.set(Attribute::State(new));
            true
        }
        _ => false,
    }
}

/// The stored States an object may have for [`apply_date_transitions`] to show it in `shown` (Locate filters on
/// the shown State; a store indexes the stored one). Derived from the transition function itself, by trying
/// every stored State with an Activation and a Deactivation Date absent, past or future.
pub fn stored_states_shown_as(shown: State) -> Vec<State> {
    let now = 0;
    let dates = [None, Some(now - 1), Some(now + 1)];
    State::ALL
        .iter()
        .copied()
        .filter(|&stored| {
            dates.iter().any(|&activation| {
                dates.iter().any(|&deactivation| {
                    let mut attributes: Attributes = vec![Attribute::State(stored)].into();
                    if let Some(d) = activation {
                        attributes.push(Attribute::ActivationDate(d));
                    }
                    if let Some(d) = deactivation {
                        attributes.push(Attribute::DeactivationDate(d));
                    }
                    apply_date_transitions(&mut attributes, now);
                    attributes.state() == Some(shown)
                })
            })
        })
        .collect()
}

/// Sets an attribute and stamps the Last Change Date.
pub fn set_changed(attributes: &mut Attributes, attribute: Attribute, now: i64) {
    attributes.set(attribute);
    attributes.set(Attribute::LastChangeDate(now));
}

pub fn state_of(attributes: &Attributes) -> State {
    attributes.state().unwrap_or(State::PreActive)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_move_the_state_forward() {
        let mut a: Attributes = vec![
            Attribute::State(State::PreActive),
            Attribute::ActivationDate(10),
        ]
        .into();
        assert!(!apply_date_transitions(&mut a, 9));
        assert_eq!(a.state(), Some(State::PreActive));
        assert!(apply_date_transitions(&mut a, 10));
        assert_eq!(a.state(), Some(State::Active));
        a.push(Attribute::DeactivationDate(20));
        assert!(apply_date_transitions(&mut a, 25));
        assert_eq!(a.state(), Some(State::Deactivated));
    }

    #[test]
    fn only_pre_active_and_active_objects_change_state_by_dates() {
        use State as S;
        assert_eq!(stored_states_shown_as(S::PreActive), [S::PreActive]);
        assert_eq!(stored_states_shown_as(S::Active), [S::PreActive, S::Active]);
        assert_eq!(
            stored_states_shown_as(S::Deactivated),
            [S::PreActive, S::Active, S::Deactivated]
        );
        for other in [S::Compromised, S::Destroyed, S::DestroyedCompromised] {
            assert_eq!(stored_states_shown_as(other), [other]);
        }
    }

    #[test]
    fn dates_never_revive_a_compromised_object() {
        let mut a: Attributes = vec![
            Attribute::State(State::Compromised),
            Attribute::ActivationDate(1),
        ]
        .into();
        assert!(!apply_date_transitions(&mut a, 100));
        assert_eq!(a.state(), Some(State::Compromised));
    }
}
