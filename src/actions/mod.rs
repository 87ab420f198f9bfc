//! Actions: one module per action family behind one trait ([`Action`]). `spec` declares
//! each action's interface as data; the modules beside it implement `run` (idempotent: each
//! looks for its own earlier work by token or tag before acting), the done-check and the
//! undo a drill needs. Actions never print: they report through [`StepContext::progress`].

pub mod spec;

mod approve;
mod backup;
mod context;
mod ecr;
mod ecs;
mod efs;
mod exec;
mod http;
pub mod iam;
mod notify;
mod poll;
mod route53;
mod secrets;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

pub use context::{
    Approvals, AskFn, Mode, RUN_ID_TAG, STEP_TAG, StepContext, StepEvent, StepJournal,
};
pub use poll::{Poll, poll_until};

// Read-only look-ups the actions make, shared with `drctl check` (src/posture), which
// measures the same figures without running a step.
pub(crate) use backup::{PointSelector, efs_arn, newest_point};
pub(crate) use ecr::{evidence as ecr_evidence, list_images, missing_in, source_repositories};
pub(crate) use efs::replica_state;
pub(crate) use secrets::{describe as describe_secret, replica_status, version_evidence};

// What `drctl cleanup` (src/runner/cleanup.rs) uses to find and remove what a drill run
// left behind when its journal's undo data does not cover it: file systems tagged with the
// run id, and the run's drill records.
pub(crate) use efs::{delete_file_system, tagged_file_systems};
pub(crate) use route53::{delete_drill_record, drill_records};

use crate::aws::{AwsError, ErrorClass};
use crate::measure::Evidence;
use spec::ActionSpec;

/// A boxed future, so actions can sit behind `dyn Action`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a successful step leaves behind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepOutcome {
    /// Values descendant steps may reference as `${steps.<id>.<name>}`.
    pub outputs: BTreeMap<String, String>,
    /// What a drill needs to undo the step (ids, previous values). Never secret values.
    pub undo: Option<serde_json::Value>,
    /// RPO evidence for recovered data resources.
    pub evidence: Vec<Evidence>,
    /// Set when the step only checked and did not change anything (isolated drills).
    pub simulated: Option<String>,
    /// Resources the step created, as ARNs or ids, for cleanup and reports.
    pub created: Vec<String>,
}

/// Why a step failed.
#[derive(Debug, Clone, Serialize, Deserialize, thiserror::Error)]
pub enum ActionError {
    /// An AWS call failed.
    #[error("{resource}: {source}")]
    Aws {
        resource: String,
        source: Box<AwsError>,
    },
    /// The step found a state it cannot work with.
    #[error("{resource}: {message}")]
    Failed {
        resource: String,
        message: String,
        class: ErrorClass,
    },
    /// The operator interrupted the run at a safe point; the step can resume.
    #[error("interrupted at a safe point; resume to continue")]
    Interrupted,
}

impl ActionError {
    /// The failure class that decides whether the engine re-runs the step.
    pub fn class(&self) -> ErrorClass {
        match self {
            ActionError::Aws { source, .. } => source.class,
            ActionError::Failed { class, .. } => *class,
            ActionError::Interrupted => ErrorClass::InDoubt,
        }
    }

    /// The AWS error code, when there is one.
    pub fn aws_code(&self) -> Option<&str> {
        match self {
            ActionError::Aws { source, .. } => source.code.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn fatal(resource: impl Into<String>, message: impl Into<String>) -> Self {
        ActionError::Failed {
            resource: resource.into(),
            message: message.into(),
            class: ErrorClass::Fatal,
        }
    }
}

/// Attach the resource being worked on to an AWS error.
pub(crate) fn on(resource: impl Into<String>) -> impl FnOnce(AwsError) -> ActionError {
    let resource = resource.into();
    move |source| ActionError::Aws {
        resource,
        source: Box::new(source),
    }
}

/// One kind of step.
pub trait Action: Send + Sync {
    /// The interface declared in the catalogue.
    fn spec(&self) -> &'static ActionSpec;

    /// Do the work and wait until it is done. Must be safe to call again after a crash.
    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>>;

    /// Undo what `run` did in a drill, from the `undo` value it returned.
    fn undo<'a>(
        &'a self,
        ctx: &'a StepContext,
        undo: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        let _ = (ctx, undo);
        Box::pin(async { Ok(()) })
    }

    /// The mutating calls `run` would make, in words, for `--dry-run`.
    fn describe(&self, ctx: &StepContext) -> Vec<String>;
}

static ACTIONS: &[&dyn Action] = &[
    &backup::RestoreEfs,
    &backup::Copy,
    &backup::Start,
    &efs::ReplicationFailover,
    &ecr::Replicate,
    &secrets::Replicate,
    &secrets::Promote,
    &ecs::Scale,
    &route53::Failover,
    &http::Probe,
    &approve::Approve,
    &exec::Exec,
    &notify::Notify,
];

/// The implementation of the action called `name`.
pub fn implementation(name: &str) -> Option<&'static dyn Action> {
    ACTIONS.iter().copied().find(|a| a.spec().name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_entry_has_exactly_one_implementation() {
        for spec in spec::CATALOGUE {
            let n = ACTIONS
                .iter()
                .filter(|a| a.spec().name == spec.name)
                .count();
            assert_eq!(n, 1, "{}", spec.name);
        }
        assert_eq!(ACTIONS.len(), spec::CATALOGUE.len());
    }
}
