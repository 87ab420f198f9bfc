//! The drctl binary: parse the command line, hand it to the library, exit with its code.

use std::process::ExitCode;

use clap::Parser;
use drctl::cli::{Cli, run, usage_error};
use drctl::lambda::started_by_lambda_runtime;

fn main() -> ExitCode {
    // Started bare by the Lambda runtime: serve invocations, with the global flags read from
    // the environment as the CLI reads them.
    let parsed = if started_by_lambda_runtime() {
        Cli::try_parse_from(["drctl", "lambda"])
    } else {
        Cli::try_parse()
    };
    match parsed {
        Ok(cli) => run(cli),
        Err(error) => usage_error(error),
    }
}
