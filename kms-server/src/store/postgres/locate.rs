//! Locate's indexed part in SQL: a tenant's non-internal objects, by Name or Object Type when the request names
//! one, in creation order, read a page at a time (keyset pagination on the creation number, so a tenant with
//! millions of objects never has them all in memory at once). The attribute filter then runs in the server, on
//! the same clear records sled gives it, so both stores answer every filter alike.

use deadpool_postgres::Object;

use super::retry::Failure;

/// Rows fetched per round trip.
pub(super) const PAGE: i64 = 512;

/// What the SQL selects on.
#[derive(Clone, Debug)]
pub(super) struct Selection {
    pub tenant: String,
    pub name: Option<String>,
    pub object_type: Option<i32>,
}

/// One candidate: its uid, clear record and creation number (the next page starts after the last one).
#[derive(Debug)]
pub(super) struct Candidate {
    pub uid: String,
    pub record: Vec<u8>,
    pub created: i64,
}

const BY_TENANT: &str = "SELECT uid, record, created FROM qkms_objects
    WHERE tenant = $1 AND internal = FALSE AND created > $2
    ORDER BY created LIMIT $3";

const BY_TYPE: &str = "SELECT uid, record, created FROM qkms_objects
    WHERE tenant = $1 AND object_type = $4 AND internal = FALSE AND created > $2
    ORDER BY created LIMIT $3";

const BY_NAME: &str = "SELECT o.uid, o.record, o.created
    FROM qkms_names n JOIN qkms_objects o ON o.storage_key = n.storage_key
    WHERE n.tenant = $1 AND n.name = $4 AND o.tenant = $1 AND o.internal = FALSE AND o.created > $2
    ORDER BY o.created LIMIT $3";

const BY_NAME_AND_TYPE: &str = "SELECT o.uid, o.record, o.created
    FROM qkms_names n JOIN qkms_objects o ON o.storage_key = n.storage_key
    WHERE n.tenant = $1 AND n.name = $4 AND o.tenant = $1 AND o.object_type = $5 AND o.internal = FALSE
        AND o.created > $2
    ORDER BY o.created LIMIT $3";

/// The candidates created after `after`, at most [`PAGE`] of them.
pub(super) async fn page(
    client: &Object,
    selection: &Selection,
    after: i64,
) -> Result<Vec<Candidate>, Failure> {
    let rows = match (&selection.name, selection.object_type) {
        (None, None) => {
            let statement = client.prepare_cached(BY_TENANT).await?;
            client
                .query(&statement, &[&selection.tenant, &after, &PAGE])
                .await?
        }
        (None, Some(object_type)) => {
            let statement = client.prepare_cached(BY_TYPE).await?;
            client
                .query(
                    &statement,
                    &[&selection.tenant, &after, &PAGE, &object_type],
                )
                .await?
        }
        (Some(name), None) => {
            let statement = client.prepare_cached(BY_NAME).await?;
            client
                .query(&statement, &[&selection.tenant, &after, &PAGE, name])
                .await?
        }
        (Some(name), Some(object_type)) => {
            let statement = client.prepare_cached(BY_NAME_AND_TYPE).await?;
            client
                .query(
                    &statement,
                    &[&selection.tenant, &after, &PAGE, name, &object_type],
                )
                .await?
        }
    };
    Ok(rows
        .into_iter()
        .map(|row| Candidate {
            uid: row.get(0),
            record: row.get(1),
            created: row.get(2),
        })
        .collect())
}
