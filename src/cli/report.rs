//! `drctl report`. Not implemented in this build: it waits for the report model and its terminal, JSON and HTML renderers.

use super::args::{OutputFormat, ReportArgs};
use super::exit::Exit;
use super::not_implemented::not_implemented;
use super::settings::Settings;

/// Runs `drctl report`.
pub fn run(settings: &Settings, args: &ReportArgs) -> anyhow::Result<Exit> {
    settings.output("report", &[OutputFormat::Human])?;
    let _ = args;
    Ok(not_implemented(
        settings,
        "report",
        "the report model and its terminal, JSON and HTML renderers",
    ))
}
