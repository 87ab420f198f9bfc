//! The DynamoDB table: the client and its one-thread runtime, the item calls the journal
//! and the lock use, `drctl state init`, and the [`Store`] implementation.

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

use super::journal::DynamoJournal;
use super::lock::DynamoLock;
use crate::aws::{AwsClients, AwsError, AwsSettings, aws_err};
use crate::engine::{Entry, JournalError, JournalSink};
use crate::report::{HistoryEntry, Report};
use crate::store::{HeldLock, LockError, LockHolder, Staleness, Store, StoreError};

pub(super) type Item = HashMap<String, AttributeValue>;

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

/// The store's own runtime failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot start the state store's async runtime")]
    NotStarted,
    #[error("the state store's call stopped without an answer")]
    NoAnswer,
}

/// Run `fut` on the store's runtime and wait for it.
fn block<F, T>(fut: F) -> Result<T, RuntimeError>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let rt = bridge().ok_or(RuntimeError::NotStarted)?;
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    rt.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().map_err(|_| RuntimeError::NoAnswer)
}

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

pub(super) fn conditional_failed(e: &AwsError) -> bool {
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
        let client = block(async move { AwsClients::new(&aws).await.dynamodb(&region_owned) })?;
        Ok(DynamoStore {
            client,
            table: table.to_string(),
            region: region.to_string(),
        })
    }

    pub(super) fn url(&self) -> String {
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
            let (keys, attrs, tag) = built.map_err(StoreError::Definition)?;
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
                Err(e) => {
                    return Err(StoreError::Table {
                        action: "create",
                        location: url,
                        source: Box::new(e),
                    });
                }
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
                    .map_err(|e| StoreError::Table {
                        action: "describe",
                        location: url.clone(),
                        source: Box::new(e),
                    })?;
                let desc = out.table();
                let keys: Vec<(String, String)> = desc
                    .map(|t| t.key_schema())
                    .unwrap_or_default()
                    .iter()
                    .map(|k| {
                        (
                            k.attribute_name().to_string(),
                            k.key_type().as_str().to_string(),
                        )
                    })
                    .collect();
                if keys != [("pk".into(), "HASH".into()), ("sk".into(), "RANGE".into())] {
                    return Err(StoreError::WrongSchema {
                        location: url,
                        found: format!("{keys:?}"),
                    });
                }
                if desc.and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                    break;
                }
                if tokio::time::Instant::now() > deadline {
                    return Err(StoreError::NotActive { location: url });
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
                        .map_err(StoreError::Definition)?,
                )
                .send()
                .await
                .map_err(aws_err("dynamodb:UpdateContinuousBackups"))
                .map_err(|e| StoreError::Table {
                    action: "enable point-in-time recovery on",
                    location: url,
                    source: Box::new(e),
                })?;
            Ok(created)
        })?
    }

    pub(super) fn put(&self, item: Item, condition: Option<(&str, Item)>) -> Result<(), AwsError> {
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

    pub(super) fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, AwsError> {
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

    pub(super) fn delete(
        &self,
        pk: &str,
        sk: &str,
        condition: Option<(&str, Item)>,
    ) -> Result<(), AwsError> {
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
    pub(super) fn query(&self, pk: &str, prefix: &str) -> Result<Vec<Item>, AwsError> {
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
}

impl DynamoStore {
    /// A failed call, named by what it was for.
    fn remote(&self, action: impl Into<String>, e: AwsError) -> StoreError {
        StoreError::Remote {
            action: action.into(),
            location: self.url(),
            source: Box::new(e),
        }
    }
}

/// The store's runtime failing is reported like an AWS failure without a code.
fn flatten<T>(r: Result<Result<T, AwsError>, RuntimeError>) -> Result<T, AwsError> {
    r.unwrap_or_else(|e| {
        Err(AwsError {
            operation: "dynamodb".into(),
            code: None,
            message: e.to_string(),
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
        Ok(Box::new(DynamoJournal::new(self.clone(), run_id, 0)))
    }

    fn reopen_journal(
        &self,
        run_id: &str,
    ) -> Result<(Box<dyn JournalSink>, Vec<Entry>), JournalError> {
        let entries = self.journal_entries(run_id)?;
        let seq = entries.last().map(|e| e.seq).unwrap_or(0);
        Ok((
            Box::new(DynamoJournal::new(self.clone(), run_id, seq)),
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
            .map_err(|e| self.remote("list the runs", e))?;
        Ok(items.iter().filter_map(|i| text(i, "sk")).collect())
    }

    fn acquire_lock(
        &self,
        runbook: &str,
        run_id: &str,
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<(Box<dyn HeldLock>, Option<LockHolder>), LockError> {
        let (lock, displaced) = DynamoLock::acquire(self, runbook, run_id, now, force)?;
        Ok((Box::new(lock), displaced))
    }

    fn lock_holder(&self, runbook: &str) -> Option<LockHolder> {
        DynamoLock::holder_of(self, runbook)
    }

    /// Host names and process ids are not unique across Lambda containers: only the lease
    /// counts.
    fn staleness(&self) -> Staleness {
        Staleness::Lease
    }

    fn append_history(&self, entry: &HistoryEntry) -> Result<(), StoreError> {
        let body = serde_json::to_string(entry).map_err(|source| StoreError::Encode {
            what: "the history entry",
            source,
        })?;
        let item = HashMap::from([
            ("pk".to_string(), s("history")),
            ("sk".to_string(), s(entry.run_id.clone())),
            ("body".to_string(), s(body)),
        ]);
        self.put(item, None)
            .map_err(|e| self.remote("append to the drill history", e))
    }

    fn read_history(&self) -> Result<Vec<HistoryEntry>, StoreError> {
        let items = self
            .query("history", "")
            .map_err(|e| self.remote("read the drill history", e))?;
        let mut entries: Vec<HistoryEntry> = items
            .iter()
            .filter_map(|i| text(i, "body"))
            .filter_map(|b| serde_json::from_str(&b).ok())
            .collect();
        // Oldest first by finish time, as the local history (appended at finish) reads.
        entries.sort_by_key(|e| e.finished_at);
        Ok(entries)
    }

    /// The table keeps the report model only: `drctl report RUN_ID --format html` renders it.
    fn keeps_html_report(&self) -> bool {
        false
    }

    fn save_report(&self, report: &Report, _html: Option<&str>) -> Result<String, StoreError> {
        let body = serde_json::to_string(report).map_err(|source| StoreError::Encode {
            what: "the report",
            source,
        })?;
        let item = HashMap::from([
            ("pk".to_string(), s(format!("run#{}", report.run_id))),
            ("sk".to_string(), s("report")),
            ("body".to_string(), s(body)),
        ]);
        self.put(item, None)
            .map_err(|e| self.remote(format!("keep the report of run {}", report.run_id), e))?;
        Ok(format!(
            "drctl --state '{}' report {} --format html",
            self.url(),
            report.run_id
        ))
    }

    fn load_report(&self, run_id: &str) -> Result<Option<Report>, StoreError> {
        let item = self
            .get(&format!("run#{run_id}"), "report")
            .map_err(|e| self.remote(format!("read the report of run {run_id}"), e))?;
        match item.and_then(|i| text(&i, "body")) {
            Some(body) => {
                serde_json::from_str(&body)
                    .map(Some)
                    .map_err(|source| StoreError::Unreadable {
                        what: format!("the kept report of run {run_id}"),
                        source,
                    })
            }
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
            .map_err(|e| self.remote(format!("record the cleanup of run {run_id}"), e))
    }

    fn load_cleanup(&self, run_id: &str) -> Option<serde_json::Value> {
        let item = self.get(&format!("run#{run_id}"), "cleanup").ok()??;
        serde_json::from_str(&text(&item, "body")?).ok()
    }
}
