//! `notify` (being implemented).

use super::spec::{self, ActionSpec};
use super::{Action, ActionError, BoxFuture, StepContext, StepOutcome};

/// `notify`.
pub(crate) struct Notify;

impl Action for Notify {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("notify").expect("catalogue entry")
    }

    fn describe(&self, _ctx: &StepContext) -> Vec<String> {
        vec!["notify".into()]
    }

    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            Err(ActionError::fatal(
                format!("step {}", ctx.step_id),
                "notify is not implemented in this build",
            ))
        })
    }
}
