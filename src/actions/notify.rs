//! `notify`: publish a message to an SNS topic (by ARN, or by name in the step's region).
//! Drill messages are marked as such so nobody mistakes a drill for an incident.

use super::spec::{self, ActionSpec};
use super::{Action, ActionError, BoxFuture, StepContext, StepOutcome, on};
use crate::aws::aws_err;

/// `notify`.
pub(crate) struct Notify;

impl Action for Notify {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("notify").expect("catalogue entry")
    }

    fn describe(&self, ctx: &StepContext) -> Vec<String> {
        vec![format!(
            "sns:Publish to {}",
            ctx.opt_str("topic").unwrap_or("?")
        )]
    }

    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            let region = ctx.region()?.to_string();
            let topic = ctx.str("topic")?;
            let topic_arn = if topic.starts_with("arn:") {
                topic.to_string()
            } else {
                let account = ctx.account().await?;
                format!("arn:aws:sns:{region}:{account}:{topic}")
            };
            let drill = ctx.mode.is_drill();
            let mut message = ctx.str("message")?.to_string();
            if drill {
                message = format!("[DRILL {}] {message}", ctx.run_id);
            }
            let mut req = ctx
                .aws
                .sns(&region)
                .publish()
                .topic_arn(&topic_arn)
                .message(message);
            if let Some(subject) = ctx.opt_str("subject") {
                let subject = if drill {
                    format!("[DRILL] {subject}")
                } else {
                    subject.to_string()
                };
                // SNS subjects are limited to 100 characters.
                req = req.subject(subject.chars().take(100).collect::<String>());
            }
            let out = req
                .send()
                .await
                .map_err(aws_err("sns:Publish"))
                .map_err(on(format!("topic {topic_arn}")))?;
            let mut outcome = StepOutcome::default();
            outcome.outputs.insert(
                "message_id".into(),
                out.message_id().unwrap_or_default().to_string(),
            );
            Ok(outcome)
        })
    }
}
