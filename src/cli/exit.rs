//! drctl's exit codes, as documented in docs/exit-codes.md. Scripts and schedulers branch on
//! them, so a code's meaning never changes.

use std::process::ExitCode;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: success; a drill met its targets.
    Success,
    /// 1: runtime failure: a step or AWS call failed, a drill failed to run.
    Failure,
    /// 2: invalid input: a bad runbook or drill, bad arguments (clap usage errors too).
    Invalid,
    /// 3: a drill completed but missed a target, or `check` found exposure over target.
    TargetMissed,
    /// 4: refused: lock held by another run, confirmation declined, no terminal and no --yes.
    Refused,
    /// 5: interrupted (Ctrl-C); the run is resumable.
    Interrupted,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Invalid => 2,
            Exit::TargetMissed => 3,
            Exit::Refused => 4,
            Exit::Interrupted => 5,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// A problem with how drctl was called (not with what it was asked to do): exit 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
