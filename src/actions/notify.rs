//! `notify`: publish a message to an SNS topic (by ARN, or by name in the step's region).
//! Drill messages are marked as such so nobody mistakes a drill for an incident.

use serde::Deserialize;

use super::spec::{ActionSpec, ParamType, RegionUse, opt, out, req};
use super::{
    ActionError, BoxFuture, NoUndo, Outcome, StepContext, TypedAction, nothing_to_undo, on,
};
use crate::aws::aws_err;

/// `notify` in the catalogue.
pub(crate) static SPEC: ActionSpec = ActionSpec {
    name: "notify",
    summary: "Publish a message to an SNS topic",
    params: &[
        req(
            "topic",
            ParamType::String,
            "topic ARN or name (in the step's region)",
        ),
        req("message", ParamType::String, "message text"),
        opt("subject", ParamType::String, "subject line"),
    ],
    outputs: &[out("message_id", "the SNS message id")],
    iam: &["sns:Publish", "sns:ListTopics", "sts:GetCallerIdentity"],
    estimate_secs: 2,
    mutating: true,
    verification: false,
    rpo_evidence: false,
    region: RegionUse::Required,
};

/// `notify`.
pub(crate) struct Notify;

/// The parameters of `notify`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    /// A topic ARN, or a topic name in the step's region.
    topic: String,
    message: String,
    subject: Option<String>,
}

impl TypedAction for Notify {
    const SPEC: &'static ActionSpec = &SPEC;
    type Params = Params;
    /// A message sent stays sent.
    type Undo = NoUndo;

    fn describe(&self, _ctx: &StepContext, p: &Params) -> Vec<String> {
        vec![format!("sns:Publish to {}", p.topic)]
    }

    fn run<'a>(
        &'a self,
        ctx: &'a StepContext,
        p: Params,
    ) -> BoxFuture<'a, Result<Outcome<NoUndo>, ActionError>> {
        Box::pin(async move {
            let region = ctx.region()?.to_string();
            let topic = p.topic;
            let topic_arn = if topic.starts_with("arn:") {
                topic
            } else {
                let account = ctx.account().await?;
                format!("arn:aws:sns:{region}:{account}:{topic}")
            };
            let drill = ctx.mode.is_drill();
            let mut message = p.message;
            if drill {
                message = format!("[DRILL {}] {message}", ctx.run_id);
            }
            let mut req = ctx
                .aws
                .sns(&region)
                .publish()
                .topic_arn(&topic_arn)
                .message(message);
            if let Some(subject) = p.subject {
                let subject = if drill {
                    format!("[DRILL] {subject}")
                } else {
                    subject
                };
                // SNS subjects are limited to 100 characters.
                req = req.subject(subject.chars().take(100).collect::<String>());
            }
            let out = req
                .send()
                .await
                .map_err(aws_err("sns:Publish"))
                .map_err(on(format!("topic {topic_arn}")))?;
            let mut outcome = Outcome::default();
            outcome.outputs.insert(
                "message_id".into(),
                out.message_id().unwrap_or_default().to_string(),
            );
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
