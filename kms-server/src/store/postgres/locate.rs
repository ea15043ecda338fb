//! Locate in SQL: a tenant's non-internal objects that meet every indexed part of the query (Object Type, stored
//! State, a Name, Object Groups, date ranges: see [`IndexQuery`]), in creation order, read a page at a time
//! (keyset pagination on the creation number, so a tenant with millions of objects never has them all in memory
//! at once). The attribute filter then runs in the server on the same clear records sled gives it, so both
//! stores answer every filter alike; the SQL only spares it the rows that cannot match.
//!
//! The statement is assembled from the parts the query has and sent unnamed (`query_typed`: one round trip), so
//! PostgreSQL plans each page with the actual values and picks the index that suits them (the State, Name, group
//! or date index for a selective condition, the creation-ordered tenant index otherwise) instead of a generic
//! plan; and no per-connection statement cache grows with the variety of queries. At most [`MAX_EACH`] group
//! and date conditions go into the SQL (bounded statement size); any further ones are checked in the node.

use deadpool_postgres::Object;
use tokio_postgres::types::{ToSql, Type};

use super::facts::STATE_SEVERAL;
use super::retry::Failure;
use crate::store::locate_query::IndexQuery;

/// Rows fetched per round trip.
pub(super) const PAGE: i64 = 512;

/// Group conditions, and date conditions, put into the SQL at most.
const MAX_EACH: usize = 8;

/// What the SQL selects on.
#[derive(Clone, Debug)]
pub(super) struct Selection {
    pub tenant: String,
    pub name: Option<String>,
    pub object_type: Option<i32>,
    /// Admitted `state` column values (always with [`STATE_SEVERAL`]).
    pub states: Option<Vec<i32>>,
    pub groups: Vec<String>,
    /// (tag, low, high).
    pub dates: Vec<(i32, i64, i64)>,
}

impl Selection {
    pub(super) fn new(tenant: &str, query: &IndexQuery) -> Self {
        let states = query.stored_states.as_ref().map(|set| {
            let mut codes: Vec<i32> = set.states.iter().map(|s| s.to_u32() as i32).collect();
            if set.stateless {
                codes.push(super::facts::STATE_MISSING);
            }
            codes.push(STATE_SEVERAL);
            codes
        });
        Self {
            tenant: tenant.to_owned(),
            name: query.name.clone(),
            object_type: query.object_type.map(|t| t.to_u32() as i32),
            states,
            groups: query.groups.iter().take(MAX_EACH).cloned().collect(),
            dates: query
                .dates
                .iter()
                .take(MAX_EACH)
                .map(|d| (d.attribute.tag().0 as i32, d.low, d.high))
                .collect(),
        }
    }

    /// The statement of one page: `$1` tenant, `$2` the creation number the page starts after, `$3` the page
    /// size, then one parameter per condition (see [`Self::parameters`]).
    pub(super) fn sql(&self) -> String {
        let mut sql = String::from(
            "SELECT o.uid, o.record, o.created FROM qkms_objects o
    WHERE o.tenant = $1 AND o.internal = FALSE AND o.created > $2",
        );
        let mut next = 4;
        let mut param = || {
            let n = next;
            next += 1;
            n
        };
        if self.object_type.is_some() {
            sql.push_str(&format!("\n    AND o.object_type = ${}", param()));
        }
        if self.states.is_some() {
            sql.push_str(&format!("\n    AND o.state = ANY(${})", param()));
        }
        if self.name.is_some() {
            sql.push_str(&format!(
                "\n    AND EXISTS (SELECT 1 FROM qkms_names n WHERE n.storage_key = o.storage_key \
                 AND n.tenant = $1 AND n.name = ${})",
                param()
            ));
        }
        for _ in &self.groups {
            sql.push_str(&format!(
                "\n    AND EXISTS (SELECT 1 FROM qkms_groups g WHERE g.storage_key = o.storage_key \
                 AND g.tenant = $1 AND g.object_group = ${})",
                param()
            ));
        }
        for _ in &self.dates {
            let (tag, low, high) = (param(), param(), param());
            sql.push_str(&format!(
                "\n    AND EXISTS (SELECT 1 FROM qkms_dates d WHERE d.storage_key = o.storage_key \
                 AND d.tenant = $1 AND d.tag = ${tag} AND d.value BETWEEN ${low} AND ${high})"
            ));
        }
        sql.push_str("\n    ORDER BY o.created LIMIT $3");
        sql
    }

    /// The parameters of [`Self::sql`] for the page after `after`, with their types.
    fn parameters<'a>(&'a self, after: &'a i64) -> Vec<(&'a (dyn ToSql + Sync), Type)> {
        let mut parameters: Vec<(&(dyn ToSql + Sync), Type)> = vec![
            (&self.tenant, Type::TEXT),
            (after, Type::INT8),
            (&PAGE, Type::INT8),
        ];
        if let Some(object_type) = &self.object_type {
            parameters.push((object_type, Type::INT4));
        }
        if let Some(states) = &self.states {
            parameters.push((states, Type::INT4_ARRAY));
        }
        if let Some(name) = &self.name {
            parameters.push((name, Type::TEXT));
        }
        for group in &self.groups {
            parameters.push((group, Type::TEXT));
        }
        for (tag, low, high) in &self.dates {
            parameters.push((tag, Type::INT4));
            parameters.push((low, Type::INT8));
            parameters.push((high, Type::INT8));
        }
        parameters
    }
}

/// One candidate: its uid, clear record and creation number (the next page starts after the last one).
#[derive(Debug)]
pub(super) struct Candidate {
    pub uid: String,
    pub record: Vec<u8>,
    pub created: i64,
}

/// The candidates created after `after`, at most [`PAGE`] of them.
pub(super) async fn page(
    client: &Object,
    selection: &Selection,
    sql: &str,
    after: i64,
) -> Result<Vec<Candidate>, Failure> {
    let rows = client
        .query_typed(sql, &selection.parameters(&after))
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| Candidate {
            uid: row.get(0),
            record: row.get(1),
            created: row.get(2),
        })
        .collect())
}

/// PostgreSQL's plan for the first page (`EXPLAIN`), one line per plan node.
pub(super) async fn explain(
    client: &Object,
    selection: &Selection,
    sql: &str,
) -> Result<String, Failure> {
    let after = i64::MIN;
    let rows = client
        .query_typed(&format!("EXPLAIN {sql}"), &selection.parameters(&after))
        .await?;
    Ok(rows
        .iter()
        .map(|row| row.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n"))
}

#[cfg(test)]
mod tests {
    use kmip::attributes::KnownAttribute;
    use kmip::enums::{ObjectType, State};

    use super::*;
    use crate::store::locate_query::{DateRange, StoredStates};

    #[test]
    fn every_condition_gets_its_own_numbered_parameter() {
        let query = IndexQuery {
            name: Some("n".into()),
            object_type: Some(ObjectType::SymmetricKey),
            stored_states: Some(StoredStates {
                states: vec![State::Active],
                stateless: true,
            }),
            groups: vec!["g1".into(), "g2".into()],
            dates: vec![DateRange {
                attribute: KnownAttribute::InitialDate,
                low: 1,
                high: 2,
            }],
        };
        let selection = Selection::new("t", &query);
        assert_eq!(selection.states, Some(vec![2, 0, STATE_SEVERAL]));
        let sql = selection.sql();
        let after = 0;
        let count = selection.parameters(&after).len();
        assert_eq!(count, 3 + 1 + 1 + 1 + 2 + 3);
        assert!(sql.contains(&format!("${count})")), "{sql}");
        assert!(!sql.contains(&format!("${}", count + 1)), "{sql}");
    }

    #[test]
    fn at_most_eight_group_and_date_conditions_reach_the_sql() {
        let query = IndexQuery {
            groups: (0..20).map(|i| i.to_string()).collect(),
            dates: vec![
                DateRange {
                    attribute: KnownAttribute::InitialDate,
                    low: 1,
                    high: 2,
                };
                20
            ],
            ..IndexQuery::default()
        };
        let selection = Selection::new("t", &query);
        assert_eq!((selection.groups.len(), selection.dates.len()), (8, 8));
    }
}
