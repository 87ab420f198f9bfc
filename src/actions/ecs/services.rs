//! What the ECS actions share about services: describing them (every name must exist and be
//! ACTIVE), judging whether one is steady, and reading the service events that say its tasks
//! cannot be placed or started, so that a step fails at once naming the cause instead of
//! waiting out its timeout.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{DeploymentRolloutState, Service};

use crate::actions::{ActionError, StepContext, on};
use crate::aws::aws_err;

/// What a service that is not steady yet is waiting for, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pending(pub(super) String);

/// DescribeServices takes at most 10 services per call.
const DESCRIBE_BATCH: usize = 10;

pub(super) fn where_(cluster: &str, region: &str) -> String {
    format!("cluster {cluster} ({region})")
}

/// Services by name, as DescribeServices returned them.
pub(super) type Services = BTreeMap<String, Service>;

/// Describe `names` in `cluster`; every name must exist and be ACTIVE.
pub(super) async fn describe(
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
pub(super) async fn still_active(
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

/// What a service must reach to be steady.
#[derive(Debug, Clone, Copy)]
pub(super) struct Want<'a> {
    pub(super) desired: i32,
    /// The task definition (ARN) the PRIMARY deployment must run, when it matters.
    pub(super) task_definition: Option<&'a str>,
    /// Fail at the first service event saying tasks cannot be placed or started.
    pub(super) fail_fast: bool,
}

/// The phrases of the service events in which ECS says a deployment's tasks cannot run: no
/// container instance meets the task's needs (CPU, memory, ports, attributes), or its tasks
/// keep stopping before they run (image pull, secrets, volumes). AWS words them so in the
/// ECS Developer Guide's "service event messages" table.
const BLOCKING_EVENTS: &[&str] = &[
    "was unable to place a task",
    "is unable to consistently start tasks successfully",
];

/// The newest service event since the PRIMARY deployment started that says its tasks cannot
/// be placed or started, if any.
pub(super) fn blocking_event(service: &Service) -> Option<String> {
    let since = service
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
        .and_then(|d| d.created_at())
        .map(|t| (t.secs(), t.subsec_nanos()))?;
    // Events come newest first.
    service
        .events()
        .iter()
        .take_while(|e| {
            e.created_at()
                .is_some_and(|t| (t.secs(), t.subsec_nanos()) >= since)
        })
        .filter_map(|e| e.message())
        .find(|m| BLOCKING_EVENTS.iter().any(|p| m.contains(p)))
        .map(str::to_owned)
}

/// Whether a service has reached what is wanted with a finished rollout; `Err` on a failed
/// rollout, or (with `fail_fast`) on an event saying its tasks cannot be placed or started.
pub(super) fn steady(
    service: &Service,
    want: Want<'_>,
    cluster: &str,
    region: &str,
) -> Result<Result<(), Pending>, ActionError> {
    let name = service.service_name().unwrap_or_default();
    let desired = want.desired;
    let resource = || format!("service {name} in {}", where_(cluster, region));
    let primary = service
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"));
    if let Some(d) = primary
        && d.rollout_state() == Some(&DeploymentRolloutState::Failed)
    {
        return Err(ActionError::fatal(
            resource(),
            format!(
                "deployment {} FAILED: {}",
                d.id().unwrap_or("?"),
                d.rollout_state_reason().unwrap_or("no reason given")
            ),
        ));
    }
    if let Some(want_td) = want.task_definition {
        let on = primary.and_then(|d| d.task_definition()).unwrap_or("");
        if on != want_td {
            return Ok(Err(Pending(format!(
                "{name}: deployment of {} not started yet",
                short_td(want_td)
            ))));
        }
    }
    let done_counting = service.desired_count() == desired && service.running_count() == desired;
    if want.fail_fast
        && !done_counting
        && let Some(event) = blocking_event(service)
    {
        return Err(ActionError::fatal(
            resource(),
            format!(
                "its tasks cannot run, ECS says: \"{event}\" (give the cluster capacity, or fix the image, secret or volume the task needs; `fail_fast = false` keeps waiting)"
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
    // A new task definition is done only once the old deployments are gone.
    let done = done && (want.task_definition.is_none() || service.deployments().len() <= 1);
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

/// `family:revision` of a task definition ARN, for messages.
pub(super) fn short_td(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::{Deployment, ServiceEvent};
    use aws_smithy_types::DateTime;

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
            .task_definition("arn:aws:ecs:r:1:task-definition/f:1")
            .created_at(DateTime::from_secs(100))
            .set_rollout_state(rollout)
            .build()
    }

    fn want(desired: i32) -> Want<'static> {
        Want {
            desired,
            task_definition: None,
            fail_fast: true,
        }
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
        assert!(steady(&done, want(2), "c", "r").unwrap().is_ok());
        let rolling = service(
            2,
            2,
            vec![deployment(
                "PRIMARY",
                Some(DeploymentRolloutState::InProgress),
            )],
        );
        assert!(steady(&rolling, want(2), "c", "r").unwrap().is_err());
        let short = service(2, 1, vec![deployment("PRIMARY", None)]);
        assert!(steady(&short, want(2), "c", "r").unwrap().is_err());
    }

    #[test]
    fn a_missing_rollout_state_counts_only_with_a_single_deployment() {
        let single = service(1, 1, vec![deployment("PRIMARY", None)]);
        assert!(steady(&single, want(1), "c", "r").unwrap().is_ok());
        let two = service(
            1,
            1,
            vec![deployment("PRIMARY", None), deployment("ACTIVE", None)],
        );
        assert!(steady(&two, want(1), "c", "r").unwrap().is_err());
    }

    #[test]
    fn a_failed_rollout_is_a_fatal_error_naming_the_service() {
        let failed = service(
            2,
            0,
            vec![deployment("PRIMARY", Some(DeploymentRolloutState::Failed))],
        );
        let err = steady(&failed, want(2), "prod", "us-west-2").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("service backend in cluster prod (us-west-2)"),
            "{text}"
        );
        assert!(text.contains("FAILED"), "{text}");
    }

    #[test]
    fn a_placement_event_since_the_deployment_fails_fast_an_older_one_does_not() {
        let event = |secs, message: &str| {
            ServiceEvent::builder()
                .created_at(DateTime::from_secs(secs))
                .message(message)
                .build()
        };
        let place = "(service backend) was unable to place a task because no container instance met all of its requirements.";
        let mut svc = service(
            2,
            0,
            vec![deployment(
                "PRIMARY",
                Some(DeploymentRolloutState::InProgress),
            )],
        );
        svc.events = Some(vec![event(50, place)]);
        assert!(
            steady(&svc, want(2), "c", "r").unwrap().is_err(),
            "old event: still waiting"
        );
        svc.events = Some(vec![event(120, place), event(50, "older")]);
        let text = steady(&svc, want(2), "c", "r").unwrap_err().to_string();
        assert!(text.contains(place), "{text}");
        let patient = Want {
            fail_fast: false,
            ..want(2)
        };
        assert!(
            steady(&svc, patient, "c", "r").unwrap().is_err(),
            "keeps waiting"
        );
    }

    #[test]
    fn a_new_task_definition_is_steady_only_once_its_deployment_is_primary_and_alone() {
        let td = "arn:aws:ecs:r:1:task-definition/f:2";
        let on_new = Want {
            task_definition: Some(td),
            ..want(1)
        };
        let old = service(
            1,
            1,
            vec![deployment(
                "PRIMARY",
                Some(DeploymentRolloutState::Completed),
            )],
        );
        assert!(steady(&old, on_new, "c", "r").unwrap().is_err());
        let mut new = deployment("PRIMARY", Some(DeploymentRolloutState::Completed));
        new.task_definition = Some(td.into());
        let svc = service(1, 1, vec![new]);
        assert!(steady(&svc, on_new, "c", "r").unwrap().is_ok());
    }
}
