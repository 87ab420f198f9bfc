//! `drctl cleanup`. Not implemented in this build: it waits for the run journal and each action's drill undo.

use super::args::{CleanupArgs, OutputFormat};
use super::exit::Exit;
use super::not_implemented::not_implemented;
use super::settings::Settings;

/// Runs `drctl cleanup`.
pub fn run(settings: &Settings, args: &CleanupArgs) -> anyhow::Result<Exit> {
    settings.output("cleanup", &[OutputFormat::Human, OutputFormat::Json])?;
    let _ = args;
    Ok(not_implemented(
        settings,
        "cleanup",
        "the run journal and each action's drill undo",
    ))
}
