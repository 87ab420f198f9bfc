//! Where journals, locks, reports and history live. The local directory (`--state-dir`,
//! default `.drctl`) is the default store:
//!
//! ```text
//! <state-dir>/runs/<run-id>/journal.jsonl   the run's journal
//! <state-dir>/runs/<run-id>/report.json     a drill's report (also .html)
//! <state-dir>/runs/<run-id>/cleanup.json    the last `drctl cleanup` of the run
//! <state-dir>/locks/<runbook>.lock          one run per runbook at a time
//! <state-dir>/history.jsonl                 one line per finished drill
//! ```

use std::path::{Path, PathBuf};

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

    /// What the last `drctl cleanup` of the run did.
    pub fn cleanup_path(&self, run_id: &str) -> PathBuf {
        self.run_dir(run_id).join("cleanup.json")
    }

    pub fn lock_path(&self, runbook_name: &str) -> PathBuf {
        self.root.join("locks").join(format!("{runbook_name}.lock"))
    }

    pub fn history_path(&self) -> PathBuf {
        self.root.join("history.jsonl")
    }

    /// Run ids with a journal, oldest first (run ids sort by start time).
    pub fn run_ids(&self) -> std::io::Result<Vec<String>> {
        let dir = self.root.join("runs");
        let mut ids = match std::fs::read_dir(&dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .filter(|e| e.path().join("journal.jsonl").is_file())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect::<Vec<_>>(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        ids.sort();
        Ok(ids)
    }
}
