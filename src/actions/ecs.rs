//! `ecs.scale` (being implemented).

use super::spec::{self, ActionSpec};
use super::{Action, ActionError, BoxFuture, StepContext, StepOutcome};

/// `ecs.scale`.
pub(crate) struct Scale;

impl Action for Scale {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("ecs.scale").expect("catalogue entry")
    }

    fn describe(&self, _ctx: &StepContext) -> Vec<String> {
        vec!["ecs.scale".into()]
    }

    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            Err(ActionError::fatal(
                format!("step {}", ctx.step_id),
                "ecs.scale is not implemented in this build",
            ))
        })
    }
}
