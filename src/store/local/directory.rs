//! The local state directory (`--state-dir`, default `.drctl`):
//!
//! ```text
//! <state-dir>/runs/<run-id>/journal.jsonl   the run's journal
//! <state-dir>/runs/<run-id>/report.json     a run's report (and report.html, rendered)
//! <state-dir>/runs/<run-id>/cleanup.json    the last `drctl cleanup` of the run
//! <state-dir>/locks/<runbook>.lock          one run per runbook at a time
//! <state-dir>/history.jsonl                 one line per finished drill
//! ```

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::history;
use super::journal::{JournalWriter, read_entries};
use super::lock::{RunLock, holder as lock_holder};
use crate::engine::{Entry, JournalError, JournalSink};
use crate::report::{HistoryEntry, Report};
use crate::store::{HeldLock, LockError, LockHolder, Staleness, Store, StoreError};

/// The local state directory.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn run_dir(&self, run_id: &str) -> PathBuf {
        self.root.join("runs").join(run_id)
    }

    pub fn journal_path(&self, run_id: &str) -> PathBuf {
        self.run_dir(run_id).join("journal.jsonl")
    }

    fn cleanup_path(&self, run_id: &str) -> PathBuf {
        self.run_dir(run_id).join("cleanup.json")
    }

    pub fn lock_path(&self, runbook_name: &str) -> PathBuf {
        self.root.join("locks").join(format!("{runbook_name}.lock"))
    }

    pub fn history_path(&self) -> PathBuf {
        self.root.join("history.jsonl")
    }
}

impl Store for LocalStore {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn create_journal(&self, run_id: &str) -> Result<Box<dyn JournalSink>, JournalError> {
        Ok(Box::new(JournalWriter::create(&self.journal_path(run_id))?))
    }

    fn reopen_journal(
        &self,
        run_id: &str,
    ) -> Result<(Box<dyn JournalSink>, Vec<Entry>), JournalError> {
        let (writer, entries) = JournalWriter::reopen(&self.journal_path(run_id))?;
        Ok((Box::new(writer), entries))
    }

    fn read_journal(&self, run_id: &str) -> Result<Option<Vec<Entry>>, JournalError> {
        let path = self.journal_path(run_id);
        if !path.is_file() {
            return Ok(None);
        }
        read_entries(&path).map(|(entries, _)| Some(entries))
    }

    fn run_ids(&self) -> Result<Vec<String>, StoreError> {
        let dir = self.root.join("runs");
        let mut ids = match std::fs::read_dir(&dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .filter(|e| e.path().join("journal.jsonl").is_file())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect::<Vec<_>>(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => {
                return Err(StoreError::Io {
                    action: "list",
                    path: dir,
                    source,
                });
            }
        };
        ids.sort();
        Ok(ids)
    }

    fn acquire_lock(
        &self,
        runbook: &str,
        run_id: &str,
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<(Box<dyn HeldLock>, Option<LockHolder>), LockError> {
        let (lock, displaced) =
            RunLock::acquire(&self.lock_path(runbook), runbook, run_id, now, force)?;
        Ok((Box::new(lock), displaced))
    }

    fn lock_holder(&self, runbook: &str) -> Option<LockHolder> {
        lock_holder(&self.lock_path(runbook))
    }

    /// One machine's directory: a holder whose process is gone is stale too.
    fn staleness(&self) -> Staleness {
        Staleness::ProcessOrLease
    }

    fn append_history(&self, entry: &HistoryEntry) -> Result<(), StoreError> {
        let path = self.history_path();
        history::append(&path, entry).map_err(|source| StoreError::Io {
            action: "append to the drill history",
            path,
            source,
        })
    }

    fn read_history(&self) -> Result<Vec<HistoryEntry>, StoreError> {
        let path = self.history_path();
        history::read(&path).map_err(|source| StoreError::Io {
            action: "read the drill history",
            path,
            source,
        })
    }

    fn keeps_html_report(&self) -> bool {
        true
    }

    /// Writes `report.json` (and `report.html`, when given) into the run's directory;
    /// returns the HTML path.
    fn save_report(&self, report: &Report, html: Option<&str>) -> Result<String, StoreError> {
        let dir = self.run_dir(&report.run_id);
        let io = |source| StoreError::Io {
            action: "write the report in",
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let json = serde_json::to_vec_pretty(report).map_err(|source| StoreError::Encode {
            what: "the report",
            source,
        })?;
        std::fs::write(dir.join("report.json"), json).map_err(io)?;
        let html_path = dir.join("report.html");
        if let Some(html) = html {
            std::fs::write(&html_path, html).map_err(io)?;
        }
        Ok(html_path.display().to_string())
    }

    fn load_report(&self, run_id: &str) -> Result<Option<Report>, StoreError> {
        let path = self.run_dir(run_id).join("report.json");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                serde_json::from_str(&text)
                    .map(Some)
                    .map_err(|source| StoreError::Unreadable {
                        what: format!("report {}", path.display()),
                        source,
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io {
                action: "read",
                path,
                source,
            }),
        }
    }

    fn save_cleanup(&self, run_id: &str, doc: &serde_json::Value) -> Result<(), StoreError> {
        let dir = self.run_dir(run_id);
        let io = |source| StoreError::Io {
            action: "record the cleanup in",
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let json = serde_json::to_vec_pretty(doc).map_err(|source| StoreError::Encode {
            what: "the cleanup record",
            source,
        })?;
        std::fs::write(self.cleanup_path(run_id), json).map_err(io)
    }

    fn load_cleanup(&self, run_id: &str) -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(self.cleanup_path(run_id)).ok()?;
        serde_json::from_str(&text).ok()
    }
}
