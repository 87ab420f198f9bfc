//! Delivering run notifications (`--notify TOPIC_ARN`) to SNS. The messages are built in
//! `report::notify`; this only publishes them, in the topic's own region, within a bounded
//! time. A notification is a courtesy to the people watching: callers report a failure and
//! carry on, never failing or holding up the run because of it.

use std::time::Duration;

use crate::aws::{AwsClients, AwsError, aws_err};
use crate::report::Message;

/// The longest a publish may take, SDK retries included. The SDK's own call budget (60 s) is
/// meant for recovery steps; a notification that has not gone after this is reported and
/// dropped.
pub const PUBLISH_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a notification was not sent.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{0}")]
    Aws(#[from] AwsError),
    /// The call may still reach SNS: the message is *in doubt*, not lost for sure.
    #[error("sns:Publish did not answer within {}s (the message may still arrive)", .0.as_secs())]
    Timeout(Duration),
}

/// The region of an SNS topic ARN (`arn:PARTITION:sns:REGION:ACCOUNT:NAME`), or `None` if
/// `arn` is not one.
pub fn topic_region(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", partition, "sns", region, account, name]
            if !partition.is_empty()
                && !region.is_empty()
                && !account.is_empty()
                && !name.is_empty() =>
        {
            Some(region)
        }
        _ => None,
    }
}

/// Publishes messages to one SNS topic.
#[derive(Debug, Clone)]
pub struct Notifier {
    client: aws_sdk_sns::Client,
    topic_arn: String,
    timeout: Duration,
}

impl Notifier {
    /// A notifier for `topic_arn`, with a client in the topic's region. `None` if the ARN is
    /// not an SNS topic ARN (the command line checks this before).
    pub fn new(aws: &AwsClients, topic_arn: &str) -> Option<Notifier> {
        let region = topic_region(topic_arn)?;
        Some(Notifier {
            client: aws.sns(region),
            topic_arn: topic_arn.to_string(),
            timeout: PUBLISH_TIMEOUT,
        })
    }

    /// The same notifier with another time bound (tests use a short one).
    pub fn with_timeout(mut self, timeout: Duration) -> Notifier {
        self.timeout = timeout;
        self
    }

    /// The topic messages go to.
    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }

    /// Publish one message; returns SNS's message id.
    pub async fn publish(&self, message: &Message) -> Result<String, NotifyError> {
        let call = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&message.subject)
            .message(&message.body)
            .send();
        let out = tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| NotifyError::Timeout(self.timeout))?
            .map_err(aws_err("sns:Publish"))?;
        Ok(out.message_id().unwrap_or_default().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_comes_from_the_topic_arn() {
        assert_eq!(
            topic_region("arn:aws:sns:us-west-2:123456789012:prod-infra-dr-alerts"),
            Some("us-west-2")
        );
        assert_eq!(
            topic_region("arn:aws-cn:sns:cn-north-1:123456789012:alerts"),
            Some("cn-north-1")
        );
        for bad in [
            "prod-infra-dr-alerts",
            "arn:aws:sqs:us-west-2:123456789012:q",
            "arn:aws:sns::123456789012:t",
            "arn:aws:sns:us-west-2:123456789012",
            "arn:aws:sns:us-west-2:123456789012:t:subscription-id",
        ] {
            assert_eq!(topic_region(bad), None, "{bad}");
        }
    }
}
