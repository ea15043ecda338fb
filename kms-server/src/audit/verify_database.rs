//! `qkms audit verify` on a configuration whose audit log is in the database: every node's chain read back from
//! the database and checked as the file log's chain is (`verify::ChainCheck`).
//!
//! Why apart from `database`: that module is one node's log being written; this reads every node's chain, from
//! any machine, without a claim.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::record::AuditRecord;
use super::verify::ChainCheck;
use super::AuditError;
use crate::store::postgres::{AuditChains, PostgresOptions};
use crate::store::StoreError;

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
/// node, sequence, why. Reads the rows a page at a time (`AuditChains`): memory does not grow with the chains.
pub fn verify_database(
    options: &PostgresOptions,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<DatabaseReport, AuditError> {
    let database = options.describe();
    let unreadable = |e: StoreError| AuditError::Database {
        database: database.clone(),
        message: e.to_string(),
    };
    let chains = AuditChains::open(options, provider).map_err(unreadable)?;
    let mut verifier = Verifier {
        heads: chains.heads().map_err(unreadable)?.into_iter().collect(),
        nodes: Vec::new(),
        current: None,
    };
    let mut broken = None;
    chains
        .for_each_record(|node_id, sequence, text| {
            match verifier.record(node_id, sequence, &text) {
                Ok(()) => true,
                Err(error) => {
                    broken = Some(error);
                    false
                }
            }
        })
        .map_err(unreadable)?;
    if let Some(error) = broken {
        return Err(error);
    }
    Ok(DatabaseReport {
        database,
        nodes: verifier.finish()?,
    })
}

/// The chains checked so far, the one being read, and the claim rows not reached yet.
struct Verifier {
    heads: BTreeMap<String, u64>,
    nodes: Vec<NodeReport>,
    current: Option<(String, ChainCheck)>,
}

fn broken(node: &str, sequence: u64, reason: String) -> AuditError {
    AuditError::ChainBroken {
        node: node.to_owned(),
        sequence,
        reason,
    }
}

impl Verifier {
    /// The next row (rows come by node id, then sequence).
    fn record(&mut self, node_id: &str, row_sequence: u64, text: &str) -> Result<(), AuditError> {
        if self
            .current
            .as_ref()
            .is_none_or(|(node, _)| node != node_id)
        {
            self.end_chain()?;
            self.current = Some((node_id.to_owned(), ChainCheck::new()));
        }
        let (_, check) = self.current.as_mut().expect("set above");
        let record: AuditRecord = serde_json::from_str(text).map_err(|e| {
            broken(
                node_id,
                row_sequence,
                format!("not a valid audit record: {e}"),
            )
        })?;
        if record.sequence != row_sequence {
            return Err(broken(
                node_id,
                row_sequence,
                format!(
                    "the row at sequence {row_sequence} holds record {}: the record was altered or moved",
                    record.sequence
                ),
            ));
        }
        check
            .next(&record)
            .map_err(|reason| broken(node_id, row_sequence, reason))
    }

    /// Every chain, by node id, once all rows were read.
    fn finish(mut self) -> Result<Vec<NodeReport>, AuditError> {
        self.end_chain()?;
        // Claim rows whose node has no record (left in `heads`: every chain read took its own out). Checked last
        // rather than in node-id order between the others: the database's order of node ids is its collation's.
        for (node_id, head) in std::mem::take(&mut self.heads) {
            self.end(node_id, ChainCheck::new(), Some(head))?;
        }
        self.nodes.sort_by(|a, b| a.node_id.cmp(&b.node_id));
        Ok(self.nodes)
    }

    /// The chain being read is complete: it must reach its claim row's head.
    fn end_chain(&mut self) -> Result<(), AuditError> {
        let Some((node_id, check)) = self.current.take() else {
            return Ok(());
        };
        let head = self.heads.remove(&node_id);
        self.end(node_id, check, head)
    }

    fn end(
        &mut self,
        node_id: String,
        check: ChainCheck,
        head: Option<u64>,
    ) -> Result<(), AuditError> {
        let reached = check.records();
        match head {
            None => {
                return Err(broken(
                    &node_id,
                    1,
                    "records of a node that never claimed a chain (inserted by hand)".into(),
                ))
            }
            Some(head) if head > reached => {
                return Err(broken(
                    &node_id,
                    reached + 1,
                    format!(
                        "the node committed up to sequence {head} but the chain ends at {reached}: records were \
                         deleted from the end"
                    ),
                ))
            }
            Some(_) => {}
        }
        self.nodes.push(NodeReport {
            node_id,
            records: reached,
            head_hash: check.head_hash().to_owned(),
        });
        Ok(())
    }
}
