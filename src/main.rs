//! The drctl binary: parse the command line, hand it to the library, exit with its code.

use std::process::ExitCode;

use clap::Parser;
use drctl::cli::{Cli, run, usage_error};

fn main() -> ExitCode {
    match Cli::try_parse() {
        Ok(cli) => run(cli),
        Err(error) => usage_error(error),
    }
}
