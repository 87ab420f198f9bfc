//! `drctl status [RUN_ID]`: where a run stands, step by step, from its journal (the newest
//! run when no id is given).

use super::args::{OutputFormat, StatusArgs};
use super::exit::Exit;
use super::runs_common::{latest, load_state};
use super::settings::Settings;
use crate::engine::StepStatus;

/// Runs `drctl status`.
pub fn run(settings: &Settings, args: &StatusArgs) -> anyhow::Result<Exit> {
    let format = settings.output("status", &[OutputFormat::Human, OutputFormat::Json])?;
    let store = settings.store()?;
    let Some(run_id) = args.run_id.clone().or(latest(&*store)?) else {
        eprintln!("no runs in {}", store.location());
        return Ok(Exit::Success);
    };
    let state = load_state(&*store, &run_id)?;
    let lock = store.lock_holder(&state.header.runbook_name);
    if format == OutputFormat::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "run": state, "lock": lock }))?
        );
        return Ok(Exit::Success);
    }
    let h = &state.header;
    println!(
        "run {}  ({} of runbook `{}`, {:?})",
        h.run_id, h.command, h.runbook_name, h.mode
    );
    println!(
        "started {}  T0 {}",
        state.started_at.to_rfc3339(),
        h.t0.to_rfc3339()
    );
    let status = match (state.status, &state.interrupted) {
        (Some(s), _) => format!("{s:?}").to_lowercase(),
        (None, Some(_)) => "interrupted (resumable)".into(),
        (None, None) => match &lock {
            Some(l) if l.run_id == h.run_id => match store.stale_reason(l, chrono::Utc::now()) {
                Some(why) => format!("crashed? {why}; resume with `drctl resume {}`", h.run_id),
                None => format!("running (pid {} on {})", l.pid, l.host),
            },
            _ => format!(
                "stopped without finishing; resume with `drctl resume {}`",
                h.run_id
            ),
        },
    };
    println!("status: {status}");
    for (id, s) in &state.steps {
        let label = match s.status {
            StepStatus::Running => "in doubt".to_string(),
            other => format!("{other:?}").to_lowercase(),
        };
        let took = match (s.started_at, s.finished_at) {
            (Some(a), Some(b)) => format!("{:.1}s", (b - a).num_milliseconds() as f64 / 1000.0),
            _ => "-".into(),
        };
        println!("  {id:<24} {label:<10} {took:>8}  attempts {}", s.attempts);
        if let Some(f) = &s.failure {
            println!("      {}", f.message);
        }
    }
    Ok(Exit::Success)
}
