//! `drctl validate FILE...`: check runbooks and drills, report every problem, exit 0 or 2.

use std::io::Write;

use crate::runbook::{Diagnostic, Loaded, load_file};

use super::args::{OutputFormat, ValidateArgs};
use super::exit::Exit;
use super::settings::Settings;

/// Runs `drctl validate`.
pub fn run(settings: &Settings, args: &ValidateArgs) -> anyhow::Result<Exit> {
    let format = settings.output(
        "validate",
        &[OutputFormat::Human, OutputFormat::Json, OutputFormat::Jsonl],
    )?;
    let vars = args.vars.map();
    let human = format == OutputFormat::Human;
    let mut stderr = std::io::stderr().lock();
    let mut all: Vec<Diagnostic> = Vec::new();
    let mut invalid_files = 0;
    for path in &args.files {
        match load_file(path, &vars) {
            Ok(loaded) => {
                if human && !settings.quiet() {
                    writeln!(stderr, "ok: {} ({})", path.display(), describe(&loaded))?;
                }
            }
            Err(diagnostics) => {
                invalid_files += 1;
                if human {
                    writeln!(stderr, "{}", diagnostics.render(settings.color))?;
                }
                all.extend(diagnostics);
            }
        }
    }
    match format {
        OutputFormat::Json => {
            let mut stdout = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut stdout, &all)?;
            writeln!(stdout)?;
        }
        OutputFormat::Jsonl => {
            let mut stdout = std::io::stdout().lock();
            for d in &all {
                serde_json::to_writer(&mut stdout, d)?;
                writeln!(stdout)?;
            }
        }
        _ if !settings.quiet() || invalid_files > 0 => {
            writeln!(
                stderr,
                "{}",
                summary(args.files.len(), invalid_files, all.len())
            )?;
        }
        _ => {}
    }
    Ok(if invalid_files == 0 {
        Exit::Success
    } else {
        Exit::Invalid
    })
}

fn describe(loaded: &Loaded) -> String {
    let steps = |n: usize| {
        if n == 1 {
            "1 step".to_owned()
        } else {
            format!("{n} steps")
        }
    };
    match loaded {
        Loaded::Runbook(r) => format!("runbook `{}`, {}", r.name, steps(r.steps.len())),
        Loaded::Drill(d, r) => format!(
            "drill `{}`, {} run of runbook `{}`, {}",
            d.name,
            d.mode.as_str(),
            r.name,
            steps(r.steps.len())
        ),
    }
}

fn summary(files: usize, invalid: usize, errors: usize) -> String {
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    if invalid == 0 {
        format!("{} valid", plural(files, "file"))
    } else {
        format!(
            "{} checked: {} valid, {} invalid ({})",
            plural(files, "file"),
            files - invalid,
            invalid,
            plural(errors, "error")
        )
    }
}
