//! `ecs.capacity`: give an ECS cluster on EC2 the container instances it needs before any
//! service is scaled there. A pilot-light recovery region keeps its Auto Scaling group at 0:
//! scaling a service first would leave its tasks unplaceable.
//!
//! The group's sizes before the change are journalled before UpdateAutoScalingGroup (a drill's
//! undo restores them, and a resumed step takes them from the journal because the group then
//! shows the new sizes). The group is only ever grown: a group already at or above the wanted
//! size is left as it is, so a re-run or a bigger production fleet is never scaled in. Done
//! means: at least `instances` of the group's EC2 instances are container instances of the
//! cluster that are ACTIVE with their agent connected. Every call goes to the step's region.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::json;

use aws_sdk_autoscaling::types::AutoScalingGroup;
use aws_sdk_ecs::types::ContainerInstanceStatus;

use crate::actions::spec::{ActionSpec, ParamType, RegionUse, dflt, out, req};
use crate::actions::{
    ActionError, BoxFuture, Outcome, Poll, StepContext, TypedAction, on, poll_until,
};
use crate::aws::aws_err;

/// `ecs.capacity` in the catalogue.
pub(crate) static SPEC: ActionSpec = ActionSpec {
    name: "ecs.capacity",
    summary: "Grow the EC2 Auto Scaling group of an ECS cluster and wait until its container instances are ACTIVE",
    params: &[
        req(
            "cluster",
            ParamType::String,
            "ECS cluster the instances join",
        ),
        req(
            "auto_scaling_group",
            ParamType::String,
            "Auto Scaling group whose instances are the cluster's capacity",
        ),
        req(
            "instances",
            ParamType::Integer,
            "how many instances the group must have at least (desired capacity; max is raised to it if lower)",
        ),
        dflt(
            "wait",
            ParamType::Bool,
            "true",
            "wait until that many of the group's instances are ACTIVE container instances of the cluster, agent connected",
        ),
    ],
    outputs: &[
        out(
            "previous_capacity",
            "the group's sizes before the change, as JSON {\"min\", \"max\", \"desired\"}",
        ),
        out(
            "container_instances",
            "how many of the group's instances were ACTIVE in the cluster when the step ended",
        ),
    ],
    iam: &[
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:UpdateAutoScalingGroup",
        "ecs:ListContainerInstances",
        "ecs:DescribeContainerInstances",
    ],
    estimate_secs: 180,
    mutating: true,
    verification: false,
    rpo_evidence: false,
    region: RegionUse::Required,
};

/// `ecs.capacity`.
pub(crate) struct Capacity;

/// The parameters of `ecs.capacity`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    cluster: String,
    auto_scaling_group: String,
    instances: u64,
    wait: bool,
}

/// An Auto Scaling group's three sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Sizes {
    min: i32,
    max: i32,
    desired: i32,
}

/// What a drill's undo puts back: the group's sizes from before the step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Undo {
    region: String,
    auto_scaling_group: String,
    previous: Sizes,
}

fn group_name(group: &str, region: &str) -> String {
    format!("Auto Scaling group {group} ({region})")
}

/// The group, which must exist.
async fn describe_group(
    ctx: &StepContext,
    region: &str,
    group: &str,
) -> Result<Option<AutoScalingGroup>, ActionError> {
    let out = ctx
        .aws
        .autoscaling(region)
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(group)
        .send()
        .await
        .map_err(aws_err("autoscaling:DescribeAutoScalingGroups"))
        .map_err(on(group_name(group, region)))?;
    Ok(out
        .auto_scaling_groups()
        .iter()
        .find(|g| g.auto_scaling_group_name() == Some(group))
        .cloned())
}

fn sizes(g: &AutoScalingGroup) -> Sizes {
    Sizes {
        min: g.min_size().unwrap_or(0),
        max: g.max_size().unwrap_or(0),
        desired: g.desired_capacity().unwrap_or(0),
    }
}

/// The group's instance ids that are (or are becoming) in service.
fn group_instances(g: &AutoScalingGroup) -> BTreeSet<String> {
    g.instances()
        .iter()
        .filter(|i| {
            !i.lifecycle_state()
                .is_some_and(|s| s.as_str().starts_with("Terminat"))
        })
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .collect()
}

/// EC2 instance ids of the cluster's ACTIVE container instances whose agent is connected.
async fn active_instances(
    ctx: &StepContext,
    region: &str,
    cluster: &str,
) -> Result<BTreeSet<String>, ActionError> {
    let ecs = ctx.aws.ecs(region);
    let resource = || format!("container instances of cluster {cluster} ({region})");
    let mut arns = Vec::new();
    let mut token = None;
    loop {
        let out = ecs
            .list_container_instances()
            .cluster(cluster)
            .status(ContainerInstanceStatus::Active)
            .set_next_token(token)
            .send()
            .await
            .map_err(aws_err("ecs:ListContainerInstances"))
            .map_err(on(resource()))?;
        arns.extend(out.container_instance_arns().iter().cloned());
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    let mut ids = BTreeSet::new();
    // DescribeContainerInstances takes at most 100 per call.
    for chunk in arns.chunks(100) {
        let out = ecs
            .describe_container_instances()
            .cluster(cluster)
            .set_container_instances(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(aws_err("ecs:DescribeContainerInstances"))
            .map_err(on(resource()))?;
        ids.extend(
            out.container_instances()
                .iter()
                .filter(|ci| ci.status() == Some("ACTIVE") && ci.agent_connected())
                .filter_map(|ci| ci.ec2_instance_id().map(str::to_owned)),
        );
    }
    Ok(ids)
}

async fn update(
    ctx: &StepContext,
    region: &str,
    group: &str,
    to: Sizes,
) -> Result<(), ActionError> {
    ctx.aws
        .autoscaling(region)
        .update_auto_scaling_group()
        .auto_scaling_group_name(group)
        .min_size(to.min)
        .max_size(to.max)
        .desired_capacity(to.desired)
        .send()
        .await
        .map_err(aws_err("autoscaling:UpdateAutoScalingGroup"))
        .map_err(on(group_name(group, region)))?;
    Ok(())
}

impl TypedAction for Capacity {
    const SPEC: &'static ActionSpec = &SPEC;
    type Params = Params;
    type Undo = Undo;

    fn describe(&self, ctx: &StepContext, p: &Params) -> Vec<String> {
        let region = ctx.region.clone().unwrap_or_default();
        vec![format!(
            "autoscaling:UpdateAutoScalingGroup {} ({region}): desired capacity at least {} (max raised to it if lower), then wait for {} ACTIVE container instances in cluster {}",
            p.auto_scaling_group, p.instances, p.instances, p.cluster
        )]
    }

    fn run<'a>(
        &'a self,
        ctx: &'a StepContext,
        p: Params,
    ) -> BoxFuture<'a, Result<Outcome<Undo>, ActionError>> {
        Box::pin(async move {
            let region = ctx.region()?.to_string();
            let group = p.auto_scaling_group.clone();
            let wanted = i32::try_from(p.instances).map_err(|_| {
                ActionError::fatal(
                    format!("step {}", ctx.step_id),
                    format!("{} instances is too many", p.instances),
                )
            })?;
            let current = describe_group(ctx, &region, &group).await?.ok_or_else(|| {
                ActionError::fatal(
                    group_name(&group, &region),
                    "does not exist (check `auto_scaling_group` and the step's region)",
                )
            })?;
            // Resume: the journalled sizes are those from before this step changed anything.
            let previous = match ctx
                .prior("previous_capacity")
                .and_then(|v| serde_json::from_value::<Sizes>(v.clone()).ok())
            {
                Some(previous) => previous,
                None => {
                    let previous = sizes(&current);
                    ctx.note(json!({ "previous_capacity": previous })).await?;
                    previous
                }
            };
            let now = sizes(&current);
            let mut changed = false;
            if now.desired < wanted {
                let to = Sizes {
                    min: now.min,
                    max: now.max.max(wanted),
                    desired: wanted,
                };
                ctx.progress(format!(
                    "growing {group} to {wanted} instances (was {}; max {})",
                    now.desired, to.max
                ));
                update(ctx, &region, &group, to).await?;
                changed = true;
            } else {
                ctx.progress(format!(
                    "{group} already wants {} instances (at least {wanted} asked)",
                    now.desired
                ));
            }
            changed |= previous != now;

            let mut ready = 0usize;
            if p.wait {
                ready = poll_until(ctx, || async {
                    let group_now = describe_group(ctx, &region, &group)
                        .await?
                        .ok_or_else(|| {
                            ActionError::fatal(group_name(&group, &region), "was deleted")
                        })?;
                    let mine = group_instances(&group_now);
                    let active = active_instances(ctx, &region, &p.cluster).await?;
                    let ready = mine.intersection(&active).count();
                    if ready >= wanted as usize {
                        Ok(Poll::Ready(ready))
                    } else {
                        Ok(Poll::Pending(format!(
                            "waiting for container instances in {}: {ready} of {wanted} ACTIVE ({} launched)",
                            p.cluster,
                            mine.len()
                        )))
                    }
                })
                .await?;
            }

            let mut outcome = Outcome::default();
            outcome.outputs.insert(
                "previous_capacity".into(),
                serde_json::to_string(&previous).unwrap_or_default(),
            );
            outcome
                .outputs
                .insert("container_instances".into(), ready.to_string());
            if ctx.mode.is_drill() && changed {
                outcome.undo = Some(Undo {
                    region,
                    auto_scaling_group: group,
                    previous,
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
            let (region, group) = (undo.region.as_str(), undo.auto_scaling_group.as_str());
            let Some(current) = describe_group(ctx, region, group).await? else {
                return Ok(()); // deleted meanwhile: nothing to put back
            };
            if sizes(&current) != undo.previous {
                ctx.progress(format!(
                    "putting {group} back to {} instances (min {}, max {})",
                    undo.previous.desired, undo.previous.min, undo.previous.max
                ));
                update(ctx, region, group, undo.previous).await?;
            }
            // Done when the group has shed the instances it launched for the drill.
            let want = undo.previous.desired.max(0) as usize;
            poll_until(ctx, || async {
                let Some(g) = describe_group(ctx, region, group).await? else {
                    return Ok(Poll::Ready(()));
                };
                let left = group_instances(&g).len();
                if left <= want {
                    Ok(Poll::Ready(()))
                } else {
                    Ok(Poll::Pending(format!(
                        "waiting for {group} to scale in: {left} instances, {want} wanted"
                    )))
                }
            })
            .await
        })
    }
}
