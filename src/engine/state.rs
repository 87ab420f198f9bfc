//! A run's state, rebuilt by replaying its journal. `resume`, `status`, `runs` and the
//! reports read runs through this; only the scheduler writes the journal.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::journal::{Entry, FailureRecord, Record, RunHeader, RunStatus};
use crate::actions::StepOutcome;

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pending,
    /// Started and not finished: after a crash this is *in doubt*; the action reconciles
    /// with AWS (by token or tag) when the step runs again.
    Running,
    Succeeded,
    Failed,
    Skipped,
}

/// One step as the journal tells it.
#[derive(Debug, Clone, Serialize)]
pub struct StepState {
    pub status: StepStatus,
    pub attempts: u32,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: Option<StepOutcome>,
    pub notes: Vec<Value>,
    pub failure: Option<FailureRecord>,
    pub skip_reason: Option<String>,
    pub undo: Option<UndoStatus>,
}

impl Default for StepState {
    fn default() -> Self {
        StepState {
            status: StepStatus::Pending,
            attempts: 0,
            started_at: None,
            finished_at: None,
            outcome: None,
            notes: Vec::new(),
            failure: None,
            skip_reason: None,
            undo: None,
        }
    }
}

/// Where a drill's undo of a step stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UndoStatus {
    Started,
    Succeeded,
    Failed(String),
}

/// A whole run as the journal tells it.
#[derive(Debug, Clone, Serialize)]
pub struct RunState {
    pub header: RunHeader,
    pub steps: BTreeMap<String, StepState>,
    /// Step ids in the order they succeeded (undo runs in reverse).
    pub success_order: Vec<String>,
    pub status: Option<RunStatus>,
    pub started_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub interrupted: Option<String>,
}

impl RunState {
    /// Replay journal entries. `None` when there is no header.
    pub fn replay(entries: &[Entry]) -> Option<RunState> {
        let first = entries.first()?;
        let Record::RunStarted { header } = &first.record else {
            return None;
        };
        let mut state = RunState {
            header: (**header).clone(),
            steps: BTreeMap::new(),
            success_order: Vec::new(),
            status: None,
            started_at: first.at,
            last_at: first.at,
            interrupted: None,
        };
        for entry in &entries[1..] {
            state.apply(entry);
        }
        Some(state)
    }

    fn apply(&mut self, entry: &Entry) {
        self.last_at = entry.at;
        match &entry.record {
            Record::RunStarted { .. } => {}
            Record::RunResumed { .. } => {
                self.status = None;
                self.interrupted = None;
            }
            Record::StepStarted { step, attempt } => {
                let s = self.steps.entry(step.clone()).or_default();
                s.status = StepStatus::Running;
                s.attempts = *attempt;
                s.started_at.get_or_insert(entry.at);
                s.finished_at = None;
                s.failure = None;
            }
            Record::StepNote { step, note } => {
                self.steps
                    .entry(step.clone())
                    .or_default()
                    .notes
                    .push(note.clone());
            }
            Record::StepSucceeded { step, outcome } => {
                let s = self.steps.entry(step.clone()).or_default();
                s.status = StepStatus::Succeeded;
                s.finished_at = Some(entry.at);
                s.outcome = Some((**outcome).clone());
                self.success_order.retain(|id| id != step);
                self.success_order.push(step.clone());
            }
            Record::StepFailed {
                step,
                failure,
                will_retry,
                ..
            } => {
                let s = self.steps.entry(step.clone()).or_default();
                s.failure = Some(failure.clone());
                if !will_retry {
                    s.status = StepStatus::Failed;
                    s.finished_at = Some(entry.at);
                }
            }
            Record::StepSkipped { step, reason } => {
                let s = self.steps.entry(step.clone()).or_default();
                s.status = StepStatus::Skipped;
                s.skip_reason = Some(reason.clone());
            }
            Record::RunInterrupted { reason } => self.interrupted = Some(reason.clone()),
            Record::RunFinished { status } => self.status = Some(*status),
            Record::UndoStarted { step } => {
                self.steps.entry(step.clone()).or_default().undo = Some(UndoStatus::Started);
            }
            Record::UndoSucceeded { step } => {
                self.steps.entry(step.clone()).or_default().undo = Some(UndoStatus::Succeeded);
            }
            Record::UndoFailed { step, failure } => {
                self.steps.entry(step.clone()).or_default().undo =
                    Some(UndoStatus::Failed(failure.message.clone()));
            }
        }
    }

    /// The state of `step` (pending if the journal never mentions it).
    pub fn step(&self, id: &str) -> StepState {
        self.steps.get(id).cloned().unwrap_or_default()
    }

    /// Whether what this run did must be undone without asking anyone: every isolated
    /// drill, and a live drill that did not succeed. (A live drill that succeeded made the
    /// new production: undoing it is its failback, which waits for an approval.)
    pub fn undo_due(&self) -> bool {
        self.header.mode == crate::actions::Mode::DrillIsolated
            || (self.header.mode.is_drill() && self.status != Some(super::RunStatus::Succeeded))
    }

    /// Whether this is a live drill that succeeded and still awaits its failback (the undo
    /// of its steps, which moves production back and so waits for an approval).
    pub fn failback_pending(&self) -> bool {
        self.header.mode == crate::actions::Mode::DrillLive
            && self.status == Some(super::RunStatus::Succeeded)
            && !self.undo_pending().is_empty()
    }

    /// Succeeded steps with undo data that is not undone yet, newest first: the order to
    /// undo them in.
    pub fn undo_pending(&self) -> Vec<&str> {
        self.success_order
            .iter()
            .rev()
            .filter(|id| {
                self.steps.get(*id).is_some_and(|s| {
                    s.undo != Some(UndoStatus::Succeeded)
                        && s.outcome.as_ref().is_some_and(|o| o.undo.is_some())
                })
            })
            .map(String::as_str)
            .collect()
    }
}
