//! `secrets.replicate`: replicate secrets to the step's region and wait until the replicas
//! are InSync, recording per secret how current each replica is. A secret already
//! replicated to the region is not replicated again; a drill's undo removes only the replicas
//! this step added.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use aws_sdk_secretsmanager::types::{ReplicaRegionType, StatusType};

use super::versions::{
    describe, prior_names, regions, replica_status, secret_at, step_evidence, wait_in_sync,
};
use crate::actions::spec::{ActionSpec, ParamType, RegionUse, dflt, out, req};
use crate::actions::{ActionError, BoxFuture, Outcome, StepContext, TypedAction, on};
use crate::aws::aws_err;
use crate::measure::Evidence;

/// `secrets.replicate` in the catalogue.
pub(crate) static SPEC: ActionSpec = ActionSpec {
    name: "secrets.replicate",
    summary: "Replicate secrets to the step's region and wait until the replicas are in sync",
    params: &[
        req("secrets", ParamType::StringList, "secret names"),
        dflt(
            "source_region",
            ParamType::Region,
            "primary",
            "region of the primary secrets",
        ),
    ],
    outputs: &[out("replicated", "number of secrets newly replicated")],
    iam: &[
        "secretsmanager:DescribeSecret",
        "secretsmanager:ReplicateSecretToRegions",
        "secretsmanager:RemoveRegionsFromReplication",
        "secretsmanager:ListSecretVersionIds",
    ],
    estimate_secs: 60,
    mutating: true,
    verification: false,
    rpo_evidence: true,
    region: RegionUse::Required,
};

/// `secrets.replicate`.
pub(crate) struct Replicate;

/// The parameters of `secrets.replicate` and `secrets.promote`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    pub(super) secrets: Vec<String>,
    /// A region name of the runbook (or an AWS code).
    pub(super) source_region: String,
}

/// What a drill's undo removes: the replicas this step added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Undo {
    source_region: String,
    region: String,
    added: Vec<String>,
}

impl TypedAction for Replicate {
    const SPEC: &'static ActionSpec = &SPEC;
    type Params = Params;
    type Undo = Undo;

    fn describe(&self, ctx: &StepContext, p: &Params) -> Vec<String> {
        let region = ctx.region.clone().unwrap_or_default();
        let source = ctx.region_code(&p.source_region);
        p.secrets
            .iter()
            .map(|name| {
                format!(
                    "secretsmanager:ReplicateSecretToRegions {name} ({source}) to {region}, unless already replicated"
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
            let mut outcome = Outcome::default();
            outcome
                .outputs
                .insert("replicated".into(), added.len().to_string());
            outcome.evidence = evidence.into_values().collect();
            if ctx.mode.is_drill() && !added.is_empty() {
                outcome.undo = Some(Undo {
                    source_region: source,
                    region,
                    added,
                });
            }
            Ok(outcome)
        })
    }

    fn undo<'a>(
        &'a self,
        ctx: &'a StepContext,
        undo: Undo,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async move {
            let (source, region) = (undo.source_region.as_str(), undo.region.as_str());
            let client = ctx.aws.secrets(source);
            for name in &undo.added {
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
