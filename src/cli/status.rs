//! `drctl status`. Not implemented in this build: it waits for the run journal and the state store.

use super::args::{OutputFormat, StatusArgs};
use super::exit::Exit;
use super::not_implemented::not_implemented;
use super::settings::Settings;

/// Runs `drctl status`.
pub fn run(settings: &Settings, args: &StatusArgs) -> anyhow::Result<Exit> {
    settings.output("status", &[OutputFormat::Human, OutputFormat::Json])?;
    let _ = args;
    Ok(not_implemented(
        settings,
        "status",
        "the run journal and the state store",
    ))
}
