//! The local journal: `<state-dir>/runs/<run-id>/journal.jsonl`, one JSON line per record,
//! fsynced per record. A torn last line (a crash mid-write) is tolerated: it is ignored on
//! read and cut off before the next append; corruption anywhere else is an error naming the
//! line.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::engine::{Entry, JOURNAL_VERSION, JournalError, JournalSink, Record};

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
                entries.push(Entry::from_json(value, path, line_no)?);
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
    use crate::actions::Mode;
    use crate::engine::RunHeader;
    use std::collections::BTreeMap;

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
