//! The terminal summary of a report: steps with start, duration and status, the critical
//! path, RTO and RPO against targets, and the evidence behind each figure.

use std::fmt::Write;

use super::model::{Report, Verdict, human_secs};

fn figure(achieved: Option<f64>, target: Option<f64>, met: Option<bool>) -> String {
    match achieved {
        None => "not measured".into(),
        Some(a) => format!(
            "{}{}",
            human_secs(a),
            match (target, met) {
                (Some(t), Some(true)) => format!(" (target {}: met)", human_secs(t)),
                (Some(t), Some(false)) => format!(
                    " (target {}: MISSED by {})",
                    human_secs(t),
                    human_secs(a - t)
                ),
                _ => String::new(),
            }
        ),
    }
}

/// Render a report for a terminal (no colour codes; the caller decides on colour).
pub fn render_human(r: &Report) -> String {
    let mut out = String::new();
    let title = match &r.drill {
        Some(d) => format!("drill `{d}` (runbook `{}`, {})", r.runbook, mode_name(r)),
        None => format!("failover with runbook `{}`", r.runbook),
    };
    let _ = writeln!(out, "{title}: run {}", r.run_id);
    let _ = writeln!(
        out,
        "result: {}  {}",
        match r.result {
            Verdict::Met => "MET",
            Verdict::Missed => "MISSED",
            Verdict::Error => "ERROR",
        },
        r.summary
    );
    let _ = writeln!(out, "T0 (incident clock): {}", r.t0.to_rfc3339());
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  {:<22} {:<22} {:>9} {:>9}  status",
        "step", "action", "start", "took"
    );
    for s in &r.steps {
        let start = s
            .started_at
            .map(|t| {
                format!(
                    "+{}",
                    human_secs(((t - r.t0).num_milliseconds() as f64 / 1000.0).max(0.0))
                )
            })
            .unwrap_or_else(|| "-".into());
        let took = s
            .duration_seconds
            .map(human_secs)
            .unwrap_or_else(|| "-".into());
        let mut status = s.status.clone();
        if s.simulated.is_some() {
            status.push_str(" (checked only)");
        }
        if let Some(u) = &s.undo {
            status.push_str(&format!(", {u}"));
        }
        let _ = writeln!(
            out,
            "  {:<22} {:<22} {:>9} {:>9}  {status}",
            s.id, s.action, start, took
        );
        if let Some(e) = &s.error {
            let _ = writeln!(out, "      error: {e}");
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "RTO: {}",
        figure(r.rto.achieved_seconds, r.rto.target_seconds, r.rto.met)
    );
    if let Some(note) = &r.rto.note {
        let _ = writeln!(out, "     {note}");
    }
    if !r.rto.critical_path.is_empty() {
        let _ = writeln!(
            out,
            "     critical path: {}{}",
            r.rto.critical_path.join(" -> "),
            r.rto
                .dominant_step
                .as_ref()
                .map(|d| format!(" (longest: {d})"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(
        out,
        "RPO: {}",
        figure(r.rpo.achieved_seconds, r.rpo.target_seconds, r.rpo.met)
    );
    for item in &r.rpo.evidence {
        let _ = writeln!(
            out,
            "     {}: {} — {} [{}]",
            item.evidence.resource,
            human_secs(item.seconds),
            item.evidence.detail,
            item.evidence.source
        );
    }
    if r.cleanup.status != "not_applicable" {
        let _ = writeln!(
            out,
            "cleanup: {}{}",
            r.cleanup.status,
            if r.cleanup.failures.is_empty() {
                String::new()
            } else {
                format!(
                    " — {}; run `drctl cleanup {}`",
                    r.cleanup.failures.join("; "),
                    r.run_id
                )
            }
        );
    }
    out
}

fn mode_name(r: &Report) -> &'static str {
    match r.mode {
        crate::actions::Mode::DrillIsolated => "isolated",
        crate::actions::Mode::DrillLive => "live",
        crate::actions::Mode::Failover => "failover",
    }
}
