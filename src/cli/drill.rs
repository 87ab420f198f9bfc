//! `drctl drill`. Not implemented in this build: it waits for the run engine (scheduler, executor, journal), the AWS actions and RTO/RPO measurement.

use super::args::{DrillArgs, OutputFormat};
use super::exit::Exit;
use super::not_implemented::not_implemented;
use super::settings::Settings;

/// Runs `drctl drill`.
pub fn run(settings: &Settings, args: &DrillArgs) -> anyhow::Result<Exit> {
    settings.output(
        "drill",
        &[OutputFormat::Human, OutputFormat::Json, OutputFormat::Jsonl],
    )?;
    let _ = args;
    Ok(not_implemented(
        settings,
        "drill",
        "the run engine (scheduler, executor, journal), the AWS actions and RTO/RPO measurement",
    ))
}
