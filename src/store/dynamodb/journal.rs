//! A run's journal in the table: one item per record under `run#<run id>`, sort key
//! `j#<seq>`, put only if that sequence number is new, so two processes writing one run's
//! journal cannot interleave silently.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::table::{DynamoStore, conditional_failed, s, text};
use crate::engine::{Entry, JOURNAL_VERSION, JournalError, JournalSink, Record};

impl DynamoStore {
    pub(super) fn journal_entries(&self, run_id: &str) -> Result<Vec<Entry>, JournalError> {
        let remote = |message: String| JournalError::Remote {
            action: "read",
            location: self.journal_location(run_id),
            message,
        };
        let items = self
            .query(&format!("run#{run_id}"), "j#")
            .map_err(|e| remote(e.to_string()))?;
        let mut entries = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let body = text(item, "body").unwrap_or_default();
            let value = serde_json::from_str(&body).map_err(|e| JournalError::Corrupt {
                path: self.journal_location(run_id).into(),
                line: i + 1,
                message: e.to_string(),
            })?;
            entries.push(Entry::from_json(
                value,
                self.journal_location(run_id),
                i + 1,
            )?);
        }
        Ok(entries)
    }

    pub(super) fn journal_location(&self, run_id: &str) -> String {
        format!("{} run {run_id}", self.url())
    }
}

/// One run's journal in the table.
#[derive(Debug)]
pub(super) struct DynamoJournal {
    store: DynamoStore,
    run_id: String,
    seq: u64,
}

impl DynamoJournal {
    /// The journal of `run_id`, whose last record has sequence number `seq`.
    pub(super) fn new(store: DynamoStore, run_id: &str, seq: u64) -> Self {
        DynamoJournal {
            store,
            run_id: run_id.to_string(),
            seq,
        }
    }
}

impl JournalSink for DynamoJournal {
    fn append(&mut self, at: DateTime<Utc>, record: Record) -> Result<Entry, JournalError> {
        let entry = Entry {
            v: JOURNAL_VERSION,
            seq: self.seq + 1,
            at,
            record,
        };
        let remote = |message: String| JournalError::Remote {
            action: "append to",
            location: self.store.journal_location(&self.run_id),
            message,
        };
        let body = serde_json::to_string(&entry).map_err(|e| remote(e.to_string()))?;
        let item = HashMap::from([
            ("pk".to_string(), s(format!("run#{}", self.run_id))),
            ("sk".to_string(), s(format!("j#{:010}", entry.seq))),
            ("body".to_string(), s(body)),
        ]);
        self.store
            .put(item, Some(("attribute_not_exists(pk)", HashMap::new())))
            .map_err(|e| {
                remote(if conditional_failed(&e) {
                    format!(
                        "record {} already exists: another process is writing this run's journal",
                        entry.seq
                    )
                } else {
                    e.to_string()
                })
            })?;
        self.seq = entry.seq;
        Ok(entry)
    }

    fn entries(&self) -> Result<Vec<Entry>, JournalError> {
        self.store.journal_entries(&self.run_id)
    }

    fn location(&self) -> String {
        self.store.journal_location(&self.run_id)
    }
}
