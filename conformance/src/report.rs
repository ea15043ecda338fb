//! The markdown pass/fail table: a summary per profile and version, then one row per file.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::runner::{FileResult, Outcome};

/// Counts for one profile in one version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
}

impl Tally {
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.errors + self.skipped
    }
}

/// Tallies by (profile, version).
pub fn tally(results: &[FileResult]) -> BTreeMap<(String, String), Tally> {
    let mut tallies: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for r in results {
        let t = tallies
            .entry((r.profile.clone(), r.version.clone()))
            .or_default();
        match r.outcome {
            Outcome::Pass { .. } => t.passed += 1,
            Outcome::Fail(_) => t.failed += 1,
            Outcome::Error { .. } => t.errors += 1,
            Outcome::Skipped(_) => t.skipped += 1,
        }
    }
    tallies
}

/// The whole report: `title`, a summary table, then one row per file.
pub fn markdown(title: &str, preamble: &str, results: &[FileResult]) -> String {
    let mut out = String::new();
    let all = tally(results);
    let passed: usize = all.values().map(|t| t.passed).sum();
    let _ = writeln!(out, "# {title}\n");
    if !preamble.is_empty() {
        let _ = writeln!(out, "{preamble}\n");
    }
    let _ = writeln!(out, "{passed} of {} files pass.\n", results.len());
    let _ = writeln!(out, "| profile | version | pass | fail | error | skipped |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|");
    for ((profile, version), t) in &all {
        let _ = writeln!(
            out,
            "| {profile} | {version} | {} | {} | {} | {} |",
            t.passed, t.failed, t.errors, t.skipped
        );
    }
    let _ = writeln!(out, "\n| file | version | result | first divergence |");
    let _ = writeln!(out, "|---|---|---|---|");
    for r in results {
        let (result, detail) = match &r.outcome {
            Outcome::Pass { steps } => ("pass".to_owned(), format!("{steps} steps")),
            Outcome::Fail(d) => ("FAIL".to_owned(), d.to_string()),
            Outcome::Error { step, message } => (
                "ERROR".to_owned(),
                match step {
                    Some(s) => format!("step {s}: {message}"),
                    None => message.clone(),
                },
            ),
            Outcome::Skipped(why) => ("skipped".to_owned(), why.clone()),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {result} | {} |",
            r.name,
            r.version,
            cell(&detail)
        );
    }
    out
}

/// Text safe inside a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::Divergence;

    #[test]
    fn the_table_counts_each_outcome_and_escapes_cells() {
        let results = vec![
            FileResult {
                name: "A-M-1-21.xml".into(),
                version: "2.1".into(),
                profile: "A-M".into(),
                outcome: Outcome::Pass { steps: 2 },
            },
            FileResult {
                name: "A-M-2-21.xml".into(),
                version: "2.1".into(),
                profile: "A-M".into(),
                outcome: Outcome::Fail(Divergence {
                    step: 1,
                    path: "ResponseMessage/BatchItem/ResultStatus".into(),
                    expected: "a|b".into(),
                    got: "c".into(),
                    note: String::new(),
                }),
            },
        ];
        let text = markdown("T", "", &results);
        assert!(text.contains("1 of 2 files pass."));
        assert!(text.contains("| A-M | 2.1 | 1 | 1 | 0 | 0 |"));
        assert!(text.contains("expected a\\|b, got c"));
    }
}
