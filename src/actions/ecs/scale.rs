//! `ecs.scale`: set the desired count of ECS services and wait for a steady deployment.
//!
//! The desired counts found before the change are journalled before the first UpdateService:
//! they are what a drill's undo restores, and a resumed step must take them from the journal,
//! because by then the services already show the new counts. Only services whose desired
//! count differs are updated, so a re-run after a crash makes no second UpdateService.
//! Done means, per service: running = desired and the PRIMARY deployment's rollout COMPLETED
//! (a deployment without a rollout state counts as done when it is the only one and running
//! equals desired: services that use another deployment controller report none).
//! With `fail_fast` (the default) a service event saying the tasks cannot be placed or keep
//! failing to start ends the step at once, quoting the event (see `services::blocking_event`):
//! a pilot-light cluster without capacity, a missing image, secret or mount target.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::services::{Pending, Services, Want, describe, steady, still_active, where_};
use crate::actions::spec::{ActionSpec, ParamType, RegionUse, dflt, out, req};
use crate::actions::{
    ActionError, BoxFuture, Outcome, Poll, StepContext, TypedAction, on, poll_until,
};
use crate::aws::aws_err;

/// `ecs.scale` in the catalogue.
pub(crate) static SPEC: ActionSpec = ActionSpec {
    name: "ecs.scale",
    summary: "Set the desired count of ECS services and wait for a steady deployment",
    params: &[
        req("cluster", ParamType::String, "cluster name"),
        req(
            "services",
            ParamType::CountMap,
            "service name = desired count",
        ),
        dflt(
            "wait",
            ParamType::Bool,
            "true",
            "wait until running = desired and the deployment is COMPLETED",
        ),
        dflt(
            "fail_fast",
            ParamType::Bool,
            "true",
            "fail at once, naming the service event, when ECS says the tasks cannot be placed (no capacity) or keep failing to start (image pull, secret, volume); false keeps waiting, e.g. while a capacity provider scales out",
        ),
    ],
    outputs: &[out(
        "previous_counts",
        "the desired counts before the change, as JSON",
    )],
    iam: &["ecs:DescribeServices", "ecs:UpdateService"],
    estimate_secs: 300,
    mutating: true,
    verification: false,
    rpo_evidence: false,
    region: RegionUse::Required,
};

/// The parameters of `ecs.scale`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    cluster: String,
    /// Service name -> desired count.
    services: BTreeMap<String, u64>,
    wait: bool,
    fail_fast: bool,
}

/// What a drill's undo puts back: the desired counts from before the step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Undo {
    region: String,
    cluster: String,
    previous_counts: BTreeMap<String, i32>,
    /// Whether to wait for the services to be steady again.
    #[serde(default = "waits")]
    wait: bool,
}

fn waits() -> bool {
    true
}

/// `ecs.scale`.
pub(crate) struct Scale;

/// Set each service's desired count (only where it differs), then optionally wait.
/// `current` is a description read just before, when the caller has one.
async fn apply(
    ctx: &StepContext,
    region: &str,
    cluster: &str,
    wanted: &BTreeMap<String, i32>,
    (wait, fail_fast): (bool, bool),
    current: Option<Services>,
) -> Result<Vec<String>, ActionError> {
    let names: Vec<String> = wanted.keys().cloned().collect();
    let current = match current {
        Some(current) => current,
        None => describe(ctx, region, cluster, &names).await?,
    };
    let ecs = ctx.aws.ecs(region);
    let mut updated = Vec::new();
    for (name, &count) in wanted {
        if current[name].desired_count() == count {
            continue;
        }
        ctx.progress(format!(
            "setting {name} to {count} tasks (was {})",
            current[name].desired_count()
        ));
        ecs.update_service()
            .cluster(cluster)
            .service(name)
            .desired_count(count)
            .send()
            .await
            .map_err(aws_err("ecs:UpdateService"))
            .map_err(on(format!("service {name} in {}", where_(cluster, region))))?;
        updated.push(name.clone());
    }
    if wait {
        poll_until(ctx, || async {
            let now = describe(ctx, region, cluster, &names).await?;
            let mut pending = Vec::new();
            for (name, &count) in wanted {
                let want = Want {
                    desired: count,
                    task_definition: None,
                    fail_fast,
                };
                if let Err(Pending(what)) = steady(&now[name], want, cluster, region)? {
                    pending.push(what);
                }
            }
            if pending.is_empty() {
                Ok(Poll::Ready(()))
            } else {
                Ok(Poll::Pending(format!("waiting for {}", pending.join("; "))))
            }
        })
        .await?;
    }
    Ok(updated)
}

fn to_i32(ctx: &StepContext, name: &str, count: u64) -> Result<i32, ActionError> {
    i32::try_from(count).map_err(|_| {
        ActionError::fatal(
            format!("step {}", ctx.step_id),
            format!("desired count {count} of service {name} is too large"),
        )
    })
}

fn counts_from_json(value: &Value) -> Option<BTreeMap<String, i32>> {
    value
        .as_object()?
        .iter()
        .map(|(k, v)| Some((k.clone(), i32::try_from(v.as_i64()?).ok()?)))
        .collect()
}

impl TypedAction for Scale {
    const SPEC: &'static ActionSpec = &SPEC;
    type Params = Params;
    type Undo = Undo;

    fn describe(&self, ctx: &StepContext, p: &Params) -> Vec<String> {
        let region = ctx.region.clone().unwrap_or_default();
        let cluster = &p.cluster;
        p.services
            .iter()
            .map(|(name, count)| {
                format!(
                    "ecs:UpdateService {name} in cluster {cluster} ({region}): desired count {count} (if it differs)"
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
            let region = ctx.region()?.to_string();
            let cluster = p.cluster;
            let wait = p.wait;
            let fail_fast = p.fail_fast;
            let wanted: BTreeMap<String, i32> = p
                .services
                .into_iter()
                .map(|(name, n)| to_i32(ctx, &name, n).map(|n| (name, n)))
                .collect::<Result<_, _>>()?;
            let names: Vec<String> = wanted.keys().cloned().collect();

            // Resume: the journalled counts are the ones from before this step changed
            // anything; re-reading now would return the new counts.
            let (previous, current) = match ctx.prior("previous_counts").and_then(counts_from_json)
            {
                Some(previous) if names.iter().all(|n| previous.contains_key(n)) => {
                    (previous, None)
                }
                _ => {
                    let current = describe(ctx, &region, &cluster, &names).await?;
                    let previous: BTreeMap<String, i32> = current
                        .iter()
                        .map(|(name, s)| (name.clone(), s.desired_count()))
                        .collect();
                    ctx.note(json!({ "previous_counts": previous })).await?;
                    // Just read: `apply` need not describe the services again.
                    (previous, Some(current))
                }
            };

            apply(ctx, &region, &cluster, &wanted, (wait, fail_fast), current).await?;

            let mut outcome = Outcome::default();
            outcome.outputs.insert(
                "previous_counts".into(),
                serde_json::to_string(&previous).unwrap_or_default(),
            );
            if ctx.mode.is_drill() {
                outcome.undo = Some(Undo {
                    region,
                    cluster,
                    previous_counts: previous,
                    wait,
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
            let (region, cluster) = (undo.region.as_str(), undo.cluster.as_str());
            let previous = undo.previous_counts;
            let names: Vec<String> = previous.keys().cloned().collect();
            let active = still_active(ctx, region, cluster, &names).await?;
            let previous: BTreeMap<String, i32> = previous
                .into_iter()
                .filter(|(name, _)| active.contains(name))
                .collect();
            if previous.is_empty() {
                return Ok(());
            }
            // Putting back the counts from before: whatever fails to place is reported.
            apply(ctx, region, cluster, &previous, (undo.wait, true), None).await?;
            Ok(())
        })
    }
}
