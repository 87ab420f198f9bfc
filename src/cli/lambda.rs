//! `drctl lambda` (hidden; also what the binary does when the Lambda runtime starts it with
//! no arguments): serve invocations through `lambda_runtime` (docs/lambda.md).
//!
//! Settings come from the environment through the same clap definitions as the CLI's global
//! flags (DRCTL_STATE_DIR, DRCTL_NOTIFY_TOPIC, AWS_ENDPOINT_URL, ...). The AWS clients are
//! built and the credentials checked once per container, at init. Each event runs through
//! the CLI's own cores (`drill_core`, `resume_core`, `check_core`); the response is a JSON
//! summary and errors (a malformed event, an invalid drill, a refused lock) go to the
//! runtime's `/error`, never a panic.
//!
//! The invocation's deadline interrupts a run a margin before it (DRCTL_LAMBDA_MARGIN_SECS):
//! the run is left to be continued (no undo, no report; journal and lock kept) and the next
//! `drill` event of that drill, any `check` event, or a `resume` event continues it with the
//! same run id and T0, so the achieved RTO includes the gap between invocations.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::Instrument;

use super::args::{LambdaArgs, OutputFormat};
use super::check::{check_core, check_exit, drills_in, load_subjects};
use super::drill::{drill_core, drill_request};
use super::execute::{OnInterrupt, RunContext, RunEnd, engine_for, runtime};
use super::exit::Exit;
use super::progress::Progress;
use super::resume::resume_core;
use super::settings::Settings;
use crate::actions::{Approvals, Mode};
use crate::engine::{Engine, Interrupts};
use crate::posture::{CheckReport, CheckStatus};
use crate::report::Verdict;
use crate::runbook::{self, Isolation};
use crate::runner::{self, SessionError};
use crate::store::SharedStore;

/// The variables `lambda_runtime::Config::from_env` would `expect()`, checked first so that
/// a missing one is a plain message instead of a panic.
const FUNCTION_ENV: [&str; 3] = [
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
];

/// What the events look like, for error messages.
const EVENTS: &str = r#"{"command":"drill","drill":"NAME"}, {"command":"check"} or {"command":"resume","run_id":"RUN_ID"}"#;

/// Whether the Lambda runtime started this process: `AWS_LAMBDA_RUNTIME_API` is set and no
/// argument was given (a Lambda custom runtime runs `bootstrap` bare).
pub fn started_by_lambda_runtime() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some_and(|v| !v.is_empty())
        && std::env::args_os().len() == 1
}

/// An invocation's event.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
enum Event {
    /// Run `<home>/drills/<drill>.toml`, or continue its run a deadline interrupted.
    Drill {
        drill: String,
        /// Variable overrides, as `--var` gives them.
        #[serde(default)]
        vars: BTreeMap<String, String>,
    },
    /// Continue any run a deadline interrupted, then `drctl check` every drill in
    /// `<home>/drills`. (A struct variant, so that unknown fields are refused too.)
    Check {},
    /// Continue a run (`drctl resume RUN_ID --yes`).
    Resume { run_id: String },
}

impl Event {
    fn parse(payload: Value) -> Result<Event, Diagnostic> {
        serde_json::from_value(payload).map_err(|e| {
            error(
                "InvalidEvent",
                format!("invalid event: {e}; expected {EVENTS}"),
            )
        })
    }
}

/// The response: one JSON summary of what the invocation did.
#[derive(Debug, Clone, Serialize)]
struct Summary {
    command: &'static str,
    run_id: Option<String>,
    /// met, missed, failed or continuing (a run); ok, exceeded or failed (a check).
    status: &'static str,
    /// The exit code the CLI would have given (docs/exit-codes.md).
    exit_code: u8,
    achieved_rto_secs: Option<f64>,
    achieved_rpo_secs: Option<f64>,
    /// The HTML report (beside it, report.json) in the state store.
    report: Option<String>,
    t0: Option<DateTime<Utc>>,
    /// The report's one-sentence summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    /// A check's document, as `drctl check --output json` prints it.
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<CheckReport>,
    /// Runs a `check` event continued first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    continued: Vec<Summary>,
}

impl Summary {
    fn empty(command: &'static str, status: &'static str, exit: Exit) -> Summary {
        Summary {
            command,
            run_id: None,
            status,
            exit_code: exit.code(),
            achieved_rto_secs: None,
            achieved_rpo_secs: None,
            report: None,
            t0: None,
            summary: None,
            check: None,
            continued: Vec::new(),
        }
    }
}

fn error(kind: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        error_type: kind.into(),
        error_message: message.into(),
    }
}

fn session_error(e: SessionError) -> Diagnostic {
    let kind = match &e {
        SessionError::Lock(crate::store::LockError::Io { .. }) => "Failed",
        SessionError::Lock(_) => "Refused",
        SessionError::Invalid(_) => "InvalidInput",
        _ => "Failed",
    };
    error(kind, e.to_string())
}

/// Runs `drctl lambda`: check the function's environment, build the AWS clients once, then
/// serve invocations until the runtime stops the process.
pub fn run(settings: &Settings, args: &LambdaArgs) -> anyhow::Result<Exit> {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap_or_default();
    let rt = runtime()?;
    rt.block_on(async {
        let handler = match init(settings, args) {
            Ok(pre) => match Handler::new(pre).await {
                Ok(h) => h,
                Err(e) => return init_failed(&api, e).await,
            },
            Err(e) => return init_failed(&api, e).await,
        };
        let handler = Arc::new(handler);
        tracing::info!(
            home = %handler.home.display(),
            state_dir = %handler.settings.state_dir.display(),
            margin_secs = handler.margin.as_secs(),
            "drctl ready for invocations"
        );
        let service = service_fn(move |event: LambdaEvent<Value>| {
            let handler = handler.clone();
            async move { handler.handle(event).await }
        });
        lambda_runtime::Runtime::new(service)
            .run()
            .await
            .map_err(|e| anyhow::anyhow!("the Lambda runtime loop stopped: {e}"))?;
        Ok(Exit::Success)
    })
}

/// What init resolves before reaching for AWS.
struct Init {
    settings: Settings,
    home: PathBuf,
    margin: Duration,
}

fn init(settings: &Settings, args: &LambdaArgs) -> anyhow::Result<Init> {
    let missing: Vec<&str> = std::iter::once("AWS_LAMBDA_RUNTIME_API")
        .chain(FUNCTION_ENV)
        .filter(|name| std::env::var_os(name).is_none_or(|v| v.is_empty()))
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "not started by the Lambda runtime: {} not set (`drctl lambda` only runs as a Lambda function; see docs/lambda.md)",
            missing.join(", ")
        );
    }
    let memory = std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").unwrap_or_default();
    if memory.parse::<i32>().is_err() {
        anyhow::bail!("AWS_LAMBDA_FUNCTION_MEMORY_SIZE is `{memory}`, not a number of megabytes");
    }
    let home = args
        .home
        .clone()
        .filter(|h| !h.as_os_str().is_empty())
        .or_else(|| std::env::var_os("LAMBDA_TASK_ROOT").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."));
    // Lambda mode always prints the EMF lines: CloudWatch turns them into metrics.
    let settings = Settings {
        emf: true,
        ..settings.clone()
    };
    Ok(Init {
        settings,
        home,
        margin: Duration::from_secs(args.margin_secs),
    })
}

/// Report an init failure to the runtime (`/runtime/init/error`) and end the process.
async fn init_failed(api: &str, e: anyhow::Error) -> anyhow::Result<Exit> {
    let message = format!("{e:#}");
    tracing::error!(error = %message, "init failed");
    if !api.is_empty() {
        post_init_error(api, &message).await;
    }
    Err(e)
}

/// POST the init error with a plain HTTP/1.1 client (lambda_runtime only reports init
/// errors of its own).
/// A failure before the handler exists (e.g. an invalid configuration file): report it to
/// the runtime as an init error, as [`run`] does for its own failures.
pub(crate) fn report_init_error(message: &str) {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap_or_default();
    if api.is_empty() {
        return;
    }
    if let Ok(rt) = super::execute::runtime() {
        rt.block_on(post_init_error(&api, message));
    }
}

async fn post_init_error(api: &str, message: &str) {
    use http_body_util::Full;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let body = serde_json::json!({ "errorMessage": message, "errorType": "Runtime.InitError" });
    let request = http::Request::post(format!("http://{api}/2018-06-01/runtime/init/error"))
        .header("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")
        .header("content-type", "application/json")
        .body(Full::new(bytes::Bytes::from(body.to_string())));
    let Ok(request) = request else { return };
    let client: Client<_, Full<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    if let Ok(Err(e)) = tokio::time::timeout(Duration::from_secs(5), client.request(request)).await
    {
        tracing::error!(error = %e, "could not report the init error to the runtime");
    }
}

/// Everything built once per container.
struct Handler {
    settings: Settings,
    engine: Engine,
    progress: Progress,
    store: SharedStore,
    /// Where `drills/` and `runbooks/` are.
    home: PathBuf,
    margin: Duration,
}

impl Handler {
    /// Build the AWS clients and check the credentials once (run events print as JSON lines
    /// on stdout, the Lambda log).
    async fn new(init: Init) -> anyhow::Result<Handler> {
        let (engine, progress) = engine_for(&init.settings, OutputFormat::Jsonl).await?;
        let store = init.settings.store()?;
        Ok(Handler {
            settings: init.settings,
            engine,
            progress,
            store,
            home: init.home,
            margin: init.margin,
        })
    }

    fn ctx(&self) -> RunContext<'_> {
        RunContext {
            settings: &self.settings,
            engine: &self.engine,
            progress: &self.progress,
            store: &*self.store,
        }
    }

    async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
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
            runner::continuation_of(&*self.store, &drill.name).map_err(session_error)?
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
        let request = drill_request(runbook, drill, Mode::DrillIsolated, vars, 4);
        let end = drill_core(
            &self.ctx(),
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
        let session = runner::open_run(&*self.store, run_id, self.engine.clock, false)
            .map_err(session_error)?;
        let end = resume_core(
            &self.ctx(),
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
        let files = drills_in(&self.home.join("drills"), "drills to check")
            .map_err(|e| error("InvalidInput", e.0))?;
        let subjects = load_subjects(&self.settings, &files).ok_or_else(|| {
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
                runner::continuation_of(&*self.store, drill).map_err(session_error)?
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
        let report = check_core(&self.settings, &self.engine.aws, &subjects).await;
        let status = match report.status {
            CheckStatus::Ok => "ok",
            CheckStatus::Exceeded => "exceeded",
            CheckStatus::Error => "failed",
        };
        let mut out = Summary::empty("check", status, check_exit(report.status));
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
                let exit = finished.exit();
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
                    exit_code: exit.code(),
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn events_parse_strictly_and_errors_say_what_is_expected() {
        assert_eq!(
            Event::parse(json!({"command": "drill", "drill": "monthly"})).unwrap(),
            Event::Drill {
                drill: "monthly".into(),
                vars: BTreeMap::new()
            }
        );
        assert_eq!(
            Event::parse(json!({"command": "check"})).unwrap(),
            Event::Check {}
        );
        assert_eq!(
            Event::parse(json!({"command": "resume", "run_id": "r1"})).unwrap(),
            Event::Resume {
                run_id: "r1".into()
            }
        );
        for bad in [
            json!({"command": "dril", "drill": "monthly"}),
            json!({"command": "drill"}),
            json!({"command": "drill", "drill": "monthly", "dril": 1}),
            json!({"command": "check", "drill": "monthly"}),
            json!({"drill": "monthly"}),
            json!("check"),
            json!(null),
        ] {
            let e = Event::parse(bad.clone()).unwrap_err();
            assert_eq!(e.error_type, "InvalidEvent");
            assert!(
                e.error_message.contains(r#"{"command":"check"}"#),
                "{bad}: {}",
                e.error_message
            );
        }
    }
}
