//! Telling the world about a run (`--notify`, `--emf`) from `drill`, `failover` and
//! `resume`: the start message goes out in the background so that neither T0 nor the first
//! step waits on SNS; after the run the EMF line goes to the front end as a
//! [`Notice::Metric`] and the finish message is published. Publishing is bounded
//! ([`PUBLISH_TIMEOUT`](super::PUBLISH_TIMEOUT)) and a failure is a warning: a notification
//! never changes a run's outcome or exit code.

use tokio::task::JoinHandle;

use super::frontend::{Notice, NoticeSink};
use super::notify::Notifier;
use crate::aws::AwsClients;
use crate::engine::RunHeader;
use crate::report::{Report, emf_line, finish_message, start_message};

/// How runs are announced: `--notify TOPIC_ARN` and `--emf`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Announcements {
    /// The SNS topic run notifications go to.
    pub notify_topic: Option<String>,
    /// Emit an Embedded Metric Format line after a run.
    pub emf: bool,
}

impl Announcements {
    /// The notifier of `--notify`, when one is set (and is an SNS topic ARN).
    pub fn notifier(&self, aws: &AwsClients) -> Option<Notifier> {
        self.notify_topic
            .as_deref()
            .and_then(|arn| Notifier::new(aws, arn))
    }
}

/// The notifications and metrics of one run.
pub(crate) struct Announce {
    notifier: Option<Notifier>,
    emf: bool,
    notices: NoticeSink,
    start: Option<JoinHandle<()>>,
}

impl Announce {
    /// Does nothing when neither `--notify` nor `--emf` is given.
    pub(crate) fn new(
        settings: &Announcements,
        aws: &AwsClients,
        notices: &NoticeSink,
    ) -> Announce {
        Announce {
            notifier: settings.notifier(aws),
            emf: settings.emf,
            notices: notices.clone(),
            start: None,
        }
    }

    /// Publish the start message without waiting for it.
    pub(crate) fn run_started(&mut self, header: &RunHeader, resumed: bool) {
        let Some(notifier) = self.notifier.clone() else {
            return;
        };
        let message = start_message(header, resumed);
        let notices = self.notices.clone();
        self.start = Some(tokio::spawn(async move {
            if let Err(e) = notifier.publish(&message).await {
                notices(warning(notifier.topic_arn(), "start", &e));
            }
        }));
    }

    /// Emit the EMF line and publish the finish message (after the start message, so that
    /// subscribers see them in order).
    pub(crate) async fn run_finished(self, report: &Report, html: &str) {
        if self.emf {
            (self.notices)(Notice::Metric(emf_line(report)));
        }
        if let Some(start) = self.start {
            let _ = start.await;
        }
        if let Some(notifier) = &self.notifier
            && let Err(e) = notifier.publish(&finish_message(report, Some(html))).await
        {
            (self.notices)(warning(notifier.topic_arn(), "finish", &e));
        }
    }
}

fn warning(topic: &str, which: &str, error: &dyn std::fmt::Display) -> Notice {
    Notice::Warning(format!(
        "could not send the {which} notification to {topic}: {error}"
    ))
}
