//! `drctl resume`. Not implemented in this build: it waits for the run journal and the run engine.

use super::args::{OutputFormat, ResumeArgs};
use super::exit::Exit;
use super::not_implemented::not_implemented;
use super::settings::Settings;

/// Runs `drctl resume`.
pub fn run(settings: &Settings, args: &ResumeArgs) -> anyhow::Result<Exit> {
    settings.output(
        "resume",
        &[OutputFormat::Human, OutputFormat::Json, OutputFormat::Jsonl],
    )?;
    let _ = args;
    Ok(not_implemented(
        settings,
        "resume",
        "the run journal and the run engine",
    ))
}
