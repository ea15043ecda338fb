//! `[audit] answer_reads_after`: on a node whose audit chain is in the database, what a message that changed
//! nothing waits for before its answer (see `audit::spool`).

/// `[audit] answer_reads_after`: when the records of a message that changed nothing are safe enough to answer it
/// (a node whose audit chain is in the database; the file log answers once the record is written to its file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadsAnsweredAfter {
    /// Once appended to the node-local spool (`audit-spool` beside `[store] path`): a crash of the process
    /// cannot lose them, the next start commits what the database lacks; the spool's disk lost together with
    /// the process loses the records of the last moments.
    #[default]
    Spooled,
    /// Once committed to the database (a round trip per group of reads; Get on PostgreSQL at about a third of
    /// the rate).
    Committed,
}

impl ReadsAnsweredAfter {
    pub fn name(self) -> &'static str {
        match self {
            Self::Spooled => "spooled",
            Self::Committed => "committed",
        }
    }
}
