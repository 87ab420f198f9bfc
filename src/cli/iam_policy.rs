//! `drctl iam-policy`. Not implemented in this build: it waits for the IAM policy renderer over the action catalogue.

use super::args::{IamPolicyArgs, OutputFormat};
use super::exit::Exit;
use super::not_implemented::not_implemented;
use super::settings::Settings;

/// Runs `drctl iam-policy`.
pub fn run(settings: &Settings, args: &IamPolicyArgs) -> anyhow::Result<Exit> {
    settings.output("iam-policy", &[OutputFormat::Json])?;
    let _ = args;
    Ok(not_implemented(
        settings,
        "iam-policy",
        "the IAM policy renderer over the action catalogue",
    ))
}
