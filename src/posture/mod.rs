//! RPO exposure (`drctl check`, DESIGN.md section 2): the RPO a disaster would give if it
//! struck now, per recovered data resource of each runbook or drill, against its target,
//! with the evidence and a plain statement of what the setup can and cannot give (hourly
//! EFS backups cannot give a 5-minute RPO). Read-only; meant to run every few minutes.
//!
//! `resources` reads what a runbook recovers from its steps, `probe` asks AWS where each
//! resource stands (with `plans` for backup schedules), `judge` compares with the target,
//! `check` ties them together, `model` is the report, `human` its table and `emf` its
//! CloudWatch metric lines.

mod check;
mod emf;
mod human;
mod judge;
mod model;
mod plans;
mod probe;
mod resources;

pub use check::check;
pub use emf::{emf_document, emf_lines};
pub use human::{exposure_message, render_check};
pub use model::{CHECK_SCHEMA_VERSION, CheckReport, CheckStatus, Fact, ResourceCheck};
pub use resources::Subject;
