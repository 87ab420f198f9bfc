//! Isolated drills never touch production records: they create a separate drill record
//! `drctl-drill-<run id>.<record>` that answers with the target's values, whose INSYNC is the
//! drill's recovery check. `drctl cleanup` finds a run's drill records by that prefix.

use aws_sdk_route53::types::{ChangeAction, RrType};

use super::change::{RecordsUndo, change_and_wait, undo_records};
use super::failover::{Switch, Undo, outcome};
use super::health::wait_health;
use super::records::{RecordJson, fqdn, memo_name, memo_record, parse_memo};
use super::zone::{Pair, Zone, find_one, resolve_zone};
use crate::actions::{ActionError, Outcome, StepContext, on};
use crate::aws::aws_err;

/// The drill record: `drctl-drill-<run id>.<record>`.
pub(crate) fn drill_record_name(run_id: &str, record: &str) -> String {
    format!("{}{}", drill_record_prefix(run_id), fqdn(record))
}

/// `drctl-drill-<run id>.`, what every drill record of a run starts with. The whole run id
/// (lower-cased, at most 48 characters, within DNS's 63-character label) keeps two runs of
/// the same day apart; its first characters alone are the date.
pub(crate) fn drill_record_prefix(run_id: &str) -> String {
    let label: String = run_id
        .chars()
        .take(48)
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("drctl-drill-{label}.")
}

/// Isolated drills: answer from a separate drill record, never from the production one.
pub(super) async fn run_isolated(
    ctx: &StepContext,
    p: &Switch,
    zone: &Zone,
    pair: &Pair,
) -> Result<Outcome<Undo>, ActionError> {
    let (target, ttl, check) = if p.to_secondary {
        (
            pair.secondary.values(),
            pair.secondary.ttl.or(pair.primary.ttl),
            pair.secondary.health_check_id.clone(),
        )
    } else {
        let memo_like = memo_record(&memo_name(&p.record, &p.rtype), &pair.primary);
        let original = find_one(ctx, zone, &memo_like)
            .await?
            .and_then(|m| parse_memo(&m))
            .unwrap_or_else(|| pair.primary.clone());
        (
            original.values(),
            original.ttl.or(pair.primary.ttl),
            pair.primary.health_check_id.clone(),
        )
    };
    let name = drill_record_name(&ctx.run_id, &p.record);
    let blank = RecordJson {
        name: name.clone(),
        rtype: p.rtype.clone(),
        set_identifier: None,
        weight: None,
        region: None,
        geo_location: None,
        failover: None,
        multi_value_answer: None,
        ttl,
        resource_records: Vec::new(),
        alias_target: None,
        health_check_id: None,
        traffic_policy_instance_id: None,
        cidr_routing_config: None,
        geo_proximity_location: None,
    };
    let desired = blank.with_values(&target, ttl);
    let resource = zone.on_record(&name, &p.rtype);
    let existing = find_one(ctx, zone, &desired).await?;
    let mut undo = RecordsUndo {
        zone_id: zone.id.clone(),
        zone_name: zone.name.clone(),
        region: zone.region.clone(),
        ..Default::default()
    };
    let mut changes = Vec::new();
    match &existing {
        Some(e) if *e == desired => {}
        Some(e) => {
            undo.restore.push(e.clone());
            changes.push((ChangeAction::Upsert, desired.clone()));
        }
        None => {
            undo.remove.push(desired.clone());
            changes.push((ChangeAction::Create, desired.clone()));
        }
    }
    let comment = format!("drctl isolated drill {}: drill record", ctx.run_id);
    let fallback = RecordsUndo {
        remove: vec![desired.clone()],
        ..undo.clone()
    };
    let (change_id, undo) = change_and_wait(ctx, zone, changes, undo, &comment, &resource).await?;
    if let Some(id) = check {
        let side = if p.to_secondary {
            "secondary"
        } else {
            "primary"
        };
        wait_health(ctx, &zone.region, &id, true, side).await?;
    }
    let mut out = outcome(&change_id, &name, &target);
    // The drill record carries the run id in its name: it is this run's even without a note.
    out.undo = Some(Undo::Records(undo.unwrap_or(fallback)));
    out.created
        .push(format!("{name} {} in {}", p.rtype, zone.id));
    // Not `simulated`: the drill record is a real change whose INSYNC is the isolated
    // drill's recovery check, so it counts for the RTO.
    ctx.progress(format!(
        "isolated drill: production record {} left untouched; drill record {name} answers with the {} values ({})",
        p.record,
        if p.to_secondary {
            "secondary"
        } else {
            "primary"
        },
        target.describe()
    ));
    Ok(out)
}

/// A drill record found in a hosted zone.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DrillRecord {
    zone: String,
    zone_name: String,
    region: String,
    pub(crate) record: RecordJson,
}

impl DrillRecord {
    /// Name and type: what identifies the record in its zone.
    pub(crate) fn id(&self) -> String {
        format!("{} {}", self.record.name, self.record.rtype)
    }

    /// The zone in words: name and id.
    pub(crate) fn zone(&self) -> String {
        format!("hosted zone {} ({})", self.zone_name, self.zone)
    }
}

/// Every record in `zone` (resolved through `region`) whose name starts with the drill
/// record prefix of `run_id`. Read-only.
pub(crate) async fn drill_records(
    ctx: &StepContext,
    region: &str,
    zone: &str,
    run_id: &str,
) -> Result<Vec<DrillRecord>, ActionError> {
    let zone = resolve_zone(ctx, region, zone).await?;
    let prefix = drill_record_prefix(run_id);
    let r53 = ctx.aws.route53(&zone.region);
    let mut found = Vec::new();
    let mut start: Option<(String, RrType, Option<String>)> = None;
    loop {
        let mut req = r53.list_resource_record_sets().hosted_zone_id(&zone.id);
        if let Some((name, rtype, id)) = &start {
            req = req
                .start_record_name(name)
                .start_record_type(rtype.clone())
                .set_start_record_identifier(id.clone());
        }
        let out = req
            .send()
            .await
            .map_err(aws_err("route53:ListResourceRecordSets"))
            .map_err(on(format!("hosted zone {} ({})", zone.name, zone.id)))?;
        for rrs in out.resource_record_sets() {
            if rrs.name().to_ascii_lowercase().starts_with(&prefix) {
                found.push(DrillRecord {
                    zone: zone.id.clone(),
                    zone_name: zone.name.clone(),
                    region: zone.region.clone(),
                    record: RecordJson::from_sdk(rrs),
                });
            }
        }
        match (
            out.is_truncated(),
            out.next_record_name(),
            out.next_record_type(),
        ) {
            (true, Some(n), Some(t)) => {
                start = Some((
                    n.to_string(),
                    t.clone(),
                    out.next_record_identifier().map(str::to_owned),
                ));
            }
            _ => return Ok(found),
        }
    }
}

/// Delete a drill record (whatever values it has now) and wait until the change is INSYNC.
/// Already gone counts as done.
pub(crate) async fn delete_drill_record(
    ctx: &StepContext,
    record: &DrillRecord,
) -> Result<(), ActionError> {
    undo_records(
        ctx,
        &RecordsUndo {
            zone_id: record.zone.clone(),
            zone_name: record.zone_name.clone(),
            region: record.region.clone(),
            restore: Vec::new(),
            remove: vec![record.record.clone()],
        },
    )
    .await
}
