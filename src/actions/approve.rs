//! `approve` (being implemented).

use super::spec::{self, ActionSpec};
use super::{Action, ActionError, BoxFuture, StepContext, StepOutcome};

/// `approve`.
pub(crate) struct Approve;

impl Action for Approve {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("approve").expect("catalogue entry")
    }

    fn describe(&self, _ctx: &StepContext) -> Vec<String> {
        vec!["approve".into()]
    }

    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            Err(ActionError::fatal(
                format!("step {}", ctx.step_id),
                "approve is not implemented in this build",
            ))
        })
    }
}
