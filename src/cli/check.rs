//! `drctl check [FILE...]`: the RPO exposure of every data resource the given runbooks or
//! drills recover (default: every drill in ./drills), against their targets. The table (or
//! the JSON document) is the command's data, so it goes to stdout; problems go to stderr.
//! Exit 0 within target, 3 over target, 1 when something could not be measured, 2 for
//! invalid files (nothing is measured then).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::args::{CheckArgs, OutputFormat};
use super::execute::{aws_clients, runtime};
use super::exit::{Exit, UsageError};
use super::settings::Settings;
use crate::aws::AwsClients;
use crate::measure::Clock;
use crate::posture::{
    self, CheckReport, CheckStatus, Subject, emf_lines, exposure_message, render_check,
};
use crate::runbook::load_file;
use crate::runner::Notifier;

/// Every drill file in `dir`, sorted; `what` ends the message when there is none
/// ("name the {what}").
pub(crate) fn drills_in(dir: &Path, what: &str) -> Result<Vec<PathBuf>, UsageError> {
    let none = || {
        UsageError(format!(
            "no FILE given and {} holds no drill files; name the {what}",
            dir.display()
        ))
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|_| none())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(none());
    }
    Ok(files)
}

/// Runs `drctl check`.
pub fn run(settings: &Settings, args: &CheckArgs) -> anyhow::Result<Exit> {
    let format = settings.output("check", &[OutputFormat::Human, OutputFormat::Json])?;
    let files = if args.files.is_empty() {
        drills_in(Path::new("drills"), "runbooks or drills to check")?
    } else {
        args.files.clone()
    };
    let Some(subjects) = load_subjects(settings, &files) else {
        eprintln!("nothing was checked: fix the files above first");
        return Ok(Exit::Invalid);
    };
    let report = runtime()?.block_on(async {
        let aws = aws_clients(settings).await?;
        anyhow::Ok(check_core(settings, &aws, &subjects).await)
    })?;
    let mut stdout = std::io::stdout().lock();
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &report)?;
            writeln!(stdout)?;
        }
        _ => write!(stdout, "{}", render_check(&report))?,
    }
    Ok(check_exit(report.status))
}

/// The exit code of a check.
pub(crate) fn check_exit(status: CheckStatus) -> Exit {
    match status {
        CheckStatus::Ok => Exit::Success,
        CheckStatus::Exceeded => Exit::TargetMissed,
        CheckStatus::Error => Exit::Failure,
    }
}

/// Load every file to check; `None` (after printing every diagnostic on stderr) when one
/// is invalid, since then nothing is measured.
pub(crate) fn load_subjects(settings: &Settings, files: &[PathBuf]) -> Option<Vec<Subject>> {
    let mut subjects = Vec::new();
    let mut invalid = false;
    for file in files {
        match load_file(file, &BTreeMap::new()) {
            Ok(loaded) => subjects.push(Subject::new(file, loaded)),
            Err(diagnostics) => {
                eprint!("{}", diagnostics.render(settings.color));
                invalid = true;
            }
        }
    }
    (!invalid).then_some(subjects)
}

/// The check, for the CLI and the Lambda handler: measure every subject now, print what
/// could not be measured on stderr and, with `--emf`, one EMF line per resource.
pub(crate) async fn check_core(
    settings: &Settings,
    aws: &AwsClients,
    subjects: &[Subject],
) -> CheckReport {
    let report = posture::check(aws, subjects, Clock::system().now()).await;
    // `--notify`: a message only when the exposure is over target (a check every few
    // minutes must not page anyone while all is well). A failed publish only warns.
    if let Some(message) = exposure_message(&report)
        && let Some(notifier) = settings
            .notify_topic
            .as_deref()
            .and_then(|arn| Notifier::new(aws, arn))
        && let Err(e) = notifier.publish(&message).await
    {
        eprintln!(
            "warning: could not notify {} of the exposure: {e}",
            notifier.topic_arn()
        );
    }
    for row in &report.results {
        if let Some(error) = &row.error {
            eprintln!("error: {error}");
        }
    }
    if settings.emf {
        for line in emf_lines(&report) {
            eprintln!("{line}");
        }
    }
    report
}
