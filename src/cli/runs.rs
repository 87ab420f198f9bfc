//! `drctl runs`. Not implemented in this build: it waits for the state store (journals and locks).

use super::args::{OutputFormat, RunsArgs};
use super::exit::Exit;
use super::not_implemented::not_implemented;
use super::settings::Settings;

/// Runs `drctl runs`.
pub fn run(settings: &Settings, args: &RunsArgs) -> anyhow::Result<Exit> {
    settings.output("runs", &[OutputFormat::Human, OutputFormat::Json])?;
    let _ = args;
    Ok(not_implemented(
        settings,
        "runs",
        "the state store (journals and locks)",
    ))
}
