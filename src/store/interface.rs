//! The [`Store`] interface every state store implements.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::error::StoreError;
use super::lease::{HeldLock, LockError, LockHolder, Staleness};
use crate::engine::{Entry, JournalError, JournalSink};
use crate::report::{HistoryEntry, Report};

/// Journals, locks, reports and history of runs. A store keeps and returns bytes and models;
/// it never renders (reports are rendered by `src/report/`).
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
    /// (returned as displaced); `force` takes any lock (`store::lease` has the rules).
    fn acquire_lock(
        &self,
        runbook: &str,
        run_id: &str,
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<(Box<dyn HeldLock>, Option<LockHolder>), LockError>;

    /// Who holds the lock of `runbook`, if anyone.
    fn lock_holder(&self, runbook: &str) -> Option<LockHolder>;

    /// What makes a lock holder stale in this store.
    fn staleness(&self) -> Staleness;

    /// Why `holder` no longer holds its lock, if so.
    fn stale_reason(&self, holder: &LockHolder, now: DateTime<Utc>) -> Option<String> {
        self.staleness().reason(holder, now)
    }

    /// Append a finished drill to the history.
    fn append_history(&self, entry: &HistoryEntry) -> Result<(), StoreError>;

    /// The history, oldest first.
    fn read_history(&self) -> Result<Vec<HistoryEntry>, StoreError>;

    /// Whether the store keeps a rendered HTML report beside the report (the local
    /// directory does; the shared table keeps only the model, rendered on demand).
    fn keeps_html_report(&self) -> bool;

    /// Keep a run's report, and its rendered HTML when the store keeps one; returns where a
    /// person finds it (a path to the HTML report, or the command that renders it).
    fn save_report(&self, report: &Report, html: Option<&str>) -> Result<String, StoreError>;

    /// The report kept when the run finished, if any.
    fn load_report(&self, run_id: &str) -> Result<Option<Report>, StoreError>;

    /// Keep what the last `drctl cleanup` of a run did (a JSON document).
    fn save_cleanup(&self, run_id: &str, doc: &serde_json::Value) -> Result<(), StoreError>;

    /// The last cleanup of a run, if any.
    fn load_cleanup(&self, run_id: &str) -> Option<serde_json::Value>;
}

/// The store every command of one process shares.
pub type SharedStore = Arc<dyn Store>;
