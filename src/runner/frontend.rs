//! What the runner needs from a front end (the CLI, the Lambda handler) to reach the people
//! watching, as plain callbacks: the engine's [`EventSink`](crate::engine::EventSink) for the
//! run's events, a [`NoticeSink`] for everything else worth saying, an approval asker
//! ([`Approvals`](crate::actions::Approvals)) and an interrupt receiver
//! ([`Interrupts`](crate::engine::Interrupts)). The runner never prints, reads a terminal or
//! exits the process: each front end decides how these look.

use std::sync::Arc;

/// Something the runner tells the people watching, beside the run's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A plain message ("run X already finished; nothing to run").
    Info(String),
    /// Something went wrong that does not change the outcome (a notification not sent, a
    /// lock taken over).
    Warning(String),
    /// A problem the result also carries (a resource a check could not measure).
    Error(String),
    /// A CloudWatch Embedded Metric Format line (`--emf`): it must reach CloudWatch Logs as
    /// it is, one line.
    Metric(String),
}

impl std::fmt::Display for Notice {
    /// The line a person reads: warnings and errors say so first.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::Info(text) | Notice::Metric(text) => f.write_str(text),
            Notice::Warning(text) => write!(f, "warning: {text}"),
            Notice::Error(text) => write!(f, "error: {text}"),
        }
    }
}

/// Receives every notice, in order.
pub type NoticeSink = Arc<dyn Fn(Notice) + Send + Sync>;
