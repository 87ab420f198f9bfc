//! What the engine executes: a plan of steps in a topological order, each ready to run
//! (its action's implementation, region, timeout, retry policy and compiled parameters), and
//! how to run it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tokio::sync::mpsc;

use super::executor::RetryPolicy;
use super::template::StepParams;
use crate::actions::{Action, Approvals};

/// One step, ready to execute.
#[derive(Clone)]
pub struct ExecStep {
    pub id: String,
    pub action: &'static dyn Action,
    /// AWS region code.
    pub region: Option<String>,
    pub after: Vec<String>,
    /// The bound of one attempt.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub verify: bool,
    pub drill_skip: bool,
    /// Parameters with defaults, compiled: strings may hold other steps' outputs.
    pub params: StepParams,
}

impl std::fmt::Debug for ExecStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecStep")
            .field("id", &self.id)
            .field("action", &self.action.spec().name)
            .field("after", &self.after)
            .finish_non_exhaustive()
    }
}

/// What the engine executes: the steps in a topological order.
#[derive(Debug, Clone)]
pub struct ExecPlan {
    pub runbook_name: String,
    pub regions: BTreeMap<String, String>,
    pub steps: Vec<ExecStep>,
}

impl ExecPlan {
    pub fn step(&self, id: &str) -> Option<&ExecStep> {
        self.steps.iter().find(|s| s.id == id)
    }
}

/// How to run. (The mode is the run's, from its journalled header.)
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub max_parallel: usize,
    pub approvals: Approvals,
    /// Steps to run; the others are skipped (and count as satisfied for their dependents).
    pub selected: Option<BTreeSet<String>>,
}

/// Interrupt requests (Ctrl-C, SIGTERM, a Lambda deadline), delivered by the front end: the
/// first stops new work, the second aborts.
pub type Interrupts = mpsc::UnboundedReceiver<()>;
