//! The check itself: from the subjects to a report. Resources are gathered from every
//! subject first, so a resource that several runbooks or drills recover is probed once and
//! judged against each one's target.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::judge::judge;
use super::model::{CHECK_SCHEMA_VERSION, CheckReport};
use super::probe::{Probe, Prober};
use super::resources::{Recovered, Resource, Subject, recovered};
use crate::aws::AwsClients;

/// Measure the RPO exposure of every data resource the subjects recover, as of `now`.
/// Read-only: every AWS call is a Describe, List or Get.
pub async fn check(aws: &AwsClients, subjects: &[Subject], now: DateTime<Utc>) -> CheckReport {
    let mut notes = Vec::new();
    let mut prober = Prober::new(aws, now);
    // (subject, recovered resource), in subject and step order.
    let mut rows: Vec<(&Subject, Recovered)> = Vec::new();
    for subject in subjects {
        let (found, skipped) = recovered(&subject.runbook);
        notes.extend(
            skipped
                .into_iter()
                .map(|s| format!("{}: {s}", subject.label())),
        );
        if found.is_empty() {
            notes.push(format!(
                "{}: runbook `{}` recovers no data resource; nothing to check",
                subject.label(),
                subject.runbook.name
            ));
        }
        for rec in found {
            match prober.expand(rec.resource.clone()).await {
                Ok(resources) => rows.extend(resources.into_iter().map(|resource| {
                    (
                        subject,
                        Recovered {
                            step: rec.step.clone(),
                            resource,
                        },
                    )
                })),
                // Kept as one row, which the probe will fail on with the same error.
                Err(_) => rows.push((subject, rec)),
            }
        }
    }
    let mut probes: BTreeMap<Resource, Probe> = BTreeMap::new();
    for (_, rec) in &rows {
        if !probes.contains_key(&rec.resource) {
            let probe = prober.probe(&rec.resource).await;
            probes.insert(rec.resource.clone(), probe);
        }
    }
    let results: Vec<_> = rows
        .iter()
        .map(|(subject, rec)| {
            judge(
                subject,
                &rec.step,
                &rec.resource,
                &probes[&rec.resource],
                now,
            )
        })
        .collect();
    CheckReport {
        schema_version: CHECK_SCHEMA_VERSION,
        checked_at: now,
        status: CheckReport::status_of(&results),
        results,
        notes,
    }
}
