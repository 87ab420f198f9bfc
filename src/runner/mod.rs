//! The runner: the library API both front ends (`cli`, `lambda`) call. Whole runs, from a
//! runbook (or drill) to a journalled, locked, executed and measured run: `failover`,
//! `drill`, `resume` and `cleanup` ([`Runner`]), `check`, and `dry_run`. Each takes plain
//! settings and the front end's callbacks ([`frontend`]) and returns typed outcomes (the
//! report, the run's status, an [`ExitClass`]). Nothing here or below knows about the
//! terminal or the Lambda runtime.

mod announce;
mod check;
mod cleanup;
mod dry_run;
pub mod frontend;
mod notify;
mod outcome;
mod prepare;
mod run;
mod session;

pub use announce::Announcements;
pub use check::{NoDrillFiles, check, drill_files, load_subjects};
pub use cleanup::{
    CLEANUP_SCHEMA_VERSION, Cleanup, CleanupError, Found, StaleRun, UndoneStep, cleanup_run,
    stale_runs,
};
pub use dry_run::{dry_header, dry_run};
pub use frontend::{Notice, NoticeSink};
pub use notify::{Notifier, NotifyError, PUBLISH_TIMEOUT, topic_region};
pub use outcome::ExitClass;
pub use prepare::{SelectionError, new_run_id, runbook_of, selection, sha256_file, vars_map};
pub use run::{Finished, OnInterrupt, RunEnd, Runner};
pub use session::{
    CONTINUATION_REASON, RunRequest, Session, SessionError, continuation_of, finish_drill,
    open_run, save_report, start_run,
};
