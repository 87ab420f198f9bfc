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

/// The SNS message of a check whose exposure is over target (`None` otherwise): which
/// resources, by how much, and the plain statement of each. Only figures and identifiers: a
/// check never reads a secret value, so none can appear.
pub fn exposure_message(report: &CheckReport) -> Option<crate::report::Message> {
    if report.status != CheckStatus::Exceeded {
        return None;
    }
    let over: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.met == Some(false))
        .collect();
    let figure = |s: Option<f64>| s.map_or_else(|| "unknown".to_string(), human_secs);
    let mut body = format!(
        "drctl check: the RPO exposure of {} resource(s) is over target.\nchecked at: {}\n\n",
        over.len(),
        report
            .checked_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    for r in &over {
        let _ = writeln!(
            body,
            "- {} ({}{}), {} in {}: exposure {} vs target {}\n  {}",
            r.resource,
            r.runbook,
            r.drill
                .as_deref()
                .map(|d| format!(", drill {d}"))
                .unwrap_or_default(),
            r.step,
            r.region,
            figure(r.exposure_seconds),
            figure(r.target_seconds),
            r.statement
        );
    }
    body.push_str("\nRun `drctl check` for the evidence of every resource.\n");
    let subject: String = format!(
        "drctl: RPO exposure over target ({} resource(s))",
        over.len()
    )
    .chars()
    .take(99)
    .collect();
    Some(crate::report::Message { subject, body })
}
