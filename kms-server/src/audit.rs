//! Append-only, hash-chained audit log. (Being written: owned by the store engineer.)

/// The audit log.
#[derive(Debug)]
pub struct AuditLog {}
