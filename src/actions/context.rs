//! What a running step can see and do: its resolved parameters, the AWS clients, the run's
//! identity (for idempotency tokens and `drctl:run-id` tags), a journal handle for facts it
//! must not lose, a progress channel, the interrupt flag, and the approval hook.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{ActionError, BoxFuture};
use crate::aws::AwsClients;
use crate::measure::Clock;

/// The tag naming the run that created a resource: how `drctl cleanup` finds what a drill
/// left behind, and the proof that it is that run's to delete.
pub const RUN_ID_TAG: &str = "drctl:run-id";
/// The tag naming the step that created a resource.
pub const STEP_TAG: &str = "drctl:step";

/// Why the run exists; actions behave differently in isolated drills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// A real recovery (`drctl failover`).
    Failover,
    /// A drill that must not change what production uses; everything is undone afterwards.
    DrillIsolated,
    /// A drill that performs the real failover (and later its failback).
    DrillLive,
}

impl Mode {
    pub fn is_drill(self) -> bool {
        matches!(self, Mode::DrillIsolated | Mode::DrillLive)
    }
}

/// Something a step reports while it works.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepEvent {
    pub step: String,
    pub message: String,
}

/// Appends facts a step must not lose (job ids, created resources) to the run's journal,
/// durable before the returned future completes. Implemented by the engine, whose
/// scheduler writes the journal.
pub trait StepJournal: Send + Sync {
    /// Record a note for this step. Never pass secret values.
    fn note<'a>(&'a self, step: &'a str, note: &'a Value) -> BoxFuture<'a, std::io::Result<()>>;
}

/// Asks a person: `(step, message) -> approved?`.
pub type AskFn = Arc<dyn Fn(String, String) -> BoxFuture<'static, bool> + Send + Sync>;

/// Approval decisions for `approve` steps.
#[derive(Clone)]
pub struct Approvals {
    /// Step ids approved in advance (`--approve STEP`).
    pub pre_approved: BTreeSet<String>,
    /// Ask a person: `(step, message) -> approved?`. `None` when nobody can be asked.
    pub ask: Option<AskFn>,
}

impl std::fmt::Debug for Approvals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approvals")
            .field("pre_approved", &self.pre_approved)
            .field("interactive", &self.ask.is_some())
            .finish()
    }
}

/// Everything one step attempt gets.
#[derive(Clone)]
pub struct StepContext {
    pub run_id: String,
    pub step_id: String,
    /// AWS region code of the step, if it has one.
    pub region: Option<String>,
    /// The runbook's regions (name -> code).
    pub regions: BTreeMap<String, String>,
    /// Parameters with defaults filled in and `${...}` resolved.
    pub params: Map<String, Value>,
    pub mode: Mode,
    pub aws: AwsClients,
    pub clock: Clock,
    /// The incident clock's T0.
    pub t0: DateTime<Utc>,
    /// Notes this step journalled in earlier attempts or before a crash, oldest first.
    pub prior_notes: Vec<Value>,
    pub journal: Arc<dyn StepJournal>,
    pub progress: Arc<dyn Fn(StepEvent) + Send + Sync>,
    pub interrupted: tokio::sync::watch::Receiver<bool>,
    pub approvals: Approvals,
    /// Outputs of every finished step (for `exec` environment variables).
    pub step_outputs: BTreeMap<String, BTreeMap<String, String>>,
}

impl StepContext {
    /// The step's region; actions that declare `RegionUse::Required` always have one.
    pub fn region(&self) -> Result<&str, ActionError> {
        self.region
            .as_deref()
            .ok_or_else(|| ActionError::fatal(&self.step_id, "the step has no region"))
    }

    /// One parameter as `T`, for code that has no `Params` struct of its own (test
    /// actions); an action module reads its `Params` instead.
    pub fn param<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, ActionError> {
        let value = self.params.get(name).cloned().unwrap_or(Value::Null);
        serde_json::from_value(value).map_err(|e| {
            ActionError::fatal(
                format!("step {}", self.step_id),
                format!("parameter `{name}`: {e}"),
            )
        })
    }

    /// The AWS code of a region parameter: a runbook region name (validation made sure it
    /// exists), or an AWS code as it is.
    pub fn region_code(&self, name: &str) -> String {
        self.regions
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    /// The caller's account id (asked of STS once per process), for building ARNs.
    pub async fn account(&self) -> Result<String, ActionError> {
        let region = self
            .region
            .clone()
            .unwrap_or_else(|| self.aws.default_region());
        self.aws
            .account_id(&region)
            .await
            .map_err(super::on(format!("account of step {}", self.step_id)))
    }

    /// A deterministic idempotency token for `purpose`: the same run and step always get the
    /// same token, so a resumed step finds the job its crashed attempt started.
    pub fn token(&self, purpose: &str) -> String {
        let digest = Sha256::digest(format!("{}/{}/{purpose}", self.run_id, self.step_id));
        format!("drctl-{}", &hex::encode(digest)[..40])
    }

    /// Tags to put on anything the step creates.
    pub fn tags(&self) -> Vec<(String, String)> {
        vec![
            (RUN_ID_TAG.to_string(), self.run_id.clone()),
            (STEP_TAG.to_string(), self.step_id.clone()),
        ]
    }

    /// Report what the step is doing or waiting for.
    pub fn progress(&self, message: impl Into<String>) {
        (self.progress)(StepEvent {
            step: self.step_id.clone(),
            message: message.into(),
        });
    }

    /// Journal a fact (fsynced) before relying on it. A failure to journal fails the step:
    /// acting without a journal could repeat a restore after a crash.
    pub async fn note(&self, note: Value) -> Result<(), ActionError> {
        self.journal.note(&self.step_id, &note).await.map_err(|e| {
            ActionError::fatal(
                format!("journal of run {}", self.run_id),
                format!("cannot write the journal: {e}"),
            )
        })
    }

    /// The newest journalled note with field `key`, from earlier attempts.
    pub fn prior(&self, key: &str) -> Option<&Value> {
        self.prior_notes.iter().rev().find_map(|n| n.get(key))
    }

    /// Whether the operator asked to stop (first Ctrl-C).
    pub fn is_interrupted(&self) -> bool {
        *self.interrupted.borrow()
    }
}
