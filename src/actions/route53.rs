//! `route53.failover` (being implemented).

use super::spec::{self, ActionSpec};
use super::{Action, ActionError, BoxFuture, StepContext, StepOutcome};

/// `route53.failover`.
pub(crate) struct Failover;

impl Action for Failover {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("route53.failover").expect("catalogue entry")
    }

    fn describe(&self, _ctx: &StepContext) -> Vec<String> {
        vec!["route53.failover".into()]
    }

    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            Err(ActionError::fatal(
                format!("step {}", ctx.step_id),
                "route53.failover is not implemented in this build",
            ))
        })
    }
}
