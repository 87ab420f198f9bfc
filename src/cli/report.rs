//! `drctl report RUN_ID`: render any past run as terminal text, JSON or a self-contained
//! HTML page (with the drill history chart when `--history` is given).

use super::args::{OutputFormat, ReportArgs, ReportFormat};
use super::exit::Exit;
use super::runs_common::load_report;
use super::settings::Settings;
use crate::report::{render_html, render_human};

/// Runs `drctl report`.
pub fn run(settings: &Settings, args: &ReportArgs) -> anyhow::Result<Exit> {
    settings.output("report", &[OutputFormat::Human, OutputFormat::Json])?;
    let store = settings.store()?;
    let report = load_report(&*store, &args.run_id)?;
    let format = match (args.format, settings.output) {
        (ReportFormat::Human, Some(OutputFormat::Json)) => ReportFormat::Json,
        (f, _) => f,
    };
    let text = match format {
        ReportFormat::Human => render_human(&report),
        ReportFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
        ReportFormat::Html => {
            let history = if args.history {
                store.read_history()?
            } else {
                Vec::new()
            };
            render_html(&report, &history)
        }
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, text)?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(Exit::Success)
}
