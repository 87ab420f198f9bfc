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
