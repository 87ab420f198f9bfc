//! drctl: disaster-recovery orchestration for an ECS/EFS/ECR/Secrets Manager/Route 53 stack.
//!
//! Layers, each using only those below it (docs/architecture.md has the map, what each
//! module owns and where to add an action, a command or a store):
//!
//! ```text
//! cli, lambda                                  front ends: settings, terminal / Lambda runtime,
//!     |                                        output, exit codes
//! runner                                       the library API: failover, drill, resume,
//!     |                                        cleanup, check, dry run
//! posture, schedule, runbook, store, report    RPO exposure, schedules, the language (compiled
//!     |                                        into engine plans), state stores, reports
//! engine                                       scheduler (only writer of run state), executor,
//!     |                                        undo, plans, templates, journal format
//! actions                                      one module per action family, one shape
//!     |
//! measure, aws                                 clock, RTO/RPO; AWS clients and error classes
//! ```
//!
//! Nothing in `runner` or below prints, reads a terminal, exits the process or knows the
//! Lambda runtime; the engine does not import `runbook`; stores never render.

pub mod actions;
pub mod aws;
pub mod cli;
pub mod engine;
pub mod lambda;
pub mod measure;
pub mod posture;
pub mod report;
pub mod runbook;
pub mod runner;
pub mod schedule;
pub mod store;
