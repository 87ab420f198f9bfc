//! The runbook language: TOML files with named steps, each an action with parameters, linked
//! by `after` into a graph; and drill files that rehearse a runbook.
//!
//! Data flows one way: bytes → TOML tree with spans (`syntax`) → shape check against the
//! schema generated from the raw serde types (`shape`, `schema`, `raw`) → validated model
//! (`validate`, `params`, `drill`, `model`) → plan (`plan`). Every stage reports all the problems
//! it finds as `Diagnostic`s with a file, a position, a stable code and a hint.

mod code;
mod compile;
mod diagnostic;
mod drill;
mod duration;
mod graph;
mod interpolate;
mod load;
mod model;
mod names;
mod overrides;
mod params;
mod plan;
mod raw;
mod reference;
mod schedule;
mod schema;
mod shape;
mod source;
mod suggest;
mod syntax;
mod validate;

pub use code::Code;
pub use compile::{CompileError, compile, default_timeout};
pub use diagnostic::{Diagnostic, Diagnostics, Snippet};
pub use duration::{DurationError, format_duration, parse_duration};
pub use interpolate::{InterpolateError, StepRef, interpolate, references};
pub use load::{
    FileKind, Loaded, detect_kind, load_drill, load_file, load_runbook, load_runbook_str,
};
pub use model::{Drill, Isolation, Retry, Runbook, Step, Targets, Value};
pub use plan::{Plan, plan};
pub use reference::{actions_markdown, codes_markdown};
pub(crate) use schedule::check_schedule;
pub use schedule::{ScheduleGaps, schedule_gaps};
pub use schema::{drill_schema, runbook_schema};
