//! What `failover`, `drill` and `resume` share: the async runtime, AWS clients, the event
//! view, Ctrl-C handling, approvals at the terminal, confirmation, and printing the result
//! (human text on stderr, JSON on stdout).

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use anyhow::Context;

use super::announce::Announce;
use super::args::OutputFormat;
use super::exit::Exit;
use super::progress::{EventView, Progress};
use super::settings::Settings;
use crate::actions::{Approvals, AskFn};
use crate::aws::AwsClients;
use crate::engine::{Engine, Interrupts, RunEvent, RunStatus};
use crate::report::{Report, Verdict, render_human};
use crate::runner::{self, Session, SessionError};

/// A multi-threaded tokio runtime for one command.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// AWS clients from the global flags, with credentials checked (fast failure).
pub(crate) async fn aws_clients(settings: &Settings) -> anyhow::Result<AwsClients> {
    let aws = AwsClients::new(&settings.aws()).await;
    aws.check_credentials(settings.profile.as_deref()).await?;
    Ok(aws)
}

/// What a command that runs steps needs: the engine (AWS clients with credentials checked,
/// the clock, the event sink of `progress`) and the progress view. The state store is
/// `Settings::store`, built once by each caller.
pub(crate) async fn engine_for(
    settings: &Settings,
    format: OutputFormat,
) -> anyhow::Result<(Engine, Progress)> {
    let aws = aws_clients(settings).await?;
    let progress = Progress::new(view_for(settings, format));
    let engine = Engine {
        aws,
        clock: crate::measure::Clock::system(),
        sink: progress.sink(),
    };
    Ok((engine, progress))
}

/// The event view for an output format.
pub(crate) fn view_for(settings: &Settings, format: OutputFormat) -> EventView {
    match format {
        OutputFormat::Jsonl => EventView::Jsonl,
        OutputFormat::Json => EventView::Silent,
        _ if settings.quiet() => EventView::Silent,
        _ if std::io::stderr().is_terminal() && std::env::var_os("DRCTL_PLAIN").is_none() => {
            EventView::Bars
        }
        _ => EventView::Lines,
    }
}

/// Whether a person can be asked at this terminal.
pub(crate) fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Read one line from the terminal after a prompt on stderr.
pub(crate) fn prompt(question: &str) -> Option<String> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok()?;
    Some(line.trim().to_string())
}

/// Approvals: pre-approved steps, and a terminal prompt when there is a terminal.
pub(crate) fn approvals(pre: &[String], progress: &Progress) -> Approvals {
    let ask: Option<AskFn> = interactive().then(|| {
        let progress = progress.clone();
        let ask: AskFn = Arc::new(move |step: String, message: String| {
            let progress = progress.clone();
            Box::pin(async move {
                tokio::task::spawn_blocking(move || {
                    progress.suspend(|| {
                        prompt(&format!("approval `{step}`: {message} [y/N] "))
                            .is_some_and(|a| matches!(a.to_ascii_lowercase().as_str(), "y" | "yes"))
                    })
                })
                .await
                .unwrap_or(false)
            })
        });
        ask
    });
    Approvals {
        pre_approved: pre.iter().cloned().collect::<BTreeSet<_>>(),
        ask,
    }
}

/// Deliver Ctrl-C presses (and SIGTERM, e.g. from a scheduler or `kill`) to the engine.
pub(crate) fn interrupts() -> crate::engine::Interrupts {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let ctrl_c = tx.clone();
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if ctrl_c.send(()).is_err() {
                break;
            }
        }
    });
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            while term.recv().await.is_some() {
                if tx.send(()).is_err() {
                    break;
                }
            }
        }
    });
    rx
}

/// Map a session error to an exit code, printing it.
pub(crate) fn session_error(settings: &Settings, err: SessionError) -> Exit {
    let label = if settings.color {
        "\x1b[1;31merror\x1b[0m"
    } else {
        "error"
    };
    eprintln!("{label}: {err}");
    match err {
        SessionError::Lock(crate::store::LockError::Io { .. }) => Exit::Failure,
        SessionError::Lock(_) => Exit::Refused,
        SessionError::Invalid(_) => Exit::Invalid,
        _ => Exit::Failure,
    }
}

/// Execute a session's plan with live progress until it ends or `interrupts` stops it;
/// returns the final status.
pub(crate) async fn execute(
    engine: &Engine,
    session: &Session,
    approvals: Approvals,
    resumed: bool,
    interrupts: Interrupts,
) -> RunStatus {
    (engine.sink)(RunEvent::RunStarted {
        run_id: session.header.run_id.clone(),
        runbook: session.header.runbook_name.clone(),
        mode: session.header.mode,
        t0: session.header.t0,
        rto_target_secs: session.header.rto_target_secs,
        steps: session.plan.steps.iter().map(|s| s.id.clone()).collect(),
        resumed,
        at: engine.clock.now(),
    });
    let heartbeat = session.heartbeat(engine.clock);
    let opts = session.options(approvals);
    let state = session.replay().unwrap_or_else(|_| session.state.clone());
    let status = engine
        .execute(
            &session.plan,
            session.writer.clone(),
            state,
            &opts,
            interrupts,
        )
        .await;
    heartbeat.abort();
    status
}

/// What the core of `drill` and `resume` needs from its caller, the CLI or the Lambda
/// handler: settings (notifications, EMF), the engine, the event view and the state store.
pub(crate) struct RunContext<'a> {
    pub settings: &'a Settings,
    pub engine: &'a Engine,
    pub progress: &'a Progress,
    pub store: &'a dyn crate::store::Store,
}

/// What to do with a run an interrupt stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnInterrupt {
    /// Finish it now (the CLI after Ctrl-C): a drill undoes what it did; the report says
    /// `interrupted` and `drctl resume` can continue it.
    Finish,
    /// Leave it to be continued (the Lambda handler at its deadline): no undo, no report, no
    /// history; the journal and the lock stay (`Session::leave_for_continuation`).
    Continue,
}

/// How a run ended for its caller.
pub(crate) enum RunEnd {
    /// Finished (succeeded, failed, or interrupted and finished): the report is kept.
    Finished(Box<Finished>),
    /// Stopped by an interrupt and left to be continued, with its id and T0.
    Continuing {
        run_id: String,
        t0: chrono::DateTime<chrono::Utc>,
    },
}

/// A finished run: its status, report, HTML path, and the finish announcement still to make
/// (after the caller has printed the report, so that output keeps its order).
pub(crate) struct Finished {
    pub status: RunStatus,
    pub report: Report,
    /// Where the report is: the HTML path, or the command that renders it.
    pub html: String,
    /// Whether the run is a drill (for [`exit_for`]).
    pub drill: bool,
    announce: Option<Announce>,
}

impl Finished {
    /// The exit code of the run.
    pub(crate) fn exit(&self) -> Exit {
        exit_for(self.status, &self.report, self.drill)
    }

    /// Print the EMF line and publish the finish message (`--emf`, `--notify`), if the run
    /// was announced as started by this process.
    pub(crate) async fn announce(self) {
        if let Some(announce) = self.announce {
            announce.run_finished(&self.report, &self.html).await;
        }
    }
}

/// Run an opened session (new or resumed) to its end: announce the start, execute, then
/// either leave it for continuation (an interrupt with [`OnInterrupt::Continue`]) or finish
/// it (a drill: undo, report, history; a failover: report).
pub(crate) async fn run_session(
    ctx: &RunContext<'_>,
    session: &Session,
    resumed: bool,
    approvals: Approvals,
    interrupts: Interrupts,
    on_interrupt: OnInterrupt,
) -> Result<RunEnd, SessionError> {
    let mut announce = Announce::new(ctx.settings, &ctx.engine.aws, ctx.progress);
    announce.run_started(&session.header, resumed);
    let status = execute(ctx.engine, session, approvals.clone(), resumed, interrupts).await;
    if status == RunStatus::Interrupted && on_interrupt == OnInterrupt::Continue {
        session.leave_for_continuation(ctx.engine.clock)?;
        return Ok(RunEnd::Continuing {
            run_id: session.header.run_id.clone(),
            t0: session.header.t0,
        });
    }
    let (report, html) = finish_session(ctx, session, approvals).await?;
    Ok(RunEnd::Finished(Box::new(Finished {
        status,
        report,
        html,
        drill: session.header.drill_name.is_some(),
        announce: Some(announce),
    })))
}

/// Finish a run without running it (`resume` of a run that had already finished): no
/// announcement, which would count the run twice.
pub(crate) async fn refinish_session(
    ctx: &RunContext<'_>,
    session: &Session,
    approvals: Approvals,
) -> Result<RunEnd, SessionError> {
    let (report, html) = finish_session(ctx, session, approvals).await?;
    Ok(RunEnd::Finished(Box::new(Finished {
        status: RunStatus::Succeeded,
        report,
        html,
        drill: session.header.drill_name.is_some(),
        announce: None,
    })))
}

/// A drill: undo, report, history (`runner::finish_drill`); a failover: the report.
async fn finish_session(
    ctx: &RunContext<'_>,
    session: &Session,
    approvals: Approvals,
) -> Result<(Report, String), SessionError> {
    if session.header.drill_name.is_some() {
        runner::finish_drill(ctx.engine, session, ctx.store, approvals).await
    } else {
        let report = Report::build(&session.replay()?, &session.plan);
        let html = runner::save_report(ctx.store, &report)
            .map_err(|e| SessionError::Io(format!("cannot keep the report: {e}")))?;
        Ok((report, html))
    }
}

/// Print the report: human text on stderr, or the JSON document on stdout.
pub(crate) fn print_report(
    settings: &Settings,
    format: OutputFormat,
    report: &Report,
    html: Option<&str>,
) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json | OutputFormat::Jsonl => {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer(&mut out, report)?;
            writeln!(out)?;
        }
        _ => {
            if !settings.quiet() {
                eprint!("\n{}", render_human(report));
                if let Some(location) = html {
                    eprintln!("report: {location}");
                }
            }
        }
    }
    Ok(())
}

/// The exit code of a finished run.
pub(crate) fn exit_for(status: RunStatus, report: &Report, drill: bool) -> Exit {
    match status {
        RunStatus::Interrupted => Exit::Interrupted,
        RunStatus::Failed => Exit::Failure,
        RunStatus::Succeeded if drill && report.cleanup.status == "leftovers" => Exit::Failure,
        RunStatus::Succeeded => match report.result {
            Verdict::Met => Exit::Success,
            Verdict::Missed if drill => Exit::TargetMissed,
            Verdict::Missed => Exit::Success,
            Verdict::Error if drill => Exit::Failure,
            Verdict::Error => Exit::Success,
        },
    }
}

/// Print the dry-run listing.
pub(crate) fn print_dry_run(
    calls: &[(String, Vec<String>)],
    format: OutputFormat,
) -> anyhow::Result<()> {
    if matches!(format, OutputFormat::Json | OutputFormat::Jsonl) {
        let doc: Vec<_> = calls
            .iter()
            .map(|(step, calls)| serde_json::json!({ "step": step, "mutating_calls": calls }))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "dry_run": true, "steps": doc }))?
        );
    } else {
        println!("dry run: no AWS call is made. In plan order, each step would:");
        for (step, calls) in calls {
            if calls.is_empty() {
                println!("  {step}: (no mutating call)");
            }
            for call in calls {
                println!("  {step}: {call}");
            }
        }
    }
    Ok(())
}
