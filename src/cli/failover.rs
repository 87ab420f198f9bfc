//! `drctl failover`. Not implemented in this build: it waits for the run engine (scheduler, executor, journal) and the AWS actions.

use super::args::{FailoverArgs, OutputFormat};
use super::exit::Exit;
use super::not_implemented::not_implemented;
use super::settings::Settings;

/// Runs `drctl failover`.
pub fn run(settings: &Settings, args: &FailoverArgs) -> anyhow::Result<Exit> {
    settings.output(
        "failover",
        &[OutputFormat::Human, OutputFormat::Json, OutputFormat::Jsonl],
    )?;
    let _ = args;
    Ok(not_implemented(
        settings,
        "failover",
        "the run engine (scheduler, executor, journal) and the AWS actions",
    ))
}
