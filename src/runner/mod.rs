//! Whole runs: from a runbook (or drill) to a journalled, locked, executed and measured run.
//! `failover`, `drill`, `resume` and the Lambda handler all go through here, and `cleanup`
//! removes what a drill run left behind.

mod cleanup;
mod notify;
mod prepare;
mod session;

pub use cleanup::{
    CLEANUP_SCHEMA_VERSION, Cleanup, CleanupError, Found, StaleRun, UndoneStep, cleanup_run,
    stale_runs,
};
pub use notify::{Notifier, NotifyError, PUBLISH_TIMEOUT, topic_region};
pub use prepare::{new_run_id, runbook_of, selection, sha256_file, vars_map};
pub use session::{
    CONTINUATION_REASON, RunRequest, Session, SessionError, continuation_of, finish_drill,
    open_run, save_report, start_run,
};
