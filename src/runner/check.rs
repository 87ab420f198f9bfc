//! `check` as a library call: find and load the runbooks or drills to check, measure the
//! RPO exposure of everything they recover now, notify when it is over target, and emit
//! what could not be measured and the metric lines as notices.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::announce::Announcements;
use super::frontend::{Notice, NoticeSink};
use crate::aws::AwsClients;
use crate::measure::Clock;
use crate::posture::{self, CheckReport, Subject, emf_lines, exposure_message};
use crate::runbook::{Diagnostics, load_file};

/// There are no drill files to check where they were looked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no FILE given and {} holds no drill files; name the {what}", dir.display())]
pub struct NoDrillFiles {
    pub dir: PathBuf,
    /// What the caller should name instead ("runbooks or drills to check").
    pub what: &'static str,
}

/// Every drill file (`*.toml`) in `dir`, sorted.
pub fn drill_files(dir: &Path, what: &'static str) -> Result<Vec<PathBuf>, NoDrillFiles> {
    let none = || NoDrillFiles {
        dir: dir.to_path_buf(),
        what,
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

/// Load every file to check; every file's diagnostics when any is invalid, since then
/// nothing is measured.
pub fn load_subjects(files: &[PathBuf]) -> Result<Vec<Subject>, Vec<Diagnostics>> {
    let mut subjects = Vec::new();
    let mut invalid = Vec::new();
    for file in files {
        match load_file(file, &BTreeMap::new()) {
            Ok(loaded) => subjects.push(Subject::new(file, loaded)),
            Err(diagnostics) => invalid.push(diagnostics),
        }
    }
    if invalid.is_empty() {
        Ok(subjects)
    } else {
        Err(invalid)
    }
}

/// Measure every subject now. With `--notify`, a message only when the exposure is over
/// target (a check every few minutes must not page anyone while all is well); a failed
/// publish only warns. What could not be measured is an error notice, and with `--emf`
/// each resource gets a metric line.
pub async fn check(
    aws: &AwsClients,
    subjects: &[Subject],
    announce: &Announcements,
    notices: &NoticeSink,
) -> CheckReport {
    let report = posture::check(aws, subjects, Clock::system().now()).await;
    if let Some(message) = exposure_message(&report)
        && let Some(notifier) = announce.notifier(aws)
        && let Err(e) = notifier.publish(&message).await
    {
        notices(Notice::Warning(format!(
            "could not notify {} of the exposure: {e}",
            notifier.topic_arn()
        )));
    }
    for row in &report.results {
        if let Some(error) = &row.error {
            notices(Notice::Error(error.clone()));
        }
    }
    if announce.emf {
        for line in emf_lines(&report) {
            notices(Notice::Metric(line));
        }
    }
    report
}
