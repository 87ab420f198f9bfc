//! Running one action against the sandbox through a real `StepContext`, as the engine would:
//! the clients come from drctl's own factory (`AwsClients::new` with the sandbox as endpoint
//! override), the parameters get the catalogue's defaults, the journal keeps notes in memory
//! (so a test can hand them to a second run as `prior_notes`, like a resumed run), and every
//! AWS operation the action makes is recorded so tests can check the IAM list of the spec.
//!
//! Credentials: `AwsClients` resolves them through the default chain, so the sandbox's fake
//! keys are put in this process's environment. That happens only while a `SandboxGuard` is
//! held (callers take it first), when no other test of the binary touches the SDK, since
//! changing the environment while another thread reads it is not safe.
#![allow(dead_code)] // each test binary uses a different part of the support

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use serde_json::{Map, Value, json};

use drctl::actions::spec::{self, ParamType};
use drctl::actions::{
    ActionError, Approvals, BoxFuture, Mode, StepContext, StepJournal, StepOutcome, implementation,
};
use drctl::aws::{AwsClients, AwsSettings};
use drctl::measure::Clock;

use crate::common;

/// The journal of one step attempt, in memory.
#[derive(Default)]
pub struct MemoryJournal {
    notes: Mutex<Vec<Value>>,
}

impl StepJournal for MemoryJournal {
    fn note<'a>(&'a self, _step: &'a str, note: &'a Value) -> BoxFuture<'a, std::io::Result<()>> {
        self.notes.lock().unwrap().push(note.clone());
        Box::pin(async { Ok(()) })
    }
}

impl MemoryJournal {
    pub fn notes(&self) -> Vec<Value> {
        self.notes.lock().unwrap().clone()
    }
}

/// One step, ready to run or undo.
pub struct TestStep {
    pub action: &'static str,
    pub ctx: StepContext,
    pub journal: Arc<MemoryJournal>,
    call_log: PathBuf,
}

/// How to build a [`TestStep`].
pub struct StepBuilder {
    action: &'static str,
    region: String,
    params: Value,
    mode: Mode,
    run_id: String,
    prior_notes: Vec<Value>,
}

/// A step of `action` in `region` with `params` (the catalogue's defaults fill the rest).
pub fn step(action: &'static str, region: &str, params: Value) -> StepBuilder {
    StepBuilder {
        action,
        region: region.to_string(),
        params,
        mode: Mode::Failover,
        run_id: "20260101t000000-test".to_string(),
        prior_notes: Vec::new(),
    }
}

/// A parameter default as the runbook would spell it, in the form `StepContext` reads.
fn default_value(ty: ParamType, text: &str) -> Value {
    match ty {
        ParamType::Bool => Value::Bool(text == "true"),
        ParamType::Integer => json!(text.parse::<u64>().unwrap()),
        ParamType::Duration => {
            let (n, unit) = text.split_at(text.len() - 1);
            let n: u64 = n.parse().unwrap();
            json!(match unit {
                "s" => n * 1000,
                "m" => n * 60_000,
                _ => panic!("duration default {text}"),
            })
        }
        _ => Value::String(text.to_string()),
    }
}

impl StepBuilder {
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    pub fn run_id(mut self, run_id: &str) -> Self {
        self.run_id = run_id.to_string();
        self
    }

    /// Notes of an earlier attempt (a resumed step).
    pub fn prior(mut self, notes: Vec<Value>) -> Self {
        self.prior_notes = notes;
        self
    }

    pub async fn build(self) -> TestStep {
        common::set_sandbox_credentials();
        let spec = spec::lookup(self.action).expect("an action of the catalogue");
        let mut params: Map<String, Value> = self.params.as_object().cloned().unwrap_or_default();
        for p in spec.params {
            if let (false, Some(default)) = (params.contains_key(p.name), p.default) {
                params.insert(p.name.to_string(), default_value(p.ty, default));
            }
        }
        for name in params.keys() {
            assert!(
                spec.param(name).is_some(),
                "{} has no parameter {name}",
                self.action
            );
        }
        let call_log = std::env::temp_dir().join(format!(
            "drctl-actions-calls-{}-{}.log",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        let aws = AwsClients::new(&AwsSettings {
            endpoint_url: Some(common::endpoint()),
            region: Some(common::PRIMARY.to_string()),
            call_log: Some(call_log.clone()),
            ..Default::default()
        })
        .await;
        let regions: BTreeMap<String, String> = [
            ("primary".to_string(), common::PRIMARY.to_string()),
            ("recovery".to_string(), common::RECOVERY.to_string()),
        ]
        .into_iter()
        .collect();
        let journal = Arc::new(MemoryJournal::default());
        let (_stop, interrupted) = tokio::sync::watch::channel(false);
        let ctx = StepContext {
            run_id: self.run_id,
            step_id: "step-under-test".to_string(),
            region: Some(self.region),
            regions,
            params,
            mode: self.mode,
            aws,
            clock: Clock::system(),
            t0: Utc::now(),
            prior_notes: self.prior_notes,
            journal: journal.clone(),
            progress: Arc::new(|_| {}),
            interrupted,
            approvals: Approvals {
                pre_approved: Default::default(),
                ask: None,
            },
            step_outputs: BTreeMap::new(),
        };
        TestStep {
            action: self.action,
            ctx,
            journal,
            call_log,
        }
    }
}

impl TestStep {
    pub async fn run(&self) -> Result<StepOutcome, ActionError> {
        implementation(self.action)
            .expect("an implementation")
            .run(&self.ctx)
            .await
    }

    pub async fn undo(&self, undo: &Value) -> Result<(), ActionError> {
        implementation(self.action)
            .expect("an implementation")
            .undo(&self.ctx, undo)
            .await
    }

    /// The notes journalled so far (to resume from).
    pub fn notes(&self) -> Vec<Value> {
        self.journal.notes()
    }

    /// Every AWS operation made through this step's clients, as `service:Operation`.
    pub fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.call_log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Asserts that every operation the action called is in its spec's IAM list, so that
    /// `drctl iam-policy` grants what the action needs.
    pub fn assert_calls_declared(&self) {
        let spec = spec::lookup(self.action).unwrap();
        for call in self.calls() {
            assert!(
                spec.iam.contains(&call.as_str()),
                "{} called {call}, which its spec's iam list lacks",
                self.action
            );
        }
    }
}

impl Drop for TestStep {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.call_log);
    }
}

/// The requests of one operation in the sandbox's request log.
pub fn count(service: &str, operation: &str) -> usize {
    common::requests_for(service, operation).len()
}

/// How many requests of one operation succeeded (status 2xx), and how many carried a fault.
pub fn outcomes(service: &str, operation: &str) -> (usize, usize) {
    let all = common::requests_for(service, operation);
    let ok = all
        .iter()
        .filter(|r| {
            r["status"]
                .as_u64()
                .is_some_and(|s| (200..300).contains(&s))
        })
        .count();
    let faulted = all.iter().filter(|r| !r["fault"].is_null()).count();
    (ok, faulted)
}

/// Asserts an action error is an AWS error naming `resource` and carrying `code`.
pub fn assert_aws_error(err: &ActionError, resource: &str, code: &str) {
    let text = err.to_string();
    assert!(
        matches!(err, ActionError::Aws { .. }),
        "expected an AWS error, got {err:?}"
    );
    assert_eq!(err.aws_code(), Some(code), "{text}");
    assert!(text.contains(resource), "`{text}` does not name {resource}");
    assert!(
        text.contains(code),
        "`{text}` does not carry the code {code}"
    );
}
