//! `drctl completions SHELL`: a completion script generated from the clap definitions.

use clap::CommandFactory;

use super::args::{Cli, CompletionsArgs};
use super::exit::Exit;
use super::settings::Settings;

/// Runs `drctl completions`.
pub fn run(_settings: &Settings, args: &CompletionsArgs) -> anyhow::Result<Exit> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "drctl", &mut std::io::stdout());
    Ok(Exit::Success)
}
