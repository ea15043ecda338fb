//! Node-local files of a node sharing a database: held exclusively for the process's lifetime.
//!
//! Why: with `[store] kind = "postgres"` several nodes run from the same set-up, but some files stay per node:
//! the directory of `[store] path` (the session-lease journal, whose sweep at start-up would destroy another
//! live node's session objects, and the entropy counter). sled locks its own directory; a database does not, so
//! a node takes an advisory lock there, and a second node configured with the same path refuses to start,
//! naming it. (The audit log of such a node is in the database, one chain per node, claimed there: see
//! `store::postgres::audit_table`.)

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::config::Config;

/// The locks a node holds (released when dropped, or when the process ends however it ends).
#[derive(Debug)]
pub struct NodeLock {
    _files: Vec<File>,
}

/// Why a node could not take its locks.
#[derive(Debug, thiserror::Error)]
pub enum NodeLockError {
    #[error(
        "{path}: another qkms-server on this machine uses the same {what}; each node sharing the database needs \
         its own directory for [store] path"
    )]
    Taken { path: String, what: &'static str },
    #[error("{path}: cannot lock: {cause}")]
    Io { path: String, cause: String },
}

fn lock(path: PathBuf, what: &'static str) -> Result<File, NodeLockError> {
    let io = |cause: std::io::Error| NodeLockError::Io {
        path: path.display().to_string(),
        cause: cause.to_string(),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(NodeLockError::Taken {
            path: path.display().to_string(),
            what,
        }),
        Err(TryLockError::Error(e)) => Err(io(e)),
    }
}

/// The lock file beside `path` (`NAME.lock`).
fn beside(path: &Path, name: &str) -> PathBuf {
    path.with_file_name(format!("{name}.lock"))
}

/// Takes this node's lock in the directory of `[store] path`.
pub fn acquire(config: &Config) -> Result<NodeLock, NodeLockError> {
    Ok(NodeLock {
        _files: vec![lock(
            beside(&config.store.path, "qkms-node"),
            "node directory",
        )?],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_node_on_the_same_files_is_refused_and_a_released_lock_can_be_taken() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.audit.path = dir.path().join("audit.log");
        config.store.path = dir.path().join("store");
        let first = acquire(&config).unwrap();
        match acquire(&config) {
            Err(NodeLockError::Taken { what, .. }) => assert_eq!(what, "node directory"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        let mut elsewhere = config.clone();
        elsewhere.store.path = dir.path().join("node2").join("store");
        let second = acquire(&elsewhere).unwrap();
        drop((first, second));
        acquire(&config).unwrap();
    }
}
