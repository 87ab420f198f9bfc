//! The journal's format: the append-only record of a run, written before and after every
//! mutating call, so a killed run can be resumed from it. This file owns what a record says
//! (the [`Record`]s the scheduler writes, in their versioned [`Entry`] envelope) and the
//! [`JournalSink`] a state store provides; where the records live (a JSON Lines file, DynamoDB
//! items) is the store's business (`src/store/`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::actions::{Mode, StepOutcome};
use crate::aws::ErrorClass;

/// The journal format this build writes and reads.
pub const JOURNAL_VERSION: u32 = 1;

/// How the run was started: everything `resume` needs to continue it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunHeader {
    pub run_id: String,
    pub command: String,
    pub runbook_name: String,
    pub runbook_path: PathBuf,
    pub runbook_sha256: String,
    pub drill_path: Option<PathBuf>,
    pub drill_name: Option<String>,
    pub mode: Mode,
    pub t0: DateTime<Utc>,
    pub rto_target_secs: Option<u64>,
    pub rpo_target_secs: Option<u64>,
    /// `--var` overrides given on the command line.
    pub var_overrides: BTreeMap<String, String>,
    pub only: Vec<String>,
    pub skip: Vec<String>,
    pub max_parallel: usize,
    pub host: String,
    pub pid: u32,
}

/// A step failure as journalled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureRecord {
    pub message: String,
    pub class: ErrorClass,
    pub code: Option<String>,
}

/// One journal record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Record {
    RunStarted {
        header: Box<RunHeader>,
    },
    RunResumed {
        pid: u32,
        host: String,
    },
    StepStarted {
        step: String,
        attempt: u32,
    },
    StepNote {
        step: String,
        note: Value,
    },
    StepSucceeded {
        step: String,
        outcome: Box<StepOutcome>,
    },
    StepFailed {
        step: String,
        attempt: u32,
        failure: FailureRecord,
        will_retry: bool,
    },
    StepSkipped {
        step: String,
        reason: String,
    },
    RunInterrupted {
        reason: String,
    },
    RunFinished {
        status: RunStatus,
    },
    UndoStarted {
        step: String,
    },
    UndoSucceeded {
        step: String,
    },
    UndoFailed {
        step: String,
        failure: FailureRecord,
    },
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Succeeded,
    Failed,
    Interrupted,
}

/// A record with its envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub v: u32,
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub record: Record,
}

impl Entry {
    /// Decode one stored entry, the format version first, so that a journal written by a
    /// newer drctl is named as such instead of as corrupt. `location` and `line` are for
    /// the error.
    pub fn from_json(
        value: Value,
        location: impl Into<PathBuf>,
        line: usize,
    ) -> Result<Entry, JournalError> {
        let found = value.get("v").and_then(Value::as_u64).unwrap_or(0);
        if found > u64::from(JOURNAL_VERSION) {
            return Err(JournalError::TooNew {
                path: location.into(),
                found: u32::try_from(found).unwrap_or(u32::MAX),
            });
        }
        serde_json::from_value(value).map_err(|e| JournalError::Corrupt {
            path: location.into(),
            line,
            message: e.to_string(),
        })
    }
}

/// Failure to read or write a journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot {action} journal {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("journal {path} line {line} is corrupt: {message}")]
    Corrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "journal {path} was written by a newer drctl (format {found}, this build reads {JOURNAL_VERSION}); upgrade drctl"
    )]
    TooNew { path: PathBuf, found: u32 },
    #[error("journal {location} is empty or has no run header")]
    NoHeader { location: String },
    /// The scheduler that writes the run's journal has stopped (the run is over).
    #[error("the run's journal is closed: its scheduler has stopped")]
    Closed,
    /// A journal in a remote store (DynamoDB) could not be read or written.
    #[error("cannot {action} journal {location}: {message}")]
    Remote {
        action: &'static str,
        location: String,
        message: String,
    },
}

/// Where a run's journal records go: a local JSON Lines file or a remote store (both in
/// `src/store/`). An append is durable when it returns.
pub trait JournalSink: Send + std::fmt::Debug {
    /// Append one record; it is durable when this returns.
    fn append(&mut self, at: DateTime<Utc>, record: Record) -> Result<Entry, JournalError>;
    /// Every record written so far, in order (for replay).
    fn entries(&self) -> Result<Vec<Entry>, JournalError>;
    /// Where the journal is, for messages.
    fn location(&self) -> String;
}

/// A journal shared by the scheduler, the steps' notes and the session.
pub type SharedJournal = std::sync::Arc<std::sync::Mutex<Box<dyn JournalSink>>>;
