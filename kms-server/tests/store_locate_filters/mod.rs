//! Locate's filters on State, Object Group and dates, through the Locate operation's own `Search` (the index
//! query it derives and its exact filter), on both stores. Every check compares three answers: the expected uids,
//! the store answering with the index query (PostgreSQL: in SQL), and the same store scanning everything with
//! the exact filter alone, so an index condition that dropped a match fails the test.

use kmip::attributes::{Attribute, Attributes, KnownAttribute};
use kmip::enums::{ObjectType, State};
use kmip::payloads::storage_status::{DESTROYED, ON_LINE};
use kmip::ProtocolVersion;
use kms_server::operations::locate::Search;
use kms_server::store::{IndexQuery, Namespace, ObjectStore, StoredObject};
use kms_server::tenant::TenantId;

use super::{alice, Backend};

/// The Locate's "now": dates before it have passed.
pub const NOW: i64 = 1_700_000_000;
const PAST: i64 = NOW - 1_000;
const FUTURE: i64 = NOW + 1_000;

pub fn with(uid: &str, attributes: Vec<Attribute>) -> StoredObject {
    let mut all = Attributes::from(vec![
        Attribute::UniqueIdentifier(uid.into()),
        Attribute::ObjectType(ObjectType::SymmetricKey),
    ]);
    for attribute in attributes {
        all.push(attribute);
    }
    StoredObject {
        uid: uid.into(),
        owner: TenantId("alice".into()),
        object: None,
        attributes: all,
        internal: false,
    }
}

/// Locates with `filters` under `mask` (`None`: the default, on-line only) and checks the three answers agree.
pub fn check(s: &dyn ObjectStore, filters: Vec<Attribute>, mask: Option<i32>, expected: &[&str]) {
    let search = Search::new(
        ProtocolVersion::V2_1,
        Attributes::from(filters.clone()),
        mask,
        None,
        NOW,
    )
    .expect("valid filters");
    let narrowed = s
        .locate(&alice(), &search.index, &mut |a| search.matches(a))
        .unwrap();
    let scanned = s
        .locate(&alice(), &IndexQuery::default(), &mut |a| search.matches(a))
        .unwrap();
    assert_eq!(
        narrowed, scanned,
        "the index query dropped or added objects for {filters:?} (index query {:?})",
        search.index
    );
    assert_eq!(narrowed, expected, "{filters:?} mask {mask:?}");
}

fn states() -> Vec<(&'static str, Vec<Attribute>)> {
    use Attribute as A;
    use State as S;
    vec![
        ("pre", vec![A::State(S::PreActive)]),
        (
            "pre-later",
            vec![A::State(S::PreActive), A::ActivationDate(FUTURE)],
        ),
        (
            "pre-now-active",
            vec![A::State(S::PreActive), A::ActivationDate(PAST)],
        ),
        (
            "pre-now-deactivated",
            vec![
                A::State(S::PreActive),
                A::ActivationDate(PAST),
                A::DeactivationDate(PAST),
            ],
        ),
        (
            "active",
            vec![A::State(S::Active), A::DeactivationDate(FUTURE)],
        ),
        (
            "active-now-deactivated",
            vec![A::State(S::Active), A::DeactivationDate(PAST)],
        ),
        ("deactivated", vec![A::State(S::Deactivated)]),
        ("compromised", vec![A::State(S::Compromised)]),
        ("destroyed", vec![A::State(S::Destroyed)]),
        (
            "destroyed-compromised",
            vec![A::State(S::DestroyedCompromised)],
        ),
        ("stateless", vec![]),
        // Never written by the server (State is single-valued), but a store must not lose it.
        (
            "two-states",
            vec![A::State(S::Active), A::State(S::Compromised)],
        ),
    ]
}

pub fn state_filters_follow_date_transitions_and_the_storage_mask(backend: Backend) {
    let s: &dyn ObjectStore = &*backend;
    for (uid, attributes) in states() {
        s.insert(&with(uid, attributes)).unwrap();
    }
    let state = |st| vec![Attribute::State(st)];
    check(s, state(State::PreActive), None, &["pre", "pre-later"]);
    check(
        s,
        state(State::Active),
        None,
        &["pre-now-active", "active", "two-states"],
    );
    check(
        s,
        state(State::Deactivated),
        None,
        &[
            "pre-now-deactivated",
            "active-now-deactivated",
            "deactivated",
        ],
    );
    check(
        s,
        state(State::Compromised),
        None,
        &["compromised", "two-states"],
    );
    // Destroyed objects only when the Storage Status Mask asks for them.
    check(s, state(State::Destroyed), None, &[]);
    check(s, state(State::Destroyed), Some(DESTROYED), &["destroyed"]);
    check(
        s,
        state(State::DestroyedCompromised),
        Some(ON_LINE | DESTROYED),
        &["destroyed-compromised"],
    );
    check(s, state(State::Active), Some(DESTROYED), &[]);
    check(
        s,
        vec![],
        None,
        &[
            "pre",
            "pre-later",
            "pre-now-active",
            "pre-now-deactivated",
            "active",
            "active-now-deactivated",
            "deactivated",
            "compromised",
            "stateless",
            "two-states",
        ],
    );
    check(
        s,
        vec![],
        Some(DESTROYED),
        &["destroyed", "destroyed-compromised"],
    );
    // Two different States: only the object holding both.
    check(
        s,
        vec![
            Attribute::State(State::Active),
            Attribute::State(State::Compromised),
        ],
        None,
        &["two-states"],
    );
    // Every State and mask combination agrees with the full scan.
    for st in State::ALL {
        for mask in [None, Some(DESTROYED), Some(ON_LINE | DESTROYED), Some(0)] {
            let search = Search::new(
                ProtocolVersion::V2_1,
                Attributes::from(state(*st)),
                mask,
                None,
                NOW,
            )
            .unwrap();
            let narrowed = s
                .locate(&alice(), &search.index, &mut |a| search.matches(a))
                .unwrap();
            let scanned = s
                .locate(&alice(), &IndexQuery::default(), &mut |a| search.matches(a))
                .unwrap();
            assert_eq!(narrowed, scanned, "{st:?} {mask:?}");
        }
    }
}

pub fn object_group_filters_need_each_group(backend: Backend) {
    let s: &dyn ObjectStore = &*backend;
    let group = |g: &str| Attribute::ObjectGroup(g.into());
    let active = Attribute::State(State::Active);
    s.insert(&with("ab", vec![active.clone(), group("a"), group("b")]))
        .unwrap();
    s.insert(&with("a", vec![active.clone(), group("a")]))
        .unwrap();
    s.insert(&with(
        "b-pre",
        vec![Attribute::State(State::PreActive), group("b")],
    ))
    .unwrap();
    s.insert(&with("none", vec![active.clone()])).unwrap();
    check(s, vec![group("a")], None, &["ab", "a"]);
    check(s, vec![group("b")], None, &["ab", "b-pre"]);
    check(s, vec![group("a"), group("b")], None, &["ab"]);
    check(s, vec![group("c")], None, &[]);
    check(s, vec![group("b"), active.clone()], None, &["ab"]);
    check(
        s,
        vec![group("b"), Attribute::ObjectType(ObjectType::SymmetricKey)],
        None,
        &["ab", "b-pre"],
    );
    check(
        s,
        vec![group("b"), Attribute::ObjectType(ObjectType::SecretData)],
        None,
        &[],
    );

    // An update moves the object between groups; a removal takes it out of all.
    let mut moved = s.get(Namespace::Tenant(&alice()), "a").unwrap().unwrap();
    moved.attributes.set(group("b"));
    s.update(&moved).unwrap();
    check(s, vec![group("a")], None, &["ab"]);
    check(s, vec![group("b")], None, &["ab", "a", "b-pre"]);
    s.remove(Namespace::Tenant(&alice()), "ab").unwrap();
    check(s, vec![group("b")], None, &["a", "b-pre"]);
    // Another tenant's object in the same group is not found.
    let mut bobs = with("bob-b", vec![active, group("b")]);
    bobs.owner = TenantId("bob".into());
    s.insert(&bobs).unwrap();
    check(s, vec![group("b")], None, &["a", "b-pre"]);
}

/// One value of each date attribute Locate compares.
fn date(attribute: KnownAttribute, value: i64) -> Attribute {
    use KnownAttribute as K;
    match attribute {
        K::InitialDate => Attribute::InitialDate(value),
        K::ActivationDate => Attribute::ActivationDate(value),
        K::ProcessStartDate => Attribute::ProcessStartDate(value),
        K::ProtectStopDate => Attribute::ProtectStopDate(value),
        K::DeactivationDate => Attribute::DeactivationDate(value),
        K::DestroyDate => Attribute::DestroyDate(value),
        K::CompromiseOccurrenceDate => Attribute::CompromiseOccurrenceDate(value),
        K::CompromiseDate => Attribute::CompromiseDate(value),
        K::ArchiveDate => Attribute::ArchiveDate(value),
        K::LastChangeDate => Attribute::LastChangeDate(value),
        K::OriginalCreationDate => Attribute::OriginalCreationDate(value),
        other => panic!("{other:?} is not a Locate date"),
    }
}

pub fn date_filters_match_one_value_or_a_range(backend: Backend) {
    let s: &dyn ObjectStore = &*backend;
    let dates = kms_server::store::locate_query::LOCATE_DATES;
    // Objects "early" and "late" carry every date (100 and 200 apart per attribute); Compromised, so that the
    // Activation and Deactivation Dates do not change their State.
    for (uid, base) in [("early", 1_000), ("late", 2_000)] {
        let mut attributes = vec![Attribute::State(State::Compromised)];
        for (i, attribute) in dates.iter().enumerate() {
            attributes.push(date(*attribute, base + i as i64));
        }
        s.insert(&with(uid, attributes)).unwrap();
    }
    s.insert(&with("undated", vec![Attribute::State(State::Compromised)]))
        .unwrap();
    for (i, attribute) in dates.iter().enumerate() {
        let at = |v: i64| date(*attribute, v + i as i64);
        check(s, vec![at(1_000)], None, &["early"]);
        check(s, vec![at(2_000)], None, &["late"]);
        check(s, vec![at(1_500)], None, &[]);
        // Two values are a range, both ends included, in either order.
        check(s, vec![at(1_000), at(2_000)], None, &["early", "late"]);
        check(s, vec![at(3_000), at(1_500)], None, &["late"]);
        check(s, vec![at(1_001), at(1_999)], None, &[]);
    }
    // Two date ranges together, and with a State and a group.
    let initial = |v| Attribute::InitialDate(v);
    let last_change = |v| Attribute::LastChangeDate(v);
    let last = dates
        .iter()
        .position(|d| *d == KnownAttribute::LastChangeDate)
        .unwrap() as i64;
    check(
        s,
        vec![
            initial(0),
            initial(5_000),
            last_change(0),
            last_change(1_000 + last),
        ],
        None,
        &["early"],
    );
    check(
        s,
        vec![
            initial(0),
            initial(5_000),
            Attribute::State(State::Compromised),
        ],
        None,
        &["early", "late"],
    );
    check(
        s,
        vec![initial(0), initial(5_000), Attribute::State(State::Active)],
        None,
        &[],
    );
    // An update changes the dates the index holds.
    let mut changed = s
        .get(Namespace::Tenant(&alice()), "early")
        .unwrap()
        .unwrap();
    changed.attributes.set(Attribute::InitialDate(7_000));
    s.update(&changed).unwrap();
    check(s, vec![initial(1_000)], None, &[]);
    check(s, vec![initial(6_000), initial(8_000)], None, &["early"]);
}

/// More matches than one database page, with State, group and date conditions together: same set, same order.
pub fn combined_filters_page_in_creation_order(backend: Backend) {
    let s: &dyn ObjectStore = &*backend;
    let mut expected = Vec::new();
    for i in 0..1_200i64 {
        let uid = format!("k{i:05}");
        let state = if i % 3 == 0 {
            State::Active
        } else {
            State::PreActive
        };
        let group = if i % 2 == 0 { "even" } else { "odd" };
        s.insert(&with(
            &uid,
            vec![
                Attribute::State(state),
                Attribute::ObjectGroup(group.into()),
                Attribute::InitialDate(i),
            ],
        ))
        .unwrap();
        if state == State::Active && group == "even" && (100..=1_150).contains(&i) {
            expected.push(uid);
        }
    }
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    check(
        s,
        vec![
            Attribute::State(State::Active),
            Attribute::ObjectGroup("even".into()),
            Attribute::InitialDate(1_150),
            Attribute::InitialDate(100),
        ],
        None,
        &expected,
    );
    let odd: Vec<String> = (0..1_200)
        .filter(|i| i % 2 == 1)
        .map(|i| format!("k{i:05}"))
        .collect();
    let odd: Vec<&str> = odd.iter().map(String::as_str).collect();
    check(s, vec![Attribute::ObjectGroup("odd".into())], None, &odd);
}
