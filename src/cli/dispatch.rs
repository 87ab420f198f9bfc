//! From parsed arguments to an exit code: resolve settings, start logging, call the
//! command's handler, and turn its outcome (or error) into a documented exit code.

use std::process::ExitCode;

use super::args::{Cli, Command};
use super::exit::{Exit, UsageError};
use super::settings::Settings;
use super::{
    check, cleanup, completions, drill, failover, history, iam_policy, plan, report, resume, runs,
    schedule, schema, state, status, validate,
};
use crate::lambda;

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let settings = match Settings::from_args(&cli.global) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            if matches!(cli.command, Command::Lambda(_)) {
                lambda::report_init_error(&error.to_string());
            }
            return Exit::Invalid.into();
        }
    };
    init_logging(&settings, matches!(cli.command, Command::Lambda(_)));
    let outcome = match &cli.command {
        Command::Validate(a) => validate::run(&settings, a),
        Command::Plan(a) => plan::run(&settings, a),
        Command::Drill(a) => drill::run(&settings, a),
        Command::Failover(a) => failover::run(&settings, a),
        Command::Resume(a) => resume::run(&settings, a),
        Command::Status(a) => status::run(&settings, a),
        Command::Runs(a) => runs::run(&settings, a),
        Command::History(a) => history::run(&settings, a),
        Command::Report(a) => report::run(&settings, a),
        Command::Check(a) => check::run(&settings, a),
        Command::Schedule(a) => schedule::run(&settings, a),
        Command::Cleanup(a) => cleanup::run(&settings, a),
        Command::State(a) => state::run(&settings, a),
        Command::IamPolicy(a) => iam_policy::run(&settings, a),
        Command::Schema(a) => schema::run(&settings, a),
        Command::Completions(a) => completions::run(&settings, a),
        Command::Lambda(a) => lambda::run(&settings, a),
    };
    let exit = match outcome {
        Ok(exit) => exit,
        Err(error) => {
            let label = if settings.color {
                "\x1b[1;31merror\x1b[0m"
            } else {
                "error"
            };
            eprintln!("{label}: {error:#}");
            if error.downcast_ref::<UsageError>().is_some() {
                Exit::Invalid
            } else {
                Exit::Failure
            }
        }
    };
    exit.into()
}

/// The exit code for a command line clap could not parse (after printing clap's message):
/// 0 for --help and --version, 2 for usage errors.
pub fn usage_error(error: clap::Error) -> ExitCode {
    let _ = error.print();
    if error.use_stderr() {
        Exit::Invalid.into()
    } else {
        Exit::Success.into()
    }
}

/// Logging on stderr; in Lambda mode (`json`), JSON lines on stdout from `info` up, which
/// CloudWatch Logs keeps with the invocation's request id.
fn init_logging(settings: &Settings, json: bool) {
    let level = match settings.verbosity {
        i8::MIN..=-1 => "error",
        0 if json => "info",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("DRCTL_LOG")
        // The SDK's credential chain warns about every provider it tried; drctl's own error
        // says what to do, so those warnings only show with -v.
        .unwrap_or_else(|_| {
            let quiet_sdk = if level == "warn" || level == "error" {
                ",aws_config=error"
            } else {
                ""
            };
            tracing_subscriber::EnvFilter::new(format!("{level}{quiet_sdk}"))
        });
    if json {
        let _ = tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stdout)
            .with_current_span(true)
            .try_init();
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(settings.color)
        .try_init();
}
