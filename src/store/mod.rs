//! Where journals, locks, reports and history live: one [`Store`] per process, chosen by
//! `--state` (or `DRCTL_STATE`). The local directory (`--state-dir`, default `.drctl`) is the
//! default; `dynamodb://TABLE?region=REGION` shares one lock, journal and history between
//! people at terminals and scheduled runs, in a table that lives in the recovery region.
//!
//! The interface is synchronous: the engine journals from its scheduler loop and the
//! read-only commands (`runs`, `status`, `history`) have no async runtime. The DynamoDB
//! store runs its calls on a small runtime of its own (see [`dynamodb`]).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::engine::{Entry, HeldLock, JournalError, JournalSink, LockError, LockHolder};
use crate::report::{HistoryEntry, Report};

pub mod dynamodb;
mod local;

pub use dynamodb::DynamoStore;
pub use local::LocalStore;

/// A state store failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

/// Journals, locks, reports and history of runs.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Where the store is, for messages (a directory, or `dynamodb://TABLE?region=REGION`).
    fn location(&self) -> String;

    /// Start the journal of a new run; fails if the run already has one.
    fn create_journal(&self, run_id: &str) -> Result<Box<dyn JournalSink>, JournalError>;

    /// Reopen a run's journal for appending, with what it holds.
    fn reopen_journal(
        &self,
        run_id: &str,
    ) -> Result<(Box<dyn JournalSink>, Vec<Entry>), JournalError>;

    /// A run's journal records, or `None` when there is no such run.
    fn read_journal(&self, run_id: &str) -> Result<Option<Vec<Entry>>, JournalError>;

    /// Run ids with a journal, oldest first (run ids sort by start time).
    fn run_ids(&self) -> Result<Vec<String>, StoreError>;

    /// Take the lock of `runbook` for `run_id`. A stale lock of the same run is taken over
    /// (returned as displaced); `force` takes any lock.
    fn acquire_lock(
        &self,
        runbook: &str,
        run_id: &str,
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<(Box<dyn HeldLock>, Option<LockHolder>), LockError>;

    /// Who holds the lock of `runbook`, if anyone.
    fn lock_holder(&self, runbook: &str) -> Option<LockHolder>;

    /// Why `holder` no longer holds its lock, if so.
    fn stale_reason(&self, holder: &LockHolder, now: DateTime<Utc>) -> Option<String> {
        holder.stale_reason(now)
    }

    /// Append a finished drill to the history.
    fn append_history(&self, entry: &HistoryEntry) -> Result<(), StoreError>;

    /// The history, oldest first.
    fn read_history(&self) -> Result<Vec<HistoryEntry>, StoreError>;

    /// Keep a run's report; returns where a person finds it (a path to the HTML report, or
    /// the command that renders it).
    fn save_report(&self, report: &Report) -> Result<String, StoreError>;

    /// The report kept when the run finished, if any.
    fn load_report(&self, run_id: &str) -> Result<Option<Report>, StoreError>;

    /// Keep what the last `drctl cleanup` of a run did (a JSON document).
    fn save_cleanup(&self, run_id: &str, doc: &serde_json::Value) -> Result<(), StoreError>;

    /// The last cleanup of a run, if any.
    fn load_cleanup(&self, run_id: &str) -> Option<serde_json::Value>;
}

/// The store every command of one process shares.
pub type SharedStore = Arc<dyn Store>;

/// What `--state` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateUrl {
    /// A local directory.
    Local(std::path::PathBuf),
    /// A DynamoDB table; the region defaults to the global `--region`.
    Dynamo {
        table: String,
        region: Option<String>,
    },
}

impl StateUrl {
    /// Parse `dynamodb://TABLE[?region=REGION]`, `file://DIR` or a directory path.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("dynamodb://") {
            let (table, query) = rest.split_once('?').unwrap_or((rest, ""));
            let table = table.trim_end_matches('/');
            let valid = (3..=255).contains(&table.len())
                && table
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if !valid {
                return Err(format!(
                    "`{text}`: a DynamoDB table name has 3 to 255 letters, digits, `_`, `-` or `.`; e.g. dynamodb://drctl-state?region=us-west-2"
                ));
            }
            let mut region = None;
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                match pair.split_once('=') {
                    Some(("region", r)) if !r.is_empty() => region = Some(r.to_string()),
                    _ => {
                        return Err(format!(
                            "`{text}`: unknown setting `{pair}`; the only one is region=REGION, e.g. dynamodb://{table}?region=us-west-2"
                        ));
                    }
                }
            }
            return Ok(StateUrl::Dynamo {
                table: table.to_string(),
                region,
            });
        }
        if let Some(dir) = text.strip_prefix("file://") {
            return Ok(StateUrl::Local(dir.into()));
        }
        if text.contains("://") {
            return Err(format!(
                "`{text}`: a state store is a directory or dynamodb://TABLE?region=REGION"
            ));
        }
        if text.is_empty() {
            return Err(
                "an empty --state; give a directory or dynamodb://TABLE?region=REGION".into(),
            );
        }
        Ok(StateUrl::Local(text.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_urls_parse_and_bad_ones_say_the_fix() {
        assert_eq!(
            StateUrl::parse("dynamodb://drctl-state?region=us-west-2").unwrap(),
            StateUrl::Dynamo {
                table: "drctl-state".into(),
                region: Some("us-west-2".into())
            }
        );
        assert_eq!(
            StateUrl::parse("dynamodb://t_1.x").unwrap(),
            StateUrl::Dynamo {
                table: "t_1.x".into(),
                region: None
            }
        );
        assert_eq!(
            StateUrl::parse("/var/lib/drctl").unwrap(),
            StateUrl::Local("/var/lib/drctl".into())
        );
        assert_eq!(
            StateUrl::parse("file://.drctl").unwrap(),
            StateUrl::Local(".drctl".into())
        );
        let bad = StateUrl::parse("dynamodb://x?region=us-west-2").unwrap_err();
        assert!(bad.contains("3 to 255"), "{bad}");
        let bad = StateUrl::parse("dynamodb://drctl?regoin=us-west-2").unwrap_err();
        assert!(bad.contains("unknown setting `regoin=us-west-2`"), "{bad}");
        let bad = StateUrl::parse("s3://bucket").unwrap_err();
        assert!(bad.contains("dynamodb://TABLE"), "{bad}");
    }
}
