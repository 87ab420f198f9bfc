//! The check report as a table for people: one block per runbook or drill, one line per
//! resource (exposure, target, verdict), then its statement and evidence, indented.

use std::fmt::Write;
use std::time::Duration;

use super::model::{CheckReport, CheckStatus, ResourceCheck};
use crate::report::human_secs;
use crate::runbook::format_duration;

fn verdict(row: &ResourceCheck) -> &'static str {
    match (row.met, &row.error) {
        (Some(false), _) => "EXCEEDED",
        (Some(true), None) => "ok",
        (Some(true), Some(_)) => "ok (partial)",
        (None, Some(_)) => "ERROR",
        (None, None) => "no target",
    }
}

/// Render a check report (no colour codes).
pub fn render_check(report: &CheckReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "RPO exposure if disaster struck at {}",
        report
            .checked_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let width = report
        .results
        .iter()
        .map(|r| r.resource.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut last_file: Option<&str> = None;
    for row in &report.results {
        if last_file != Some(row.file.as_str()) {
            last_file = Some(row.file.as_str());
            let title = match &row.drill {
                Some(d) => format!("drill `{d}` (runbook `{}`, {})", row.runbook, row.file),
                None => format!("runbook `{}` ({})", row.runbook, row.file),
            };
            let _ = writeln!(out, "\n{title}");
            let _ = writeln!(
                out,
                "  {:<width$}  {:>9}  {:>7}  verdict",
                "resource", "exposure", "target"
            );
        }
        let _ = writeln!(
            out,
            "  {:<width$}  {:>9}  {:>7}  {}",
            row.resource,
            row.exposure_seconds
                .map(human_secs)
                .unwrap_or_else(|| "-".into()),
            row.target_seconds
                .map(|t| format_duration(Duration::from_secs_f64(t)))
                .unwrap_or_else(|| "-".into()),
            verdict(row)
        );
        let _ = writeln!(out, "      {}", row.statement);
        for fact in &row.evidence {
            let _ = writeln!(out, "      evidence: {} [{}]", fact.detail, fact.source);
        }
    }
    if !report.notes.is_empty() {
        let _ = writeln!(out);
        for note in &report.notes {
            let _ = writeln!(out, "note: {note}");
        }
    }
    let over = report
        .results
        .iter()
        .filter(|r| r.met == Some(false))
        .count();
    let failed = report.results.iter().filter(|r| r.error.is_some()).count();
    let _ = writeln!(
        out,
        "\n{}: {} of {} resource{} over target, {} not fully measured",
        match report.status {
            CheckStatus::Ok => "OK",
            CheckStatus::Exceeded => "EXCEEDED",
            CheckStatus::Error => "ERROR",
        },
        over,
        report.results.len(),
        if report.results.len() == 1 { "" } else { "s" },
        failed
    );
    out
}
