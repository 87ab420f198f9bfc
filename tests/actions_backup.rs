//! AWS Backup and EFS actions against the sandbox, checked with independent SDK calls:
//! `backup.restore_efs` (latest, latest-before, resume without a second job, drill undo),
//! `backup.copy`, `backup.start` and `efs.replication_failover` (failover and isolated drill).

mod actions_support;
mod common;

use actions_support::{count, step};
use chrono::{DateTime, Utc};
use drctl::actions::Mode;
use serde_json::json;

const QDRANT_FS: &str = "fs-0123456789abcdef0";

fn qdrant_arn() -> String {
    format!(
        "arn:aws:elasticfilesystem:us-east-1:{}:file-system/{QDRANT_FS}",
        common::ACCOUNT
    )
}

/// Recovery points of the Qdrant file system in a vault, newest first (independent read).
async fn points(region: &str, vault: &str) -> Vec<(String, DateTime<Utc>)> {
    let conf = common::sdk_config(region).await;
    let out = aws_sdk_backup::Client::new(&conf)
        .list_recovery_points_by_backup_vault()
        .backup_vault_name(vault)
        .send()
        .await
        .unwrap();
    let mut points: Vec<(String, DateTime<Utc>)> = out
        .recovery_points()
        .iter()
        .filter(|r| r.resource_arn() == Some(qdrant_arn().as_str()))
        .map(|r| {
            (
                r.recovery_point_arn().unwrap().to_string(),
                drctl::aws::to_chrono(r.creation_date().unwrap()),
            )
        })
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.1));
    points
}

async fn file_system(region: &str, id: &str) -> Option<aws_sdk_efs::types::FileSystemDescription> {
    let conf = common::sdk_config(region).await;
    aws_sdk_efs::Client::new(&conf)
        .describe_file_systems()
        .file_system_id(id)
        .send()
        .await
        .ok()
        .and_then(|o| o.file_systems().first().cloned())
}

fn restore_params(selector: &str) -> serde_json::Value {
    json!({
        "vault": "prod-infra-dr",
        "source_file_system": QDRANT_FS,
        "recovery_point": selector,
        "subnets": ["subnet-0f2a0000000000001", "subnet-0f2b0000000000002"],
        "security_groups": ["sg-0f2e0000000000ef5"],
    })
}

#[tokio::test]
async fn restore_latest_creates_a_tagged_file_system_with_mount_targets_and_resumes_without_a_second_job()
 {
    let _guard = common::SandboxGuard::seeded().await;
    let newest = points(common::RECOVERY, "prod-infra-dr").await[0].clone();
    let s = step(
        "backup.restore_efs",
        common::RECOVERY,
        restore_params("latest"),
    )
    .mode(Mode::DrillIsolated)
    .build()
    .await;
    let out = s.run().await.unwrap();
    s.assert_calls_declared();
    assert_eq!(out.outputs["recovery_point_arn"], newest.0);
    assert_eq!(
        out.evidence[0].consistent_at,
        Some(newest.1),
        "RPO evidence is the point's creation time"
    );
    let fs_id = out.outputs["file_system_id"].clone();
    let fs = file_system(common::RECOVERY, &fs_id)
        .await
        .expect("the restored file system exists");
    assert!(
        fs.tags().iter().any(|t| t.key() == "drctl:run-id"),
        "tagged for cleanup"
    );
    let conf = common::sdk_config(common::RECOVERY).await;
    let efs = aws_sdk_efs::Client::new(&conf);
    let mts = efs
        .describe_mount_targets()
        .file_system_id(&fs_id)
        .send()
        .await
        .unwrap();
    let mut subnets: Vec<&str> = mts.mount_targets().iter().map(|m| m.subnet_id()).collect();
    subnets.sort();
    assert_eq!(
        subnets,
        ["subnet-0f2a0000000000001", "subnet-0f2b0000000000002"]
    );
    assert_eq!(count("backup", "StartRestoreJob"), 1);

    // A resumed attempt with the first one's notes starts nothing new.
    let again = step(
        "backup.restore_efs",
        common::RECOVERY,
        restore_params("latest"),
    )
    .mode(Mode::DrillIsolated)
    .prior(s.notes())
    .build()
    .await;
    let out2 = again.run().await.unwrap();
    assert_eq!(out2.outputs["file_system_id"], fs_id);
    assert_eq!(
        count("backup", "StartRestoreJob"),
        1,
        "no second restore job"
    );
    assert_eq!(
        count("efs", "CreateMountTarget"),
        2,
        "no extra mount targets"
    );

    // The drill's undo removes the file system and its mount targets.
    s.undo(out.undo.as_ref().unwrap()).await.unwrap();
    assert!(
        file_system(common::RECOVERY, &fs_id).await.is_none(),
        "deleted"
    );
}

#[tokio::test]
async fn latest_before_picks_the_newest_point_older_than_the_given_time() {
    let _guard = common::SandboxGuard::seeded().await;
    let all = points(common::RECOVERY, "prod-infra-dr").await;
    // Just after the third newest: that one must be chosen, not the two newer ones.
    let limit = all[2].1 + chrono::Duration::seconds(1);
    let selector = format!("latest-before:{}", limit.to_rfc3339());
    let s = step(
        "backup.restore_efs",
        common::RECOVERY,
        restore_params(&selector),
    )
    .build()
    .await;
    let out = s.run().await.unwrap();
    assert_eq!(out.outputs["recovery_point_arn"], all[2].0);

    let s = step(
        "backup.restore_efs",
        common::RECOVERY,
        restore_params("latest-before:2001-01-01T00:00:00Z"),
    )
    .build()
    .await;
    let err = s.run().await.unwrap_err().to_string();
    assert!(
        err.contains("no COMPLETED recovery point") && err.contains("prod-infra-dr (us-west-2)"),
        "{err}"
    );
}

#[tokio::test]
async fn copy_puts_the_latest_point_in_the_other_regions_vault_once() {
    let _guard = common::SandboxGuard::seeded().await;
    let before = points(common::RECOVERY, "prod-infra-dr").await.len();
    let newest_primary = points(common::PRIMARY, "prod-infra-backup").await[0].clone();
    let params = json!({
        "source_vault": "prod-infra-backup",
        "destination_vault": "prod-infra-dr",
        "destination_region": "recovery",
        "source_file_system": QDRANT_FS,
    });
    let s = step("backup.copy", common::PRIMARY, params.clone())
        .mode(Mode::DrillIsolated)
        .build()
        .await;
    let out = s.run().await.unwrap();
    s.assert_calls_declared();
    let after = points(common::RECOVERY, "prod-infra-dr").await;
    assert_eq!(after.len(), before + 1);
    assert!(
        after
            .iter()
            .any(|p| p.0 == out.outputs["recovery_point_arn"]),
        "the copy is in the destination vault"
    );
    assert_eq!(
        out.outputs["recovery_point_created_at"],
        newest_primary.1.to_rfc3339()
    );
    let again = step("backup.copy", common::PRIMARY, params)
        .prior(s.notes())
        .build()
        .await;
    again.run().await.unwrap();
    assert_eq!(count("backup", "StartCopyJob"), 1, "no second copy job");
    s.undo(out.undo.as_ref().unwrap()).await.unwrap();
    assert_eq!(
        points(common::RECOVERY, "prod-infra-dr").await.len(),
        before,
        "undo deleted the copy"
    );
}

#[tokio::test]
async fn an_on_demand_backup_creates_a_new_recovery_point() {
    let _guard = common::SandboxGuard::seeded().await;
    let before = points(common::PRIMARY, "prod-infra-backup").await;
    let s = step(
        "backup.start",
        common::PRIMARY,
        json!({ "vault": "prod-infra-backup", "file_system": QDRANT_FS }),
    )
    .build()
    .await;
    let out = s.run().await.unwrap();
    s.assert_calls_declared();
    let after = points(common::PRIMARY, "prod-infra-backup").await;
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(
        after[0].0, out.outputs["recovery_point_arn"],
        "it is the newest point"
    );
}

async fn replicate_qdrant() -> String {
    let conf = common::sdk_config(common::PRIMARY).await;
    let out = aws_sdk_efs::Client::new(&conf)
        .create_replication_configuration()
        .source_file_system_id(QDRANT_FS)
        .destinations(
            aws_sdk_efs::types::DestinationToCreate::builder()
                .region(common::RECOVERY)
                .build(),
        )
        .send()
        .await
        .unwrap();
    out.destinations()[0].file_system_id().to_string()
}

async fn replication(dest: &str) -> Option<DateTime<Utc>> {
    let conf = common::sdk_config(common::RECOVERY).await;
    let out = aws_sdk_efs::Client::new(&conf)
        .describe_replication_configurations()
        .file_system_id(dest)
        .send()
        .await
        .ok()?;
    let rep = out.replications().first()?;
    rep.destinations()[0]
        .last_replicated_timestamp()
        .map(drctl::aws::to_chrono)
}

#[tokio::test]
async fn replication_failover_breaks_replication_and_reports_the_lag_as_rpo_evidence() {
    let _guard = common::SandboxGuard::seeded().await;
    common::set_durations(&json!({ "efs_replication_enable": 0.0, "efs_replication_lag": 120.0 }));
    let dest = replicate_qdrant().await;
    let last = common::poll(
        "a replicated timestamp",
        std::time::Duration::from_secs(30),
        async || replication(&dest).await,
    )
    .await;

    // An isolated drill only measures.
    let s = step(
        "efs.replication_failover",
        common::RECOVERY,
        json!({ "destination_file_system": dest }),
    )
    .mode(Mode::DrillIsolated)
    .build()
    .await;
    let out = s.run().await.unwrap();
    assert!(out.simulated.is_some());
    assert!(
        replication(&dest).await.is_some(),
        "replication left in place"
    );
    // The lag (120 s) outlasts the test, so the sandbox reports the moment replication was
    // enabled every time it is read: the evidence is that very timestamp.
    let seen = out.evidence[0].consistent_at.unwrap();
    assert_eq!(seen, last, "evidence {seen} vs last replicated {last}");

    // A failover breaks it: the configuration is gone and the replica writable.
    let before_break = replication(&dest).await.unwrap();
    let s = step(
        "efs.replication_failover",
        common::RECOVERY,
        json!({ "destination_file_system": dest }),
    )
    .build()
    .await;
    let out = s.run().await.unwrap();
    s.assert_calls_declared();
    assert!(out.simulated.is_none());
    assert!(
        replication(&dest).await.is_none(),
        "replication configuration deleted"
    );
    let fs = file_system(common::RECOVERY, &dest).await.unwrap();
    let protection = fs
        .file_system_protection()
        .and_then(|p| p.replication_overwrite_protection())
        .map(|p| p.as_str().to_string());
    assert_ne!(
        protection.as_deref(),
        Some("REPLICATING"),
        "the replica is writable"
    );
    // Still within the lag: the last replicated timestamp read just before the break is the
    // one the break froze.
    let evidence = out.evidence[0].consistent_at.unwrap();
    assert_eq!(
        evidence, before_break,
        "evidence {evidence} vs {before_break}"
    );
    assert_eq!(out.outputs["last_replicated_at"], evidence.to_rfc3339());
}
