//! `secrets.replicate` and `secrets.promote` end to end against the seeded sandbox, checked
//! with independent DescribeSecret calls: replicas become standalone (or, in isolated drills,
//! stay replicas), a lagging replica shows up in the RPO evidence, resumed steps repeat no
//! mutation, drill undo puts replication back, faults are absorbed or reported. No test and
//! no action reads a secret value: the request log must never show GetSecretValue.

mod actions_support;
mod common;

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde_json::json;

use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::types::StatusType;
use drctl::actions::Mode;
use drctl::measure::EvidenceKind;

use actions_support::{assert_aws_error, count, outcomes, step};
use common::{PRIMARY, RECOVERY, SandboxGuard};

const BACKEND: &str = "prod-infra/backend";
const AI: &str = "prod-infra/ai-service";

async fn describe(region: &str, name: &str) -> Option<DescribeSecretOutput> {
    aws_sdk_secretsmanager::Client::new(&common::sdk_config(region).await)
        .describe_secret()
        .secret_id(name)
        .send()
        .await
        .ok()
}

/// Standalone in `region`: no PrimaryRegion elsewhere.
async fn is_standalone(region: &str, name: &str) -> bool {
    let out = describe(region, name).await.expect("the secret exists");
    out.primary_region().is_none_or(|p| p == region)
}

/// The replication status of the recovery region as the primary reports it.
async fn replica_status(name: &str) -> Option<StatusType> {
    describe(PRIMARY, name)
        .await?
        .replication_status()
        .iter()
        .find(|r| r.region() == Some(RECOVERY))
        .and_then(|r| r.status().cloned())
}

fn no_secret_values_read() {
    assert_eq!(count("secretsmanager", "GetSecretValue"), 0);
    assert_eq!(count("secretsmanager", "BatchGetSecretValue"), 0);
}

fn both() -> serde_json::Value {
    json!({"secrets": [BACKEND, AI]})
}

#[tokio::test]
async fn promote_makes_the_replicas_standalone_in_the_recovery_region() {
    let _guard = SandboxGuard::seeded().await;
    assert!(!is_standalone(RECOVERY, BACKEND).await);

    let s = step("secrets.promote", RECOVERY, both()).build().await;
    let out = s.run().await.unwrap();

    assert_eq!(out.outputs["promoted"], "2");
    for name in [BACKEND, AI] {
        assert!(
            is_standalone(RECOVERY, name).await,
            "{name} is still a replica"
        );
        assert_eq!(replica_status(name).await, None, "{name} still replicates");
    }
    // Both replicas were current: each is evidence of an RPO of zero.
    assert_eq!(out.evidence.len(), 2);
    for ev in &out.evidence {
        assert_eq!(ev.kind, EvidenceKind::SecretVersion);
        assert_eq!(ev.consistent_at, None, "{}", ev.detail);
    }
    assert!(out.simulated.is_none());
    assert!(out.undo.is_none(), "a failover has no undo");
    assert_eq!(count("secretsmanager", "StopReplicationToReplica"), 2);
    no_secret_values_read();
    s.assert_calls_declared();
}

#[tokio::test]
async fn a_resumed_promote_makes_no_second_stop_replication_call() {
    let _guard = SandboxGuard::seeded().await;
    let first = step("secrets.promote", RECOVERY, both()).build().await;
    let out1 = first.run().await.unwrap();

    let second = step("secrets.promote", RECOVERY, both())
        .prior(first.notes())
        .build()
        .await;
    let out2 = second.run().await.unwrap();

    assert_eq!(count("secretsmanager", "StopReplicationToReplica"), 2);
    assert_eq!(out2.outputs, out1.outputs);
    // The evidence is the one gathered before the promotion, not the standalone copies'.
    assert_eq!(out2.evidence, out1.evidence);
    no_secret_values_read();
}

#[tokio::test]
async fn an_isolated_drill_checks_the_replicas_but_does_not_promote_them() {
    let _guard = SandboxGuard::seeded().await;
    let s = step("secrets.promote", RECOVERY, both())
        .mode(Mode::DrillIsolated)
        .build()
        .await;
    let out = s.run().await.unwrap();

    let simulated = out
        .simulated
        .expect("an isolated drill says what it did not do");
    assert!(simulated.contains("not promoted"), "{simulated}");
    assert!(
        simulated.contains(BACKEND) && simulated.contains(AI),
        "{simulated}"
    );
    assert_eq!(out.outputs["promoted"], "0");
    assert!(out.undo.is_none());
    for name in [BACKEND, AI] {
        assert!(!is_standalone(RECOVERY, name).await, "{name} was promoted");
        assert_eq!(replica_status(name).await, Some(StatusType::InSync));
    }
    assert_eq!(count("secretsmanager", "StopReplicationToReplica"), 0);
    assert_eq!(out.evidence.len(), 2);
    no_secret_values_read();
    s.assert_calls_declared();
}

#[tokio::test]
async fn a_lagging_replica_shows_in_the_evidence_with_the_version_it_lacks() {
    let _guard = SandboxGuard::seeded().await;
    let before = Utc::now();
    let lag = common::lag_secret(BACKEND, RECOVERY, Some(r#"{"API_KEY":"rotated"}"#));
    let new_version = lag["primary_current_version_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(
        lag["replica_current_version_id"],
        lag["primary_current_version_id"]
    );

    let s = step("secrets.promote", RECOVERY, both())
        .mode(Mode::DrillIsolated)
        .build()
        .await;
    let out = s.run().await.unwrap();
    let after = Utc::now();

    let backend = out
        .evidence
        .iter()
        .find(|e| e.resource.contains(BACKEND))
        .unwrap();
    let ai = out
        .evidence
        .iter()
        .find(|e| e.resource.contains(AI))
        .unwrap();
    assert_eq!(ai.consistent_at, None);
    let at: DateTime<Utc> = backend.consistent_at.expect("a lagging replica has a time");
    // The version was created by the lag call: between `before` and `after` (whole seconds,
    // as Secrets Manager reports them).
    assert!(
        at >= before - ChronoDuration::seconds(1) && at <= after + ChronoDuration::seconds(1),
        "{at} not within [{before}, {after}]"
    );
    assert!(backend.detail.contains(&new_version), "{}", backend.detail);
    assert!(
        backend
            .source
            .contains("secretsmanager:ListSecretVersionIds"),
        "{}",
        backend.source
    );
    // Still a replica, reported as lagging (InProgress) in the drill's explanation.
    assert!(!is_standalone(RECOVERY, BACKEND).await);
    assert!(out.simulated.unwrap().contains("InProgress"));
    no_secret_values_read();
}

#[tokio::test]
async fn replicate_adds_the_missing_region_and_drill_undo_removes_only_that() {
    let _guard = SandboxGuard::seeded().await;
    // The AI service's secret loses its replica; the backend's keeps its own.
    aws_sdk_secretsmanager::Client::new(&common::sdk_config(PRIMARY).await)
        .remove_regions_from_replication()
        .secret_id(AI)
        .remove_replica_regions(RECOVERY)
        .send()
        .await
        .unwrap();
    assert!(describe(RECOVERY, AI).await.is_none());

    let s = step("secrets.replicate", RECOVERY, both())
        .mode(Mode::DrillLive)
        .build()
        .await;
    let out = s.run().await.unwrap();

    assert_eq!(out.outputs["replicated"], "1");
    assert_eq!(count("secretsmanager", "ReplicateSecretToRegions"), 1);
    assert_eq!(replica_status(AI).await, Some(StatusType::InSync));
    assert_eq!(
        describe(RECOVERY, AI).await.unwrap().primary_region(),
        Some(PRIMARY)
    );
    assert_eq!(out.evidence.len(), 2);
    assert!(out.evidence.iter().all(|e| e.consistent_at.is_none()));

    // Resumed: nothing to replicate again.
    let again = step("secrets.replicate", RECOVERY, both())
        .mode(Mode::DrillLive)
        .prior(s.notes())
        .build()
        .await;
    let out2 = again.run().await.unwrap();
    assert_eq!(count("secretsmanager", "ReplicateSecretToRegions"), 1);
    assert_eq!(out2.undo, out.undo);

    s.undo(out.undo.as_ref().expect("a drill has an undo"))
        .await
        .unwrap();
    assert!(
        describe(RECOVERY, AI).await.is_none(),
        "the added replica is removed"
    );
    assert_eq!(replica_status(AI).await, None);
    assert_eq!(replica_status(BACKEND).await, Some(StatusType::InSync));
    assert!(describe(RECOVERY, BACKEND).await.is_some());
    no_secret_values_read();
    s.assert_calls_declared();
}

#[tokio::test]
async fn a_live_drill_promotion_is_undone_by_replicating_again() {
    let _guard = SandboxGuard::seeded().await;
    let s = step("secrets.promote", RECOVERY, json!({"secrets": [BACKEND]}))
        .mode(Mode::DrillLive)
        .build()
        .await;
    let out = s.run().await.unwrap();
    assert!(is_standalone(RECOVERY, BACKEND).await);

    s.undo(out.undo.as_ref().expect("a live drill has an undo"))
        .await
        .unwrap();

    assert!(!is_standalone(RECOVERY, BACKEND).await);
    assert_eq!(replica_status(BACKEND).await, Some(StatusType::InSync));
    no_secret_values_read();
    s.assert_calls_declared();
}

#[tokio::test]
async fn a_throttled_promotion_is_absorbed_by_the_sdk_retry() {
    let _guard = SandboxGuard::seeded().await;
    common::inject_fault(&json!({
        "service": "secretsmanager", "operation": "StopReplicationToReplica",
        "kind": "throttle", "count": 1
    }));
    let s = step("secrets.promote", RECOVERY, json!({"secrets": [AI]}))
        .build()
        .await;
    s.run().await.unwrap();

    assert_eq!(
        outcomes("secretsmanager", "StopReplicationToReplica"),
        (1, 1)
    );
    assert!(is_standalone(RECOVERY, AI).await);
}

#[tokio::test]
async fn access_denied_fails_naming_the_replica_region_and_code() {
    let _guard = SandboxGuard::seeded().await;
    common::inject_fault(&json!({
        "service": "secretsmanager", "operation": "StopReplicationToReplica",
        "kind": "access_denied", "count": 1
    }));
    let s = step("secrets.promote", RECOVERY, json!({"secrets": [BACKEND]}))
        .build()
        .await;
    let err = s.run().await.unwrap_err();

    assert_aws_error(
        &err,
        "replica of secret prod-infra/backend (us-west-2)",
        "AccessDeniedException",
    );
    assert!(!is_standalone(RECOVERY, BACKEND).await);
}

#[tokio::test]
async fn promotion_goes_ahead_when_the_primary_region_does_not_answer() {
    let _guard = SandboxGuard::seeded().await;
    // The disaster: every Secrets Manager call to the primary region fails with a 503.
    common::inject_fault(&json!({
        "service": "secretsmanager", "region": PRIMARY, "kind": "error503", "probability": 1.0
    }));
    let s = step("secrets.promote", RECOVERY, json!({"secrets": [BACKEND]}))
        .build()
        .await;
    let out = s.run().await.unwrap();
    common::clear_faults();

    assert!(is_standalone(RECOVERY, BACKEND).await);
    // Without the primary, the evidence is the pessimistic replica-only figure, and says so.
    let ev = &out.evidence[0];
    assert!(ev.consistent_at.is_some());
    assert!(ev.detail.contains("did not answer"), "{}", ev.detail);
    assert!(ev.source.contains("replica only"), "{}", ev.source);
    no_secret_values_read();
}
