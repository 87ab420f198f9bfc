//! `ecr.replicate` (being implemented).

use super::spec::{self, ActionSpec};
use super::{Action, ActionError, BoxFuture, StepContext, StepOutcome};

/// `ecr.replicate`.
pub(crate) struct Replicate;

impl Action for Replicate {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("ecr.replicate").expect("catalogue entry")
    }

    fn describe(&self, _ctx: &StepContext) -> Vec<String> {
        vec!["ecr.replicate".into()]
    }

    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            Err(ActionError::fatal(
                format!("step {}", ctx.step_id),
                "ecr.replicate is not implemented in this build",
            ))
        })
    }
}
