//! `approve`: a manual gate. Approved in advance with `--approve STEP`, by a person at the
//! terminal, or automatically in drills (unless the step says `in_drill = "ask"`). With no
//! way to ask, the step fails plainly instead of waiting forever.

use super::spec::{self, ActionSpec};
use super::{Action, ActionError, BoxFuture, StepContext, StepOutcome};

/// `approve`.
pub(crate) struct Approve;

impl Action for Approve {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("approve").expect("catalogue entry")
    }

    fn describe(&self, ctx: &StepContext) -> Vec<String> {
        vec![format!(
            "wait for approval: {}",
            ctx.opt_str("message").unwrap_or("Continue?")
        )]
    }

    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            let message = ctx.str("message")?.to_string();
            let by = if ctx.approvals.pre_approved.contains(&ctx.step_id) {
                "flag"
            } else if ctx.mode.is_drill() && ctx.opt_str("in_drill") != Some("ask") {
                "drill"
            } else if let Some(ask) = &ctx.approvals.ask {
                ctx.progress(format!("waiting for approval: {message}"));
                if ask(ctx.step_id.clone(), message.clone()).await {
                    "terminal"
                } else {
                    return Err(ActionError::fatal(
                        format!("approval {}", ctx.step_id),
                        "declined by the operator",
                    ));
                }
            } else {
                return Err(ActionError::fatal(
                    format!("approval {}", ctx.step_id),
                    format!(
                        "needs a person and none can be asked here; rerun with --approve {} (or resume it from a terminal)",
                        ctx.step_id
                    ),
                ));
            };
            let mut outcome = StepOutcome::default();
            outcome.outputs.insert("approved_by".into(), by.into());
            Ok(outcome)
        })
    }
}
