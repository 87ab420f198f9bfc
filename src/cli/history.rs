//! `drctl history`. Not implemented in this build: it waits for the history store and the report model.

use super::args::{HistoryArgs, OutputFormat};
use super::exit::Exit;
use super::not_implemented::not_implemented;
use super::settings::Settings;

/// Runs `drctl history`.
pub fn run(settings: &Settings, args: &HistoryArgs) -> anyhow::Result<Exit> {
    settings.output("history", &[OutputFormat::Human, OutputFormat::Json])?;
    let _ = args;
    Ok(not_implemented(
        settings,
        "history",
        "the history store and the report model",
    ))
}
