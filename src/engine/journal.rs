//! The journal: the append-only record of a run (JSON Lines), written before and after every
//! mutating call and fsynced per record, so a killed run can be resumed from it. A torn last
//! line (a crash mid-write) is tolerated: it is ignored on read and cut off before the next
//! append. Every line carries the format version.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

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
    /// A journal in a remote store (DynamoDB) could not be read or written.
    #[error("cannot {action} journal {location}: {message}")]
    Remote {
        action: &'static str,
        location: String,
        message: String,
    },
}

/// Where a run's journal records go: a local JSON Lines file ([`JournalWriter`]) or a
/// remote store. An append is durable when it returns.
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

impl JournalSink for JournalWriter {
    fn append(&mut self, at: DateTime<Utc>, record: Record) -> Result<Entry, JournalError> {
        JournalWriter::append(self, at, record)
    }

    fn entries(&self) -> Result<Vec<Entry>, JournalError> {
        read_entries(&self.path).map(|(entries, _)| entries)
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }
}

/// Appends records to one run's journal.
#[derive(Debug)]
pub struct JournalWriter {
    path: PathBuf,
    file: File,
    seq: u64,
}

impl JournalWriter {
    /// Create a new journal; fails if one exists (run ids are unique).
    pub fn create(path: &Path) -> Result<Self, JournalError> {
        let io = |source| JournalError::Io {
            action: "create",
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        Ok(JournalWriter {
            path: path.to_path_buf(),
            file,
            seq: 0,
        })
    }

    /// Reopen an existing journal for appending, cutting off a torn last line.
    pub fn reopen(path: &Path) -> Result<(Self, Vec<Entry>), JournalError> {
        let (entries, good_len) = read_entries(path)?;
        let io = |source| JournalError::Io {
            action: "reopen",
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new().write(true).open(path).map_err(io)?;
        file.set_len(good_len).map_err(io)?;
        file.seek(SeekFrom::End(0)).map_err(io)?;
        file.sync_data().map_err(io)?;
        let seq = entries.last().map(|e| e.seq).unwrap_or(0);
        Ok((
            JournalWriter {
                path: path.to_path_buf(),
                file,
                seq,
            },
            entries,
        ))
    }

    /// Append one record and fsync it before returning.
    pub fn append(&mut self, at: DateTime<Utc>, record: Record) -> Result<Entry, JournalError> {
        self.seq += 1;
        let entry = Entry {
            v: JOURNAL_VERSION,
            seq: self.seq,
            at,
            record,
        };
        let mut line = serde_json::to_vec(&entry).map_err(|e| JournalError::Corrupt {
            path: self.path.clone(),
            line: self.seq as usize,
            message: e.to_string(),
        })?;
        line.push(b'\n');
        let io = |source| JournalError::Io {
            action: "append to",
            path: self.path.clone(),
            source,
        };
        self.file.write_all(&line).map_err(io)?;
        self.file.sync_data().map_err(io)?;
        Ok(entry)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Read every complete entry, and the byte length of the complete part.
pub fn read_entries(path: &Path) -> Result<(Vec<Entry>, u64), JournalError> {
    let file = File::open(path).map_err(|source| JournalError::Io {
        action: "open",
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = BufReader::new(file);
    let mut entries = Vec::new();
    let mut good_len = 0u64;
    let mut buf = Vec::new();
    let mut line_no = 0usize;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|source| JournalError::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let complete = buf.last() == Some(&b'\n');
        let parsed: Result<Value, _> = serde_json::from_slice(&buf);
        match parsed {
            Ok(value) if complete => {
                // Check the version before the shape, so a newer format is named as such.
                let found = value.get("v").and_then(Value::as_u64).unwrap_or(0) as u32;
                if found > JOURNAL_VERSION {
                    return Err(JournalError::TooNew {
                        path: path.to_path_buf(),
                        found,
                    });
                }
                let entry: Entry =
                    serde_json::from_value(value).map_err(|e| JournalError::Corrupt {
                        path: path.to_path_buf(),
                        line: line_no,
                        message: e.to_string(),
                    })?;
                entries.push(entry);
                good_len += n as u64;
            }
            // A torn last line: the process died mid-write. Everything before it stands.
            Ok(_) => break,
            Err(_) if !complete => break,
            Err(e) => {
                // Tolerate a torn line only at the very end.
                let mut rest = Vec::new();
                let _ = std::io::Read::read_to_end(&mut reader, &mut rest);
                if rest.iter().all(|b| b.is_ascii_whitespace()) {
                    break;
                }
                return Err(JournalError::Corrupt {
                    path: path.to_path_buf(),
                    line: line_no,
                    message: e.to_string(),
                });
            }
        }
    }
    Ok((entries, good_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> RunHeader {
        RunHeader {
            run_id: "r1".into(),
            command: "failover".into(),
            runbook_name: "rb".into(),
            runbook_path: "rb.toml".into(),
            runbook_sha256: "00".into(),
            drill_path: None,
            drill_name: None,
            mode: Mode::Failover,
            t0: Utc::now(),
            rto_target_secs: Some(1800),
            rpo_target_secs: Some(300),
            var_overrides: BTreeMap::new(),
            only: vec![],
            skip: vec![],
            max_parallel: 8,
            host: "h".into(),
            pid: 1,
        }
    }

    #[test]
    fn round_trips_and_tolerates_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs/r1/journal.jsonl");
        let mut w = JournalWriter::create(&path).unwrap();
        w.append(
            Utc::now(),
            Record::RunStarted {
                header: Box::new(header()),
            },
        )
        .unwrap();
        w.append(
            Utc::now(),
            Record::StepStarted {
                step: "a".into(),
                attempt: 1,
            },
        )
        .unwrap();
        drop(w);
        // Simulate a crash mid-write.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"v\":1,\"seq\":3,\"at\":\"2026").unwrap();
        drop(f);
        let (entries, _) = read_entries(&path).unwrap();
        assert_eq!(entries.len(), 2);
        let (mut w, entries) = JournalWriter::reopen(&path).unwrap();
        assert_eq!(entries.len(), 2);
        w.append(
            Utc::now(),
            Record::StepStarted {
                step: "b".into(),
                attempt: 1,
            },
        )
        .unwrap();
        let (entries, _) = read_entries(&path).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[2].seq, 3);
    }

    #[test]
    fn corruption_in_the_middle_is_an_error_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut w = JournalWriter::create(&path).unwrap();
        w.append(
            Utc::now(),
            Record::RunStarted {
                header: Box::new(header()),
            },
        )
        .unwrap();
        drop(w);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"garbage\n").unwrap();
        drop(f);
        let mut w = JournalWriter::reopen(&path).unwrap().0;
        w.append(
            Utc::now(),
            Record::StepStarted {
                step: "a".into(),
                attempt: 1,
            },
        )
        .unwrap();
        drop(w);
        // reopen cut the garbage off as a torn tail; now corrupt the middle for real.
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.insert(1, "garbage");
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let err = read_entries(&path).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(JournalWriter::reopen(&path).is_err());
    }

    #[test]
    fn newer_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        std::fs::write(
            &path,
            "{\"v\":2,\"seq\":1,\"at\":\"2026-01-01T00:00:00Z\",\"record\":{\"kind\":\"run_resumed\",\"pid\":1,\"host\":\"h\"}}\n",
        )
        .unwrap();
        assert!(matches!(
            read_entries(&path),
            Err(JournalError::TooNew { found: 2, .. })
        ));
    }
}
