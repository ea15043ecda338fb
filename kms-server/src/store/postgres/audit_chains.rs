//! Reading every node's audit chain back, for `qkms audit verify`: the claim rows' heads, then every record in
//! (node id, sequence) order, a page of rows at a time, each record's text rebuilt as the node wrote it
//! (`audit_rows`).
//!
//! Why a page at a time and a visitor rather than the chains in memory: a node writes tens of thousands of
//! records a second under read load, so a database soon holds millions; verification must not need memory in
//! proportion to them. What the reader holds at once is one page ([`PAGE`] rows) and the claim rows.
//!
//! Reads without a claim and without migrating anything, so it also reads a database of schema 6 (before the
//! `hash` column: every row holds its whole text).

use std::sync::Arc;

use super::audit_rows::from_row;
use super::audit_table::to_u64;
use super::connection::{Connection, PostgresOptions};
use crate::audit::GENESIS_HASH;
use crate::store::StoreError;

/// Rows read per page.
const PAGE: i64 = 5000;

/// A connection to read the chains through.
pub struct AuditChains {
    connection: Connection,
    /// The rows' columns: node id, sequence, record, hash (NULL before schema 7).
    select: &'static str,
}

impl std::fmt::Debug for AuditChains {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditChains")
            .field("database", &self.connection.describe())
            .finish()
    }
}

impl AuditChains {
    /// Connects, and checks that the database holds an audit table.
    pub fn open(
        options: &PostgresOptions,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<Self, StoreError> {
        let connection = Connection::new(options, provider)?;
        let columns = connection.run(|client, _| async move {
            let rows = client
                .query(
                    "SELECT column_name FROM information_schema.columns
                     WHERE table_name = 'qkms_audit' AND table_schema = current_schema()",
                    &[],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>())
        })?;
        if columns.is_empty() {
            return Err(StoreError::Config(format!(
                "{}: the database holds no audit table (no qkms-server of this release has started on it)",
                connection.describe()
            )));
        }
        let select = if columns.iter().any(|c| c == "hash") {
            "SELECT node_id, sequence, record, hash FROM qkms_audit"
        } else {
            "SELECT node_id, sequence, record, CAST(NULL AS BYTEA) FROM qkms_audit"
        };
        Ok(Self { connection, select })
    }

    /// Where the database is (no password).
    pub fn describe(&self) -> &str {
        self.connection.describe()
    }

    /// Every claim row: (node id, the last sequence the node committed), by node id.
    pub fn heads(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.connection.run(|client, _| async move {
            let rows = client
                .query(
                    "SELECT node_id, head_sequence FROM qkms_audit_nodes ORDER BY node_id",
                    &[],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| (r.get::<_, String>(0), to_u64(r.get(1))))
                .collect())
        })
    }

    /// Calls `visit(node id, sequence column, record text)` for every row, by node id and then sequence, until it
    /// returns `false`.
    pub fn for_each_record(
        &self,
        mut visit: impl FnMut(&str, u64, String) -> bool,
    ) -> Result<(), StoreError> {
        let select = self.select;
        let mut after = (String::new(), i64::MIN);
        // The hash of the last row read (of node `after.0`): the next record's previous hash (see `audit_rows`).
        let mut before = String::new();
        loop {
            let from = after.clone();
            let page = self.connection.run(move |client, _| {
                let from = from.clone();
                async move {
                    let rows = client
                        .query(
                            &format!(
                                "{select} WHERE (node_id, sequence) > ($1, $2) ORDER BY node_id, sequence LIMIT $3"
                            ),
                            &[&from.0, &from.1, &PAGE],
                        )
                        .await?;
                    Ok(rows
                        .iter()
                        .map(|r| {
                            (
                                r.get::<_, String>(0),
                                r.get::<_, i64>(1),
                                r.get::<_, String>(2),
                                r.get::<_, Option<Vec<u8>>>(3),
                            )
                        })
                        .collect::<Vec<_>>())
                }
            })?;
            let full = page.len() as i64 == PAGE;
            for (node_id, sequence, record, hash) in page {
                let previous = if node_id == after.0 {
                    &before
                } else {
                    GENESIS_HASH
                };
                let (record, own) = from_row(record, hash.as_deref(), previous);
                before = own;
                if !visit(&node_id, to_u64(sequence), record) {
                    return Ok(());
                }
                after = (node_id, sequence);
            }
            if !full {
                return Ok(());
            }
        }
    }
}
