//! Telling the world about a run (`--notify`, `--emf`) from `drill`, `failover` and
//! `resume`: the start message goes out in the background so that neither T0 nor the first
//! step waits on SNS; after the run the EMF line is printed on stderr and the finish message
//! is published. Publishing is bounded (`runner::PUBLISH_TIMEOUT`) and a failure is a warning
//! on stderr: a notification never changes a run's outcome or exit code.

use tokio::task::JoinHandle;

use super::progress::Progress;
use super::settings::Settings;
use crate::aws::AwsClients;
use crate::engine::RunHeader;
use crate::report::{Report, emf_line, finish_message, start_message};
use crate::runner::Notifier;

/// The notifications and metrics of one run.
pub(crate) struct Announce {
    notifier: Option<Notifier>,
    emf: bool,
    progress: Progress,
    start: Option<JoinHandle<()>>,
}

impl Announce {
    /// From the global flags; does nothing when neither `--notify` nor `--emf` is given.
    pub(crate) fn new(settings: &Settings, aws: &AwsClients, progress: &Progress) -> Announce {
        Announce {
            notifier: settings
                .notify_topic
                .as_deref()
                .and_then(|arn| Notifier::new(aws, arn)),
            emf: settings.emf,
            progress: progress.clone(),
            start: None,
        }
    }

    /// Publish the start message without waiting for it.
    pub(crate) fn run_started(&mut self, header: &RunHeader, resumed: bool) {
        let Some(notifier) = self.notifier.clone() else {
            return;
        };
        let message = start_message(header, resumed);
        let progress = self.progress.clone();
        self.start = Some(tokio::spawn(async move {
            if let Err(e) = notifier.publish(&message).await {
                progress.println(&warning(notifier.topic_arn(), "start", &e));
            }
        }));
    }

    /// Print the EMF line and publish the finish message (after the start message, so that
    /// subscribers see them in order).
    pub(crate) async fn run_finished(self, report: &Report, html: &str) {
        if self.emf {
            eprintln!("{}", emf_line(report));
        }
        if let Some(start) = self.start {
            let _ = start.await;
        }
        if let Some(notifier) = &self.notifier
            && let Err(e) = notifier.publish(&finish_message(report, Some(html))).await
        {
            eprintln!("{}", warning(notifier.topic_arn(), "finish", &e));
        }
    }
}

fn warning(topic: &str, which: &str, error: &dyn std::fmt::Display) -> String {
    format!("warning: could not send the {which} notification to {topic}: {error}")
}
