//! Run events: the only interface between the engine and whoever watches it (progress bars,
//! the JSON Lines stream, notifications). The engine never prints.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::journal::RunStatus;
use crate::aws::ErrorClass;

/// Something that happened in a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    RunStarted {
        run_id: String,
        runbook: String,
        mode: crate::actions::Mode,
        t0: DateTime<Utc>,
        rto_target_secs: Option<u64>,
        steps: Vec<String>,
        resumed: bool,
        at: DateTime<Utc>,
    },
    StepStarted {
        step: String,
        action: String,
        attempt: u32,
        at: DateTime<Utc>,
    },
    StepProgress {
        step: String,
        message: String,
        at: DateTime<Utc>,
    },
    StepRetrying {
        step: String,
        attempt: u32,
        error: String,
        delay_ms: u64,
        at: DateTime<Utc>,
    },
    StepSucceeded {
        step: String,
        simulated: Option<String>,
        at: DateTime<Utc>,
    },
    StepFailed {
        step: String,
        error: String,
        code: Option<String>,
        class: ErrorClass,
        at: DateTime<Utc>,
    },
    StepSkipped {
        step: String,
        reason: String,
        at: DateTime<Utc>,
    },
    Stopping {
        reason: String,
        at: DateTime<Utc>,
    },
    UndoStarted {
        step: String,
        at: DateTime<Utc>,
    },
    UndoFinished {
        step: String,
        error: Option<String>,
        at: DateTime<Utc>,
    },
    RunFinished {
        run_id: String,
        status: RunStatus,
        at: DateTime<Utc>,
    },
}

/// Receives every event, in order, from the scheduler.
pub type EventSink = Arc<dyn Fn(RunEvent) + Send + Sync>;

/// A sink that drops everything.
pub fn null_sink() -> EventSink {
    Arc::new(|_| {})
}
