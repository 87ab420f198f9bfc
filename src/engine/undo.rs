//! Driving a drill's undo: every succeeded step that left undo data and is not undone yet,
//! newest first (`RunState::undo_pending`), each through its action's `undo` within the
//! step's timeout. Best effort: a failed undo is reported and the rest still run. The undo
//! changes no run state itself: it reports each start and end to the scheduler, which
//! journals them (so a second undo, or `drctl cleanup`, does not repeat one that succeeded).

use super::executor::{Message, Reporter, failure};
use super::plan::{ExecPlan, ExecStep};
use super::state::RunState;
use crate::actions::{ActionError, StepContext};
use crate::aws::ErrorClass;

/// Undo the pending steps of `state`, with the context `context_for` builds for each (from
/// the step and its journalled notes). Returns the steps whose undo failed, with why.
pub(super) async fn undo_all(
    plan: &ExecPlan,
    state: &RunState,
    reporter: &Reporter,
    context_for: impl Fn(&ExecStep, Vec<serde_json::Value>) -> StepContext,
) -> Vec<(String, String)> {
    let mut failures = Vec::new();
    // Steps that started but never finished may have created something too: their notes
    // are all we have, so they are undone only through their action's undo data once
    // resumed (or found by tag by `drctl cleanup`). Here: succeeded steps, newest first.
    for id in state.undo_pending() {
        let s = state.step(id);
        let Some(undo) = s.outcome.as_ref().and_then(|o| o.undo.clone()) else {
            continue;
        };
        let Some(step) = plan.step(id) else { continue };
        // Undo is best effort, and every action's undo looks before it acts: a journal that
        // cannot record the start does not stop it (a repeat finds nothing left to do).
        let _ = reporter
            .journalled(|journalled| Message::UndoStarted {
                step: id.to_string(),
                journalled,
            })
            .await;
        let ctx = context_for(step, s.notes.clone());
        let failure = undo_step(step, &ctx, &undo)
            .await
            .err()
            .map(|e| failure(&e));
        if let Some(f) = &failure {
            failures.push((id.to_string(), f.message.clone()));
        }
        reporter.send(Message::UndoFinished {
            step: id.to_string(),
            failure,
        });
    }
    failures
}

/// One step's undo, bounded by the step's timeout (a timeout leaves the undo in doubt).
async fn undo_step(
    step: &ExecStep,
    ctx: &StepContext,
    undo: &serde_json::Value,
) -> Result<(), ActionError> {
    tokio::time::timeout(step.timeout, step.action.undo(ctx, undo))
        .await
        .unwrap_or_else(|_| {
            Err(ActionError::Failed {
                resource: format!("undo of step {}", step.id),
                message: format!("timed out after {:?}", step.timeout),
                class: ErrorClass::InDoubt,
            })
        })
}
