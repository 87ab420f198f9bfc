//! Secrets Manager: `secrets.replicate` (replicate secrets to the step's region and wait until
//! the replicas are InSync) and `secrets.promote` (turn replicas in the step's region into
//! standalone secrets, which is how an application in the recovery region gets a secret it
//! can rotate and write while the primary region is down).
//!
//! Both record, per secret, the RPO evidence DESIGN.md section 2 defines: the replica is
//! current when its AWSCURRENT version is the primary's; otherwise the copy is consistent up
//! to the creation time of the first primary version it lacks. Only version ids and dates are
//! read (DescribeSecret, ListSecretVersionIds): never GetSecretValue, never a secret value.
//!
//! Idempotency: a secret already replicated to the region is not replicated again, a replica
//! that is already standalone is not promoted again, and the evidence gathered before a
//! promotion is journalled, so a resumed step reports the state before it acted rather than
//! the promoted copy's. Isolated drills never promote production replicas: they check that
//! each replica exists and is promotable and record the evidence.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::types::{ReplicaRegionType, StatusType};

use super::spec::{self, ActionSpec};
use super::{Action, ActionError, BoxFuture, Mode, Poll, StepContext, StepOutcome, on, poll_until};
use crate::aws::{AwsClients, AwsError, ErrorClass, all_pages, aws_err, to_chrono};
use crate::measure::{Evidence, EvidenceKind};

/// `secrets.replicate`.
pub(crate) struct Replicate;
/// `secrets.promote`.
pub(crate) struct Promote;

fn secret_at(name: &str, region: &str) -> String {
    format!("secret {name} ({region})")
}

/// DescribeSecret: metadata and version stages only, never the value.
pub(crate) async fn describe(
    aws: &AwsClients,
    region: &str,
    name: &str,
) -> Result<DescribeSecretOutput, AwsError> {
    aws.secrets(region)
        .describe_secret()
        .secret_id(name)
        .send()
        .await
        .map_err(aws_err("secretsmanager:DescribeSecret"))
}

fn current_version(out: &DescribeSecretOutput) -> Option<String> {
    out.version_ids_to_stages()?
        .iter()
        .find(|(_, stages)| stages.iter().any(|s| s == "AWSCURRENT"))
        .map(|(id, _)| id.clone())
}

/// The replication status of `region` as the primary reports it.
pub(crate) fn replica_status(
    primary: &DescribeSecretOutput,
    region: &str,
) -> Option<(StatusType, String)> {
    primary
        .replication_status()
        .iter()
        .find(|r| r.region() == Some(region))
        .map(|r| {
            (
                r.status().cloned().unwrap_or(StatusType::InProgress),
                r.status_message().unwrap_or_default().to_string(),
            )
        })
}

/// Whether the secret in its region is standalone (not a replica of another region).
fn standalone(out: &DescribeSecretOutput, region: &str) -> bool {
    out.primary_region().is_none_or(|p| p == region)
}

/// Creation times of every version of a secret (deprecated ones included).
async fn version_dates(
    aws: &AwsClients,
    region: &str,
    name: &str,
) -> Result<HashMap<String, DateTime<Utc>>, ActionError> {
    let client = aws.secrets(region);
    let versions = all_pages(|token| {
        let req = client
            .list_secret_version_ids()
            .secret_id(name)
            .include_deprecated(true)
            .set_next_token(token);
        async move {
            let out = req
                .send()
                .await
                .map_err(aws_err("secretsmanager:ListSecretVersionIds"))?;
            let next = out.next_token().map(str::to_owned);
            Ok((out.versions.unwrap_or_default(), next))
        }
    })
    .await
    .map_err(on(secret_at(name, region)))?;
    Ok(versions
        .iter()
        .filter_map(|v| Some((v.version_id()?.to_string(), to_chrono(v.created_date()?))))
        .collect())
}

/// RPO evidence of the replica of `name` in `replica_region`, from both sides' version ids,
/// for `step`; `t0` stands in for a version's creation time when no date can be found.
#[allow(clippy::too_many_arguments)] // the two sides of one comparison, and who asks
pub(crate) async fn version_evidence(
    aws: &AwsClients,
    step: &str,
    t0: DateTime<Utc>,
    name: &str,
    source: &str,
    replica_region: &str,
    primary: &DescribeSecretOutput,
    replica: &DescribeSecretOutput,
) -> Result<Evidence, ActionError> {
    let resource = format!("secret {name} (replica in {replica_region} of {source})");
    let primary_current = current_version(primary);
    let replica_current = current_version(replica);
    let replica_has: Vec<&String> = replica
        .version_ids_to_stages()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    if primary_current.is_some() && primary_current == replica_current {
        return Ok(Evidence {
            step: step.to_string(),
            resource,
            kind: EvidenceKind::SecretVersion,
            consistent_at: None,
            detail: format!(
                "replica AWSCURRENT is the primary's version {}",
                primary_current.unwrap_or_default()
            ),
            source: "secretsmanager:DescribeSecret".into(),
        });
    }
    let dates = version_dates(aws, source, name).await?;
    let replica_current_at = replica_current
        .as_ref()
        .and_then(|id| dates.get(id))
        .copied();
    // The first version the replica lacks, among those newer than what it has: older
    // versions the replica never saw (deprecated before it was created) do not count.
    let first_missing = dates
        .iter()
        .filter(|(id, _)| !replica_has.contains(id))
        .filter(|(_, at)| replica_current_at.is_none_or(|r| **at > r))
        .min_by_key(|(_, at)| **at)
        .map(|(id, at)| (id.clone(), *at))
        .or_else(|| {
            let id = primary_current.clone()?;
            let at = *dates.get(&id)?;
            Some((id, at))
        });
    let (detail, consistent_at) = match first_missing {
        Some((id, at)) => (
            format!(
                "replica AWSCURRENT is {}, the primary's is {}; first missing version {id} created {}",
                replica_current.as_deref().unwrap_or("none"),
                primary_current.as_deref().unwrap_or("none"),
                at.to_rfc3339()
            ),
            Some(at),
        ),
        None => (
            format!(
                "replica AWSCURRENT is {}, the primary's is {}; no creation date found, assumed as old as T0",
                replica_current.as_deref().unwrap_or("none"),
                primary_current.as_deref().unwrap_or("none"),
            ),
            Some(t0),
        ),
    };
    Ok(Evidence {
        step: step.to_string(),
        resource,
        kind: EvidenceKind::SecretVersion,
        consistent_at,
        detail,
        source: "secretsmanager:DescribeSecret, secretsmanager:ListSecretVersionIds".into(),
    })
}

/// [`version_evidence`] for the step of `ctx`, as of its T0.
async fn step_evidence(
    ctx: &StepContext,
    name: &str,
    source: &str,
    replica_region: &str,
    primary: &DescribeSecretOutput,
    replica: &DescribeSecretOutput,
) -> Result<Evidence, ActionError> {
    version_evidence(
        &ctx.aws,
        &ctx.step_id,
        ctx.t0,
        name,
        source,
        replica_region,
        primary,
        replica,
    )
    .await
}

/// Evidence when the primary region cannot be asked (the disaster itself): the replica is
/// only known to hold its own AWSCURRENT version, so it counts as consistent up to that
/// version's creation, a pessimistic figure that says so.
async fn replica_only_evidence(
    ctx: &StepContext,
    name: &str,
    source: &str,
    region: &str,
    replica: &DescribeSecretOutput,
    why: &AwsError,
) -> Result<Evidence, ActionError> {
    let current = current_version(replica);
    let dates = version_dates(&ctx.aws, region, name).await?;
    let at = current
        .as_ref()
        .and_then(|id| dates.get(id))
        .copied()
        .or_else(|| replica.last_changed_date().map(to_chrono));
    Ok(Evidence {
        step: ctx.step_id.clone(),
        resource: format!("secret {name} (replica in {region} of {source})"),
        kind: EvidenceKind::SecretVersion,
        consistent_at: Some(at.unwrap_or(ctx.t0)),
        detail: format!(
            "primary region {source} did not answer ({why}); the replica's AWSCURRENT {} counts as the latest version present",
            current.as_deref().unwrap_or("none")
        ),
        source: "secretsmanager:DescribeSecret, secretsmanager:ListSecretVersionIds (replica only)"
            .into(),
    })
}

/// Wait until the replica of every secret in `names` is InSync.
async fn wait_in_sync(
    ctx: &StepContext,
    source: &str,
    region: &str,
    names: &[String],
) -> Result<(), ActionError> {
    if names.is_empty() {
        return Ok(());
    }
    poll_until(ctx, || async {
        let mut pending = Vec::new();
        for name in names {
            let primary = describe(&ctx.aws, source, name)
                .await
                .map_err(on(secret_at(name, source)))?;
            match replica_status(&primary, region) {
                Some((StatusType::InSync, _)) => {}
                Some((StatusType::Failed, message)) => {
                    return Err(ActionError::fatal(
                        format!("replica of {}", secret_at(name, region)),
                        format!("replication Failed: {message}"),
                    ));
                }
                Some((status, _)) => pending.push(format!("{name}: {}", status.as_str())),
                None => pending.push(format!("{name}: not yet listed")),
            }
        }
        if pending.is_empty() {
            Ok(Poll::Ready(()))
        } else {
            Ok(Poll::Pending(format!(
                "waiting for replicas in {region} to be InSync ({})",
                pending.join(", ")
            )))
        }
    })
    .await
}

/// Names journalled under `key` by earlier attempts (each note holds one name).
fn prior_names(ctx: &StepContext, key: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in ctx
        .prior_notes
        .iter()
        .filter_map(|n| n.get(key).and_then(Value::as_str))
    {
        // An attempt that crashed before its call journals the same name again on resume.
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

fn regions(ctx: &StepContext) -> Result<(String, String), ActionError> {
    let region = ctx.region()?.to_string();
    let source = ctx.region_param("source_region")?;
    if source == region {
        return Err(ActionError::fatal(
            format!("step {}", ctx.step_id),
            format!("the source region and the step's region are both {region}"),
        ));
    }
    Ok((source, region))
}

impl Action for Replicate {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("secrets.replicate").expect("catalogue entry")
    }

    fn describe(&self, ctx: &StepContext) -> Vec<String> {
        let region = ctx.region.clone().unwrap_or_default();
        let source = ctx.region_param("source_region").unwrap_or_default();
        ctx.list("secrets")
            .iter()
            .map(|name| {
                format!(
                    "secretsmanager:ReplicateSecretToRegions {name} ({source}) to {region}, unless already replicated"
                )
            })
            .collect()
    }

    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            let (source, region) = regions(ctx)?;
            let names = ctx.list("secrets");
            let client = ctx.aws.secrets(&source);
            let mut added = prior_names(ctx, "secret_replicating");
            let mut evidence: BTreeMap<String, Evidence> = BTreeMap::new();
            // Replicas already InSync when first described need no second look.
            let mut not_in_sync = Vec::new();
            for name in &names {
                let primary = describe(&ctx.aws, &source, name)
                    .await
                    .map_err(on(secret_at(name, &source)))?;
                let status = replica_status(&primary, &region);
                if !matches!(status, Some((StatusType::InSync, _))) {
                    not_in_sync.push(name.clone());
                }
                if status.is_some() {
                    // An existing replica: measure how current it is before waiting on it.
                    if let Ok(replica) = describe(&ctx.aws, &region, name).await {
                        let ev =
                            step_evidence(ctx, name, &source, &region, &primary, &replica).await?;
                        evidence.insert(name.clone(), ev);
                    }
                    continue;
                }
                ctx.note(json!({ "secret_replicating": name })).await?;
                ctx.progress(format!("replicating {name} from {source} to {region}"));
                client
                    .replicate_secret_to_regions()
                    .secret_id(name)
                    .add_replica_regions(ReplicaRegionType::builder().region(&region).build())
                    .send()
                    .await
                    .map_err(aws_err("secretsmanager:ReplicateSecretToRegions"))
                    .map_err(on(secret_at(name, &source)))?;
                if !added.contains(name) {
                    added.push(name.clone());
                }
            }
            wait_in_sync(ctx, &source, &region, &not_in_sync).await?;
            for name in &names {
                if evidence.contains_key(name) {
                    continue;
                }
                let primary = describe(&ctx.aws, &source, name)
                    .await
                    .map_err(on(secret_at(name, &source)))?;
                let replica = describe(&ctx.aws, &region, name)
                    .await
                    .map_err(on(secret_at(name, &region)))?;
                let ev = step_evidence(ctx, name, &source, &region, &primary, &replica).await?;
                evidence.insert(name.clone(), ev);
            }
            let mut outcome = StepOutcome::default();
            outcome
                .outputs
                .insert("replicated".into(), added.len().to_string());
            outcome.evidence = evidence.into_values().collect();
            if ctx.mode.is_drill() && !added.is_empty() {
                outcome.undo = Some(json!({
                    "source_region": source,
                    "region": region,
                    "added": added,
                }));
            }
            Ok(outcome)
        })
    }

    fn undo<'a>(
        &'a self,
        ctx: &'a StepContext,
        undo: &'a Value,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async move {
            let source = undo["source_region"].as_str().unwrap_or_default();
            let region = undo["region"].as_str().unwrap_or_default();
            let client = ctx.aws.secrets(source);
            for name in undo["added"].as_array().into_iter().flatten() {
                let Some(name) = name.as_str() else { continue };
                let primary = match describe(&ctx.aws, source, name).await {
                    Ok(out) => out,
                    Err(e) if e.is_not_found() => continue,
                    Err(e) => return Err(on(secret_at(name, source))(e)),
                };
                if replica_status(&primary, region).is_none() {
                    continue;
                }
                match client
                    .remove_regions_from_replication()
                    .secret_id(name)
                    .remove_replica_regions(region)
                    .send()
                    .await
                    .map_err(aws_err("secretsmanager:RemoveRegionsFromReplication"))
                {
                    Ok(_) => {}
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(on(secret_at(name, source))(e)),
                }
            }
            Ok(())
        })
    }
}

/// Evidence for every secret before anything is promoted, journalled so that a resumed
/// step reports the state it found, not the promoted copy's. Also returns, per secret, the
/// replica as described and its replication status as the primary reported it (None when
/// the primary did not answer).
async fn evidence_before(
    ctx: &StepContext,
    source: &str,
    region: &str,
    names: &[String],
) -> Result<(Vec<Evidence>, BTreeMap<String, Before>), ActionError> {
    let mut evidence = Vec::new();
    let mut statuses = BTreeMap::new();
    let prior: BTreeMap<String, Evidence> = ctx
        .prior("secret_evidence")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let mut fresh = BTreeMap::new();
    for name in names {
        let replica = describe(&ctx.aws, region, name)
            .await
            .map_err(on(secret_at(name, region)))?;
        let primary = match describe(&ctx.aws, source, name).await {
            Ok(p) => Ok(p),
            // The primary region being down is the disaster itself: go on without it.
            Err(e) if matches!(e.class, ErrorClass::Retryable | ErrorClass::InDoubt) => Err(e),
            Err(e) => return Err(on(secret_at(name, source))(e)),
        };
        let status = primary
            .as_ref()
            .ok()
            .and_then(|p| replica_status(p, region))
            .map(|(s, _)| s);
        if let Some(ev) = prior.get(name) {
            evidence.push(ev.clone());
        } else {
            let ev = match &primary {
                Ok(p) => step_evidence(ctx, name, source, region, p, &replica).await?,
                Err(e) => replica_only_evidence(ctx, name, source, region, &replica, e).await?,
            };
            fresh.insert(name.clone(), ev.clone());
            evidence.push(ev);
        }
        statuses.insert(name.clone(), Before { replica, status });
    }
    if !fresh.is_empty() {
        let mut all = prior;
        all.extend(fresh);
        ctx.note(json!({ "secret_evidence": all })).await?;
    }
    Ok((evidence, statuses))
}

/// A replica as [`evidence_before`] found it.
struct Before {
    replica: DescribeSecretOutput,
    status: Option<StatusType>,
}

impl Action for Promote {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("secrets.promote").expect("catalogue entry")
    }

    fn describe(&self, ctx: &StepContext) -> Vec<String> {
        let region = ctx.region.clone().unwrap_or_default();
        if ctx.mode == Mode::DrillIsolated {
            return vec![format!(
                "none: isolated drill, replicas in {region} are only checked (secretsmanager:DescribeSecret)"
            )];
        }
        ctx.list("secrets")
            .iter()
            .map(|name| {
                format!(
                    "secretsmanager:StopReplicationToReplica {name} in {region}, unless already standalone"
                )
            })
            .collect()
    }

    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            let (source, region) = regions(ctx)?;
            let names = ctx.list("secrets");
            let (evidence, statuses) = evidence_before(ctx, &source, &region, &names).await?;
            let client = ctx.aws.secrets(&region);
            let mut promoted = prior_names(ctx, "secret_promoting");
            let mut checked = Vec::new();
            for name in &names {
                let Some(Before { replica, status }) = statuses.get(name) else {
                    continue;
                };
                if standalone(replica, &region) {
                    checked.push(format!("{name}: already standalone"));
                    continue;
                }
                let status = status.clone();
                if ctx.mode == Mode::DrillIsolated {
                    if status == Some(StatusType::Failed) {
                        return Err(ActionError::fatal(
                            format!("replica of {}", secret_at(name, &region)),
                            "replication from the primary is Failed: a failover would promote a stale copy",
                        ));
                    }
                    checked.push(format!(
                        "{name}: promotable replica of {}, {}",
                        replica.primary_region().unwrap_or("?"),
                        status
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_else(|| "status unknown".into())
                    ));
                    continue;
                }
                ctx.note(json!({ "secret_promoting": name })).await?;
                ctx.progress(format!("promoting the replica of {name} in {region}"));
                client
                    .stop_replication_to_replica()
                    .secret_id(name)
                    .send()
                    .await
                    .map_err(aws_err("secretsmanager:StopReplicationToReplica"))
                    .map_err(on(format!("replica of {}", secret_at(name, &region))))?;
                if !promoted.contains(name) {
                    promoted.push(name.clone());
                }
            }
            if ctx.mode != Mode::DrillIsolated {
                poll_until(ctx, || async {
                    let mut pending = Vec::new();
                    for name in &names {
                        let out = describe(&ctx.aws, &region, name)
                            .await
                            .map_err(on(secret_at(name, &region)))?;
                        if !standalone(&out, &region) {
                            pending.push(name.as_str());
                        }
                    }
                    if pending.is_empty() {
                        Ok(Poll::Ready(()))
                    } else {
                        Ok(Poll::Pending(format!(
                            "waiting for {} to be standalone in {region}",
                            pending.join(", ")
                        )))
                    }
                })
                .await?;
            }
            let mut outcome = StepOutcome::default();
            outcome
                .outputs
                .insert("promoted".into(), promoted.len().to_string());
            outcome.evidence = evidence;
            if ctx.mode == Mode::DrillIsolated {
                outcome.simulated = Some(format!(
                    "isolated drill: production replicas in {region} were not promoted; checked {}",
                    checked.join("; ")
                ));
            } else if ctx.mode == Mode::DrillLive && !promoted.is_empty() {
                outcome.undo = Some(json!({
                    "source_region": source,
                    "region": region,
                    "promoted": promoted,
                }));
            }
            Ok(outcome)
        })
    }

    /// A live drill's failback: replicate each promoted secret from the primary again,
    /// overwriting the standalone copy, and wait until the replicas are InSync.
    fn undo<'a>(
        &'a self,
        ctx: &'a StepContext,
        undo: &'a Value,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async move {
            let source = undo["source_region"].as_str().unwrap_or_default();
            let region = undo["region"].as_str().unwrap_or_default();
            let client = ctx.aws.secrets(source);
            let mut relinked = Vec::new();
            for name in undo["promoted"].as_array().into_iter().flatten() {
                let Some(name) = name.as_str() else { continue };
                let primary = match describe(&ctx.aws, source, name).await {
                    Ok(out) => out,
                    Err(e) if e.is_not_found() => continue,
                    Err(e) => return Err(on(secret_at(name, source))(e)),
                };
                relinked.push(name.to_string());
                if replica_status(&primary, region).is_some() {
                    continue;
                }
                client
                    .replicate_secret_to_regions()
                    .secret_id(name)
                    .add_replica_regions(ReplicaRegionType::builder().region(region).build())
                    .force_overwrite_replica_secret(true)
                    .send()
                    .await
                    .map_err(aws_err("secretsmanager:ReplicateSecretToRegions"))
                    .map_err(on(secret_at(name, source)))?;
            }
            wait_in_sync(ctx, source, region, &relinked).await
        })
    }
}
