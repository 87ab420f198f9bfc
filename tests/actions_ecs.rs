//! `ecs.scale` end to end against the seeded sandbox (whose deployments roll out over
//! `ecs_rollout` seconds): the services reach their counts with a completed rollout, the
//! previous counts are journalled first and reused on resume, a drill's undo restores them,
//! and AWS faults are absorbed or reported with the service and code. The recovery region is
//! a pilot light (its Auto Scaling group at 0): tests that scale services there first give it
//! capacity, as a runbook's capacity step would.

mod actions_support;
mod common;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use aws_sdk_ecs::types::DeploymentRolloutState;
use drctl::actions::Mode;

use actions_support::{assert_aws_error, count, outcomes, step};
use common::{RECOVERY, SandboxGuard};

const CLUSTER: &str = "prod-infra-production-cluster";

fn params(services: Value) -> Value {
    json!({"cluster": CLUSTER, "services": services})
}

fn recovery_counts() -> Value {
    json!({"frontend": 2, "backend": 2, "ai-service": 1})
}

/// (desired, running, PRIMARY rollout state) per service, by an independent DescribeServices.
async fn state(names: &[&str]) -> BTreeMap<String, (i32, i32, Option<DeploymentRolloutState>)> {
    let out = aws_sdk_ecs::Client::new(&common::sdk_config(RECOVERY).await)
        .describe_services()
        .cluster(CLUSTER)
        .set_services(Some(names.iter().map(|s| s.to_string()).collect()))
        .send()
        .await
        .unwrap();
    out.services()
        .iter()
        .map(|s| {
            let rollout = s
                .deployments()
                .iter()
                .find(|d| d.status() == Some("PRIMARY"))
                .and_then(|d| d.rollout_state().cloned());
            (
                s.service_name().unwrap().to_string(),
                (s.desired_count(), s.running_count(), rollout),
            )
        })
        .collect()
}

#[tokio::test]
async fn scaling_reaches_the_counts_with_a_completed_rollout_and_undo_restores_them() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"ecs_rollout": 0.5}));
    common::ensure_capacity(RECOVERY, 2).await;
    let names = ["frontend", "backend", "ai-service"];

    let s = step("ecs.scale", RECOVERY, params(recovery_counts()))
        .mode(Mode::DrillLive)
        .build()
        .await;
    let out = s.run().await.unwrap();

    let previous: Value = serde_json::from_str(&out.outputs["previous_counts"]).unwrap();
    assert_eq!(
        previous,
        json!({"frontend": 0, "backend": 0, "ai-service": 0})
    );
    // Journalled before any change.
    assert_eq!(s.notes()[0], json!({"previous_counts": previous}));
    let now = state(&names).await;
    for (name, want) in [("frontend", 2), ("backend", 2), ("ai-service", 1)] {
        assert_eq!(
            now[name],
            (want, want, Some(DeploymentRolloutState::Completed)),
            "{name}"
        );
    }
    assert_eq!(count("ecs", "UpdateService"), 3);
    // The app endpoint sees the three services' tasks really run (the app as a whole waits
    // for redis and Qdrant, which this step does not start).
    let (_, health) = common::app_health(RECOVERY);
    for name in ["frontend", "backend", "ai-service"] {
        assert_eq!(
            health["services"][name]["healthy"], true,
            "{name}: {health}"
        );
    }

    s.undo(out.undo.as_ref().expect("a drill has an undo"))
        .await
        .unwrap();

    for (name, st) in state(&names).await {
        assert_eq!(
            st,
            (0, 0, Some(DeploymentRolloutState::Completed)),
            "{name}"
        );
    }
    assert_eq!(count("ecs", "UpdateService"), 6);
    s.assert_calls_declared();
}

#[tokio::test]
async fn a_resumed_step_reuses_the_journalled_counts_and_makes_no_second_update() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"ecs_rollout": 0.3}));
    common::ensure_capacity(RECOVERY, 2).await;
    let first = step("ecs.scale", RECOVERY, params(recovery_counts()))
        .mode(Mode::DrillLive)
        .build()
        .await;
    let out1 = first.run().await.unwrap();

    let second = step("ecs.scale", RECOVERY, params(recovery_counts()))
        .mode(Mode::DrillLive)
        .prior(first.notes())
        .build()
        .await;
    let out2 = second.run().await.unwrap();

    assert_eq!(count("ecs", "UpdateService"), 3, "no second UpdateService");
    // Re-reading would have given the new counts; the journal keeps the old ones.
    assert_eq!(
        out2.outputs["previous_counts"],
        out1.outputs["previous_counts"]
    );
    assert_eq!(out2.undo, out1.undo);
    assert!(second.notes().is_empty(), "nothing new to journal");
}

#[tokio::test]
async fn a_failover_scale_down_has_no_undo_and_waits_for_the_rollout() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"ecs_rollout": 0.3}));
    // In the primary region: frontend 2 -> 1.
    let s = step("ecs.scale", common::PRIMARY, params(json!({"frontend": 1})))
        .build()
        .await;
    let out = s.run().await.unwrap();
    assert_eq!(out.outputs["previous_counts"], r#"{"frontend":2}"#);
    assert!(out.undo.is_none());
    let svc = aws_sdk_ecs::Client::new(&common::sdk_config(common::PRIMARY).await)
        .describe_services()
        .cluster(CLUSTER)
        .services("frontend")
        .send()
        .await
        .unwrap();
    assert_eq!(svc.services()[0].desired_count(), 1);
    assert_eq!(svc.services()[0].running_count(), 1);
}

#[tokio::test]
async fn a_throttled_update_is_absorbed_by_the_sdk_retry() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"ecs_rollout": 0.3}));
    common::ensure_capacity(RECOVERY, 1).await;
    common::inject_fault(
        &json!({"service": "ecs", "operation": "UpdateService", "kind": "throttle", "count": 1}),
    );

    let s = step("ecs.scale", RECOVERY, params(json!({"backend": 1})))
        .build()
        .await;
    s.run().await.unwrap();

    assert_eq!(outcomes("ecs", "UpdateService"), (1, 1));
    assert_eq!(state(&["backend"]).await["backend"].0, 1);
}

#[tokio::test]
async fn access_denied_fails_naming_the_service_cluster_region_and_code() {
    let _guard = SandboxGuard::seeded().await;
    common::inject_fault(&json!({
        "service": "ecs", "operation": "UpdateService", "kind": "access_denied", "count": 1
    }));
    let s = step("ecs.scale", RECOVERY, params(json!({"backend": 1})))
        .build()
        .await;
    let err = s.run().await.unwrap_err();

    assert_aws_error(
        &err,
        "service backend in cluster prod-infra-production-cluster (us-west-2)",
        "AccessDeniedException",
    );
    assert_eq!(state(&["backend"]).await["backend"].0, 0);
}

#[tokio::test]
async fn an_unknown_service_fails_before_anything_changes() {
    let _guard = SandboxGuard::seeded().await;
    let s = step(
        "ecs.scale",
        RECOVERY,
        params(json!({"backend": 1, "nope": 1})),
    )
    .build()
    .await;
    let err = s.run().await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("nope") && text.contains("(us-west-2)"),
        "{text}"
    );
    assert_eq!(count("ecs", "UpdateService"), 0);
    assert!(
        s.notes().is_empty(),
        "nothing journalled: nothing was about to change"
    );
}

#[tokio::test]
async fn undo_counts_a_service_deleted_meanwhile_as_done() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"ecs_rollout": 0.2}));
    common::ensure_capacity(RECOVERY, 1).await;
    // Not Qdrant: its recovery task definition names a file system the region lacks.
    let s = step(
        "ecs.scale",
        RECOVERY,
        params(json!({"redis": 1, "ai-service": 1})),
    )
    .mode(Mode::DrillLive)
    .build()
    .await;
    let out = s.run().await.unwrap();
    aws_sdk_ecs::Client::new(&common::sdk_config(RECOVERY).await)
        .delete_service()
        .cluster(CLUSTER)
        .service("redis")
        .force(true)
        .send()
        .await
        .unwrap();

    s.undo(out.undo.as_ref().unwrap()).await.unwrap();

    assert_eq!(state(&["ai-service"]).await["ai-service"].0, 0);
}

// --- ecs.capacity -----------------------------------------------------------------------------

/// (min, max, desired, instances) of the seed's Auto Scaling group in `region`.
async fn group(region: &str) -> (i32, i32, i32, usize) {
    let out = aws_sdk_autoscaling::Client::new(&common::sdk_config(region).await)
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(common::AUTO_SCALING_GROUP)
        .send()
        .await
        .unwrap();
    let g = &out.auto_scaling_groups()[0];
    (
        g.min_size().unwrap(),
        g.max_size().unwrap(),
        g.desired_capacity().unwrap(),
        g.instances().len(),
    )
}

/// How many container instances of the cluster are ACTIVE with their agent connected.
async fn active_container_instances(region: &str) -> usize {
    let ecs = aws_sdk_ecs::Client::new(&common::sdk_config(region).await);
    let arns = ecs
        .list_container_instances()
        .cluster(CLUSTER)
        .status(aws_sdk_ecs::types::ContainerInstanceStatus::Active)
        .send()
        .await
        .unwrap()
        .container_instance_arns()
        .to_vec();
    if arns.is_empty() {
        return 0;
    }
    ecs.describe_container_instances()
        .cluster(CLUSTER)
        .set_container_instances(Some(arns))
        .send()
        .await
        .unwrap()
        .container_instances()
        .iter()
        .filter(|ci| ci.agent_connected())
        .count()
}

fn capacity(instances: u64) -> Value {
    json!({"cluster": CLUSTER, "auto_scaling_group": common::AUTO_SCALING_GROUP, "instances": instances})
}

#[tokio::test]
async fn capacity_grows_the_pilot_light_group_waits_for_active_instances_and_undo_shrinks_it() {
    let _guard = SandboxGuard::seeded().await;
    // Registration takes a while: the step must wait for it, not just for the launch.
    common::set_durations(&json!({"ecs_instance_registration": 1.0}));
    assert_eq!(
        group(RECOVERY).await,
        (0, 5, 0, 0),
        "the seed's pilot light"
    );
    assert_eq!(active_container_instances(RECOVERY).await, 0);

    let s = step("ecs.capacity", RECOVERY, capacity(7))
        .mode(Mode::DrillIsolated)
        .build()
        .await;
    let out = s.run().await.unwrap();

    assert_eq!(
        group(RECOVERY).await,
        (0, 7, 7, 7),
        "max raised to the wanted size"
    );
    assert_eq!(active_container_instances(RECOVERY).await, 7);
    assert_eq!(out.outputs["container_instances"], "7");
    let previous: Value = serde_json::from_str(&out.outputs["previous_capacity"]).unwrap();
    assert_eq!(previous, json!({"min": 0, "max": 5, "desired": 0}));
    assert_eq!(
        s.notes()[0],
        json!({"previous_capacity": previous}),
        "journalled first"
    );
    assert_eq!(count("autoscaling", "UpdateAutoScalingGroup"), 1);

    // A re-run (resumed from the journal) changes nothing and keeps the old sizes for undo.
    let again = step("ecs.capacity", RECOVERY, capacity(7))
        .mode(Mode::DrillIsolated)
        .prior(s.notes())
        .build()
        .await;
    let out2 = again.run().await.unwrap();
    assert_eq!(
        count("autoscaling", "UpdateAutoScalingGroup"),
        1,
        "no second update"
    );
    assert_eq!(out2.undo, out.undo);

    s.undo(out.undo.as_ref().expect("a drill has an undo"))
        .await
        .unwrap();
    assert_eq!(
        group(RECOVERY).await,
        (0, 5, 0, 0),
        "back to the pilot light"
    );
    s.assert_calls_declared();
    again.assert_calls_declared();
}

#[tokio::test]
async fn capacity_never_shrinks_a_group_that_is_already_larger() {
    let _guard = SandboxGuard::seeded().await;
    // Production in us-east-1 runs 2 instances; asking for 1 leaves it at 2.
    let s = step("ecs.capacity", common::PRIMARY, capacity(1))
        .mode(Mode::DrillLive)
        .build()
        .await;
    let out = s.run().await.unwrap();
    assert_eq!(group(common::PRIMARY).await.2, 2);
    assert_eq!(count("autoscaling", "UpdateAutoScalingGroup"), 0);
    assert!(out.undo.is_none(), "nothing changed, nothing to undo");
}

#[tokio::test]
async fn capacity_for_a_missing_group_fails_naming_it_and_the_region() {
    let _guard = SandboxGuard::seeded().await;
    let s = step(
        "ecs.capacity",
        RECOVERY,
        json!({"cluster": CLUSTER, "auto_scaling_group": "no-such-group", "instances": 1}),
    )
    .build()
    .await;
    let text = s.run().await.unwrap_err().to_string();
    assert!(
        text.contains("Auto Scaling group no-such-group (us-west-2)")
            && text.contains("does not exist"),
        "{text}"
    );
}

// --- ecs.scale fails fast ---------------------------------------------------------------------

#[tokio::test]
async fn scale_without_capacity_fails_fast_naming_the_placement_event() {
    let _guard = SandboxGuard::seeded().await;
    // No capacity step: the pilot light has no container instance. Without failing fast the
    // step would wait for ever (its timeout); the step's own deadline here is 30 s.
    common::set_durations(&json!({"ecs_rollout": 0.5}));
    let s = step("ecs.scale", RECOVERY, params(json!({"backend": 1})))
        .build()
        .await;
    let err = tokio::time::timeout(std::time::Duration::from_secs(30), s.run())
        .await
        .expect("fails fast, not at the step's timeout")
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("service backend in cluster prod-infra-production-cluster (us-west-2)"),
        "{text}"
    );
    assert!(
        text.contains("(service backend) was unable to place a task because no container instance met all of its requirements"),
        "{text}"
    );
}

#[tokio::test]
async fn scale_fails_fast_naming_the_start_failure_when_a_volume_is_missing() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"ecs_rollout": 0.5}));
    common::ensure_capacity(RECOVERY, 1).await;
    // The recovery region's Qdrant still names the primary's file system, absent there.
    let s = step("ecs.scale", RECOVERY, params(json!({"qdrant": 1})))
        .build()
        .await;
    let err = tokio::time::timeout(std::time::Duration::from_secs(30), s.run())
        .await
        .expect("fails fast")
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("is unable to consistently start tasks successfully")
            && text.contains("ResourceInitializationError")
            && text.contains("fs-0123456789abcdef0"),
        "{text}"
    );
}

// --- ecs.use_file_system ----------------------------------------------------------------------

async fn qdrant_task_definition(region: &str) -> String {
    aws_sdk_ecs::Client::new(&common::sdk_config(region).await)
        .describe_services()
        .cluster(CLUSTER)
        .services("qdrant")
        .send()
        .await
        .unwrap()
        .services()[0]
        .task_definition()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn use_file_system_runs_qdrant_on_the_restore_directory_and_undo_puts_the_old_revision_back()
{
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(
        &json!({"ecs_rollout": 0.3, "restore_base": 0.3, "restore_per_gib": 0.0}),
    );
    common::ensure_capacity(RECOVERY, 1).await;
    let restore = step(
        "backup.restore_efs",
        RECOVERY,
        json!({
            "vault": "prod-infra-dr",
            "source_file_system": "fs-0123456789abcdef0",
            "subnets": ["subnet-0f2a0000000000001", "subnet-0f2b0000000000002"],
            "security_groups": ["sg-0f2e0000000000ef5"],
        }),
    )
    .mode(Mode::DrillIsolated)
    .build()
    .await;
    let restored = restore.run().await.unwrap();
    let fs = restored.outputs["file_system_id"].clone();
    let directory = restored.outputs["restore_directory"].clone();
    // The directory drctl names is the one the restore wrote (what a mount would show).
    let contents = common::efs_contents(RECOVERY, &fs);
    assert_eq!(contents["directories"], json!([directory]), "{contents}");

    let before = qdrant_task_definition(RECOVERY).await;
    let s = step(
        "ecs.use_file_system",
        RECOVERY,
        json!({"cluster": CLUSTER, "service": "qdrant", "file_system_id": fs, "root_directory": directory}),
    )
    .mode(Mode::DrillIsolated)
    .build()
    .await;
    let out = s.run().await.unwrap();
    let new = out.outputs["task_definition"].clone();
    assert_ne!(new, before);
    assert_eq!(out.outputs["previous_task_definition"], before);
    assert_eq!(qdrant_task_definition(RECOVERY).await, new);
    assert_eq!(s.notes()[0], json!({"previous_task_definition": before}));

    // The new revision differs only in the volume: same image and mount point.
    let ecs = aws_sdk_ecs::Client::new(&common::sdk_config(RECOVERY).await);
    let describe = |arn: String| {
        let ecs = ecs.clone();
        async move {
            ecs.describe_task_definition()
                .task_definition(arn)
                .send()
                .await
                .unwrap()
                .task_definition()
                .cloned()
                .unwrap()
        }
    };
    let (old_td, new_td) = (describe(before.clone()).await, describe(new.clone()).await);
    assert_eq!(
        old_td.container_definitions(),
        new_td.container_definitions()
    );
    let volume = new_td.volumes()[0].efs_volume_configuration().unwrap();
    assert_eq!(volume.file_system_id(), fs);
    assert_eq!(volume.root_directory(), Some(directory.as_str()));
    assert_eq!(
        volume.transit_encryption(),
        old_td.volumes()[0]
            .efs_volume_configuration()
            .unwrap()
            .transit_encryption()
    );

    // Qdrant started on it mounts the restored data: the app endpoint says so.
    let scale = step("ecs.scale", RECOVERY, params(json!({"qdrant": 1})))
        .mode(Mode::DrillIsolated)
        .build()
        .await;
    let scaled = scale.run().await.unwrap();
    let (_, health) = common::app_health(RECOVERY);
    let qdrant = &health["services"]["qdrant"];
    assert_eq!(qdrant["healthy"], true, "{health}");
    assert_eq!(qdrant["data"], "restored", "{health}");
    assert_eq!(qdrant["file_system_id"], fs.as_str(), "{health}");
    assert_eq!(
        qdrant["recovery_point_arn"],
        restored.outputs["recovery_point_arn"].as_str()
    );

    // A resumed step registers nothing new.
    let again = step(
        "ecs.use_file_system",
        RECOVERY,
        json!({"cluster": CLUSTER, "service": "qdrant", "file_system_id": fs, "root_directory": directory}),
    )
    .mode(Mode::DrillIsolated)
    .prior(s.notes())
    .build()
    .await;
    again.run().await.unwrap();
    assert_eq!(count("ecs", "RegisterTaskDefinition"), 1);

    // Undo, in reverse order: Qdrant back to 0, then on its old revision; the new one is gone.
    scale.undo(scaled.undo.as_ref().unwrap()).await.unwrap();
    s.undo(out.undo.as_ref().expect("a drill has an undo"))
        .await
        .unwrap();
    assert_eq!(qdrant_task_definition(RECOVERY).await, before);
    assert_eq!(
        describe(new.clone()).await.status().map(|s| s.as_str()),
        Some("INACTIVE")
    );
    s.assert_calls_declared();
    restore.undo(restored.undo.as_ref().unwrap()).await.unwrap();
}

#[tokio::test]
async fn use_file_system_fails_naming_the_volumes_when_one_is_asked_for_that_does_not_exist() {
    let _guard = SandboxGuard::seeded().await;
    let s = step(
        "ecs.use_file_system",
        RECOVERY,
        json!({"cluster": CLUSTER, "service": "qdrant", "file_system_id": "fs-0abc", "volume": "nope"}),
    )
    .build()
    .await;
    let text = s.run().await.unwrap_err().to_string();
    assert!(text.contains("has no EFS volume `nope`"), "{text}");
    assert_eq!(count("ecs", "RegisterTaskDefinition"), 0);
    assert_eq!(count("ecs", "UpdateService"), 0);
}
