//! `qkms audit verify` on a configuration whose audit log is in the database: every node's chain read back from
//! the database and checked as the file log's chain is (`verify::ChainCheck`).
//!
//! Why apart from `database`: that module is one node's log being written; this reads every node's chain, from
//! any machine, without a claim.

use std::sync::Arc;

use super::record::AuditRecord;
use super::verify::ChainCheck;
use super::AuditError;
use crate::store::postgres::{PgStore, PostgresOptions};

/// What `qkms audit verify` saw of one node's chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeReport {
    pub node_id: String,
    pub records: u64,
    /// The last record's hash: keep a copy elsewhere to detect truncation beyond the claim row's head.
    pub head_hash: String,
}

/// Every node's chain in the database, verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseReport {
    pub database: String,
    pub nodes: Vec<NodeReport>,
}

/// Checks every node's chain in the database `options` names: each row's record well-formed and at the row's
/// sequence, sequences 1, 2, 3... without gaps, previous-hash links, each record's own hash, and the chain
/// reaching the head sequence its claim row recorded (records cut off the end). Reports the first break:
/// node, sequence, why.
pub fn verify_database(
    options: &PostgresOptions,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<DatabaseReport, AuditError> {
    let database = options.describe();
    let chains =
        PgStore::read_audit_chains(options, provider).map_err(|e| AuditError::Database {
            database: database.clone(),
            message: e.to_string(),
        })?;
    let mut nodes = Vec::with_capacity(chains.len());
    for chain in chains {
        let node = chain.node_id.clone();
        let broken = |sequence: u64, reason: String| AuditError::ChainBroken {
            node: node.clone(),
            sequence,
            reason,
        };
        let mut check = ChainCheck::new();
        for (row_sequence, text) in &chain.records {
            let record: AuditRecord = serde_json::from_str(text)
                .map_err(|e| broken(*row_sequence, format!("not a valid audit record: {e}")))?;
            if record.sequence != *row_sequence {
                return Err(broken(
                    *row_sequence,
                    format!(
                        "the row at sequence {row_sequence} holds record {}: the record was altered or moved",
                        record.sequence
                    ),
                ));
            }
            check
                .next(&record)
                .map_err(|reason| broken(*row_sequence, reason))?;
        }
        let reached = check.records();
        match chain.head_sequence {
            None => {
                return Err(broken(
                    1,
                    "records of a node that never claimed a chain (inserted by hand)".into(),
                ))
            }
            Some(head) if head > reached => {
                return Err(broken(
                    reached + 1,
                    format!(
                        "the node committed up to sequence {head} but the chain ends at {reached}: records were \
                         deleted from the end"
                    ),
                ))
            }
            Some(_) => {}
        }
        nodes.push(NodeReport {
            node_id: chain.node_id,
            records: reached,
            head_hash: check.head_hash().to_owned(),
        });
    }
    Ok(DatabaseReport { database, nodes })
}
