//! The shared state store: one DynamoDB table (`--state dynamodb://TABLE?region=REGION`),
//! which should live in the recovery region so that losing the primary region loses no
//! journal. `drctl state init` creates it. One item per record:
//!
//! | pk                 | sk                | what                                         |
//! |--------------------|-------------------|----------------------------------------------|
//! | `runs`             | run id            | the index of runs (written with the journal) |
//! | `run#<run id>`     | `j#<seq, 10 digits>` | one journal record (`body`: the JSON line) |
//! | `run#<run id>`     | `report`          | the report kept when the run finished        |
//! | `run#<run id>`     | `cleanup`         | the last `drctl cleanup` of the run          |
//! | `lock#<runbook>`   | `lock`            | the lock: holder JSON and an owner token     |
//! | `history`          | run id            | one finished drill                           |
//!
//! Every write that must not be lost or doubled is conditional: a journal record is put only
//! if its sequence number is new (two writers of one run cannot interleave silently), the
//! lock is put only if absent, renewed and released only while its token is ours, and taken
//! over only by the token that was read. A crashed holder's lock expires with its lease
//! (renewed by the heartbeat every quarter lease); process ids are not consulted, because
//! they are not unique across Lambda containers.
//!
//! The [`Store`] interface is synchronous; the calls run on a one-thread runtime owned by
//! this module and the caller waits for them, so the store works from the engine's loop and
//! from commands without a runtime alike.

use std::collections::HashMap;
use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TableStatus, Tag,
};
use chrono::{DateTime, Utc};

use super::{Store, StoreError};
use crate::aws::{AwsClients, AwsError, AwsSettings, aws_err};
use crate::engine::{
    Entry, HeldLock, JOURNAL_VERSION, JournalError, JournalSink, LockError, LockHolder, Record,
    hostname, lease_until,
};
use crate::report::{HistoryEntry, Report};

type Item = HashMap<String, AttributeValue>;

/// The runtime the store's calls run on. Never dropped (a runtime may not be dropped inside
/// another one's context, and the store lives as long as the process).
fn bridge() -> Option<&'static tokio::runtime::Runtime> {
    static RT: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("drctl-state")
            .enable_all()
            .build()
            .ok()
    })
    .as_ref()
}

/// Run `fut` on the store's runtime and wait for it.
fn block<F, T>(fut: F) -> Result<T, String>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let rt = bridge().ok_or("cannot start the state store's async runtime")?;
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    rt.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv()
        .map_err(|_| "the state store's call stopped without an answer".to_string())
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn conditional_failed(e: &AwsError) -> bool {
    e.code.as_deref() == Some("ConditionalCheckFailedException")
}

/// A DynamoDB table holding drctl's state.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    region: String,
}

impl DynamoStore {
    /// A store on `table` in `region`, with the connection settings of the global flags.
    /// Nothing is called until the store is used.
    pub fn connect(aws: AwsSettings, table: &str, region: &str) -> Result<Self, StoreError> {
        let region_owned = region.to_string();
        let client = block(async move { AwsClients::new(&aws).await.dynamodb(&region_owned) })
            .map_err(StoreError)?;
        Ok(DynamoStore {
            client,
            table: table.to_string(),
            region: region.to_string(),
        })
    }

    fn url(&self) -> String {
        format!("dynamodb://{}?region={}", self.table, self.region)
    }

    /// Create the table (on-demand capacity, point-in-time recovery) and wait until it is
    /// active. Returns false when it already existed with the right key schema.
    pub fn init(&self) -> Result<bool, StoreError> {
        let client = self.client.clone();
        let table = self.table.clone();
        let url = self.url();
        block(async move {
            let key = |name: &str, kind: KeyType| {
                KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(kind)
                    .build()
            };
            let attr = |name: &str| {
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
            };
            let built = (|| {
                Ok::<_, aws_sdk_dynamodb::error::BuildError>((
                    vec![key("pk", KeyType::Hash)?, key("sk", KeyType::Range)?],
                    vec![attr("pk")?, attr("sk")?],
                    Tag::builder().key("drctl:purpose").value("state").build()?,
                ))
            })();
            let (keys, attrs, tag) = built.map_err(|e| StoreError(e.to_string()))?;
            let created = match client
                .create_table()
                .table_name(&table)
                .set_key_schema(Some(keys))
                .set_attribute_definitions(Some(attrs))
                .billing_mode(BillingMode::PayPerRequest)
                .tags(tag)
                .send()
                .await
                .map_err(aws_err("dynamodb:CreateTable"))
            {
                Ok(_) => true,
                Err(e) if e.code.as_deref() == Some("ResourceInUseException") => false,
                Err(e) => return Err(StoreError(format!("cannot create {url}: {e}"))),
            };
            // Wait for ACTIVE (seconds on AWS), and check an existing table's keys.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
            loop {
                let out = client
                    .describe_table()
                    .table_name(&table)
                    .send()
                    .await
                    .map_err(aws_err("dynamodb:DescribeTable"))
                    .map_err(|e| StoreError(format!("cannot describe {url}: {e}")))?;
                let desc = out.table();
                let keys: Vec<(String, String)> = desc
                    .map(|t| t.key_schema())
                    .unwrap_or_default()
                    .iter()
                    .map(|k| (k.attribute_name().to_string(), k.key_type().as_str().to_string()))
                    .collect();
                if keys != [("pk".into(), "HASH".into()), ("sk".into(), "RANGE".into())] {
                    return Err(StoreError(format!(
                        "table {url} exists with another key schema ({keys:?}); drctl needs pk (HASH) and sk (RANGE), both strings: choose another table name"
                    )));
                }
                if desc.and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                    break;
                }
                if tokio::time::Instant::now() > deadline {
                    return Err(StoreError(format!("table {url} is not ACTIVE after 5 minutes")));
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            // Point-in-time recovery: the journal is the record of an incident.
            client
                .update_continuous_backups()
                .table_name(&table)
                .point_in_time_recovery_specification(
                    aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
                        .point_in_time_recovery_enabled(true)
                        .build()
                        .map_err(|e| StoreError(e.to_string()))?,
                )
                .send()
                .await
                .map_err(aws_err("dynamodb:UpdateContinuousBackups"))
                .map_err(|e| StoreError(format!("cannot enable point-in-time recovery on {url}: {e}")))?;
            Ok(created)
        })
        .map_err(StoreError)?
    }

    fn put(&self, item: Item, condition: Option<(&str, Item)>) -> Result<(), AwsError> {
        let mut req = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        if let Some((expr, values)) = condition {
            req = req.condition_expression(expr);
            if expr.contains("#t") {
                req = req.expression_attribute_names("#t", "token");
            }
            if !values.is_empty() {
                req = req.set_expression_attribute_values(Some(values));
            }
        }
        flatten(block(async move {
            req.send()
                .await
                .map(|_| ())
                .map_err(aws_err("dynamodb:PutItem"))
        }))
    }

    fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, AwsError> {
        let req = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true);
        flatten(block(async move {
            req.send()
                .await
                .map(|out| out.item)
                .map_err(aws_err("dynamodb:GetItem"))
        }))
    }

    fn delete(&self, pk: &str, sk: &str, condition: Option<(&str, Item)>) -> Result<(), AwsError> {
        let mut req = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk));
        if let Some((expr, values)) = condition {
            req = req
                .condition_expression(expr)
                .expression_attribute_names("#t", "token")
                .set_expression_attribute_values(Some(values));
        }
        flatten(block(async move {
            req.send()
                .await
                .map(|_| ())
                .map_err(aws_err("dynamodb:DeleteItem"))
        }))
    }

    /// Every item under `pk` whose sort key starts with `prefix`, in sort-key order.
    fn query(&self, pk: &str, prefix: &str) -> Result<Vec<Item>, AwsError> {
        let mut req = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", s(pk))
            .consistent_read(true);
        req = if prefix.is_empty() {
            req.key_condition_expression("pk = :pk")
        } else {
            req.key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s(prefix))
        };
        flatten(block(async move {
            let mut items = Vec::new();
            let mut start = None;
            loop {
                let out = req
                    .clone()
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(aws_err("dynamodb:Query"))?;
                items.extend(out.items.unwrap_or_default());
                match out.last_evaluated_key {
                    Some(key) if !key.is_empty() => start = Some(key),
                    _ => return Ok(items),
                }
            }
        }))
    }

    fn journal_entries(&self, run_id: &str) -> Result<Vec<Entry>, JournalError> {
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
            let entry: Entry = serde_json::from_str(&body).map_err(|e| {
                let v = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get("v").and_then(|v| v.as_u64()));
                match v {
                    Some(found) if found > u64::from(JOURNAL_VERSION) => JournalError::TooNew {
                        path: self.journal_location(run_id).into(),
                        found: found as u32,
                    },
                    _ => JournalError::Corrupt {
                        path: self.journal_location(run_id).into(),
                        line: i + 1,
                        message: e.to_string(),
                    },
                }
            })?;
            entries.push(entry);
        }
        Ok(entries)
    }

    fn journal_location(&self, run_id: &str) -> String {
        format!("{} run {run_id}", self.url())
    }
}

/// The store's runtime failing is reported like an AWS failure without a code.
fn flatten<T>(r: Result<Result<T, AwsError>, String>) -> Result<T, AwsError> {
    r.unwrap_or_else(|message| {
        Err(AwsError {
            operation: "dynamodb".into(),
            code: None,
            message,
            request_id: None,
            http_status: None,
            class: crate::aws::ErrorClass::Fatal,
        })
    })
}

impl Store for DynamoStore {
    fn location(&self) -> String {
        self.url()
    }

    fn create_journal(&self, run_id: &str) -> Result<Box<dyn JournalSink>, JournalError> {
        let item = HashMap::from([("pk".to_string(), s("runs")), ("sk".to_string(), s(run_id))]);
        self.put(item, Some(("attribute_not_exists(pk)", HashMap::new())))
            .map_err(|e| JournalError::Remote {
                action: "create",
                location: self.journal_location(run_id),
                message: if conditional_failed(&e) {
                    "a run with this id already exists".into()
                } else {
                    e.to_string()
                },
            })?;
        Ok(Box::new(DynamoJournal {
            store: self.clone(),
            run_id: run_id.to_string(),
            seq: 0,
        }))
    }

    fn reopen_journal(
        &self,
        run_id: &str,
    ) -> Result<(Box<dyn JournalSink>, Vec<Entry>), JournalError> {
        let entries = self.journal_entries(run_id)?;
        let seq = entries.last().map(|e| e.seq).unwrap_or(0);
        Ok((
            Box::new(DynamoJournal {
                store: self.clone(),
                run_id: run_id.to_string(),
                seq,
            }),
            entries,
        ))
    }

    fn read_journal(&self, run_id: &str) -> Result<Option<Vec<Entry>>, JournalError> {
        let entries = self.journal_entries(run_id)?;
        if entries.is_empty() {
            let known = self.get("runs", run_id).map_err(|e| JournalError::Remote {
                action: "read",
                location: self.journal_location(run_id),
                message: e.to_string(),
            })?;
            if known.is_none() {
                return Ok(None);
            }
        }
        Ok(Some(entries))
    }

    fn run_ids(&self) -> Result<Vec<String>, StoreError> {
        let items = self
            .query("runs", "")
            .map_err(|e| StoreError(format!("cannot list the runs in {}: {e}", self.url())))?;
        Ok(items.iter().filter_map(|i| text(i, "sk")).collect())
    }

    fn acquire_lock(
        &self,
        runbook: &str,
        run_id: &str,
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<(Box<dyn HeldLock>, Option<LockHolder>), LockError> {
        let holder = LockHolder {
            run_id: run_id.into(),
            runbook: runbook.into(),
            host: hostname(),
            pid: std::process::id(),
            acquired_at: now,
            lease_until: lease_until(now),
        };
        let token = uuid::Uuid::new_v4().to_string();
        let remote = |e: AwsError| LockError::Remote {
            location: lock_location(self, runbook),
            message: e.to_string(),
        };
        let lock = DynamoLock {
            store: self.clone(),
            holder: holder.clone(),
            token: token.clone(),
            kept: false,
        };
        let mut displaced = None;
        for _ in 0..3 {
            match self.put(
                lock.item(),
                Some(("attribute_not_exists(pk)", HashMap::new())),
            ) {
                Ok(()) => return Ok((Box::new(lock), displaced)),
                Err(e) if conditional_failed(&e) => {}
                Err(e) => return Err(remote(e)),
            }
            let Some(item) = self.get(&lock_pk(runbook), "lock").map_err(remote)? else {
                continue; // released meanwhile: try again
            };
            let current_token = text(&item, "token").unwrap_or_default();
            let current: Option<LockHolder> =
                text(&item, "holder").and_then(|h| serde_json::from_str(&h).ok());
            let stale = current.as_ref().and_then(|c| c.lease_expired(now));
            let ours = current.as_ref().is_some_and(|c| c.run_id == run_id);
            if force || (ours && stale.is_some()) {
                // Take over exactly the lock we read; if it changed meanwhile, look again.
                match self.put(
                    lock.item(),
                    Some((
                        "#t = :old",
                        HashMap::from([(":old".to_string(), s(current_token))]),
                    )),
                ) {
                    Ok(()) => {
                        displaced = current;
                        return Ok((Box::new(lock), displaced));
                    }
                    Err(e) if conditional_failed(&e) => continue,
                    Err(e) => return Err(remote(e)),
                }
            }
            let current = current.unwrap_or(LockHolder {
                run_id: "?".into(),
                runbook: runbook.into(),
                host: "?".into(),
                pid: 0,
                acquired_at: now,
                lease_until: now,
            });
            return Err(match stale {
                Some(why) => LockError::Stale {
                    holder: Box::new(current),
                    why,
                },
                None => LockError::Held(Box::new(current)),
            });
        }
        Err(LockError::Remote {
            location: lock_location(self, runbook),
            message: "the lock changed hands while taking it".into(),
        })
    }

    fn lock_holder(&self, runbook: &str) -> Option<LockHolder> {
        let item = self.get(&lock_pk(runbook), "lock").ok()??;
        text(&item, "holder").and_then(|h| serde_json::from_str(&h).ok())
    }

    fn stale_reason(&self, holder: &LockHolder, now: DateTime<Utc>) -> Option<String> {
        holder.lease_expired(now)
    }

    fn append_history(&self, entry: &HistoryEntry) -> Result<(), StoreError> {
        let body = serde_json::to_string(entry).map_err(|e| StoreError(e.to_string()))?;
        let item = HashMap::from([
            ("pk".to_string(), s("history")),
            ("sk".to_string(), s(entry.run_id.clone())),
            ("body".to_string(), s(body)),
        ]);
        self.put(item, None).map_err(|e| {
            StoreError(format!(
                "cannot append to the drill history in {}: {e}",
                self.url()
            ))
        })
    }

    fn read_history(&self) -> Result<Vec<HistoryEntry>, StoreError> {
        let items = self.query("history", "").map_err(|e| {
            StoreError(format!(
                "cannot read the drill history in {}: {e}",
                self.url()
            ))
        })?;
        let mut entries: Vec<HistoryEntry> = items
            .iter()
            .filter_map(|i| text(i, "body"))
            .filter_map(|b| serde_json::from_str(&b).ok())
            .collect();
        // Oldest first by finish time, as the local history (appended at finish) reads.
        entries.sort_by_key(|e| e.finished_at);
        Ok(entries)
    }

    fn save_report(&self, report: &Report) -> Result<String, StoreError> {
        let body = serde_json::to_string(report).map_err(|e| StoreError(e.to_string()))?;
        let item = HashMap::from([
            ("pk".to_string(), s(format!("run#{}", report.run_id))),
            ("sk".to_string(), s("report")),
            ("body".to_string(), s(body)),
        ]);
        self.put(item, None).map_err(|e| {
            StoreError(format!(
                "cannot keep the report of run {} in {}: {e}",
                report.run_id,
                self.url()
            ))
        })?;
        Ok(format!(
            "drctl --state '{}' report {} --format html",
            self.url(),
            report.run_id
        ))
    }

    fn load_report(&self, run_id: &str) -> Result<Option<Report>, StoreError> {
        let item = self
            .get(&format!("run#{run_id}"), "report")
            .map_err(|e| StoreError(format!("cannot read the report of run {run_id}: {e}")))?;
        match item.and_then(|i| text(&i, "body")) {
            Some(body) => serde_json::from_str(&body).map(Some).map_err(|e| {
                StoreError(format!(
                    "the kept report of run {run_id} is unreadable: {e}"
                ))
            }),
            None => Ok(None),
        }
    }

    fn save_cleanup(&self, run_id: &str, doc: &serde_json::Value) -> Result<(), StoreError> {
        let item = HashMap::from([
            ("pk".to_string(), s(format!("run#{run_id}"))),
            ("sk".to_string(), s("cleanup")),
            ("body".to_string(), s(doc.to_string())),
        ]);
        self.put(item, None)
            .map_err(|e| StoreError(format!("cannot record the cleanup of run {run_id}: {e}")))
    }

    fn load_cleanup(&self, run_id: &str) -> Option<serde_json::Value> {
        let item = self.get(&format!("run#{run_id}"), "cleanup").ok()??;
        serde_json::from_str(&text(&item, "body")?).ok()
    }
}

fn lock_pk(runbook: &str) -> String {
    format!("lock#{runbook}")
}

fn lock_location(store: &DynamoStore, runbook: &str) -> String {
    format!("{} lock {runbook}", store.url())
}

/// One run's journal in the table.
#[derive(Debug)]
struct DynamoJournal {
    store: DynamoStore,
    run_id: String,
    seq: u64,
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

/// A lock held in the table; released (if still ours) on drop.
#[derive(Debug)]
struct DynamoLock {
    store: DynamoStore,
    holder: LockHolder,
    token: String,
    /// Kept for a resume by another process: neither renewed nor released.
    kept: bool,
}

impl DynamoLock {
    fn item(&self) -> Item {
        HashMap::from([
            ("pk".to_string(), s(lock_pk(&self.holder.runbook))),
            ("sk".to_string(), s("lock")),
            (
                "holder".to_string(),
                s(serde_json::to_string(&self.holder).unwrap_or_default()),
            ),
            ("token".to_string(), s(self.token.clone())),
        ])
    }

    fn ours(&self) -> (&'static str, Item) {
        (
            "#t = :mine",
            HashMap::from([(":mine".to_string(), s(self.token.clone()))]),
        )
    }
}

impl HeldLock for DynamoLock {
    fn renew(&mut self, now: DateTime<Utc>) -> Result<(), LockError> {
        if self.kept {
            return Ok(());
        }
        self.holder.lease_until = lease_until(now);
        self.write()
    }

    fn keep_for_resume(&mut self, now: DateTime<Utc>) -> Result<(), LockError> {
        self.kept = true;
        self.holder.lease_until = now;
        self.write()
    }

    fn holder(&self) -> &LockHolder {
        &self.holder
    }
}

impl DynamoLock {
    /// Write the holder, only while the lock is still ours.
    fn write(&self) -> Result<(), LockError> {
        let location = lock_location(&self.store, &self.holder.runbook);
        match self.store.put(self.item(), Some(self.ours())) {
            Ok(()) => Ok(()),
            Err(e) if conditional_failed(&e) => Err(LockError::Lost {
                location,
                why: "another run took it over after this run's lease expired, or with --force-unlock".into(),
            }),
            Err(e) => Err(LockError::Remote {
                location,
                message: e.to_string(),
            }),
        }
    }
}

impl Drop for DynamoLock {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        let _ = self
            .store
            .delete(&lock_pk(&self.holder.runbook), "lock", Some(self.ours()));
    }
}
