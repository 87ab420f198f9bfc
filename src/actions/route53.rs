//! `route53.failover`: send a failover record's traffic to its SECONDARY (or back to its
//! PRIMARY), either by rewriting the PRIMARY record's values (`method = "records"`) or by
//! inverting the PRIMARY's health check (`method = "health-check"`), then wait until the
//! change is INSYNC and the side now serving is healthy.
//!
//! Failback needs the PRIMARY record's original values after a failover replaced them. They
//! must survive the run that made the failover (a failback is often a later, separate run),
//! so the failover writes them, in the same atomic change batch, into a TXT memo record
//! `_drctl-failover-<type>.<record>` in the zone; `to = "primary"` restores them from there and
//! deletes the memo in one batch again. The full record sets as they were before a change are
//! also journalled and returned as the drill undo, which puts them back exactly.
//!
//! Look before acting: a record that already answers with the target's values is not changed
//! (a resumed step only waits for the change its earlier attempt made). Isolated drills never
//! touch production records: they create a separate drill record
//! `drctl-drill-<run id>.<record>` that answers with the target's values.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ChangeStatus, CidrRoutingConfig, Coordinates,
    GeoLocation, GeoProximityLocation, ResourceRecord, ResourceRecordSet,
    ResourceRecordSetFailover, ResourceRecordSetRegion, RrType,
};

use super::spec::{self, ActionSpec};
use super::{Action, ActionError, BoxFuture, Mode, Poll, StepContext, StepOutcome, on, poll_until};
use crate::aws::aws_err;

/// Route 53 treats an endpoint as healthy when more than 18% of its checkers say so.
const HEALTHY_FRACTION: f64 = 0.18;
/// TXT strings hold at most 255 characters.
const TXT_CHUNK: usize = 250;

/// `route53.failover`.
pub(crate) struct Failover;

/// A resource record set, complete enough to be written back exactly as it was listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RecordJson {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_location: Option<GeoJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_value_answer: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_records: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_target: Option<AliasJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_policy_instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr_routing_config: Option<CidrJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_proximity_location: Option<GeoProximityJson>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AliasJson {
    pub hosted_zone_id: String,
    pub dns_name: String,
    pub evaluate_target_health: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct GeoJson {
    pub continent_code: Option<String>,
    pub country_code: Option<String>,
    pub subdivision_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CidrJson {
    pub collection_id: String,
    pub location_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct GeoProximityJson {
    pub aws_region: Option<String>,
    pub local_zone_group: Option<String>,
    pub coordinates: Option<(String, String)>,
    pub bias: Option<i32>,
}

/// Where traffic can be sent: the values a record answers with.
#[derive(Debug, Clone, PartialEq)]
enum Values {
    Records(Vec<String>),
    Alias(AliasJson),
}

impl RecordJson {
    fn from_sdk(r: &ResourceRecordSet) -> Self {
        RecordJson {
            name: r.name().to_string(),
            rtype: r.r#type().as_str().to_string(),
            set_identifier: r.set_identifier().map(str::to_owned),
            weight: r.weight(),
            region: r.region().map(|x| x.as_str().to_string()),
            geo_location: r.geo_location().map(|g| GeoJson {
                continent_code: g.continent_code().map(str::to_owned),
                country_code: g.country_code().map(str::to_owned),
                subdivision_code: g.subdivision_code().map(str::to_owned),
            }),
            failover: r.failover().map(|f| f.as_str().to_string()),
            multi_value_answer: r.multi_value_answer(),
            ttl: r.ttl(),
            resource_records: r
                .resource_records()
                .iter()
                .map(|v| v.value().to_string())
                .collect(),
            alias_target: r.alias_target().map(|a| AliasJson {
                hosted_zone_id: a.hosted_zone_id().to_string(),
                dns_name: a.dns_name().to_string(),
                evaluate_target_health: a.evaluate_target_health(),
            }),
            health_check_id: r.health_check_id().map(str::to_owned),
            traffic_policy_instance_id: r.traffic_policy_instance_id().map(str::to_owned),
            cidr_routing_config: r.cidr_routing_config().map(|c| CidrJson {
                collection_id: c.collection_id().to_string(),
                location_name: c.location_name().to_string(),
            }),
            geo_proximity_location: r.geo_proximity_location().map(|g| GeoProximityJson {
                aws_region: g.aws_region().map(str::to_owned),
                local_zone_group: g.local_zone_group().map(str::to_owned),
                coordinates: g
                    .coordinates()
                    .map(|c| (c.latitude().to_string(), c.longitude().to_string())),
                bias: g.bias(),
            }),
        }
    }

    fn to_sdk(&self) -> Result<ResourceRecordSet, String> {
        let records = if self.resource_records.is_empty() {
            None
        } else {
            Some(
                self.resource_records
                    .iter()
                    .map(|v| ResourceRecord::builder().value(v).build())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.to_string())?,
            )
        };
        let alias = match &self.alias_target {
            Some(a) => Some(
                AliasTarget::builder()
                    .hosted_zone_id(&a.hosted_zone_id)
                    .dns_name(&a.dns_name)
                    .evaluate_target_health(a.evaluate_target_health)
                    .build()
                    .map_err(|e| e.to_string())?,
            ),
            None => None,
        };
        let cidr = match &self.cidr_routing_config {
            Some(c) => Some(
                CidrRoutingConfig::builder()
                    .collection_id(&c.collection_id)
                    .location_name(&c.location_name)
                    .build()
                    .map_err(|e| e.to_string())?,
            ),
            None => None,
        };
        let proximity = match &self.geo_proximity_location {
            Some(g) => Some(
                GeoProximityLocation::builder()
                    .set_aws_region(g.aws_region.clone())
                    .set_local_zone_group(g.local_zone_group.clone())
                    .set_coordinates(match &g.coordinates {
                        Some((lat, lon)) => Some(
                            Coordinates::builder()
                                .latitude(lat)
                                .longitude(lon)
                                .build()
                                .map_err(|e| e.to_string())?,
                        ),
                        None => None,
                    })
                    .set_bias(g.bias)
                    .build(),
            ),
            None => None,
        };
        ResourceRecordSet::builder()
            .name(&self.name)
            .r#type(RrType::from(self.rtype.as_str()))
            .set_set_identifier(self.set_identifier.clone())
            .set_weight(self.weight)
            .set_region(self.region.as_deref().map(ResourceRecordSetRegion::from))
            .set_geo_location(self.geo_location.as_ref().map(|g| {
                GeoLocation::builder()
                    .set_continent_code(g.continent_code.clone())
                    .set_country_code(g.country_code.clone())
                    .set_subdivision_code(g.subdivision_code.clone())
                    .build()
            }))
            .set_failover(
                self.failover
                    .as_deref()
                    .map(ResourceRecordSetFailover::from),
            )
            .set_multi_value_answer(self.multi_value_answer)
            .set_ttl(self.ttl)
            .set_resource_records(records)
            .set_alias_target(alias)
            .set_health_check_id(self.health_check_id.clone())
            .set_traffic_policy_instance_id(self.traffic_policy_instance_id.clone())
            .set_cidr_routing_config(cidr)
            .set_geo_proximity_location(proximity)
            .build()
            .map_err(|e| e.to_string())
    }

    fn values(&self) -> Values {
        match &self.alias_target {
            Some(a) => Values::Alias(a.clone()),
            None => Values::Records(self.resource_records.clone()),
        }
    }

    /// This record with `values` (and the TTL that goes with them).
    fn with_values(&self, values: &Values, ttl_for_records: Option<i64>) -> RecordJson {
        let mut out = self.clone();
        match values {
            Values::Records(v) => {
                out.resource_records = v.clone();
                out.alias_target = None;
                if out.ttl.is_none() {
                    out.ttl = ttl_for_records.or(Some(60));
                }
            }
            Values::Alias(a) => {
                out.resource_records.clear();
                out.alias_target = Some(a.clone());
                out.ttl = None; // alias records carry no TTL
            }
        }
        out
    }

    /// Name, type and set identifier: what Route 53 keys a record set by.
    fn same_key(&self, other: &RecordJson) -> bool {
        same_name(&self.name, &other.name)
            && self.rtype == other.rtype
            && self.set_identifier == other.set_identifier
    }
}

impl Values {
    fn describe(&self) -> String {
        match self {
            Values::Records(v) => v.join(","),
            Values::Alias(a) => format!("alias:{}", a.dns_name),
        }
    }
}

fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

fn same_name(a: &str, b: &str) -> bool {
    fqdn(a).eq_ignore_ascii_case(&fqdn(b))
}

fn bare_zone_id(id: &str) -> String {
    id.trim_start_matches("/hostedzone/").to_string()
}

fn bare_change_id(id: &str) -> String {
    id.rsplit('/').next().unwrap_or(id).to_string()
}

fn memo_name(record: &str, rtype: &str) -> String {
    format!(
        "_drctl-failover-{}.{}",
        rtype.to_ascii_lowercase(),
        fqdn(record)
    )
}

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

/// The TXT memo holding the PRIMARY record's original set, hex-encoded JSON in quoted chunks.
fn memo_record(name: &str, original: &RecordJson) -> RecordJson {
    let hex = hex::encode(serde_json::to_vec(original).unwrap_or_default());
    let chunks: Vec<String> = hex
        .as_bytes()
        .chunks(TXT_CHUNK)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
        .collect();
    RecordJson {
        name: name.to_string(),
        rtype: "TXT".into(),
        set_identifier: None,
        weight: None,
        region: None,
        geo_location: None,
        failover: None,
        multi_value_answer: None,
        ttl: Some(60),
        resource_records: vec![chunks.join(" ")],
        alias_target: None,
        health_check_id: None,
        traffic_policy_instance_id: None,
        cidr_routing_config: None,
        geo_proximity_location: None,
    }
}

fn parse_memo(memo: &RecordJson) -> Option<RecordJson> {
    let text: String = memo
        .resource_records
        .iter()
        .flat_map(|v| v.chars())
        .filter(|c| c.is_ascii_hexdigit())
        .collect();
    serde_json::from_slice(&hex::decode(text).ok()?).ok()
}

/// The resolved hosted zone.
struct Zone {
    id: String,
    name: String,
    region: String,
}

impl Zone {
    fn on_record(&self, name: &str, rtype: &str) -> String {
        format!(
            "record {name} {rtype} in hosted zone {} ({}, via {})",
            self.name, self.id, self.region
        )
    }
}

async fn resolve_zone(ctx: &StepContext, region: &str, zone: &str) -> Result<Zone, ActionError> {
    let r53 = ctx.aws.route53(region);
    let looks_like_id = zone.starts_with("/hostedzone/") || !zone.contains('.');
    if looks_like_id {
        let id = bare_zone_id(zone);
        let out = r53
            .get_hosted_zone()
            .id(&id)
            .send()
            .await
            .map_err(aws_err("route53:GetHostedZone"))
            .map_err(on(format!("hosted zone {id} (via {region})")))?;
        let name = out
            .hosted_zone()
            .map(|z| z.name().to_string())
            .unwrap_or_default();
        return Ok(Zone {
            id,
            name,
            region: region.into(),
        });
    }
    let name = fqdn(zone);
    let out = r53
        .list_hosted_zones_by_name()
        .dns_name(&name)
        .send()
        .await
        .map_err(aws_err("route53:ListHostedZonesByName"))
        .map_err(on(format!("hosted zone {name} (via {region})")))?;
    let matches: Vec<_> = out
        .hosted_zones()
        .iter()
        .filter(|z| same_name(z.name(), &name))
        .collect();
    match matches.as_slice() {
        [one] => Ok(Zone {
            id: bare_zone_id(one.id()),
            name: one.name().to_string(),
            region: region.into(),
        }),
        [] => Err(ActionError::fatal(
            format!("hosted zone {name} (via {region})"),
            "no hosted zone has this name; give its id instead",
        )),
        many => Err(ActionError::fatal(
            format!("hosted zone {name} (via {region})"),
            format!(
                "{} hosted zones have this name ({}): give the id of the one to change",
                many.len(),
                many.iter()
                    .map(|z| bare_zone_id(z.id()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// Every record set called `name` of type `rtype`, as ListResourceRecordSets returns them.
pub(crate) async fn list_sets(
    ctx: &StepContext,
    region: &str,
    zone_id: &str,
    name: &str,
    rtype: &str,
    resource: &str,
) -> Result<Vec<ResourceRecordSet>, ActionError> {
    let r53 = ctx.aws.route53(region);
    let mut found = Vec::new();
    let mut start: (String, RrType, Option<String>) = (fqdn(name), RrType::from(rtype), None);
    loop {
        let out = r53
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .start_record_name(&start.0)
            .start_record_type(start.1.clone())
            .set_start_record_identifier(start.2.clone())
            .send()
            .await
            .map_err(aws_err("route53:ListResourceRecordSets"))
            .map_err(on(resource))?;
        let mut past = false;
        for rrs in out.resource_record_sets() {
            if same_name(rrs.name(), name) && rrs.r#type().as_str() == rtype {
                found.push(rrs.clone());
            } else if !found.is_empty() || !same_name(rrs.name(), name) {
                // Listings are sorted by name and type: once past ours, we are done.
                past = true;
                break;
            }
        }
        if past || !out.is_truncated() {
            return Ok(found);
        }
        match (out.next_record_name(), out.next_record_type()) {
            (Some(n), Some(t)) => {
                start = (
                    n.to_string(),
                    t.clone(),
                    out.next_record_identifier().map(str::to_owned),
                );
            }
            _ => return Ok(found),
        }
    }
}

async fn find_one(
    ctx: &StepContext,
    zone: &Zone,
    like: &RecordJson,
) -> Result<Option<RecordJson>, ActionError> {
    let sets = list_sets(
        ctx,
        &zone.region,
        &zone.id,
        &like.name,
        &like.rtype,
        &zone.on_record(&like.name, &like.rtype),
    )
    .await?;
    Ok(sets
        .iter()
        .map(RecordJson::from_sdk)
        .find(|r| r.same_key(like)))
}

/// Submit one change batch; returns the bare change id.
async fn submit(
    ctx: &StepContext,
    zone: &Zone,
    changes: &[(ChangeAction, RecordJson)],
    comment: &str,
    resource: &str,
) -> Result<String, ActionError> {
    let mut batch = ChangeBatch::builder().comment(comment);
    for (action, record) in changes {
        let rrs = record
            .to_sdk()
            .map_err(|m| ActionError::fatal(resource, m))?;
        batch = batch.changes(
            Change::builder()
                .action(action.clone())
                .resource_record_set(rrs)
                .build()
                .map_err(|e| ActionError::fatal(resource, e.to_string()))?,
        );
    }
    let batch = batch
        .build()
        .map_err(|e| ActionError::fatal(resource, e.to_string()))?;
    let out = ctx
        .aws
        .route53(&zone.region)
        .change_resource_record_sets()
        .hosted_zone_id(&zone.id)
        .change_batch(batch)
        .send()
        .await
        .map_err(aws_err("route53:ChangeResourceRecordSets"))
        .map_err(on(resource))?;
    Ok(out
        .change_info()
        .map(|c| bare_change_id(c.id()))
        .unwrap_or_default())
}

/// Wait until a change has propagated to every Route 53 DNS server.
async fn wait_insync(
    ctx: &StepContext,
    region: &str,
    change_id: &str,
    resource: &str,
) -> Result<(), ActionError> {
    if change_id.is_empty() {
        return Ok(());
    }
    let r53 = ctx.aws.route53(region);
    poll_until(ctx, || async {
        let out = r53
            .get_change()
            .id(change_id)
            .send()
            .await
            .map_err(aws_err("route53:GetChange"))
            .map_err(on(format!("change {change_id} of {resource}")))?;
        match out.change_info().map(|c| c.status()) {
            Some(ChangeStatus::Insync) => Ok(Poll::Ready(())),
            other => Ok(Poll::Pending(format!(
                "change {change_id}: {}",
                other.map(|s| s.as_str()).unwrap_or("PENDING")
            ))),
        }
    })
    .await
}

/// What Route 53's checkers say about a health check: healthy when more than 18% agree.
async fn health(
    ctx: &StepContext,
    region: &str,
    health_check_id: &str,
) -> Result<Option<bool>, ActionError> {
    let out = ctx
        .aws
        .route53(region)
        .get_health_check_status()
        .health_check_id(health_check_id)
        .send()
        .await
        .map_err(aws_err("route53:GetHealthCheckStatus"))
        .map_err(on(format!("health check {health_check_id} (via {region})")))?;
    let statuses: Vec<&str> = out
        .health_check_observations()
        .iter()
        .filter_map(|o| o.status_report().and_then(|s| s.status()))
        .collect();
    if statuses.is_empty() {
        return Ok(None);
    }
    let healthy = statuses.iter().filter(|s| s.starts_with("Success")).count();
    Ok(Some(
        healthy as f64 / statuses.len() as f64 > HEALTHY_FRACTION,
    ))
}

async fn wait_health(
    ctx: &StepContext,
    region: &str,
    health_check_id: &str,
    want_healthy: bool,
    side: &str,
) -> Result<(), ActionError> {
    let want = if want_healthy { "healthy" } else { "unhealthy" };
    poll_until(ctx, || async {
        match health(ctx, region, health_check_id).await? {
            Some(h) if h == want_healthy => Ok(Poll::Ready(())),
            seen => Ok(Poll::Pending(format!(
                "waiting for the {side} health check {health_check_id} to report {want} (now {})",
                match seen {
                    Some(true) => "healthy",
                    Some(false) => "unhealthy",
                    None => "no observations",
                }
            ))),
        }
    })
    .await
}

/// How to undo record changes: put back `restore` exactly, delete `remove`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RecordsUndo {
    zone_id: String,
    zone_name: String,
    region: String,
    restore: Vec<RecordJson>,
    remove: Vec<RecordJson>,
}

/// The failover pair of the record.
struct Pair {
    primary: RecordJson,
    secondary: RecordJson,
}

async fn failover_pair(
    ctx: &StepContext,
    zone: &Zone,
    record: &str,
    rtype: &str,
) -> Result<Pair, ActionError> {
    let resource = zone.on_record(record, rtype);
    let sets: Vec<RecordJson> = list_sets(ctx, &zone.region, &zone.id, record, rtype, &resource)
        .await?
        .iter()
        .map(RecordJson::from_sdk)
        .collect();
    let pick = |which: &str| {
        sets.iter()
            .find(|r| r.failover.as_deref() == Some(which))
            .cloned()
            .ok_or_else(|| {
                ActionError::fatal(
                    resource.clone(),
                    format!(
                        "has no {which} failover record (found {} record set{})",
                        sets.len(),
                        if sets.len() == 1 { "" } else { "s" }
                    ),
                )
            })
    };
    Ok(Pair {
        primary: pick("PRIMARY")?,
        secondary: pick("SECONDARY")?,
    })
}

struct Params {
    region: String,
    zone: String,
    record: String,
    rtype: String,
    to_secondary: bool,
    health_check_method: bool,
}

fn params(ctx: &StepContext) -> Result<Params, ActionError> {
    let to = ctx.str("to")?;
    let method = ctx.str("method")?;
    let bad = |what: &str, v: &str| {
        ActionError::fatal(
            format!("step {}", ctx.step_id),
            format!("`{what}` must be one of the documented values, not `{v}`"),
        )
    };
    Ok(Params {
        region: ctx.region()?.to_string(),
        zone: ctx.str("zone")?.to_string(),
        record: fqdn(ctx.str("record")?),
        rtype: ctx.str("type")?.to_string(),
        to_secondary: match to {
            "secondary" => true,
            "primary" => false,
            other => return Err(bad("to", other)),
        },
        health_check_method: match method {
            "records" => false,
            "health-check" => true,
            other => return Err(bad("method", other)),
        },
    })
}

fn outcome(change_id: &str, record_name: &str, values: &Values) -> StepOutcome {
    let mut outcome = StepOutcome::default();
    outcome
        .outputs
        .insert("change_id".into(), change_id.to_string());
    outcome
        .outputs
        .insert("record_name".into(), record_name.to_string());
    outcome.outputs.insert("values".into(), values.describe());
    outcome
}

/// Journal what `changes` will overwrite or create, then submit them (unless empty) and
/// wait until INSYNC. Returns the change id (the earlier attempt's when nothing was left to
/// change) and the undo record of whichever attempt made the change, if one did.
async fn change_and_wait(
    ctx: &StepContext,
    zone: &Zone,
    changes: Vec<(ChangeAction, RecordJson)>,
    undo: RecordsUndo,
    comment: &str,
    resource: &str,
) -> Result<(String, Option<Value>), ActionError> {
    let (change_id, undo) = if changes.is_empty() {
        let id = ctx
            .prior("change_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        (id, ctx.prior("route53_undo").cloned())
    } else {
        let undo = serde_json::to_value(&undo).unwrap_or_default();
        ctx.note(json!({ "route53_undo": undo })).await?;
        ctx.progress(format!("{comment} ({} change(s))", changes.len()));
        let id = submit(ctx, zone, &changes, comment, resource).await?;
        ctx.note(json!({ "change_id": id })).await?;
        (id, Some(undo))
    };
    wait_insync(ctx, &zone.region, &change_id, resource).await?;
    Ok((change_id, undo))
}

async fn run_records(
    ctx: &StepContext,
    p: &Params,
    zone: &Zone,
    pair: &Pair,
) -> Result<StepOutcome, ActionError> {
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
        out.undo = undo;
    }
    Ok(out)
}

async fn run_health_check(
    ctx: &StepContext,
    p: &Params,
    zone: &Zone,
    pair: &Pair,
) -> Result<StepOutcome, ActionError> {
    let resource = zone.on_record(&p.record, &p.rtype);
    let Some(check_id) = pair.primary.health_check_id.clone() else {
        return Err(ActionError::fatal(
            resource,
            "the PRIMARY record has no health check to invert; use method = \"records\"",
        ));
    };
    let r53 = ctx.aws.route53(&zone.region);
    let check_resource = format!(
        "health check {check_id} of the PRIMARY {} (via {})",
        p.record, zone.region
    );
    let out = r53
        .get_health_check()
        .health_check_id(&check_id)
        .send()
        .await
        .map_err(aws_err("route53:GetHealthCheck"))
        .map_err(on(check_resource.clone()))?;
    let check = out.health_check();
    let inverted = check
        .and_then(|c| c.health_check_config())
        .and_then(|c| c.inverted())
        .unwrap_or(false);
    let version = check.map(|c| c.health_check_version());
    let want_inverted = p.to_secondary;
    let mut undo = ctx.prior("health_check_undo").cloned();
    if inverted != want_inverted {
        let record = json!({ "region": zone.region, "id": check_id, "inverted": inverted });
        ctx.note(json!({ "health_check_undo": record })).await?;
        undo = Some(record);
        ctx.progress(format!(
            "setting Inverted = {want_inverted} on health check {check_id}"
        ));
        r53.update_health_check()
            .health_check_id(&check_id)
            .inverted(want_inverted)
            .set_health_check_version(version)
            .send()
            .await
            .map_err(aws_err("route53:UpdateHealthCheck"))
            .map_err(on(check_resource))?;
    }
    // Inverted, the PRIMARY's check reports unhealthy and Route 53 answers with the SECONDARY.
    wait_health(ctx, &zone.region, &check_id, !want_inverted, "primary").await?;
    let target = if p.to_secondary {
        if let Some(id) = &pair.secondary.health_check_id {
            wait_health(ctx, &zone.region, id, true, "secondary").await?;
        }
        pair.secondary.values()
    } else {
        pair.primary.values()
    };
    let mut out = outcome("", &p.record, &target);
    if ctx.mode.is_drill() {
        out.undo = undo.map(|hc| json!({ "health_check": hc }));
    }
    Ok(out)
}

/// Isolated drills: answer from a separate drill record, never from the production one.
async fn run_isolated(
    ctx: &StepContext,
    p: &Params,
    zone: &Zone,
    pair: &Pair,
) -> Result<StepOutcome, ActionError> {
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
    out.undo = undo.or_else(|| serde_json::to_value(fallback).ok());
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

/// Whether AWS said the thing is gone (a zone deleted since: nothing left to undo).
fn not_found(e: &ActionError) -> bool {
    e.aws_code()
        .is_some_and(|c| c.contains("NotFound") || c.starts_with("NoSuch"))
}

async fn undo_records(ctx: &StepContext, undo: &RecordsUndo) -> Result<(), ActionError> {
    match undo_records_in_zone(ctx, undo).await {
        Err(e) if not_found(&e) => Ok(()),
        other => other,
    }
}

async fn undo_records_in_zone(ctx: &StepContext, undo: &RecordsUndo) -> Result<(), ActionError> {
    let zone = Zone {
        id: undo.zone_id.clone(),
        name: undo.zone_name.clone(),
        region: undo.region.clone(),
    };
    let mut changes = Vec::new();
    for record in &undo.restore {
        match find_one(ctx, &zone, record).await? {
            Some(now) if now == *record => {}
            _ => changes.push((ChangeAction::Upsert, record.clone())),
        }
    }
    for record in &undo.remove {
        // Delete what is there now, so the DELETE matches whatever values it has.
        if let Some(now) = find_one(ctx, &zone, record).await? {
            changes.push((ChangeAction::Delete, now));
        }
    }
    if changes.is_empty() {
        return Ok(());
    }
    let resource = undo
        .restore
        .first()
        .or(undo.remove.first())
        .map(|r| zone.on_record(&r.name, &r.rtype))
        .unwrap_or_else(|| format!("hosted zone {}", zone.id));
    let comment = format!("drctl run {}: undo of step {}", ctx.run_id, ctx.step_id);
    let id = submit(ctx, &zone, &changes, &comment, &resource).await?;
    wait_insync(ctx, &zone.region, &id, &resource).await
}

impl Action for Failover {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("route53.failover").expect("catalogue entry")
    }

    fn describe(&self, ctx: &StepContext) -> Vec<String> {
        let record = ctx.opt_str("record").unwrap_or("?");
        let zone = ctx.opt_str("zone").unwrap_or("?");
        let to = ctx.opt_str("to").unwrap_or("?");
        let rtype = ctx.opt_str("type").unwrap_or("A");
        if ctx.mode == Mode::DrillIsolated {
            return vec![format!(
                "route53:ChangeResourceRecordSets CREATE drill record {} {rtype} in zone {zone} with the {to}'s values (production record untouched)",
                drill_record_name(&ctx.run_id, record)
            )];
        }
        match ctx.opt_str("method").unwrap_or("records") {
            "health-check" => vec![format!(
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

    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            let p = params(ctx)?;
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
        undo: &'a Value,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async move {
            if let Some(hc) = undo.get("health_check") {
                let region = hc["region"].as_str().unwrap_or("us-east-1");
                let id = hc["id"].as_str().unwrap_or_default();
                let inverted = hc["inverted"].as_bool().unwrap_or(false);
                let resource = format!("health check {id} (via {region})");
                let r53 = ctx.aws.route53(region);
                let current = match r53.get_health_check().health_check_id(id).send().await {
                    Ok(out) => out,
                    Err(e) => {
                        let e = crate::aws::AwsError::from_sdk("route53:GetHealthCheck", e);
                        return if e.is_not_found() {
                            Ok(())
                        } else {
                            Err(on(resource)(e))
                        };
                    }
                };
                let check = current.health_check();
                let now = check
                    .and_then(|c| c.health_check_config())
                    .and_then(|c| c.inverted())
                    .unwrap_or(false);
                if now != inverted {
                    match r53
                        .update_health_check()
                        .health_check_id(id)
                        .inverted(inverted)
                        .set_health_check_version(check.map(|c| c.health_check_version()))
                        .send()
                        .await
                        .map_err(aws_err("route53:UpdateHealthCheck"))
                    {
                        Ok(_) => {}
                        Err(e) if e.is_not_found() => {}
                        Err(e) => return Err(on(resource)(e)),
                    }
                }
                return Ok(());
            }
            let records: RecordsUndo = serde_json::from_value(undo.clone()).map_err(|e| {
                ActionError::fatal(
                    format!("undo of step {}", ctx.step_id),
                    format!("unreadable undo record: {e}"),
                )
            })?;
            undo_records(ctx, &records).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> RecordJson {
        RecordJson {
            name: "app.example.com.".into(),
            rtype: "A".into(),
            set_identifier: Some("primary-us-east-1".into()),
            weight: None,
            region: None,
            geo_location: None,
            failover: Some("PRIMARY".into()),
            multi_value_answer: None,
            ttl: Some(60),
            resource_records: vec!["10.0.1.10".into()],
            alias_target: None,
            health_check_id: Some("hc-1".into()),
            traffic_policy_instance_id: None,
            cidr_routing_config: None,
            geo_proximity_location: None,
        }
    }

    #[test]
    fn records_round_trip_through_the_sdk_type() {
        let r = record();
        assert_eq!(RecordJson::from_sdk(&r.to_sdk().unwrap()), r);
    }

    #[test]
    fn the_memo_round_trips_even_when_longer_than_one_txt_string() {
        let mut r = record();
        r.resource_records = (0..40).map(|i| format!("10.0.1.{i}")).collect();
        let memo = memo_record("_drctl-failover-a.app.example.com.", &r);
        assert!(memo.resource_records[0].len() > 255);
        assert!(
            memo.resource_records[0]
                .split(' ')
                .all(|chunk| chunk.len() <= 255)
        );
        assert_eq!(parse_memo(&memo), Some(r));
    }

    #[test]
    fn switching_to_an_alias_drops_the_ttl_and_back_restores_one() {
        let alias = Values::Alias(AliasJson {
            hosted_zone_id: "Z2".into(),
            dns_name: "lb.us-west-2.elb.amazonaws.com.".into(),
            evaluate_target_health: true,
        });
        let aliased = record().with_values(&alias, None);
        assert_eq!(aliased.ttl, None);
        assert!(aliased.resource_records.is_empty());
        assert_eq!(aliased.set_identifier.as_deref(), Some("primary-us-east-1"));
        assert_eq!(aliased.health_check_id.as_deref(), Some("hc-1"));
        let back = aliased.with_values(&Values::Records(vec!["10.1.1.10".into()]), Some(30));
        assert_eq!(back.ttl, Some(30));
        assert_eq!(back.alias_target, None);
    }

    #[test]
    fn ids_and_names_are_normalised() {
        assert_eq!(bare_zone_id("/hostedzone/Z123"), "Z123");
        assert_eq!(bare_zone_id("Z123"), "Z123");
        assert_eq!(bare_change_id("/change/C1"), "C1");
        assert_eq!(bare_change_id("C1"), "C1");
        assert!(same_name("App.Example.com", "app.example.com."));
        assert_eq!(
            drill_record_name("20260101T000000Z-abc123", "app.example.com."),
            "drctl-drill-20260101t000000z-abc123.app.example.com."
        );
    }
}
