//! Achieved RTO and RPO as DESIGN.md section 2 defines them, each figure with its evidence.
//!
//! - RTO = T_recovered − T0, where T_recovered is when the last verification step succeeded.
//! - RPO = max over recovered data resources of (T0 − t_consistent).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What kind of data resource a piece of RPO evidence is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// EFS restored from an AWS Backup recovery point: t_consistent = its creation time.
    RecoveryPoint,
    /// EFS replication: t_consistent = the destination's last replicated timestamp.
    Replication,
    /// A Secrets Manager replica: T0 if current, else the change time of the first missing version.
    SecretVersion,
    /// ECR images: T0 if every primary digest is present, else the push time of the oldest missing.
    EcrImages,
}

/// One fact behind an RPO figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The step that produced it.
    pub step: String,
    /// The resource, e.g. `efs fs-0123 (restored as fs-0456)`.
    pub resource: String,
    pub kind: EvidenceKind,
    /// Latest time up to which every change is present in the recovered copy. `None` means
    /// the copy was current when observed (t_consistent = T0).
    pub consistent_at: Option<DateTime<Utc>>,
    /// What was seen, in words (ids, timestamps).
    pub detail: String,
    /// Which API said so, e.g. `backup:DescribeRecoveryPoint`.
    pub source: String,
}

/// One step's timing, as the journal recorded it.
#[derive(Debug, Clone)]
pub struct StepTiming {
    pub id: String,
    pub after: Vec<String>,
    pub verify: bool,
    pub succeeded: bool,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Achieved RTO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RtoFigure {
    pub achieved_seconds: Option<f64>,
    pub target_seconds: Option<f64>,
    pub met: Option<bool>,
    pub t0: DateTime<Utc>,
    pub recovered_at: Option<DateTime<Utc>>,
    /// The verification steps whose success defines T_recovered.
    pub verification_steps: Vec<String>,
    /// The chain of steps that ended last (the measured critical path).
    pub critical_path: Vec<String>,
    /// The step on that path that took longest.
    pub dominant_step: Option<String>,
    /// Why there is no figure, if there is none.
    pub note: Option<String>,
}

/// Per-resource RPO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpoItem {
    pub seconds: f64,
    #[serde(flatten)]
    pub evidence: Evidence,
}

/// Achieved RPO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpoFigure {
    pub achieved_seconds: Option<f64>,
    pub target_seconds: Option<f64>,
    pub met: Option<bool>,
    pub evidence: Vec<RpoItem>,
    /// The resource that set the figure.
    pub worst_resource: Option<String>,
}

/// RTO and RPO of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub rto: RtoFigure,
    pub rpo: RpoFigure,
}

fn seconds(d: chrono::Duration) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}

/// Compute both figures from step timings and evidence.
pub fn measure(
    t0: DateTime<Utc>,
    steps: &[StepTiming],
    evidence: &[Evidence],
    rto_target: Option<std::time::Duration>,
    rpo_target: Option<std::time::Duration>,
) -> Measurement {
    let rto = measure_rto(t0, steps, rto_target);
    let rpo = measure_rpo(t0, evidence, rpo_target);
    Measurement { rto, rpo }
}

fn measure_rto(
    t0: DateTime<Utc>,
    steps: &[StepTiming],
    target: Option<std::time::Duration>,
) -> RtoFigure {
    let target_seconds = target.map(|t| t.as_secs_f64());
    let verification: Vec<&StepTiming> = steps.iter().filter(|s| s.verify).collect();
    let mut figure = RtoFigure {
        achieved_seconds: None,
        target_seconds,
        met: None,
        t0,
        recovered_at: None,
        verification_steps: verification.iter().map(|s| s.id.clone()).collect(),
        critical_path: Vec::new(),
        dominant_step: None,
        note: None,
    };
    if verification.is_empty() {
        figure.note =
            Some("the runbook has no verification step, so recovery cannot be declared".into());
        return figure;
    }
    if let Some(failed) = verification.iter().find(|s| !s.succeeded) {
        figure.note = Some(format!(
            "verification step `{}` did not succeed, so the service was not shown to be recovered",
            failed.id
        ));
        return figure;
    }
    let Some(last) = verification
        .iter()
        .filter(|s| s.finished_at.is_some())
        .max_by_key(|s| s.finished_at)
    else {
        figure.note = Some("no verification step has finished".into());
        return figure;
    };
    let recovered_at = last.finished_at.unwrap_or(t0);
    let achieved = seconds(recovered_at - t0).max(0.0);
    figure.recovered_at = Some(recovered_at);
    figure.achieved_seconds = Some(achieved);
    figure.met = target_seconds.map(|t| achieved <= t);

    // Walk back from the last verification step along the dependency that finished last:
    // that chain is what the recovery actually waited for.
    let by_id: BTreeMap<&str, &StepTiming> = steps.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut path = vec![last.id.clone()];
    let mut current = *last;
    let mut guard = 0;
    while let Some(prev) = current
        .after
        .iter()
        .filter_map(|id| by_id.get(id.as_str()).copied())
        .filter(|s| s.finished_at.is_some())
        .max_by_key(|s| s.finished_at)
    {
        path.push(prev.id.clone());
        current = prev;
        guard += 1;
        if guard > steps.len() {
            break;
        }
    }
    path.reverse();
    figure.dominant_step = path
        .iter()
        .filter_map(|id| by_id.get(id.as_str()))
        .filter_map(|s| {
            Some((
                s.id.clone(),
                (s.finished_at? - s.started_at?).num_milliseconds(),
            ))
        })
        .max_by_key(|(_, ms)| *ms)
        .map(|(id, _)| id);
    figure.critical_path = path;
    figure
}

fn measure_rpo(
    t0: DateTime<Utc>,
    evidence: &[Evidence],
    target: Option<std::time::Duration>,
) -> RpoFigure {
    let target_seconds = target.map(|t| t.as_secs_f64());
    // Several steps may report on the same resource (replicate, then promote): keep the
    // worst figure per resource, in first-seen order.
    let mut items: Vec<RpoItem> = Vec::new();
    for e in evidence {
        let item = RpoItem {
            seconds: e
                .consistent_at
                .map(|at| seconds(t0 - at).max(0.0))
                .unwrap_or(0.0),
            evidence: e.clone(),
        };
        match items.iter_mut().find(|i| i.evidence.resource == e.resource) {
            Some(existing) if item.seconds > existing.seconds => *existing = item,
            Some(_) => {}
            None => items.push(item),
        }
    }
    let worst = items.iter().max_by(|a, b| a.seconds.total_cmp(&b.seconds));
    let achieved = worst.map(|w| w.seconds);
    RpoFigure {
        achieved_seconds: achieved,
        target_seconds,
        met: match (achieved, target_seconds) {
            (Some(a), Some(t)) => Some(a <= t),
            _ => None,
        },
        worst_resource: worst.map(|w| w.evidence.resource.clone()),
        evidence: items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn step(id: &str, after: &[&str], verify: bool, start: &str, end: &str) -> StepTiming {
        StepTiming {
            id: id.into(),
            after: after.iter().map(|s| s.to_string()).collect(),
            verify,
            succeeded: true,
            started_at: Some(at(start)),
            finished_at: Some(at(end)),
        }
    }

    #[test]
    fn rto_is_last_verification_success_minus_t0_and_names_the_dominant_step() {
        let t0 = at("2026-01-01T00:00:00Z");
        let steps = vec![
            step(
                "restore",
                &[],
                false,
                "2026-01-01T00:00:01Z",
                "2026-01-01T00:12:00Z",
            ),
            step(
                "images",
                &[],
                false,
                "2026-01-01T00:00:01Z",
                "2026-01-01T00:01:00Z",
            ),
            step(
                "scale",
                &["restore", "images"],
                false,
                "2026-01-01T00:12:00Z",
                "2026-01-01T00:15:00Z",
            ),
            step(
                "probe",
                &["scale"],
                true,
                "2026-01-01T00:15:00Z",
                "2026-01-01T00:15:30Z",
            ),
        ];
        let m = measure(
            t0,
            &steps,
            &[],
            Some(std::time::Duration::from_secs(1800)),
            None,
        );
        assert_eq!(m.rto.achieved_seconds, Some(930.0));
        assert_eq!(m.rto.met, Some(true));
        assert_eq!(m.rto.critical_path, vec!["restore", "scale", "probe"]);
        assert_eq!(m.rto.dominant_step.as_deref(), Some("restore"));
    }

    #[test]
    fn rto_has_no_figure_when_a_verification_step_failed() {
        let t0 = at("2026-01-01T00:00:00Z");
        let mut probe = step(
            "probe",
            &[],
            true,
            "2026-01-01T00:00:01Z",
            "2026-01-01T00:01:00Z",
        );
        probe.succeeded = false;
        let m = measure(t0, &[probe], &[], None, None);
        assert_eq!(m.rto.achieved_seconds, None);
        assert!(m.rto.note.unwrap().contains("probe"));
    }

    #[test]
    fn rpo_is_the_oldest_consistency_point_and_in_sync_counts_as_zero() {
        let t0 = at("2026-01-01T01:00:00Z");
        let ev = |resource: &str, c: Option<&str>| Evidence {
            step: "s".into(),
            resource: resource.into(),
            kind: EvidenceKind::RecoveryPoint,
            consistent_at: c.map(at),
            detail: String::new(),
            source: "test".into(),
        };
        let evidence = vec![
            ev("efs", Some("2026-01-01T00:13:00Z")),
            ev("secret", None),
            ev("ecr", Some("2026-01-01T00:58:00Z")),
            ev("ecr", Some("2026-01-01T00:59:00Z")),
        ];
        let m = measure(
            t0,
            &[],
            &evidence,
            None,
            Some(std::time::Duration::from_secs(300)),
        );
        assert_eq!(m.rpo.achieved_seconds, Some(47.0 * 60.0));
        assert_eq!(m.rpo.met, Some(false));
        assert_eq!(m.rpo.worst_resource.as_deref(), Some("efs"));
        assert_eq!(m.rpo.evidence[1].seconds, 0.0);
        assert_eq!(
            m.rpo.evidence.len(),
            3,
            "one figure per resource, the worst kept"
        );
        assert_eq!(m.rpo.evidence[2].seconds, 120.0);
    }
}
