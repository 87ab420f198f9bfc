//! From what a probe saw to a verdict against a target, with a statement in plain words.
//!
//! The exposure is `now − t_consistent` (zero when nothing is missing). For recovery points
//! the statement also says what the backup schedule can give at best: AWS Backup snapshots
//! EFS at most hourly, so when the schedule's longest gap exceeds the target the target
//! cannot be met by backups alone, whatever the exposure happens to be right now.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::model::ResourceCheck;
use super::plans::Rule;
use super::probe::{Probe, Seen};
use super::resources::{Resource, Subject};
use crate::report::human_secs;
use crate::runbook::format_duration;

/// The row of `resource` (recovered by `step` of `subject`) as `probe` saw it at `now`.
pub(crate) fn judge(
    subject: &Subject,
    step: &str,
    resource: &Resource,
    probe: &Probe,
    now: DateTime<Utc>,
) -> ResourceCheck {
    let target = subject.rpo_target;
    let exposure = match &probe.seen {
        Seen::Current => Some(0.0),
        Seen::ConsistentAt(at) => Some(((now - *at).num_milliseconds() as f64 / 1000.0).max(0.0)),
        Seen::Nothing(_) | Seen::Unknown => None,
    };
    let met = match (&probe.seen, exposure, target) {
        (_, _, None) | (Seen::Unknown, _, _) => None,
        (Seen::Nothing(_), _, Some(_)) => Some(false),
        (_, Some(e), Some(t)) => Some(e <= t.as_secs_f64()),
        (_, None, Some(_)) => None,
    };
    ResourceCheck {
        runbook: subject.runbook.name.clone(),
        drill: subject.drill.clone(),
        file: subject.file.display().to_string(),
        step: step.to_string(),
        resource: resource.name(),
        kind: resource.kind(),
        region: resource.region().to_string(),
        exposure_seconds: exposure.map(|e| (e * 1000.0).round() / 1000.0),
        target_seconds: target.map(|t| t.as_secs_f64()),
        met,
        consistent_at: match probe.seen {
            Seen::ConsistentAt(at) => Some(at),
            _ => None,
        },
        evidence: probe.evidence.clone(),
        statement: statement(resource, probe, exposure, target),
        error: probe.error.as_ref().map(|e| e.to_string()),
        error_code: probe
            .error
            .as_ref()
            .and_then(|e| e.aws_code().map(str::to_owned)),
    }
}

fn statement(
    resource: &Resource,
    probe: &Probe,
    exposure: Option<f64>,
    target: Option<Duration>,
) -> String {
    let mut sentences = Vec::new();
    let lead = match (&probe.seen, exposure) {
        (Seen::Unknown, _) | (_, None) => None,
        (Seen::Current, _) => Some(match resource {
            Resource::Images { .. } => "every image is replicated".to_string(),
            _ => "the replica is current".to_string(),
        }),
        (_, Some(e)) => Some(match resource {
            Resource::RecoveryPoints { .. } => {
                format!("the newest recovery point is {} old", human_secs(e))
            }
            Resource::Replica { .. } => format!("last replicated {} ago", human_secs(e)),
            Resource::Images { .. } => format!(
                "the oldest image missing in {} was pushed {} ago",
                resource.region(),
                human_secs(e)
            ),
            Resource::Secret { .. } => {
                format!("the replica lacks a version created {} ago", human_secs(e))
            }
        }),
    };
    match (&probe.seen, lead, exposure, target) {
        (Seen::Nothing(why), ..) => sentences.push(format!(
            "{why}: a disaster now would leave nothing to recover it from."
        )),
        (_, Some(lead), Some(e), Some(t)) if e <= t.as_secs_f64() => {
            sentences.push(format!("{lead}: within the {} target.", format_duration(t)))
        }
        (_, Some(lead), Some(e), Some(t)) => sentences.push(format!(
            "{lead}: {} over the {} target; a disaster now would lose that much.",
            human_secs(e - t.as_secs_f64()),
            format_duration(t)
        )),
        (_, Some(lead), _, None) => sentences.push(format!("{lead}; no RPO target is set.")),
        _ => {}
    }
    if let (Resource::RecoveryPoints { .. }, Some(rules)) = (resource, &probe.rules) {
        sentences.extend(schedule_statement(resource, rules, target));
    }
    if let Some(error) = &probe.error {
        sentences.push(format!("Could not measure everything: {error}."));
    }
    sentences.join(" ")
}

/// What the backup rules can give, when that decides the verdict.
fn schedule_statement(
    resource: &Resource,
    rules: &[Rule],
    target: Option<Duration>,
) -> Option<String> {
    let Resource::RecoveryPoints {
        region,
        vault,
        file_system: Some(fs),
        ..
    } = resource
    else {
        return None;
    };
    let delivering: Vec<&Rule> = rules
        .iter()
        .filter(|r| r.delivers_to(vault, region))
        .collect();
    if delivering.is_empty() {
        return Some(match rules.first() {
            Some(other) => format!(
                "Rule `{}` of backup plan `{}` backs {fs} up to vault {} ({}), but no rule copies it to vault {vault} ({region}): recovery points there only come from copies made by hand.",
                other.rule, other.plan, other.target_vault, other.plan_region
            ),
            None => format!(
                "No backup plan rule puts recovery points of {fs} in vault {vault} ({region}): the exposure keeps growing until someone takes a backup."
            ),
        });
    }
    // The most frequent rule sets the best case (several rules interleaving could do a
    // little better; the figure is conservative).
    let best = delivering
        .iter()
        .filter_map(|r| r.gaps.map(|g| g.longest))
        .min()?;
    let target = target?;
    if target >= best {
        return None;
    }
    let cadence = if best == Duration::from_secs(3600) {
        "hourly EFS backups".to_string()
    } else {
        format!("EFS backups up to {} apart", format_duration(best))
    };
    Some(format!(
        "{} cannot give a {} RPO: the best case is {} (AWS Backup snapshots EFS at most hourly); use EFS replication for a tighter RPO.",
        capitalize(&cadence),
        format_duration(target),
        format_duration(best)
    ))
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::posture::model::Fact;
    use crate::runbook::{load_runbook_str, schedule_gaps};

    fn subject(rpo: &str) -> Subject {
        let text = format!(
            "name = \"t\"\n[regions]\nprimary = \"us-east-1\"\n[targets]\nrpo = \"{rpo}\"\n\
             [[steps]]\nid = \"probe\"\naction = \"http.probe\"\n[steps.with]\nurl = \"http://127.0.0.1:1/\"\n"
        );
        let runbook = load_runbook_str("t.toml", &text, &BTreeMap::new()).unwrap();
        Subject {
            file: "t.toml".into(),
            drill: None,
            rpo_target: runbook.targets.rpo,
            runbook,
        }
    }

    fn points() -> Resource {
        Resource::RecoveryPoints {
            region: "us-west-2".into(),
            vault: "dr".into(),
            file_system: Some("fs-1".into()),
            fs_region: "us-east-1".into(),
        }
    }

    fn hourly() -> Rule {
        Rule {
            plan: "p".into(),
            plan_region: "us-east-1".into(),
            rule: "hourly".into(),
            schedule: "cron(0 * ? * * *)".into(),
            gaps: schedule_gaps("cron(0 * ? * * *)"),
            target_vault: "prod".into(),
            copies_to: vec!["arn:aws:backup:us-west-2:1:backup-vault:dr".into()],
            by_arn: true,
        }
    }

    fn probe(seen: Seen, rules: Option<Vec<Rule>>) -> Probe {
        Probe {
            seen,
            evidence: vec![Fact {
                detail: "d".into(),
                source: "s".into(),
            }],
            rules,
            error: None,
        }
    }

    #[test]
    fn hourly_backups_against_a_five_minute_target_say_so_plainly() {
        let now: DateTime<Utc> = "2026-01-01T01:00:00Z".parse().unwrap();
        let at = now - chrono::Duration::minutes(17);
        let row = judge(
            &subject("5m"),
            "restore",
            &points(),
            &probe(Seen::ConsistentAt(at), Some(vec![hourly()])),
            now,
        );
        assert_eq!(row.exposure_seconds, Some(1020.0));
        assert_eq!(row.met, Some(false));
        assert_eq!(
            row.statement,
            "the newest recovery point is 17m 0s old: 12m 0s over the 5m target; a disaster now would lose that much. \
Hourly EFS backups cannot give a 5m RPO: the best case is 1h (AWS Backup snapshots EFS at most hourly); use EFS replication for a tighter RPO."
        );
        // Within target right after a backup, the schedule still cannot keep it there.
        let fresh = judge(
            &subject("5m"),
            "restore",
            &points(),
            &probe(
                Seen::ConsistentAt(now - chrono::Duration::minutes(2)),
                Some(vec![hourly()]),
            ),
            now,
        );
        assert_eq!(fresh.met, Some(true));
        assert!(
            fresh
                .statement
                .starts_with("the newest recovery point is 2m 0s old: within the 5m target.")
        );
        assert!(
            fresh
                .statement
                .contains("Hourly EFS backups cannot give a 5m RPO")
        );
        // An hourly schedule meets an hourly target: nothing to add.
        let monthly = judge(
            &subject("1h"),
            "restore",
            &points(),
            &probe(Seen::ConsistentAt(at), Some(vec![hourly()])),
            now,
        );
        assert_eq!(monthly.met, Some(true));
        assert!(
            !monthly.statement.contains("cannot"),
            "{}",
            monthly.statement
        );
    }

    #[test]
    fn no_copy_rule_and_no_point_are_named() {
        let now: DateTime<Utc> = "2026-01-01T01:00:00Z".parse().unwrap();
        let mut local = hourly();
        local.copies_to.clear();
        let row = judge(
            &subject("5m"),
            "restore",
            &points(),
            &probe(
                Seen::Nothing(
                    "vault dr (us-west-2) holds no COMPLETED recovery point of fs-1".into(),
                ),
                Some(vec![local]),
            ),
            now,
        );
        assert_eq!((row.exposure_seconds, row.met), (None, Some(false)));
        assert!(
            row.statement
                .contains("a disaster now would leave nothing to recover it from")
        );
        assert!(
            row.statement
                .contains("no rule copies it to vault dr (us-west-2)"),
            "{}",
            row.statement
        );
    }

    #[test]
    fn current_replicas_have_zero_exposure() {
        let now = Utc::now();
        let secret = Resource::Secret {
            source: "us-east-1".into(),
            region: "us-west-2".into(),
            name: "s".into(),
        };
        let row = judge(
            &subject("5m"),
            "replicate",
            &secret,
            &probe(Seen::Current, None),
            now,
        );
        assert_eq!((row.exposure_seconds, row.met), (Some(0.0), Some(true)));
        assert_eq!(
            row.statement,
            "the replica is current: within the 5m target."
        );
    }
}
