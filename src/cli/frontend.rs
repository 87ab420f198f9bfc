//! The CLI as the runner's front end, for `failover`, `drill`, `resume`, `cleanup` and
//! `check`: the async runtime, AWS clients, the runner with the event view and notices on
//! stderr, Ctrl-C handling, approvals at the terminal, and printing the result (human text
//! on stderr, JSON on stdout).

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use anyhow::Context;

use super::args::OutputFormat;
use super::exit::Exit;
use super::progress::{EventView, Progress};
use super::settings::Settings;
use crate::actions::{Approvals, AskFn};
use crate::aws::AwsClients;
use crate::engine::Engine;
use crate::report::{Report, render_human};
use crate::runner::{Runner, SessionError};
use crate::store::SharedStore;

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

/// What a command that runs steps needs: the runner (AWS clients with credentials checked,
/// the clock, the event sink and notices of `progress`, the state store `Settings::store`
/// built once by the caller, the announcements of the global flags) and the progress view.
pub(crate) async fn runner_for(
    settings: &Settings,
    format: OutputFormat,
    store: SharedStore,
) -> anyhow::Result<(Runner, Progress)> {
    let aws = aws_clients(settings).await?;
    let progress = Progress::new(view_for(settings, format));
    let runner = Runner {
        engine: Engine {
            aws,
            clock: crate::measure::Clock::system(),
            sink: progress.sink(),
        },
        store,
        notices: progress.notices(),
        announce: settings.announcements(),
    };
    Ok((runner, progress))
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

/// Print a session error; returns how the command ended.
pub(crate) fn session_error(settings: &Settings, err: SessionError) -> Exit {
    let label = if settings.color {
        "\x1b[1;31merror\x1b[0m"
    } else {
        "error"
    };
    eprintln!("{label}: {err}");
    err.class()
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
