//! Secrets Manager actions (being implemented).

use super::spec::{self, ActionSpec};
use super::{Action, ActionError, BoxFuture, StepContext, StepOutcome};

/// `secrets.replicate`.
pub(crate) struct Replicate;
/// `secrets.promote`.
pub(crate) struct Promote;

impl Action for Replicate {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("secrets.replicate").expect("catalogue entry")
    }
    fn describe(&self, _ctx: &StepContext) -> Vec<String> {
        vec![]
    }
    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move { Err(ActionError::fatal(&ctx.step_id, "not implemented")) })
    }
}

impl Action for Promote {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("secrets.promote").expect("catalogue entry")
    }
    fn describe(&self, _ctx: &StepContext) -> Vec<String> {
        vec![]
    }
    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move { Err(ActionError::fatal(&ctx.step_id, "not implemented")) })
    }
}
