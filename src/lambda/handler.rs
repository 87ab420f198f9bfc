//! One container's handler: the runner (AWS clients with credentials checked once, the
//! state store, JSON-line events on stdout and notices on stderr) and one method per event.
//! The invocation's deadline becomes the runner's interrupts.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use tracing::Instrument;

use super::event::{Event, Summary, error, session_error};
use super::runtime::Init;
use crate::actions::{Approvals, Mode};
use crate::aws::AwsClients;
use crate::cli::{Exit, Settings, exit_code};
use crate::engine::{Engine, EventSink, Interrupts, RunEvent};
use crate::measure::Clock;
use crate::posture::CheckStatus;
use crate::report::Verdict;
use crate::runbook::{self, Isolation};
use crate::runner::{self, Notice, NoticeSink, OnInterrupt, RunEnd, RunRequest, Runner};

/// Run events as JSON lines on stdout: the Lambda log, which CloudWatch Logs keeps with the
/// invocation's request id.
fn event_lines() -> EventSink {
    Arc::new(|event: RunEvent| {
        if let Ok(line) = serde_json::to_string(&event) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    })
}

/// Everything built once per container.
pub(super) struct Handler {
    pub(super) settings: Settings,
    runner: Runner,
    /// Where `drills/` and `runbooks/` are.
    pub(super) home: PathBuf,
    pub(super) margin: Duration,
}

impl Handler {
    /// Build the AWS clients and check the credentials once.
    pub(super) async fn new(init: Init) -> anyhow::Result<Handler> {
        let aws = AwsClients::new(&init.settings.aws()).await;
        aws.check_credentials(init.settings.profile.as_deref())
            .await?;
        let notices: NoticeSink = Arc::new(|notice: Notice| eprintln!("{notice}"));
        let runner = Runner {
            engine: Engine {
                aws,
                clock: Clock::system(),
                sink: event_lines(),
            },
            store: init.settings.store()?,
            notices,
            announce: init.settings.announcements(),
        };
        Ok(Handler {
            settings: init.settings,
            runner,
            home: init.home,
            margin: init.margin,
        })
    }

    pub(super) async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
        let (payload, context) = event.into_parts();
        let deadline = SystemTime::UNIX_EPOCH + Duration::from_millis(context.deadline);
        let span = tracing::info_span!("invocation", request_id = %context.request_id);
        self.respond(payload, deadline).instrument(span).await
    }

    async fn respond(&self, payload: Value, deadline: SystemTime) -> Result<Value, Diagnostic> {
        let result = match Event::parse(payload) {
            Ok(event) => {
                tracing::info!(event = ?event, "invocation started");
                match event {
                    Event::Drill { drill, vars } => self.drill(&drill, vars, deadline).await,
                    Event::Check {} => self.check(deadline).await,
                    Event::Resume { run_id } => self.continue_run(&run_id, deadline).await,
                }
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(summary) => {
                let value = serde_json::to_value(&summary)
                    .map_err(|e| error("Failed", format!("cannot encode the summary: {e}")))?;
                tracing::info!(status = summary.status, run_id = ?summary.run_id, "invocation finished");
                Ok(value)
            }
            Err(e) => {
                tracing::error!(error_type = %e.error_type, error = %e.error_message, "invocation failed");
                Err(e)
            }
        }
    }

    /// A `drill` event: continue the run of this drill a deadline left, else start one.
    async fn drill(
        &self,
        name: &str,
        vars: BTreeMap<String, String>,
        deadline: SystemTime,
    ) -> Result<Summary, Diagnostic> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        {
            return Err(error(
                "InvalidEvent",
                format!(
                    "invalid drill name `{name}`: use the file name of drills/NAME.toml (letters, digits, - and _)"
                ),
            ));
        }
        let path = self.home.join("drills").join(format!("{name}.toml"));
        let (drill, runbook) = runbook::load_drill(&path, &vars)
            .map_err(|d| error("InvalidInput", d.render(false)))?;
        if let Some(run_id) =
            runner::continuation_of(&*self.runner.store, &drill.name).map_err(session_error)?
        {
            tracing::info!(run_id = %run_id, "continuing the run a deadline interrupted");
            return self.continue_run(&run_id, deadline).await;
        }
        if drill.mode == Isolation::Live {
            return Err(error(
                "Refused",
                format!(
                    "drill `{}` is live (a real failover): live drills need a person's confirmation and are not run from Lambda",
                    drill.name
                ),
            ));
        }
        let interrupts = self.deadline_interrupts(deadline)?;
        let request = RunRequest::drill(runbook, drill, Mode::DrillIsolated, vars, 4);
        let end = self
            .runner
            .drill(
                request,
                no_approvals(),
                interrupts.receiver,
                OnInterrupt::Continue,
            )
            .await;
        interrupts.timer.abort();
        self.summary("drill", end.map_err(session_error)?).await
    }

    /// Continue a run (a `resume` event, or a run a deadline left).
    async fn continue_run(
        &self,
        run_id: &str,
        deadline: SystemTime,
    ) -> Result<Summary, Diagnostic> {
        let interrupts = self.deadline_interrupts(deadline)?;
        let session =
            runner::open_run(&*self.runner.store, run_id, self.runner.engine.clock, false)
                .map_err(session_error)?;
        let end = self
            .runner
            .resume(
                &session,
                no_approvals(),
                interrupts.receiver,
                OnInterrupt::Continue,
            )
            .await;
        interrupts.timer.abort();
        let command = if session.header.drill_name.is_some() {
            "drill"
        } else {
            "resume"
        };
        self.summary(command, end.map_err(session_error)?).await
    }

    /// A `check` event: first continue every run of these drills that a deadline left (so
    /// that a frequent check schedule guarantees continuation), then the check.
    async fn check(&self, deadline: SystemTime) -> Result<Summary, Diagnostic> {
        let files = runner::drill_files(&self.home.join("drills"), "drills to check")
            .map_err(|e| error("InvalidInput", e.to_string()))?;
        let subjects = runner::load_subjects(&files).map_err(|invalid| {
            for diagnostics in invalid {
                eprint!("{}", diagnostics.render(self.settings.color));
            }
            error(
                "InvalidInput",
                format!(
                    "invalid files in {}: nothing was checked (the diagnostics are in the log)",
                    self.home.join("drills").display()
                ),
            )
        })?;
        let mut continued = Vec::new();
        for drill in subjects.iter().filter_map(|s| s.drill.as_deref()) {
            let Some(run_id) =
                runner::continuation_of(&*self.runner.store, drill).map_err(session_error)?
            else {
                continue;
            };
            tracing::info!(run_id = %run_id, "continuing the run a deadline interrupted before the check");
            let summary = self.continue_run(&run_id, deadline).await?;
            let cut_again = summary.status == "continuing";
            continued.push(summary);
            if cut_again {
                // No time is left for the check: the next one runs it.
                let mut out = Summary::empty("check", "continuing", Exit::Interrupted);
                out.run_id = continued[0].run_id.clone();
                out.t0 = continued[0].t0;
                out.continued = continued;
                return Ok(out);
            }
        }
        let report = runner::check(
            &self.runner.engine.aws,
            &subjects,
            &self.runner.announce,
            &self.runner.notices,
        )
        .await;
        let status = match report.status {
            CheckStatus::Ok => "ok",
            CheckStatus::Exceeded => "exceeded",
            CheckStatus::Error => "failed",
        };
        let mut out = Summary::empty("check", status, Exit::of_check(report.status));
        out.check = Some(report);
        out.continued = continued;
        Ok(out)
    }

    /// The summary of a run's end; a finished run is announced (EMF line, SNS) as the CLI
    /// does after printing its report.
    async fn summary(&self, command: &'static str, end: RunEnd) -> Result<Summary, Diagnostic> {
        match end {
            RunEnd::Continuing { run_id, t0 } => {
                tracing::warn!(run_id = %run_id, "the deadline is near: the run is left to be continued by the next invocation");
                let mut out = Summary::empty(command, "continuing", Exit::Interrupted);
                out.run_id = Some(run_id);
                out.t0 = Some(t0);
                Ok(out)
            }
            RunEnd::Finished(finished) => {
                let exit = finished.class();
                let status = match exit {
                    Exit::Success | Exit::TargetMissed => match finished.report.result {
                        Verdict::Met => "met",
                        Verdict::Missed => "missed",
                        Verdict::Error => "failed",
                    },
                    _ => "failed",
                };
                let report = &finished.report;
                let out = Summary {
                    command,
                    run_id: Some(report.run_id.clone()),
                    status,
                    exit_code: exit_code(exit),
                    achieved_rto_secs: report.rto.achieved_seconds,
                    achieved_rpo_secs: report.rpo.achieved_seconds,
                    report: Some(finished.html.clone()),
                    t0: Some(report.t0),
                    summary: Some(report.summary.clone()),
                    check: None,
                    continued: Vec::new(),
                };
                finished.announce().await;
                Ok(out)
            }
        }
    }

    /// Interrupts for the engine: the first a margin before the deadline (no new steps;
    /// running steps stop at their next safe point), the second half a margin later (abort,
    /// leaving running steps in doubt for the resume), so the response is posted before the
    /// runtime kills the invocation.
    fn deadline_interrupts(&self, deadline: SystemTime) -> Result<DeadlineInterrupts, Diagnostic> {
        let left = deadline
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        let Some(stop_in) = left.checked_sub(self.margin).filter(|d| !d.is_zero()) else {
            return Err(error(
                "Refused",
                format!(
                    "only {}s left before the invocation's deadline, within the {}s margin (DRCTL_LAMBDA_MARGIN_SECS): raise the function's timeout or lower the margin",
                    left.as_secs(),
                    self.margin.as_secs()
                ),
            ));
        };
        let (tx, receiver) = tokio::sync::mpsc::unbounded_channel();
        let abort_after = self.margin / 2;
        let timer = tokio::spawn(async move {
            tokio::time::sleep(stop_in).await;
            tracing::warn!("the invocation's deadline is near: stopping new steps");
            if tx.send(()).is_err() {
                return;
            }
            tokio::time::sleep(abort_after).await;
            tracing::warn!(
                "running steps did not stop in time: aborting them (they are resumed in doubt)"
            );
            let _ = tx.send(());
        });
        Ok(DeadlineInterrupts { receiver, timer })
    }
}

struct DeadlineInterrupts {
    receiver: Interrupts,
    timer: tokio::task::JoinHandle<()>,
}

/// Nobody can be asked in Lambda: drills approve automatically unless a step says
/// `in_drill = "ask"`, which then fails.
fn no_approvals() -> Approvals {
    Approvals {
        pre_approved: Default::default(),
        ask: None,
    }
}
