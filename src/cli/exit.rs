//! drctl's exit codes, as documented in docs/exit-codes.md. Scripts and schedulers branch on
//! them, so a code's meaning never changes. The runner classifies how a command ended
//! ([`ExitClass`](crate::runner::ExitClass), here `Exit`); this is where a class gets its
//! number.

use std::process::ExitCode;

pub use crate::runner::ExitClass as Exit;

/// The process exit code of each class.
pub fn code(exit: Exit) -> u8 {
    match exit {
        Exit::Success => 0,
        Exit::Failure => 1,
        Exit::Invalid => 2,
        Exit::TargetMissed => 3,
        Exit::Refused => 4,
        Exit::Interrupted => 5,
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(code(exit))
    }
}

/// A problem with how drctl was called (not with what it was asked to do): exit 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
