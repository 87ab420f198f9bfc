//! `route53.failover` itself: its parameters, its undo record, the `method = "records"`
//! failover, and which way each mode goes (isolated drills: `drill`; health checks:
//! `health`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use aws_sdk_route53::types::ChangeAction;

use super::change::{RecordsUndo, change_and_wait, undo_records};
use super::drill::{drill_record_name, run_isolated};
use super::health::{HealthCheckUndo, run_health_check, undo_health_check, wait_health};
use super::records::{Values, fqdn, memo_name, memo_record, parse_memo};
use super::zone::{Pair, Zone, failover_pair, find_one, resolve_zone};
use crate::actions::spec::{ActionSpec, ParamType, RegionUse, dflt, out, req};
use crate::actions::{ActionError, BoxFuture, Mode, Outcome, StepContext, TypedAction};

/// `route53.failover` in the catalogue.
pub(crate) static SPEC: ActionSpec = ActionSpec {
    name: "route53.failover",
    summary: "Send a failover record's traffic to its secondary (or back) and wait until the change is INSYNC",
    params: &[
        req(
            "zone",
            ParamType::String,
            "hosted zone name (\"example.com.\") or id",
        ),
        req(
            "record",
            ParamType::String,
            "record name, e.g. \"app.example.com.\"",
        ),
        dflt(
            "type",
            ParamType::Enum(&["A", "AAAA", "CNAME"]),
            "A",
            "record type",
        ),
        req(
            "to",
            ParamType::Enum(&["primary", "secondary"]),
            "which side should serve traffic",
        ),
        dflt(
            "method",
            ParamType::Enum(&["records", "health-check"]),
            "records",
            "records: UPSERT the PRIMARY record to the target's values; health-check: invert the primary's health check",
        ),
    ],
    outputs: &[
        out("change_id", "the Route 53 change id"),
        out(
            "record_name",
            "the record that now answers (a drill record in isolated drills)",
        ),
        out(
            "values",
            "the values the record now answers with, comma separated",
        ),
    ],
    iam: &[
        "route53:ListHostedZonesByName",
        "route53:GetHostedZone",
        "route53:ListResourceRecordSets",
        "route53:ChangeResourceRecordSets",
        "route53:GetChange",
        "route53:GetHealthCheck",
        "route53:UpdateHealthCheck",
        "route53:GetHealthCheckStatus",
    ],
    estimate_secs: 90,
    mutating: true,
    verification: true,
    rpo_evidence: false,
    region: RegionUse::Required,
};

/// `route53.failover`.
pub(crate) struct Failover;

/// Which side of the failover pair should serve traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Side {
    Primary,
    Secondary,
}

/// How traffic is moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Method {
    /// UPSERT the PRIMARY record with the target's values (memo of the original kept).
    Records,
    /// Invert the PRIMARY's health check.
    HealthCheck,
}

/// The parameters of `route53.failover`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    /// A hosted zone name or id.
    zone: String,
    record: String,
    #[serde(rename = "type")]
    rtype: String,
    to: Side,
    method: Method,
}

/// What a drill's undo puts back: the record sets as they were (and removes added ones), or
/// the health check's `Inverted`. Journalled as the record sets' undo itself, or as
/// `{"health_check": ...}`; both shapes are read back by whether that key is there.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Undo {
    Records(RecordsUndo),
    HealthCheck(HealthCheckUndo),
}

impl Serialize for Undo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wrapped<'a> {
            health_check: &'a HealthCheckUndo,
        }
        match self {
            Undo::Records(records) => records.serialize(s),
            Undo::HealthCheck(health_check) => Wrapped { health_check }.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Undo {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = Value::deserialize(d)?;
        match value.get("health_check") {
            Some(hc) => HealthCheckUndo::deserialize(hc)
                .map(Undo::HealthCheck)
                .map_err(D::Error::custom),
            None => RecordsUndo::deserialize(&value)
                .map(Undo::Records)
                .map_err(D::Error::custom),
        }
    }
}

/// One failover as the run functions carry it.
pub(super) struct Switch {
    pub(super) region: String,
    pub(super) zone: String,
    /// Fully qualified.
    pub(super) record: String,
    pub(super) rtype: String,
    pub(super) to_secondary: bool,
    pub(super) health_check_method: bool,
}

impl Switch {
    fn new(ctx: &StepContext, p: Params) -> Result<Switch, ActionError> {
        Ok(Switch {
            region: ctx.region()?.to_string(),
            zone: p.zone,
            record: fqdn(&p.record),
            rtype: p.rtype,
            to_secondary: p.to == Side::Secondary,
            health_check_method: p.method == Method::HealthCheck,
        })
    }
}

/// The outputs of a failover that now answers from `record_name` with `values`.
pub(super) fn outcome(change_id: &str, record_name: &str, values: &Values) -> Outcome<Undo> {
    let mut outcome = Outcome::default();
    outcome
        .outputs
        .insert("change_id".into(), change_id.to_string());
    outcome
        .outputs
        .insert("record_name".into(), record_name.to_string());
    outcome.outputs.insert("values".into(), values.describe());
    outcome
}

async fn run_records(
    ctx: &StepContext,
    p: &Switch,
    zone: &Zone,
    pair: &Pair,
) -> Result<Outcome<Undo>, ActionError> {
    let resource = zone.on_record(&p.record, &p.rtype);
    let memo_like = memo_record(&memo_name(&p.record, &p.rtype), &pair.primary);
    let memo = find_one(ctx, zone, &memo_like).await?;
    let mut changes = Vec::new();
    let mut undo = RecordsUndo {
        zone_id: zone.id.clone(),
        zone_name: zone.name.clone(),
        region: zone.region.clone(),
        ..Default::default()
    };
    let target = if p.to_secondary {
        let target = pair.secondary.values();
        if pair.primary.values() != target {
            let desired = pair.primary.with_values(&target, pair.secondary.ttl);
            undo.restore.push(pair.primary.clone());
            changes.push((ChangeAction::Upsert, desired));
            if memo.is_none() {
                undo.remove.push(memo_like.clone());
                changes.push((ChangeAction::Create, memo_like));
            }
        }
        target
    } else {
        match memo.as_ref().map(|m| (m, parse_memo(m))) {
            Some((memo, Some(original))) => {
                if pair.primary != original {
                    undo.restore.push(pair.primary.clone());
                    changes.push((ChangeAction::Upsert, original.clone()));
                }
                undo.restore.push(memo.clone());
                changes.push((ChangeAction::Delete, memo.clone()));
                original.values()
            }
            Some((memo, None)) => {
                return Err(ActionError::fatal(
                    resource,
                    format!(
                        "the failover memo {} cannot be read; restore the PRIMARY record by hand",
                        memo.name
                    ),
                ));
            }
            None if pair.primary.values() != pair.secondary.values() => pair.primary.values(),
            None => {
                return Err(ActionError::fatal(
                    resource,
                    format!(
                        "the PRIMARY record answers with the SECONDARY's values and there is no memo {} of its original values; restore it by hand",
                        memo_like.name
                    ),
                ));
            }
        }
    };
    let comment = format!(
        "drctl run {}: {} traffic to the {}",
        ctx.run_id,
        p.record,
        if p.to_secondary {
            "secondary"
        } else {
            "primary"
        }
    );
    let (change_id, undo) = change_and_wait(ctx, zone, changes, undo, &comment, &resource).await?;
    let target_check = if p.to_secondary {
        pair.secondary.health_check_id.clone()
    } else {
        pair.primary.health_check_id.clone()
    };
    if let Some(id) = target_check {
        let side = if p.to_secondary {
            "secondary"
        } else {
            "primary"
        };
        wait_health(ctx, &zone.region, &id, true, side).await?;
    }
    let mut out = outcome(&change_id, &p.record, &target);
    if ctx.mode.is_drill() {
        out.undo = undo.map(Undo::Records);
    }
    Ok(out)
}

impl TypedAction for Failover {
    const SPEC: &'static ActionSpec = &SPEC;
    type Params = Params;
    type Undo = Undo;

    fn describe(&self, ctx: &StepContext, p: &Params) -> Vec<String> {
        let (record, zone, rtype) = (p.record.as_str(), p.zone.as_str(), p.rtype.as_str());
        let to = match p.to {
            Side::Primary => "primary",
            Side::Secondary => "secondary",
        };
        if ctx.mode == Mode::DrillIsolated {
            return vec![format!(
                "route53:ChangeResourceRecordSets CREATE drill record {} {rtype} in zone {zone} with the {to}'s values (production record untouched)",
                drill_record_name(&ctx.run_id, record)
            )];
        }
        match p.method {
            Method::HealthCheck => vec![format!(
                "route53:UpdateHealthCheck Inverted = {} on the health check of the PRIMARY {record} {rtype} in zone {zone}",
                to == "secondary"
            )],
            _ if to == "primary" => vec![format!(
                "route53:ChangeResourceRecordSets UPSERT the PRIMARY {record} {rtype} in zone {zone} back to its original values (from the memo {}), DELETE the memo",
                memo_name(record, rtype)
            )],
            _ => vec![format!(
                "route53:ChangeResourceRecordSets UPSERT the PRIMARY {record} {rtype} in zone {zone} with the SECONDARY's values, CREATE the memo {} of its original values",
                memo_name(record, rtype)
            )],
        }
    }

    fn run<'a>(
        &'a self,
        ctx: &'a StepContext,
        p: Params,
    ) -> BoxFuture<'a, Result<Outcome<Undo>, ActionError>> {
        Box::pin(async move {
            let p = Switch::new(ctx, p)?;
            let zone = resolve_zone(ctx, &p.region, &p.zone).await?;
            let pair = failover_pair(ctx, &zone, &p.record, &p.rtype).await?;
            if ctx.mode == Mode::DrillIsolated {
                run_isolated(ctx, &p, &zone, &pair).await
            } else if p.health_check_method {
                run_health_check(ctx, &p, &zone, &pair).await
            } else {
                run_records(ctx, &p, &zone, &pair).await
            }
        })
    }

    fn undo<'a>(
        &'a self,
        ctx: &'a StepContext,
        undo: Undo,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async move {
            match &undo {
                Undo::HealthCheck(hc) => undo_health_check(ctx, hc).await,
                Undo::Records(records) => undo_records(ctx, records).await,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn both_undo_shapes_read_back_as_journalled_and_a_missing_field_is_an_error() {
        // As the code before the typed records journalled them.
        let health =
            json!({"health_check": {"region": "us-east-1", "id": "hc-1", "inverted": false}});
        let records = json!({
            "zone_id": "Z1", "zone_name": "example.com.", "region": "us-east-1",
            "restore": [], "remove": [{"name": "drctl-drill-r.app.example.com.", "type": "A", "ttl": 60, "resource_records": ["10.0.0.1"]}],
        });
        for journalled in [health, records] {
            let undo: Undo = serde_json::from_value(journalled.clone()).unwrap();
            assert_eq!(serde_json::to_value(&undo).unwrap(), journalled);
        }
        let err = serde_json::from_value::<Undo>(json!({"health_check": {"region": "us-east-1"}}))
            .unwrap_err();
        assert!(err.to_string().contains("missing field `id`"), "{err}");
        assert!(serde_json::from_value::<Undo>(json!({"zone_id": "Z1"})).is_err());
    }
}
