//! `approve`: a manual gate. Approved in advance with `--approve STEP`, by a person at the
//! terminal, or automatically in drills (unless the step says `in_drill = "ask"`). With no
//! way to ask, the step fails plainly instead of waiting forever.

use serde::Deserialize;

use super::spec::{ActionSpec, ParamType, RegionUse, dflt, out};
use super::{ActionError, BoxFuture, NoUndo, Outcome, StepContext, TypedAction, nothing_to_undo};

/// `approve` in the catalogue.
pub(crate) static SPEC: ActionSpec = ActionSpec {
    name: "approve",
    summary: "A manual gate: waits for a person (interactive prompt or --approve STEP)",
    params: &[
        dflt(
            "message",
            ParamType::String,
            "Continue?",
            "what the approver is asked",
        ),
        dflt(
            "in_drill",
            ParamType::Enum(&["auto", "ask"]),
            "auto",
            "auto-approve in drills, or ask there too",
        ),
    ],
    outputs: &[out(
        "approved_by",
        "who or what approved (tty, flag, drill)",
    )],
    iam: &[],
    estimate_secs: 60,
    mutating: false,
    verification: false,
    rpo_evidence: false,
    region: RegionUse::None,
};

/// `approve`.
pub(crate) struct Approve;

/// Where a drill stands on approvals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum InDrill {
    /// Approved without asking.
    Auto,
    /// Asked as in a failover.
    Ask,
}

/// The parameters of `approve`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    message: String,
    in_drill: InDrill,
}

impl TypedAction for Approve {
    const SPEC: &'static ActionSpec = &SPEC;
    type Params = Params;
    /// An approval changes nothing.
    type Undo = NoUndo;

    fn describe(&self, _ctx: &StepContext, p: &Params) -> Vec<String> {
        vec![format!("wait for approval: {}", p.message)]
    }

    fn run<'a>(
        &'a self,
        ctx: &'a StepContext,
        p: Params,
    ) -> BoxFuture<'a, Result<Outcome<NoUndo>, ActionError>> {
        Box::pin(async move {
            let message = p.message;
            let by = if ctx.approvals.pre_approved.contains(&ctx.step_id) {
                "flag"
            } else if ctx.mode.is_drill() && p.in_drill != InDrill::Ask {
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
            let mut outcome = Outcome::default();
            outcome.outputs.insert("approved_by".into(), by.into());
            Ok(outcome)
        })
    }

    fn undo<'a>(
        &'a self,
        _ctx: &'a StepContext,
        undo: NoUndo,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        nothing_to_undo(undo)
    }
}
