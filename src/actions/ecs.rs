//! `ecs.scale`: set the desired count of ECS services and wait for a steady deployment.
//!
//! The desired counts found before the change are journalled before the first UpdateService:
//! they are what a drill's undo restores, and a resumed step must take them from the journal,
//! because by then the services already show the new counts. Only services whose desired
//! count differs are updated, so a re-run after a crash makes no second UpdateService.
//! Done means, per service: running = desired and the PRIMARY deployment's rollout COMPLETED
//! (a deployment without a rollout state counts as done when it is the only one and running
//! equals desired: services that use another deployment controller report none).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use aws_sdk_ecs::types::{DeploymentRolloutState, Service};

use super::spec::{ActionSpec, ParamType, RegionUse, dflt, out, req};
use super::{ActionError, BoxFuture, Outcome, Poll, StepContext, TypedAction, on, poll_until};
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

/// What a service that is not steady yet is waiting for, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pending(String);

/// DescribeServices takes at most 10 services per call.
const DESCRIBE_BATCH: usize = 10;

/// `ecs.scale`.
pub(crate) struct Scale;

fn where_(cluster: &str, region: &str) -> String {
    format!("cluster {cluster} ({region})")
}

/// Services by name, as DescribeServices returned them.
type Services = BTreeMap<String, Service>;

/// Describe `names` in `cluster`; every name must exist and be ACTIVE.
async fn describe(
    ctx: &StepContext,
    region: &str,
    cluster: &str,
    names: &[String],
) -> Result<Services, ActionError> {
    let ecs = ctx.aws.ecs(region);
    let mut found = BTreeMap::new();
    for chunk in names.chunks(DESCRIBE_BATCH) {
        let out = ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(aws_err("ecs:DescribeServices"))
            .map_err(on(format!(
                "services {} in {}",
                chunk.join(", "),
                where_(cluster, region)
            )))?;
        if let Some(failure) = out.failures().first() {
            return Err(ActionError::fatal(
                format!(
                    "service {} in {}",
                    failure
                        .arn()
                        .and_then(|a| a.rsplit('/').next())
                        .unwrap_or("?"),
                    where_(cluster, region)
                ),
                format!(
                    "cannot be described: {}",
                    failure.reason().unwrap_or("no reason given")
                ),
            ));
        }
        for service in out.services() {
            let name = service.service_name().unwrap_or_default().to_string();
            found.insert(name, service.clone());
        }
    }
    for name in names {
        match found.get(name).and_then(|s| s.status()) {
            Some("ACTIVE") => {}
            status => {
                return Err(ActionError::fatal(
                    format!("service {name} in {}", where_(cluster, region)),
                    match status {
                        Some(s) => format!("is {s}, not ACTIVE"),
                        None => "does not exist".to_string(),
                    },
                ));
            }
        }
    }
    Ok(found)
}

/// Which of `names` still exist (ACTIVE) in `cluster`; a missing cluster has none. For undo,
/// where a service or cluster deleted meanwhile counts as done.
async fn still_active(
    ctx: &StepContext,
    region: &str,
    cluster: &str,
    names: &[String],
) -> Result<Vec<String>, ActionError> {
    let ecs = ctx.aws.ecs(region);
    let mut active = Vec::new();
    for chunk in names.chunks(DESCRIBE_BATCH) {
        let out = match ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(aws_err("ecs:DescribeServices"))
        {
            Ok(out) => out,
            Err(e) if e.is_not_found() => return Ok(Vec::new()),
            Err(e) => return Err(on(where_(cluster, region))(e)),
        };
        active.extend(
            out.services()
                .iter()
                .filter(|s| s.status() == Some("ACTIVE"))
                .filter_map(|s| s.service_name().map(str::to_owned)),
        );
    }
    Ok(active)
}

/// Whether a service has reached `desired` with a finished rollout; `Err` on a failed one.
fn steady(
    service: &Service,
    desired: i32,
    cluster: &str,
    region: &str,
) -> Result<Result<(), Pending>, ActionError> {
    let name = service.service_name().unwrap_or_default();
    let primary = service
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"));
    if let Some(d) = primary
        && d.rollout_state() == Some(&DeploymentRolloutState::Failed)
    {
        return Err(ActionError::fatal(
            format!("service {name} in {}", where_(cluster, region)),
            format!(
                "deployment {} FAILED: {}",
                d.id().unwrap_or("?"),
                d.rollout_state_reason().unwrap_or("no reason given")
            ),
        ));
    }
    if service.desired_count() != desired {
        return Ok(Err(Pending(format!(
            "{name}: desired {} (want {desired})",
            service.desired_count()
        ))));
    }
    if service.running_count() != desired {
        return Ok(Err(Pending(format!(
            "{name}: {} of {desired} running",
            service.running_count()
        ))));
    }
    let done = match primary.and_then(|d| d.rollout_state()) {
        Some(DeploymentRolloutState::Completed) => true,
        Some(_) => false,
        None => service.deployments().len() <= 1,
    };
    if done {
        Ok(Ok(()))
    } else {
        Ok(Err(Pending(format!(
            "{name}: deployment {}",
            primary
                .and_then(|d| d.rollout_state())
                .map(|s| s.as_str())
                .unwrap_or("still replacing an older one")
        ))))
    }
}

/// Set each service's desired count (only where it differs), then optionally wait.
/// `current` is a description read just before, when the caller has one.
async fn apply(
    ctx: &StepContext,
    region: &str,
    cluster: &str,
    wanted: &BTreeMap<String, i32>,
    wait: bool,
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
                if let Err(Pending(what)) = steady(&now[name], count, cluster, region)? {
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

            apply(ctx, &region, &cluster, &wanted, wait, current).await?;

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
            apply(ctx, region, cluster, &previous, undo.wait, None).await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::Deployment;

    fn service(desired: i32, running: i32, deployments: Vec<Deployment>) -> Service {
        Service::builder()
            .service_name("backend")
            .status("ACTIVE")
            .desired_count(desired)
            .running_count(running)
            .set_deployments(Some(deployments))
            .build()
    }

    fn deployment(status: &str, rollout: Option<DeploymentRolloutState>) -> Deployment {
        Deployment::builder()
            .id("ecs-svc/1")
            .status(status)
            .set_rollout_state(rollout)
            .build()
    }

    #[test]
    fn steady_needs_running_equal_desired_and_a_completed_primary_rollout() {
        let done = service(
            2,
            2,
            vec![deployment(
                "PRIMARY",
                Some(DeploymentRolloutState::Completed),
            )],
        );
        assert!(steady(&done, 2, "c", "r").unwrap().is_ok());
        let rolling = service(
            2,
            2,
            vec![deployment(
                "PRIMARY",
                Some(DeploymentRolloutState::InProgress),
            )],
        );
        assert!(steady(&rolling, 2, "c", "r").unwrap().is_err());
        let short = service(2, 1, vec![deployment("PRIMARY", None)]);
        assert!(steady(&short, 2, "c", "r").unwrap().is_err());
    }

    #[test]
    fn a_missing_rollout_state_counts_only_with_a_single_deployment() {
        let single = service(1, 1, vec![deployment("PRIMARY", None)]);
        assert!(steady(&single, 1, "c", "r").unwrap().is_ok());
        let two = service(
            1,
            1,
            vec![deployment("PRIMARY", None), deployment("ACTIVE", None)],
        );
        assert!(steady(&two, 1, "c", "r").unwrap().is_err());
    }

    #[test]
    fn a_failed_rollout_is_a_fatal_error_naming_the_service() {
        let failed = service(
            2,
            0,
            vec![deployment("PRIMARY", Some(DeploymentRolloutState::Failed))],
        );
        let err = steady(&failed, 2, "prod", "us-west-2").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("service backend in cluster prod (us-west-2)"),
            "{text}"
        );
        assert!(text.contains("FAILED"), "{text}");
    }
}
