//! The executor: one step's attempts, each bounded by the step's timeout, retried per its
//! [`RetryPolicy`] while the error is not fatal. It changes no run state itself: it reports
//! every attempt, retry, note and progress message to the scheduler ([`Reporter`]), which
//! journals and announces them, and waits for the journal where the action must not go on
//! without it (an attempt's start, a note).

use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use super::journal::{FailureRecord, JournalError};
use super::plan::ExecStep;
use crate::actions::{ActionError, BoxFuture, StepContext, StepEvent, StepJournal, StepOutcome};
use crate::aws::ErrorClass;

/// How often a step is tried and how long it waits between tries: plain data, from the
/// runbook's `retry` table. The SDK retries single calls underneath (see `aws::error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first included; at least 1.
    pub attempts: u32,
    /// The pause after the first failed attempt.
    pub initial_backoff: Duration,
    /// Each further pause is the previous one times this.
    pub factor: u32,
    /// No pause is longer than this.
    pub cap: Duration,
}

impl RetryPolicy {
    /// The longest pause between two attempts of a step, whatever its backoff: waiting
    /// longer than an hour to try a recovery step again is never what an incident wants.
    pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);

    /// `attempts` tries, pausing `initial_backoff` after the first failure and doubling
    /// from there up to [`RetryPolicy::MAX_BACKOFF`].
    pub fn exponential(attempts: u32, initial_backoff: Duration) -> RetryPolicy {
        RetryPolicy {
            attempts: attempts.max(1),
            initial_backoff,
            factor: 2,
            cap: Self::MAX_BACKOFF,
        }
    }

    /// The pauses between attempts, in order.
    pub fn backoff(&self) -> Backoff {
        Backoff {
            next: self.initial_backoff.min(self.cap),
            factor: self.factor,
            cap: self.cap,
        }
    }
}

/// The pauses of a [`RetryPolicy`]: the initial backoff, then each times the factor, capped.
/// Endless; the policy's attempts say how many are used.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    factor: u32,
    cap: Duration,
}

impl Iterator for Backoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let now = self.next;
        self.next = now
            .checked_mul(self.factor)
            .map_or(self.cap, |d| d.min(self.cap));
        Some(now)
    }
}

/// What a running step (or undo) reports to the scheduler.
pub(super) enum Message {
    /// An attempt is about to call the action; it waits until this is journalled.
    AttemptStarted {
        step: String,
        action: &'static str,
        attempt: u32,
        journalled: oneshot::Sender<Result<(), JournalError>>,
    },
    /// An attempt failed and the step is tried again after `delay`.
    Retrying {
        step: String,
        attempt: u32,
        failure: FailureRecord,
        delay: Duration,
    },
    /// A fact the step must not lose; it waits until this is journalled.
    Note {
        step: String,
        note: Value,
        journalled: oneshot::Sender<Result<(), JournalError>>,
    },
    /// What the step is doing or waiting for.
    Progress { step: String, message: String },
    /// A drill's undo of a step is about to start; it waits until this is journalled.
    UndoStarted {
        step: String,
        journalled: oneshot::Sender<Result<(), JournalError>>,
    },
    /// A drill's undo of a step ended (`failure` when it failed).
    UndoFinished {
        step: String,
        failure: Option<FailureRecord>,
    },
}

/// How a step task or the undo reaches the scheduler. It is also the steps' journal: a
/// note goes to the scheduler, which journals it, and the step waits for that.
#[derive(Clone)]
pub(super) struct Reporter {
    tx: mpsc::UnboundedSender<Message>,
}

impl Reporter {
    pub(super) fn new() -> (Reporter, mpsc::UnboundedReceiver<Message>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Reporter { tx }, rx)
    }

    /// Send a message that waits for the journal, and wait.
    pub(super) async fn journalled(
        &self,
        message: impl FnOnce(oneshot::Sender<Result<(), JournalError>>) -> Message,
    ) -> Result<(), JournalError> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(message(done))
            .map_err(|_| JournalError::Closed)?;
        wait.await.unwrap_or(Err(JournalError::Closed))
    }

    pub(super) fn send(&self, message: Message) {
        // After the run is over nobody listens, and nothing is left to report.
        let _ = self.tx.send(message);
    }

    /// The progress channel of a step context: each event goes to the scheduler.
    pub(super) fn progress(&self) -> std::sync::Arc<dyn Fn(StepEvent) + Send + Sync> {
        let me = self.clone();
        std::sync::Arc::new(move |e: StepEvent| {
            me.send(Message::Progress {
                step: e.step,
                message: e.message,
            })
        })
    }
}

impl StepJournal for Reporter {
    fn note<'a>(&'a self, step: &'a str, note: &'a Value) -> BoxFuture<'a, std::io::Result<()>> {
        Box::pin(async move {
            self.journalled(|journalled| Message::Note {
                step: step.to_string(),
                note: note.clone(),
                journalled,
            })
            .await
            .map_err(std::io::Error::other)
        })
    }
}

/// A failure as journalled.
pub(super) fn failure(err: &ActionError) -> FailureRecord {
    FailureRecord {
        message: err.to_string(),
        class: err.class(),
        code: err.aws_code().map(str::to_owned),
    }
}

/// What a step task hands back to the scheduler when it is done.
pub(super) struct TaskResult {
    pub(super) step: String,
    pub(super) attempt: u32,
    pub(super) result: Result<StepOutcome, ActionError>,
}

/// One step, with its retries and timeout, numbering attempts from `first_attempt` (a
/// resumed step goes on counting). The final result goes back to the scheduler.
pub(super) async fn run_step(
    step: ExecStep,
    ctx: StepContext,
    reporter: Reporter,
    first_attempt: u32,
) -> TaskResult {
    let attempts = step.retry.attempts.max(1);
    let mut backoff = step.retry.backoff();
    let mut attempt = first_attempt.max(1);
    let mut tries = 0;
    let done = |attempt, result| TaskResult {
        step: step.id.clone(),
        attempt,
        result,
    };
    loop {
        tries += 1;
        let started = reporter
            .journalled(|journalled| Message::AttemptStarted {
                step: step.id.clone(),
                action: step.action.spec().name,
                attempt,
                journalled,
            })
            .await;
        if let Err(e) = started {
            return done(
                attempt,
                Err(ActionError::fatal(
                    format!("journal of run {}", ctx.run_id),
                    format!("cannot write the journal: {e}"),
                )),
            );
        }
        let result = match tokio::time::timeout(step.timeout, step.action.run(&ctx)).await {
            Ok(r) => r,
            Err(_) => Err(ActionError::Failed {
                resource: format!("step {}", step.id),
                message: format!(
                    "timed out after {}s (raise `timeout` in the runbook if this is expected)",
                    step.timeout.as_secs()
                ),
                class: ErrorClass::InDoubt,
            }),
        };
        match result {
            Err(err)
                if tries < attempts
                    && err.class() != ErrorClass::Fatal
                    && !matches!(err, ActionError::Interrupted)
                    && !ctx.is_interrupted() =>
            {
                let delay = backoff.next().unwrap_or(step.retry.cap);
                reporter.send(Message::Retrying {
                    step: step.id.clone(),
                    attempt,
                    failure: failure(&err),
                    delay,
                });
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            result => return done(attempt, result),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_multiplies_from_the_initial_pause_up_to_the_cap() {
        let policy = RetryPolicy {
            attempts: 6,
            initial_backoff: Duration::from_secs(5),
            factor: 2,
            cap: Duration::from_secs(30),
        };
        let pauses: Vec<u64> = policy.backoff().take(5).map(|d| d.as_secs()).collect();
        assert_eq!(pauses, [5, 10, 20, 30, 30]);
        let huge = RetryPolicy::exponential(100, Duration::from_secs(u64::MAX / 2));
        assert!(
            huge.backoff()
                .take(100)
                .all(|d| d <= RetryPolicy::MAX_BACKOFF)
        );
    }
}
