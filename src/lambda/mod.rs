//! The Lambda front end: `drctl lambda` (hidden; also what the binary does when the Lambda
//! runtime starts it with no arguments) serves invocations through `lambda_runtime`
//! (docs/lambda.md). Like the CLI, it is a thin layer over `runner`.
//!
//! Settings come from the environment through the same clap definitions as the CLI's global
//! flags (DRCTL_STATE_DIR, DRCTL_NOTIFY_TOPIC, AWS_ENDPOINT_URL, ...), resolved by
//! `cli::Settings`. The AWS clients are built and the credentials checked once per
//! container, at init (`runtime`). Each event (`event`) runs through the runner
//! (`Runner::drill`, `Runner::resume`, `runner::check`) in the `handler`; the response is a
//! JSON summary and errors (a malformed event, an invalid drill, a refused lock) go to the
//! runtime's `/error`, never a panic. Run events are JSON lines on stdout (the Lambda log),
//! notices lines on stderr.
//!
//! The invocation's deadline interrupts a run a margin before it (DRCTL_LAMBDA_MARGIN_SECS):
//! the run is left to be continued (no undo, no report; journal and lock kept) and the next
//! `drill` event of that drill, any `check` event, or a `resume` event continues it with the
//! same run id and T0, so the achieved RTO includes the gap between invocations.

mod event;
mod handler;
mod runtime;

pub use runtime::{report_init_error, run, started_by_lambda_runtime};
