//! AWS Backup in the sandbox, through the AWS SDK for Rust: recovery points, selections,
//! and backup, restore and copy jobs (time progression, cross-region effects, idempotency).

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_backup::Client;
use aws_sdk_backup::types::{BackupJobState, BackupSelection, CopyJobState, RestoreJobStatus};
use common::{PRIMARY, RECOVERY, SandboxGuard};
use serde_json::json;

const QDRANT_ARN: &str =
    "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0";
const PRIMARY_VAULT: &str = "prod-infra-backup";
const DR_VAULT: &str = "prod-infra-dr";
const DR_VAULT_ARN: &str = "arn:aws:backup:us-west-2:123456789012:backup-vault:prod-infra-dr";
const ROLE: &str = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole";
const WAIT: Duration = Duration::from_secs(20);

async fn backup(region: &str) -> Client {
    Client::new(&common::sdk_config(region).await)
}

async fn newest_recovery_point(
    client: &Client,
    vault: &str,
) -> aws_sdk_backup::types::RecoveryPointByBackupVault {
    let page = client
        .list_recovery_points_by_backup_vault()
        .backup_vault_name(vault)
        .send()
        .await
        .expect("list recovery points");
    page.recovery_points()
        .iter()
        .max_by_key(|rp| rp.creation_date().map(|d| d.secs()))
        .cloned()
        .expect("at least one recovery point")
}

#[tokio::test]
async fn seeded_recovery_points_describe_and_copies_keep_creation_dates() {
    let guard = SandboxGuard::seeded().await;
    let east = backup(PRIMARY).await;
    let west = backup(RECOVERY).await;

    let primary = east
        .list_recovery_points_by_backup_vault()
        .backup_vault_name(PRIMARY_VAULT)
        .send()
        .await
        .unwrap();
    assert_eq!(primary.recovery_points().len(), 24);
    let copies = west
        .list_recovery_points_by_backup_vault()
        .backup_vault_name(DR_VAULT)
        .send()
        .await
        .unwrap();
    assert_eq!(copies.recovery_points().len(), 24);

    let dates = |rps: &[aws_sdk_backup::types::RecoveryPointByBackupVault]| -> BTreeSet<i64> {
        rps.iter()
            .map(|rp| rp.creation_date().unwrap().secs())
            .collect()
    };
    assert_eq!(
        dates(primary.recovery_points()),
        dates(copies.recovery_points())
    );
    for rp in copies.recovery_points() {
        assert!(
            rp.recovery_point_arn()
                .unwrap()
                .starts_with("arn:aws:backup:us-west-2:123456789012:recovery-point:")
        );
        assert_eq!(
            rp.source_backup_vault_arn(),
            Some("arn:aws:backup:us-east-1:123456789012:backup-vault:prod-infra-backup")
        );
        assert_eq!(rp.resource_arn(), Some(QDRANT_ARN));
    }

    // The seed summary lists the same points.
    let seeded = guard.seed["backup"]["recovery_points"][PRIMARY_VAULT]
        .as_array()
        .unwrap();
    assert_eq!(seeded.len(), 24);

    let by_resource = east
        .list_recovery_points_by_resource()
        .resource_arn(QDRANT_ARN)
        .send()
        .await
        .unwrap();
    assert_eq!(by_resource.recovery_points().len(), 24);
    assert!(
        by_resource
            .recovery_points()
            .iter()
            .all(|rp| rp.backup_size_bytes().unwrap() > 1_900_000_000)
    );

    let newest = newest_recovery_point(&east, PRIMARY_VAULT).await;
    let arn = newest.recovery_point_arn().unwrap();
    let described = east
        .describe_recovery_point()
        .backup_vault_name(PRIMARY_VAULT)
        .recovery_point_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(described.status().map(|s| s.as_str()), Some("COMPLETED"));
    assert_eq!(described.resource_type(), Some("EFS"));
    assert!(
        described
            .created_by()
            .and_then(|c| c.backup_plan_id())
            .is_some()
    );

    let metadata = east
        .get_recovery_point_restore_metadata()
        .backup_vault_name(PRIMARY_VAULT)
        .recovery_point_arn(arn)
        .send()
        .await
        .unwrap();
    let metadata = metadata.restore_metadata().unwrap();
    for key in [
        "file-system-id",
        "Encrypted",
        "KmsKeyId",
        "PerformanceMode",
        "CreationToken",
        "newFileSystem",
    ] {
        assert!(
            metadata.contains_key(key),
            "missing restore metadata key {key}"
        );
    }
    assert_eq!(metadata["file-system-id"], "fs-0123456789abcdef0");
    assert_eq!(metadata["CreationToken"], "prod-infra-qdrant");

    let unknown = east
        .describe_recovery_point()
        .backup_vault_name(PRIMARY_VAULT)
        .recovery_point_arn("arn:aws:backup:us-east-1:123456789012:recovery-point:00000000-0000-0000-0000-000000000000")
        .send()
        .await
        .unwrap_err();
    assert!(
        unknown
            .into_service_error()
            .is_resource_not_found_exception()
    );
}

#[tokio::test]
async fn backup_job_progresses_once_per_idempotency_token_and_creates_a_recovery_point() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"backup_job": 1.0}));
    let east = backup(PRIMARY).await;
    let start = || {
        east.start_backup_job()
            .backup_vault_name(PRIMARY_VAULT)
            .resource_arn(QDRANT_ARN)
            .iam_role_arn(ROLE)
            .idempotency_token("drill-42-backup")
            .recovery_point_tags("drctl:run-id", "drill-42")
            .send()
    };
    let first = start().await.unwrap();
    let again = start().await.unwrap();
    assert_eq!(first.backup_job_id(), again.backup_job_id());
    assert_eq!(first.recovery_point_arn(), again.recovery_point_arn());
    let job_id = first.backup_job_id().unwrap().to_string();
    let jobs = east.list_backup_jobs().send().await.unwrap();
    assert_eq!(
        jobs.backup_jobs().len(),
        1,
        "the repeated call started no second job"
    );
    let reused = east
        .start_backup_job()
        .backup_vault_name(PRIMARY_VAULT)
        .resource_arn(QDRANT_ARN)
        .iam_role_arn(ROLE)
        .idempotency_token("drill-42-backup")
        .recovery_point_tags("drctl:run-id", "drill-43")
        .send()
        .await
        .unwrap_err();
    assert!(
        reused.into_service_error().is_invalid_request_exception(),
        "same token, other parameters"
    );

    let mut seen = Vec::new();
    common::poll("the backup job to complete", WAIT, async || {
        let job = east
            .describe_backup_job()
            .backup_job_id(&job_id)
            .send()
            .await
            .unwrap();
        let state = job.state().cloned().unwrap();
        if seen.last() != Some(&state) {
            seen.push(state.clone());
        }
        (state == BackupJobState::Completed).then_some(())
    })
    .await;
    assert_ne!(
        seen[0],
        BackupJobState::Completed,
        "the job took time: {seen:?}"
    );

    let rp_arn = first.recovery_point_arn().unwrap();
    let rp = east
        .describe_recovery_point()
        .backup_vault_name(PRIMARY_VAULT)
        .recovery_point_arn(rp_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        rp.creation_date().map(|d| d.secs()),
        first.creation_date().map(|d| d.secs())
    );
    let tags = east.list_tags().resource_arn(rp_arn).send().await.unwrap();
    assert_eq!(tags.tags().unwrap()["drctl:run-id"], "drill-42");
    let completed = east
        .list_backup_jobs()
        .by_state(BackupJobState::Completed)
        .send()
        .await
        .unwrap();
    assert_eq!(completed.backup_jobs().len(), 1);
}

#[tokio::test]
async fn restore_from_the_dr_vault_creates_an_efs_file_system_in_the_recovery_region() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"restore_base": 0.3, "restore_per_gib": 0.2}));
    let west = backup(RECOVERY).await;
    let efs = aws_sdk_efs::Client::new(&common::sdk_config(RECOVERY).await);
    assert!(
        efs.describe_file_systems()
            .send()
            .await
            .unwrap()
            .file_systems()
            .is_empty()
    );

    let newest = newest_recovery_point(&west, DR_VAULT).await;
    let start = || {
        west.start_restore_job()
            .recovery_point_arn(newest.recovery_point_arn().unwrap())
            .iam_role_arn(ROLE)
            .resource_type("EFS")
            .idempotency_token("drill-42-restore-qdrant")
            .metadata("file-system-id", "fs-0123456789abcdef0")
            .metadata("newFileSystem", "true")
            .metadata("CreationToken", "drill-42-qdrant")
            .metadata("Encrypted", "true")
            .metadata("PerformanceMode", "generalPurpose")
            .send()
    };
    let job_id = start().await.unwrap().restore_job_id().unwrap().to_string();
    let again = start().await.unwrap();
    assert_eq!(again.restore_job_id(), Some(job_id.as_str()));
    assert_eq!(
        west.list_restore_jobs()
            .send()
            .await
            .unwrap()
            .restore_jobs()
            .len(),
        1
    );
    assert_eq!(common::requests_for("backup", "StartRestoreJob").len(), 2);

    let job = common::poll("the restore job to complete", WAIT, async || {
        let job = west
            .describe_restore_job()
            .restore_job_id(&job_id)
            .send()
            .await
            .unwrap();
        (job.status() == Some(&RestoreJobStatus::Completed)).then_some(job)
    })
    .await;
    assert_eq!(
        job.recovery_point_creation_date().map(|d| d.secs()),
        newest.creation_date().map(|d| d.secs())
    );
    let created = job.created_resource_arn().expect("CreatedResourceArn");
    assert!(
        created.starts_with("arn:aws:elasticfilesystem:us-west-2:123456789012:file-system/fs-")
    );
    let fs_id = created.rsplit('/').next().unwrap();
    let described = efs
        .describe_file_systems()
        .file_system_id(fs_id)
        .send()
        .await
        .unwrap();
    let fs = &described.file_systems()[0];
    assert_eq!(fs.creation_token(), "drill-42-qdrant");
    assert!(fs.encrypted().unwrap_or(false));
    assert_eq!(
        efs.describe_file_systems()
            .send()
            .await
            .unwrap()
            .file_systems()
            .len(),
        1
    );
}

#[tokio::test]
async fn copy_job_puts_a_recovery_point_with_the_same_creation_date_in_the_other_region() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"copy_job": 0.5}));
    let east = backup(PRIMARY).await;
    let west = backup(RECOVERY).await;
    let source = newest_recovery_point(&east, PRIMARY_VAULT).await;
    let copy_id = east
        .start_copy_job()
        .recovery_point_arn(source.recovery_point_arn().unwrap())
        .source_backup_vault_name(PRIMARY_VAULT)
        .destination_backup_vault_arn(DR_VAULT_ARN)
        .iam_role_arn(ROLE)
        .idempotency_token("copy-1")
        .send()
        .await
        .unwrap()
        .copy_job_id()
        .unwrap()
        .to_string();
    let job = common::poll("the copy job to complete", WAIT, async || {
        let out = east
            .describe_copy_job()
            .copy_job_id(&copy_id)
            .send()
            .await
            .unwrap();
        let job = out.copy_job().cloned().unwrap();
        (job.state() == Some(&CopyJobState::Completed)).then_some(job)
    })
    .await;
    let dest_arn = job.destination_recovery_point_arn().unwrap();
    assert!(dest_arn.starts_with("arn:aws:backup:us-west-2:123456789012:recovery-point:"));
    let copied = west
        .describe_recovery_point()
        .backup_vault_name(DR_VAULT)
        .recovery_point_arn(dest_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        copied.creation_date().map(|d| d.secs()),
        source.creation_date().map(|d| d.secs())
    );
    assert_eq!(copied.source_backup_vault_arn(), source.backup_vault_arn());
    let listed = east
        .list_copy_jobs()
        .by_destination_vault_arn(DR_VAULT_ARN)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.copy_jobs().len(), 1);
    let dr = west
        .list_recovery_points_by_backup_vault()
        .backup_vault_name(DR_VAULT)
        .send()
        .await
        .unwrap();
    assert_eq!(dr.recovery_points().len(), 25);
}

#[tokio::test]
async fn selections_tags_deletion_and_control_created_recovery_points() {
    let _guard = SandboxGuard::seeded().await;
    let east = backup(PRIMARY).await;
    let plan_id = east
        .list_backup_plans()
        .send()
        .await
        .unwrap()
        .backup_plans_list()[0]
        .backup_plan_id()
        .unwrap()
        .to_string();
    let listed = east
        .list_backup_selections()
        .backup_plan_id(&plan_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.backup_selections_list()[0].selection_name(),
        Some("prod-infra-qdrant")
    );

    let created = east
        .create_backup_selection()
        .backup_plan_id(&plan_id)
        .backup_selection(
            BackupSelection::builder()
                .selection_name("drill-extra")
                .iam_role_arn(ROLE)
                .resources(QDRANT_ARN)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let selection_id = created.selection_id().unwrap();
    let got = east
        .get_backup_selection()
        .backup_plan_id(&plan_id)
        .selection_id(selection_id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.backup_selection().unwrap().resources(), [QDRANT_ARN]);
    east.delete_backup_selection()
        .backup_plan_id(&plan_id)
        .selection_id(selection_id)
        .send()
        .await
        .unwrap();
    let listed = east
        .list_backup_selections()
        .backup_plan_id(&plan_id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.backup_selections_list().len(), 1);

    // A point of a chosen age through the control API, then tagged and deleted through the SDK.
    let made = common::create_recovery_point(&json!({
        "vault": PRIMARY_VAULT, "region": PRIMARY, "creation_time": "2024-03-01T12:00:00Z", "size_bytes": 1234
    }));
    let arn = made["recovery_point_arn"].as_str().unwrap();
    let rp = east
        .describe_recovery_point()
        .backup_vault_name(PRIMARY_VAULT)
        .recovery_point_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(rp.creation_date().map(|d| d.secs()), Some(1_709_294_400));
    assert_eq!(rp.backup_size_in_bytes(), Some(1234));
    east.tag_resource()
        .resource_arn(arn)
        .tags("keep", "no")
        .send()
        .await
        .unwrap();
    assert_eq!(
        east.list_tags()
            .resource_arn(arn)
            .send()
            .await
            .unwrap()
            .tags()
            .unwrap()["keep"],
        "no"
    );
    east.delete_recovery_point()
        .backup_vault_name(PRIMARY_VAULT)
        .recovery_point_arn(arn)
        .send()
        .await
        .unwrap();
    let count = east
        .list_recovery_points_by_backup_vault()
        .backup_vault_name(PRIMARY_VAULT)
        .send()
        .await
        .unwrap();
    assert_eq!(count.recovery_points().len(), 24);
    let vaults = east.list_backup_vaults().send().await.unwrap();
    assert_eq!(
        vaults.backup_vault_list()[0].number_of_recovery_points(),
        24
    );
}
