//! How a command ended, as docs/exit-codes.md classifies it. The runner returns this
//! classification; each front end gives it its own form (the CLI's process exit code,
//! `cli::exit`; the Lambda response's `status` and `exit_code`).

use crate::engine::RunStatus;
use crate::posture::CheckStatus;
use crate::report::{Report, Verdict};

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitClass {
    /// Success; a drill met its targets.
    Success,
    /// A runtime failure: a step or AWS call failed, a drill failed to run.
    Failure,
    /// Invalid input: a bad runbook or drill, bad arguments.
    Invalid,
    /// A drill completed but missed a target, or `check` found exposure over target.
    TargetMissed,
    /// Refused: lock held by another run, confirmation declined, no terminal and no --yes.
    Refused,
    /// Interrupted; the run is resumable.
    Interrupted,
}

impl ExitClass {
    /// A finished run: how it ended, what its report says, and whether it was a drill
    /// (a failover that recovered succeeded even if it missed a target; a drill did not).
    pub fn of_run(status: RunStatus, report: &Report, drill: bool) -> ExitClass {
        match status {
            RunStatus::Interrupted => ExitClass::Interrupted,
            RunStatus::Failed => ExitClass::Failure,
            RunStatus::Succeeded if drill && report.cleanup.status == "leftovers" => {
                ExitClass::Failure
            }
            RunStatus::Succeeded => match report.result {
                Verdict::Met => ExitClass::Success,
                Verdict::Missed if drill => ExitClass::TargetMissed,
                Verdict::Missed => ExitClass::Success,
                Verdict::Error if drill => ExitClass::Failure,
                Verdict::Error => ExitClass::Success,
            },
        }
    }

    /// A check of the RPO exposure.
    pub fn of_check(status: CheckStatus) -> ExitClass {
        match status {
            CheckStatus::Ok => ExitClass::Success,
            CheckStatus::Exceeded => ExitClass::TargetMissed,
            CheckStatus::Error => ExitClass::Failure,
        }
    }
}
