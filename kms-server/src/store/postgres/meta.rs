//! The `qkms_meta` table: the same entries as sled's `meta` tree (root-key kind, argon2id parameters and salt or
//! HSM fields, the wrapped data key), so a store moved from sled keeps its data key and every sealed blob opens
//! unchanged. The data key is unwrapped in the calling thread (argon2id and HSM calls are slow and blocking),
//! never on the database runtime.

use std::collections::HashMap;

use deadpool_postgres::Object;

use super::retry::Failure;

/// Every entry (name -> value).
pub(super) async fn read_all(client: &Object) -> Result<HashMap<Vec<u8>, Vec<u8>>, Failure> {
    let rows = client
        .query("SELECT name, value FROM qkms_meta", &[])
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.get::<_, Vec<u8>>(0), row.get::<_, Vec<u8>>(1)))
        .collect())
}

/// Writes the entries of a new store in one transaction. `Ok(false)` when another node wrote its own first (the
/// caller then reads and uses those).
pub(super) async fn create(
    mut client: Object,
    entries: &[(Vec<u8>, Vec<u8>)],
) -> Result<bool, Failure> {
    let transaction = client.transaction().await?;
    for (name, value) in entries {
        let inserted = transaction
            .execute(
                "INSERT INTO qkms_meta (name, value) VALUES ($1, $2)",
                &[name, value],
            )
            .await;
        match inserted {
            Ok(_) => {}
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
                transaction.rollback().await?;
                return Ok(false);
            }
            Err(e) => return Err(e.into()),
        }
    }
    transaction.commit().await?;
    Ok(true)
}
