//! Finding things in Route 53: the hosted zone (by name or id), the record sets of a name and
//! type, one record set by its key, and a record's failover pair.

use aws_sdk_route53::types::{ResourceRecordSet, RrType};

use super::records::{RecordJson, bare_zone_id, fqdn, same_name};
use crate::actions::{ActionError, StepContext, on};
use crate::aws::aws_err;

/// The resolved hosted zone.
pub(super) struct Zone {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) region: String,
}

impl Zone {
    pub(super) fn on_record(&self, name: &str, rtype: &str) -> String {
        format!(
            "record {name} {rtype} in hosted zone {} ({}, via {})",
            self.name, self.id, self.region
        )
    }
}

pub(super) async fn resolve_zone(
    ctx: &StepContext,
    region: &str,
    zone: &str,
) -> Result<Zone, ActionError> {
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

pub(super) async fn find_one(
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

/// The failover pair of the record.
pub(super) struct Pair {
    pub(super) primary: RecordJson,
    pub(super) secondary: RecordJson,
}

pub(super) async fn failover_pair(
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
