//! `drctl check`. Not implemented in this build: it waits for RPO exposure measurement (src/measure) and the AWS clients.

use super::args::{CheckArgs, OutputFormat};
use super::exit::Exit;
use super::not_implemented::not_implemented;
use super::settings::Settings;

/// Runs `drctl check`.
pub fn run(settings: &Settings, args: &CheckArgs) -> anyhow::Result<Exit> {
    settings.output("check", &[OutputFormat::Human, OutputFormat::Json])?;
    let _ = args;
    Ok(not_implemented(
        settings,
        "check",
        "RPO exposure measurement (src/measure) and the AWS clients",
    ))
}
