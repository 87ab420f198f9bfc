//! `drctl runs`: every run in the state store, newest first.

use super::args::{OutputFormat, RunsArgs};
use super::exit::Exit;
use super::runs_common::load_state;
use super::settings::Settings;

/// Runs `drctl runs`.
pub fn run(settings: &Settings, args: &RunsArgs) -> anyhow::Result<Exit> {
    let _ = args;
    let format = settings.output("runs", &[OutputFormat::Human, OutputFormat::Json])?;
    let store = settings.store()?;
    let mut rows = Vec::new();
    for id in store.run_ids()?.into_iter().rev() {
        match load_state(&*store, &id) {
            Ok(state) => rows.push(serde_json::json!({
                "run_id": id,
                "command": state.header.command,
                "runbook": state.header.runbook_name,
                "drill": state.header.drill_name,
                "started_at": state.started_at,
                "status": state.status.map(|s| format!("{s:?}").to_lowercase()).unwrap_or_else(|| "unfinished".into()),
            })),
            Err(e) => rows.push(serde_json::json!({ "run_id": id, "error": e.to_string() })),
        }
    }
    if format == OutputFormat::Json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if rows.is_empty() {
        eprintln!("no runs in {}", store.location());
    } else {
        println!(
            "{:<28} {:<9} {:<20} {:<12} started",
            "run", "command", "runbook", "status"
        );
        for r in rows {
            println!(
                "{:<28} {:<9} {:<20} {:<12} {}",
                r["run_id"].as_str().unwrap_or(""),
                r["command"].as_str().unwrap_or(""),
                r["runbook"].as_str().unwrap_or(""),
                r["status"].as_str().or(r["error"].as_str()).unwrap_or(""),
                r["started_at"].as_str().unwrap_or("")
            );
        }
    }
    Ok(Exit::Success)
}
