//! Actions: one module per action family, every action the same shape (a [`TypedAction`]
//! with its catalogue entry, typed `Params` and a typed undo record), turned into the
//! engine's object-safe [`Action`]. `spec` declares the catalogue's types, `registry` lists
//! every action. Actions never print: they report through [`StepContext::progress`].

mod action;
mod approve;
mod backup;
mod context;
mod ecr;
mod ecs;
mod efs;
mod error;
mod exec;
mod http;
pub mod iam;
mod notify;
mod params;
mod poll;
mod registry;
mod route53;
mod secrets;
pub mod spec;

pub use action::{Action, BoxFuture, NoUndo, Outcome, StepOutcome, TypedAction, nothing_to_undo};
pub use context::{
    Approvals, AskFn, Mode, RUN_ID_TAG, STEP_TAG, StepContext, StepEvent, StepJournal,
};
pub use error::ActionError;
pub(crate) use error::on;
pub use poll::{Poll, poll_until};
pub use registry::implementation;

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
