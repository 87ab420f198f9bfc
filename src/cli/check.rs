//! `drctl check [FILE...]`: the RPO exposure of every data resource the given runbooks or
//! drills recover (default: every drill in ./drills), against their targets. The table (or
//! the JSON document) is the command's data, so it goes to stdout; problems go to stderr.
//! Exit 0 within target, 3 over target, 1 when something could not be measured, 2 for
//! invalid files (nothing is measured then).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::args::{CheckArgs, OutputFormat};
use super::exit::{Exit, UsageError};
use super::frontend::{aws_clients, runtime};
use super::settings::Settings;
use crate::posture::{Subject, render_check};
use crate::runner::{self, Notice, NoticeSink};

/// Runs `drctl check`.
pub fn run(settings: &Settings, args: &CheckArgs) -> anyhow::Result<Exit> {
    let format = settings.output("check", &[OutputFormat::Human, OutputFormat::Json])?;
    let files = if args.files.is_empty() {
        runner::drill_files(Path::new("drills"), "runbooks or drills to check")
            .map_err(|e| UsageError(e.to_string()))?
    } else {
        args.files.clone()
    };
    let Some(subjects) = load_subjects(settings, &files) else {
        eprintln!("nothing was checked: fix the files above first");
        return Ok(Exit::Invalid);
    };
    let notices: NoticeSink = Arc::new(|notice: Notice| eprintln!("{notice}"));
    let report = runtime()?.block_on(async {
        let aws = aws_clients(settings).await?;
        anyhow::Ok(runner::check(&aws, &subjects, &settings.announcements(), &notices).await)
    })?;
    let mut stdout = std::io::stdout().lock();
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &report)?;
            writeln!(stdout)?;
        }
        _ => write!(stdout, "{}", render_check(&report))?,
    }
    Ok(Exit::of_check(report.status))
}

/// Load every file to check; `None` (after printing every diagnostic on stderr) when one
/// is invalid, since then nothing is measured.
fn load_subjects(settings: &Settings, files: &[PathBuf]) -> Option<Vec<Subject>> {
    match runner::load_subjects(files) {
        Ok(subjects) => Some(subjects),
        Err(invalid) => {
            for diagnostics in invalid {
                eprint!("{}", diagnostics.render(settings.color));
            }
            None
        }
    }
}
