//! The command line: clap definitions (`args`), settings resolution, one file per command
//! with a `run(&Settings, &Args) -> anyhow::Result<Exit>` handler, and the dispatcher that
//! maps outcomes to the exit codes of docs/exit-codes.md.

mod args;
mod check;
mod cleanup;
mod completions;
mod config;
mod dispatch;
mod drill;
mod exit;
mod failover;
mod frontend;
mod history;
mod iam_policy;
mod plan;
mod plan_render;
mod progress;
mod report;
mod resume;
mod runs;
mod runs_common;
mod schedule;
mod schema;
mod settings;
mod state;
mod status;
mod validate;

pub use args::{
    CheckArgs, CleanupArgs, Cli, Command, CompletionsArgs, DrillArgs, FailoverArgs, GlobalArgs,
    HistoryArgs, IamPolicyArgs, LambdaArgs, OutputFormat, PlanArgs, ReportArgs, ReportFormat,
    ResumeArgs, RunsArgs, ScheduleAction, ScheduleApplyArgs, ScheduleArgs, ScheduleRemoveArgs,
    ScheduleSpecArgs, SchemaArgs, SchemaKind, StatusArgs, ValidateArgs, VarArgs,
};
pub use dispatch::{run, usage_error};
pub use exit::{Exit, UsageError, code as exit_code};
pub use settings::Settings;
