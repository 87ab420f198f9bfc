//! The report model: one structure that the terminal summary, the JSON document and the
//! HTML page all render (presentation never computes). Built from a run's journal.
//! The JSON form is versioned (`schema_version`) and documented in docs/report-schema.json.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::{ExecPlan, RunState, RunStatus, StepStatus, UndoStatus};
use crate::measure::{Measurement, RpoFigure, RtoFigure, StepTiming, measure};

/// The report JSON format version.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// The verdict of a run against its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every step ran and every target was met.
    Met,
    /// The recovery completed but a target was missed.
    Missed,
    /// The run failed or was interrupted: no valid measurement.
    Error,
}

/// One step in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub id: String,
    pub action: String,
    pub region: Option<String>,
    pub after: Vec<String>,
    pub verify: bool,
    pub status: String,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_seconds: Option<f64>,
    pub attempts: u32,
    /// Set when the step only checked (isolated drills).
    pub simulated: Option<String>,
    pub error: Option<String>,
    pub error_code: Option<String>,
    pub outputs: BTreeMap<String, String>,
    pub created: Vec<String>,
    pub undo: Option<String>,
}

/// How a drill's cleanup went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleanupReport {
    /// `clean`, `leftovers` or `not_applicable`.
    pub status: String,
    pub undone: Vec<String>,
    pub failures: Vec<String>,
}

/// A whole run, ready to render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub run_id: String,
    /// `drill` or `failover`.
    pub kind: String,
    pub drill: Option<String>,
    pub runbook: String,
    pub mode: crate::actions::Mode,
    pub result: Verdict,
    pub run_status: Option<RunStatus>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub t0: DateTime<Utc>,
    pub rto: RtoFigure,
    pub rpo: RpoFigure,
    pub steps: Vec<StepReport>,
    pub cleanup: CleanupReport,
    /// One sentence for people: what happened and by how much a target was missed.
    pub summary: String,
}

fn secs(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds() as f64 / 1000.0
}

/// Human duration for summaries: `14m 3s`, `47s`.
pub fn human_secs(seconds: f64) -> String {
    let s = seconds.round() as i64;
    match s {
        s if s >= 3600 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{}m {}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

impl Report {
    /// Build the report of a run from its replayed journal and plan.
    pub fn build(state: &RunState, plan: &ExecPlan) -> Report {
        let header = &state.header;
        let mut steps = Vec::new();
        let mut timings = Vec::new();
        let mut evidence = Vec::new();
        for step in &plan.steps {
            let s = state.step(&step.id);
            let outcome = s.outcome.clone().unwrap_or_default();
            evidence.extend(outcome.evidence.iter().cloned());
            timings.push(StepTiming {
                id: step.id.clone(),
                after: step.after.clone(),
                verify: step.verify,
                succeeded: s.status == StepStatus::Succeeded && outcome.simulated.is_none(),
                started_at: s.started_at,
                finished_at: s.finished_at,
            });
            steps.push(StepReport {
                id: step.id.clone(),
                action: step.action.spec().name.to_string(),
                region: step.region.clone(),
                after: step.after.clone(),
                verify: step.verify,
                status: match s.status {
                    StepStatus::Pending => "pending",
                    StepStatus::Running => "in_doubt",
                    StepStatus::Succeeded => "succeeded",
                    StepStatus::Failed => "failed",
                    StepStatus::Skipped => "skipped",
                }
                .into(),
                started_at: s.started_at,
                finished_at: s.finished_at,
                duration_seconds: match (s.started_at, s.finished_at) {
                    (Some(a), Some(b)) => Some(secs(a, b)),
                    _ => None,
                },
                attempts: s.attempts,
                simulated: outcome.simulated.clone(),
                error: s.failure.as_ref().map(|f| f.message.clone()),
                error_code: s.failure.as_ref().and_then(|f| f.code.clone()),
                outputs: outcome.outputs.clone(),
                created: outcome.created.clone(),
                undo: s.undo.as_ref().map(|u| match u {
                    UndoStatus::Started => "started".to_string(),
                    UndoStatus::Succeeded => "undone".to_string(),
                    UndoStatus::Failed(m) => format!("failed: {m}"),
                }),
            });
        }
        let rto_target = header.rto_target_secs.map(std::time::Duration::from_secs);
        let rpo_target = header.rpo_target_secs.map(std::time::Duration::from_secs);
        let Measurement { rto, rpo } =
            measure(header.t0, &timings, &evidence, rto_target, rpo_target);

        let undone: Vec<String> = steps
            .iter()
            .filter(|s| s.undo.as_deref() == Some("undone"))
            .map(|s| s.id.clone())
            .collect();
        let failures: Vec<String> = steps
            .iter()
            .filter_map(|s| {
                s.undo
                    .as_deref()
                    .filter(|u| u.starts_with("failed") || *u == "started")
                    .map(|u| format!("{}: {u}", s.id))
            })
            .collect();
        let cleanup = CleanupReport {
            status: if !failures.is_empty() {
                "leftovers".into()
            } else if header.mode == crate::actions::Mode::DrillIsolated || !undone.is_empty() {
                "clean".into()
            } else if header.mode == crate::actions::Mode::DrillLive
                && state.status == Some(RunStatus::Succeeded)
            {
                "failback_pending".into()
            } else {
                "not_applicable".into()
            },
            undone,
            failures,
        };

        let run_ok = state.status == Some(RunStatus::Succeeded);
        let result = if !run_ok || rto.achieved_seconds.is_none() {
            Verdict::Error
        } else if rto.met == Some(false) || rpo.met == Some(false) {
            Verdict::Missed
        } else {
            Verdict::Met
        };
        let summary = summarize(result, state, &rto, &rpo, &steps);
        Report {
            schema_version: REPORT_SCHEMA_VERSION,
            run_id: header.run_id.clone(),
            kind: if header.drill_name.is_some() {
                "drill"
            } else {
                "failover"
            }
            .into(),
            drill: header.drill_name.clone(),
            runbook: header.runbook_name.clone(),
            mode: header.mode,
            result,
            run_status: state.status,
            started_at: state.started_at,
            finished_at: state.last_at,
            t0: header.t0,
            rto,
            rpo,
            steps,
            cleanup,
            summary,
        }
    }
}

fn summarize(
    result: Verdict,
    state: &RunState,
    rto: &RtoFigure,
    rpo: &RpoFigure,
    steps: &[StepReport],
) -> String {
    match result {
        Verdict::Error => {
            if let Some(failed) = steps.iter().find(|s| s.status == "failed") {
                format!(
                    "failed at step `{}`: {}",
                    failed.id,
                    failed.error.clone().unwrap_or_default()
                )
            } else if state.status == Some(RunStatus::Interrupted) || state.interrupted.is_some() {
                "interrupted; resume it to finish".into()
            } else {
                rto.note
                    .clone()
                    .unwrap_or_else(|| "the run did not complete".into())
            }
        }
        Verdict::Met | Verdict::Missed => {
            let mut parts = Vec::new();
            if let (Some(a), Some(t)) = (rto.achieved_seconds, rto.target_seconds) {
                if a > t {
                    parts.push(format!(
                        "RTO {} missed the {} target by {}{}",
                        human_secs(a),
                        human_secs(t),
                        human_secs(a - t),
                        rto.dominant_step
                            .as_ref()
                            .map(|d| format!(" (step `{d}` dominated the critical path)"))
                            .unwrap_or_default()
                    ));
                } else {
                    parts.push(format!("RTO {} within {}", human_secs(a), human_secs(t)));
                }
            }
            if let (Some(a), Some(t)) = (rpo.achieved_seconds, rpo.target_seconds) {
                if a > t {
                    parts.push(format!(
                        "RPO {} missed the {} target by {} ({})",
                        human_secs(a),
                        human_secs(t),
                        human_secs(a - t),
                        rpo.worst_resource.clone().unwrap_or_default()
                    ));
                } else {
                    parts.push(format!("RPO {} within {}", human_secs(a), human_secs(t)));
                }
            }
            parts.join("; ")
        }
    }
}
