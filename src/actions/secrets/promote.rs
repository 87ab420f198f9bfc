//! `secrets.promote`: turn the replicas in the step's region into standalone secrets, which
//! is how an application in the recovery region gets a secret it can rotate and write while
//! the primary region is down. The evidence gathered before a promotion is journalled, so a
//! resumed step reports the state before it acted rather than the promoted copy's; a
//! replica that is already standalone is not promoted again. Isolated drills never promote
//! production replicas: they check that each replica exists and is promotable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::types::{ReplicaRegionType, StatusType};

use super::replicate::Params;
use super::versions::{
    describe, prior_names, regions, replica_only_evidence, replica_status, secret_at, standalone,
    step_evidence, wait_in_sync,
};
use crate::actions::spec::{ActionSpec, ParamType, RegionUse, dflt, out, req};
use crate::actions::{
    ActionError, BoxFuture, Mode, Outcome, Poll, StepContext, TypedAction, on, poll_until,
};
use crate::aws::{ErrorClass, aws_err};
use crate::measure::Evidence;

/// `secrets.promote` in the catalogue.
pub(crate) static SPEC: ActionSpec = ActionSpec {
    name: "secrets.promote",
    summary: "Promote secret replicas in the step's region to standalone secrets",
    params: &[
        req("secrets", ParamType::StringList, "secret names"),
        dflt(
            "source_region",
            ParamType::Region,
            "primary",
            "region of the primary secrets (for version evidence)",
        ),
    ],
    outputs: &[out("promoted", "number of replicas promoted")],
    iam: &[
        "secretsmanager:DescribeSecret",
        "secretsmanager:ListSecretVersionIds",
        "secretsmanager:StopReplicationToReplica",
        "secretsmanager:ReplicateSecretToRegions",
    ],
    estimate_secs: 30,
    mutating: true,
    verification: false,
    rpo_evidence: true,
    region: RegionUse::Required,
};

/// `secrets.promote`.
pub(crate) struct Promote;

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

/// What a live drill's failback relinks: the replicas this step promoted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Undo {
    source_region: String,
    region: String,
    promoted: Vec<String>,
}

impl TypedAction for Promote {
    const SPEC: &'static ActionSpec = &SPEC;
    /// The same parameters as `secrets.replicate`.
    type Params = Params;
    type Undo = Undo;

    fn describe(&self, ctx: &StepContext, p: &Params) -> Vec<String> {
        let region = ctx.region.clone().unwrap_or_default();
        if ctx.mode == Mode::DrillIsolated {
            return vec![format!(
                "none: isolated drill, replicas in {region} are only checked (secretsmanager:DescribeSecret)"
            )];
        }
        p.secrets
            .iter()
            .map(|name| {
                format!(
                    "secretsmanager:StopReplicationToReplica {name} in {region}, unless already standalone"
                )
            })
            .collect()
    }

    fn run<'a>(
        &'a self,
        ctx: &'a StepContext,
        p: Params,
    ) -> BoxFuture<'a, Result<Outcome<Undo>, ActionError>> {
        Box::pin(async move {
            let (source, region) = regions(ctx, &p.source_region)?;
            let names = p.secrets;
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
            let mut outcome = Outcome::default();
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
                outcome.undo = Some(Undo {
                    source_region: source,
                    region,
                    promoted,
                });
            }
            Ok(outcome)
        })
    }

    /// A live drill's failback: replicate each promoted secret from the primary again,
    /// overwriting the standalone copy, and wait until the replicas are InSync.
    fn undo<'a>(
        &'a self,
        ctx: &'a StepContext,
        undo: Undo,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async move {
            let (source, region) = (undo.source_region.as_str(), undo.region.as_str());
            let client = ctx.aws.secrets(source);
            let mut relinked = Vec::new();
            for name in &undo.promoted {
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
