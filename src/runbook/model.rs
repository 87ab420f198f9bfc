//! The validated runbook and drill: what the planner and the engine consume. Every value here
//! has been checked; nothing refers to a position in a file except `Step::line`, kept so that
//! run-time messages can still point at the step.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::actions::spec::ActionSpec;

use super::interpolate::{StepRef, references};

/// A validated runbook.
#[derive(Debug, Clone)]
pub struct Runbook {
    pub name: String,
    pub description: Option<String>,
    /// The file it was loaded from, as given.
    pub path: PathBuf,
    /// Region name → AWS region code.
    pub regions: BTreeMap<String, String>,
    pub targets: Targets,
    /// Variables after overrides (drill `[vars]`, then `--var`).
    pub vars: BTreeMap<String, String>,
    /// Steps in file order; `Plan` gives the execution order.
    pub steps: Vec<Step>,
}

impl Runbook {
    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The AWS region code a step runs in, if its action is regional.
    pub fn region_of(&self, step: &Step) -> Option<&str> {
        step.region
            .as_ref()
            .and_then(|name| self.regions.get(name))
            .map(String::as_str)
    }
}

/// One validated step.
#[derive(Debug, Clone)]
pub struct Step {
    pub id: String,
    pub description: Option<String>,
    pub action: &'static ActionSpec,
    /// Name of a region in `Runbook::regions` (not the AWS code: see `Runbook::region_of`).
    pub region: Option<String>,
    /// Ids of the steps that must succeed first (deduplicated, in file order).
    pub after: Vec<String>,
    pub timeout: Option<Duration>,
    pub retry: Retry,
    /// Whether success of this step is a recovery check (marks T_recovered).
    pub verify: bool,
    /// Whether drills skip this step.
    pub drill_skip: bool,
    /// Every parameter that was given or has a default. Strings are templates: see
    /// `interpolate`.
    pub with: BTreeMap<String, Value>,
    /// Line of the step's `[[steps]]` header in `Runbook::path`.
    pub line: usize,
}

impl Step {
    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&Value> {
        self.with.get(name)
    }

    /// Every `${steps.ID.OUTPUT}` this step's parameters need, without duplicates.
    pub fn references(&self) -> Vec<StepRef> {
        let mut refs: Vec<StepRef> = self.with.values().flat_map(Value::references).collect();
        refs.sort();
        refs.dedup();
        refs
    }
}

/// RTO and RPO targets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Targets {
    pub rto: Option<Duration>,
    pub rpo: Option<Duration>,
}

/// A step's `retry` table: how often it is tried (compiled into the engine's
/// `RetryPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Total attempts, at least 1.
    pub attempts: u32,
    /// Pause between attempts.
    pub backoff: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 1,
            backoff: Duration::from_secs(5),
        }
    }
}

/// A validated parameter value. `Region` parameters hold the AWS region code; `Enum`
/// parameters hold the chosen string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A template: call `interpolate` before use.
    String(String),
    Integer(u64),
    Bool(bool),
    Duration(Duration),
    /// Templates: call `interpolate` on each item before use.
    List(Vec<String>),
    CountMap(BTreeMap<String, u64>),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Integer(n) => Some(*n),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_duration(&self) -> Option<Duration> {
        match self {
            Value::Duration(d) => Some(*d),
            _ => None,
        }
    }
    pub fn as_list(&self) -> Option<&[String]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }
    pub fn as_count_map(&self) -> Option<&BTreeMap<String, u64>> {
        match self {
            Value::CountMap(map) => Some(map),
            _ => None,
        }
    }

    /// The `${steps.ID.OUTPUT}` references in this value.
    pub fn references(&self) -> Vec<StepRef> {
        match self {
            Value::String(s) => references(s),
            Value::List(items) => items.iter().flat_map(|s| references(s)).collect(),
            _ => Vec::new(),
        }
    }
}

/// A validated drill. Its runbook is returned beside it by `load_drill`.
#[derive(Debug, Clone)]
pub struct Drill {
    pub name: String,
    pub description: Option<String>,
    /// The drill file, as given.
    pub path: PathBuf,
    /// The runbook file: the drill's `runbook` joined to the drill file's directory.
    pub runbook_path: PathBuf,
    pub mode: Isolation,
    /// Effective targets: each target the drill gives overrides the runbook's.
    pub targets: Targets,
    /// EventBridge schedule expression, checked for shape.
    pub schedule: Option<String>,
    /// The drill's own `[vars]` overrides (already applied to the returned runbook).
    pub vars: BTreeMap<String, String>,
}

/// How a drill touches production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Isolation {
    /// Recover into drill copies; production keeps serving.
    #[default]
    Isolated,
    /// Really fail over.
    Live,
}

impl Isolation {
    pub fn as_str(self) -> &'static str {
        match self {
            Isolation::Isolated => "isolated",
            Isolation::Live => "live",
        }
    }
}
