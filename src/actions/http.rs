//! `http.probe` (being implemented).

use super::spec::{self, ActionSpec};
use super::{Action, ActionError, BoxFuture, StepContext, StepOutcome};

/// `http.probe`.
pub(crate) struct Probe;

impl Action for Probe {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("http.probe").expect("catalogue entry")
    }

    fn describe(&self, _ctx: &StepContext) -> Vec<String> {
        vec!["http.probe".into()]
    }

    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            Err(ActionError::fatal(
                format!("step {}", ctx.step_id),
                "http.probe is not implemented in this build",
            ))
        })
    }
}
