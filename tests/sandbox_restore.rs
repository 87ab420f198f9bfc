//! AWS Backup restores in the sandbox, through the AWS SDK for Rust: StartRestoreJob refuses
//! what AWS refuses for an EFS recovery point (one test per refusal), a restore writes an
//! `aws-backup-restore_<timestamp>` directory marked with its recovery point, and the
//! control API makes the next backup, copy or restore job end PARTIAL or FAILED (one test
//! per switch).

mod common;

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_backup::Client;
use aws_sdk_backup::error::ProvideErrorMetadata;
use aws_sdk_backup::types::{BackupJobState, CopyJobState, RecoveryPointStatus, RestoreJobStatus};
use common::{PRIMARY, RECOVERY, SandboxGuard};
use serde_json::{Value, json};

const QDRANT: &str = "fs-0123456789abcdef0";
const QDRANT_ARN: &str =
    "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0";
const PRIMARY_VAULT: &str = "prod-infra-backup";
const DR_VAULT: &str = "prod-infra-dr";
const DR_VAULT_ARN: &str = "arn:aws:backup:us-west-2:123456789012:backup-vault:prod-infra-dr";
const ROLE: &str = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole";
const WAIT: Duration = Duration::from_secs(20);

/// A date of the SDK to the nearest millisecond: it reads JSON's epoch seconds as a float, so
/// a date the sandbox holds as …33.195 may arrive as …33.194999980.
fn to_millis(date: &aws_smithy_types::DateTime) -> chrono::DateTime<chrono::Utc> {
    let ms = (date.as_nanos() + 500_000).div_euclid(1_000_000);
    chrono::DateTime::from_timestamp_millis(ms as i64).unwrap()
}

async fn backup(region: &str) -> Client {
    Client::new(&common::sdk_config(region).await)
}

/// The newest seeded copy in the recovery vault.
fn dr_point(seed: &Value) -> String {
    seed["backup"]["recovery_points"][DR_VAULT]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|p| p["creation_time"].as_str().unwrap().to_string())
        .unwrap()["recovery_point_arn"]
        .as_str()
        .unwrap()
        .to_string()
}

/// What drctl sends for a restore to a new file system: the point's metadata, made new.
fn new_fs_metadata() -> HashMap<String, String> {
    [
        ("file-system-id", QDRANT),
        ("newFileSystem", "true"),
        ("CreationToken", "drill-7-qdrant"),
        ("Encrypted", "true"),
        ("PerformanceMode", "generalPurpose"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn with(
    mut metadata: HashMap<String, String>,
    key: &str,
    value: Option<&str>,
) -> HashMap<String, String> {
    match value {
        Some(v) => metadata.insert(key.to_string(), v.to_string()),
        None => metadata.remove(key),
    };
    metadata
}

/// StartRestoreJob in the recovery region; the error code and message when refused.
async fn start(
    client: &Client,
    point: &str,
    metadata: HashMap<String, String>,
    role: Option<&str>,
) -> Result<String, (String, String)> {
    client
        .start_restore_job()
        .recovery_point_arn(point)
        .set_metadata(Some(metadata))
        .set_iam_role_arn(role.map(str::to_owned))
        .resource_type("EFS")
        .send()
        .await
        .map(|out| out.restore_job_id().unwrap().to_string())
        .map_err(|e| {
            let e = e.into_service_error();
            (
                e.code().unwrap_or("none").to_string(),
                e.message().unwrap_or_default().to_string(),
            )
        })
}

/// The refusal of one StartRestoreJob: its code, after checking that no job was made.
async fn refusal(
    client: &Client,
    point: &str,
    metadata: HashMap<String, String>,
    role: Option<&str>,
) -> (String, String) {
    let err = start(client, point, metadata, role)
        .await
        .expect_err("StartRestoreJob must be refused");
    let jobs = client.list_restore_jobs().send().await.unwrap();
    assert!(
        jobs.restore_jobs().is_empty(),
        "a refused call starts nothing"
    );
    err
}

async fn restore_job(
    client: &Client,
    job_id: &str,
) -> aws_sdk_backup::operation::describe_restore_job::DescribeRestoreJobOutput {
    common::poll("the restore job to end", WAIT, async || {
        let job = client
            .describe_restore_job()
            .restore_job_id(job_id)
            .send()
            .await
            .unwrap();
        matches!(
            job.status(),
            Some(RestoreJobStatus::Completed | RestoreJobStatus::Failed)
        )
        .then_some(job)
    })
    .await
}

// --- refusals -------------------------------------------------------------------------------

#[tokio::test]
async fn a_restore_without_new_file_system_is_missing_a_parameter() {
    let guard = SandboxGuard::seeded().await;
    let west = backup(RECOVERY).await;
    let (code, message) = refusal(
        &west,
        &dr_point(&guard.seed),
        with(new_fs_metadata(), "newFileSystem", None),
        Some(ROLE),
    )
    .await;
    assert_eq!(code, "MissingParameterValueException");
    assert!(message.contains("newFileSystem"), "{message}");
}

#[tokio::test]
async fn a_restore_without_the_file_system_id_is_missing_a_parameter() {
    let guard = SandboxGuard::seeded().await;
    let west = backup(RECOVERY).await;
    let (code, message) = refusal(
        &west,
        &dr_point(&guard.seed),
        with(new_fs_metadata(), "file-system-id", None),
        Some(ROLE),
    )
    .await;
    assert_eq!(code, "MissingParameterValueException");
    assert!(message.contains("file-system-id"), "{message}");
}

#[tokio::test]
async fn a_new_file_system_needs_creation_token_encrypted_and_performance_mode() {
    let guard = SandboxGuard::seeded().await;
    let west = backup(RECOVERY).await;
    for key in ["CreationToken", "Encrypted", "PerformanceMode"] {
        let (code, message) = refusal(
            &west,
            &dr_point(&guard.seed),
            with(new_fs_metadata(), key, None),
            Some(ROLE),
        )
        .await;
        assert_eq!(code, "MissingParameterValueException", "{key}");
        assert!(message.contains(key), "{message}");
    }
}

#[tokio::test]
async fn a_creation_token_longer_than_64_characters_is_invalid() {
    let guard = SandboxGuard::seeded().await;
    let west = backup(RECOVERY).await;
    let long = "t".repeat(65);
    let (code, message) = refusal(
        &west,
        &dr_point(&guard.seed),
        with(new_fs_metadata(), "CreationToken", Some(&long)),
        Some(ROLE),
    )
    .await;
    assert_eq!(code, "InvalidParameterValueException");
    assert!(message.contains("64"), "{message}");
    // 64 is the limit, not beyond it.
    let job = start(
        &west,
        &dr_point(&guard.seed),
        with(new_fs_metadata(), "CreationToken", Some(&"t".repeat(64))),
        Some(ROLE),
    )
    .await;
    assert!(job.is_ok(), "{job:?}");
}

#[tokio::test]
async fn an_unknown_performance_mode_is_invalid() {
    let guard = SandboxGuard::seeded().await;
    let west = backup(RECOVERY).await;
    let (code, message) = refusal(
        &west,
        &dr_point(&guard.seed),
        with(new_fs_metadata(), "PerformanceMode", Some("turbo")),
        Some(ROLE),
    )
    .await;
    assert_eq!(code, "InvalidParameterValueException");
    assert!(message.contains("generalPurpose"), "{message}");
}

#[tokio::test]
async fn a_kms_key_on_an_unencrypted_restore_is_invalid() {
    let guard = SandboxGuard::seeded().await;
    let west = backup(RECOVERY).await;
    let metadata = with(
        with(new_fs_metadata(), "Encrypted", Some("false")),
        "KmsKeyId",
        Some("arn:aws:kms:us-west-2:123456789012:key/0f0e0d0c-0b0a-0908-0706-050403020100"),
    );
    let (code, message) = refusal(&west, &dr_point(&guard.seed), metadata, Some(ROLE)).await;
    assert_eq!(code, "InvalidParameterValueException");
    assert!(
        message.contains("Encrypted must be set to true"),
        "{message}"
    );
}

#[tokio::test]
async fn a_malformed_kms_key_is_invalid() {
    let guard = SandboxGuard::seeded().await;
    let west = backup(RECOVERY).await;
    let (code, _) = refusal(
        &west,
        &dr_point(&guard.seed),
        with(new_fs_metadata(), "KmsKeyId", Some("my-key")),
        Some(ROLE),
    )
    .await;
    assert_eq!(code, "InvalidParameterValueException");
}

#[tokio::test]
async fn a_boolean_that_is_not_true_or_false_is_invalid() {
    let guard = SandboxGuard::seeded().await;
    let west = backup(RECOVERY).await;
    for key in ["newFileSystem", "Encrypted"] {
        let (code, message) = refusal(
            &west,
            &dr_point(&guard.seed),
            with(new_fs_metadata(), key, Some("yes")),
            Some(ROLE),
        )
        .await;
        assert_eq!(code, "InvalidParameterValueException", "{key}");
        assert!(message.contains(key), "{message}");
    }
}

#[tokio::test]
async fn a_file_system_id_that_is_not_one_is_invalid() {
    let guard = SandboxGuard::seeded().await;
    let west = backup(RECOVERY).await;
    let (code, _) = refusal(
        &west,
        &dr_point(&guard.seed),
        with(new_fs_metadata(), "file-system-id", Some("qdrant")),
        Some(ROLE),
    )
    .await;
    assert_eq!(code, "InvalidParameterValueException");
}

#[tokio::test]
async fn items_to_restore_must_be_one_to_five_paths() {
    let guard = SandboxGuard::seeded().await;
    let west = backup(RECOVERY).await;
    for items in [
        "/collections",
        "[]",
        r#"["/1","/2","/3","/4","/5","/6"]"#,
        r#"["relative"]"#,
    ] {
        let (code, _) = refusal(
            &west,
            &dr_point(&guard.seed),
            with(new_fs_metadata(), "ItemsToRestore", Some(items)),
            Some(ROLE),
        )
        .await;
        assert_eq!(code, "InvalidParameterValueException", "{items}");
    }
}

#[tokio::test]
async fn a_role_that_is_not_an_iam_role_arn_is_invalid() {
    let guard = SandboxGuard::seeded().await;
    let west = backup(RECOVERY).await;
    for role in [
        "AWSBackupDefaultServiceRole",
        "arn:aws:iam::123456789012:user/backup",
        "arn:aws:iam::1234:role/x",
    ] {
        let (code, message) =
            refusal(&west, &dr_point(&guard.seed), new_fs_metadata(), Some(role)).await;
        assert_eq!(code, "InvalidParameterValueException", "{role}");
        assert!(message.contains("IamRoleArn"), "{message}");
    }
}

#[tokio::test]
async fn a_restore_without_a_role_is_missing_a_parameter() {
    let guard = SandboxGuard::seeded().await;
    let west = backup(RECOVERY).await;
    let (code, message) = refusal(&west, &dr_point(&guard.seed), new_fs_metadata(), None).await;
    assert_eq!(code, "MissingParameterValueException");
    assert!(message.contains("IamRoleArn"), "{message}");
}

#[tokio::test]
async fn a_recovery_point_of_another_region_is_not_found() {
    let guard = SandboxGuard::seeded().await;
    let east = backup(PRIMARY).await;
    // The DR vault's point exists in us-west-2 only.
    let (code, _) = refusal(&east, &dr_point(&guard.seed), new_fs_metadata(), Some(ROLE)).await;
    assert_eq!(code, "ResourceNotFoundException");
}

#[tokio::test]
async fn a_recovery_point_arn_that_is_not_one_is_invalid() {
    let _guard = SandboxGuard::seeded().await;
    let west = backup(RECOVERY).await;
    let (code, _) = refusal(
        &west,
        "arn:aws:backup:us-west-2:123456789012:backup-vault:prod-infra-dr",
        new_fs_metadata(),
        Some(ROLE),
    )
    .await;
    assert_eq!(code, "InvalidParameterValueException");
}

#[tokio::test]
async fn a_resource_type_other_than_the_points_is_invalid() {
    let guard = SandboxGuard::seeded().await;
    let west = backup(RECOVERY).await;
    let err = west
        .start_restore_job()
        .recovery_point_arn(dr_point(&guard.seed))
        .set_metadata(Some(new_fs_metadata()))
        .iam_role_arn(ROLE)
        .resource_type("EBS")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
}

#[tokio::test]
async fn a_partial_recovery_point_cannot_be_restored_or_copied() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"backup_job": 0.2}));
    common::next_job_outcome("backup", "PARTIAL");
    let east = backup(PRIMARY).await;
    let job = east
        .start_backup_job()
        .backup_vault_name(PRIMARY_VAULT)
        .resource_arn(QDRANT_ARN)
        .iam_role_arn(ROLE)
        .send()
        .await
        .unwrap();
    let point = job.recovery_point_arn().unwrap().to_string();
    common::poll("the backup job to end", WAIT, async || {
        let out = east
            .describe_backup_job()
            .backup_job_id(job.backup_job_id().unwrap())
            .send()
            .await
            .unwrap();
        (out.state() == Some(&BackupJobState::Partial)).then_some(())
    })
    .await;
    let (code, message) = refusal(&east, &point, new_fs_metadata(), Some(ROLE)).await;
    assert_eq!(code, "InvalidRequestException");
    assert!(message.contains("PARTIAL"), "{message}");
    let copy = east
        .start_copy_job()
        .recovery_point_arn(&point)
        .source_backup_vault_name(PRIMARY_VAULT)
        .destination_backup_vault_arn(DR_VAULT_ARN)
        .iam_role_arn(ROLE)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(copy.is_invalid_request_exception(), "{copy:?}");
}

// --- the data plane -------------------------------------------------------------------------

#[tokio::test]
async fn a_restored_file_system_holds_the_recovery_point_in_an_aws_backup_restore_directory() {
    let guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"restore_base": 0.2, "restore_per_gib": 0.0}));
    let west = backup(RECOVERY).await;
    let point = dr_point(&guard.seed);
    let job_id = start(&west, &point, new_fs_metadata(), Some(ROLE))
        .await
        .unwrap();
    let job = restore_job(&west, &job_id).await;
    assert_eq!(job.status(), Some(&RestoreJobStatus::Completed));
    let fs_id = job
        .created_resource_arn()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();

    let contents = common::efs_contents(RECOVERY, &fs_id);
    assert_eq!(contents["holds_data"], true);
    assert_eq!(contents["live_data"], false);
    let marker = &contents["restore_marker"];
    assert_eq!(marker["recovery_point_arn"], point.as_str());
    assert_eq!(marker["source_file_system_id"], QDRANT);
    assert_eq!(marker["restore_job_id"], job_id.as_str());
    assert!(marker["items"].is_null(), "a full restore");
    // The directory AWS Backup creates, named after the job's start, to the millisecond.
    let started = to_millis(job.creation_date().unwrap());
    let expected = format!(
        "aws-backup-restore_{}",
        started.format("%Y-%m-%dT%H-%M-%S-%3fZ")
    );
    assert_eq!(marker["restore_directory"], expected.as_str());
    assert_eq!(contents["directories"], json!([format!("/{expected}")]));
    let completed = to_millis(job.completion_date().unwrap());
    assert_eq!(
        marker["restored_at"].as_str().unwrap(),
        completed.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    );

    // The production file system holds live data and no restore; an empty one holds nothing.
    let qdrant = common::efs_contents(PRIMARY, QDRANT);
    assert_eq!(
        (qdrant["holds_data"].clone(), qdrant["live_data"].clone()),
        (json!(true), json!(true))
    );
    assert!(qdrant["restore_marker"].is_null());
    let efs = aws_sdk_efs::Client::new(&common::sdk_config(RECOVERY).await);
    let empty = efs
        .create_file_system()
        .creation_token("empty")
        .send()
        .await
        .unwrap();
    let nothing = common::efs_contents(RECOVERY, empty.file_system_id());
    assert_eq!(nothing["holds_data"], false);
    assert!(nothing["restore_marker"].is_null());
    assert_eq!(nothing["directories"], json!([]));
}

#[tokio::test]
async fn a_restore_into_an_existing_file_system_adds_a_directory_with_the_items() {
    let guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"restore_base": 0.2, "restore_per_gib": 0.0}));
    let east = backup(PRIMARY).await;
    let point = guard.seed["backup"]["recovery_points"][PRIMARY_VAULT][0]["recovery_point_arn"]
        .as_str()
        .unwrap()
        .to_string();
    let metadata: HashMap<String, String> = [
        ("file-system-id", QDRANT),
        ("newFileSystem", "false"),
        ("ItemsToRestore", r#"["/collections/docs"]"#),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let job = restore_job(
        &east,
        &start(&east, &point, metadata, Some(ROLE)).await.unwrap(),
    )
    .await;
    assert_eq!(job.status(), Some(&RestoreJobStatus::Completed));
    assert_eq!(job.created_resource_arn(), Some(QDRANT_ARN));
    let contents = common::efs_contents(PRIMARY, QDRANT);
    assert_eq!(contents["live_data"], true);
    assert_eq!(contents["directories"].as_array().unwrap().len(), 1);
    assert_eq!(
        contents["restore_marker"]["recovery_point_arn"],
        point.as_str()
    );
    assert_eq!(
        contents["restore_marker"]["items"],
        json!(["/collections/docs"])
    );
}

// --- switches: the next job ends PARTIAL or FAILED ---------------------------------------

async fn backup_job_end(
    east: &Client,
) -> aws_sdk_backup::operation::describe_backup_job::DescribeBackupJobOutput {
    let job = east
        .start_backup_job()
        .backup_vault_name(PRIMARY_VAULT)
        .resource_arn(QDRANT_ARN)
        .iam_role_arn(ROLE)
        .send()
        .await
        .unwrap();
    let id = job.backup_job_id().unwrap().to_string();
    common::poll("the backup job to end", WAIT, async || {
        let out = east
            .describe_backup_job()
            .backup_job_id(&id)
            .send()
            .await
            .unwrap();
        matches!(
            out.state(),
            Some(BackupJobState::Completed | BackupJobState::Partial | BackupJobState::Failed)
        )
        .then_some(out)
    })
    .await
}

#[tokio::test]
async fn the_next_backup_job_can_be_made_partial() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"backup_job": 0.2}));
    let east = backup(PRIMARY).await;
    common::next_job_outcome("backup", "PARTIAL");
    let job = backup_job_end(&east).await;
    assert_eq!(job.state(), Some(&BackupJobState::Partial));
    assert!(
        job.status_message()
            .unwrap()
            .contains("completed with issues")
    );
    let point = east
        .describe_recovery_point()
        .backup_vault_name(PRIMARY_VAULT)
        .recovery_point_arn(job.recovery_point_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(point.status(), Some(&RecoveryPointStatus::Partial));
    let listed = east
        .list_backup_jobs()
        .by_state(BackupJobState::Partial)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.backup_jobs().len(), 1);
    // Only the next one: the one after completes.
    assert_eq!(
        backup_job_end(&east).await.state(),
        Some(&BackupJobState::Completed)
    );
}

#[tokio::test]
async fn the_next_backup_job_can_be_made_to_fail() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"backup_job": 0.2}));
    let east = backup(PRIMARY).await;
    let before = east
        .list_recovery_points_by_backup_vault()
        .backup_vault_name(PRIMARY_VAULT)
        .send()
        .await
        .unwrap()
        .recovery_points()
        .len();
    common::next_job_outcome("backup", "FAILED");
    let job = backup_job_end(&east).await;
    assert_eq!(job.state(), Some(&BackupJobState::Failed));
    assert!(job.status_message().is_some());
    assert_eq!(
        job.recovery_point_arn(),
        None,
        "a failed backup made no point"
    );
    let after = east
        .list_recovery_points_by_backup_vault()
        .backup_vault_name(PRIMARY_VAULT)
        .send()
        .await
        .unwrap()
        .recovery_points()
        .len();
    assert_eq!(after, before);
}

async fn copy_job_end(east: &Client, seed: &Value) -> aws_sdk_backup::types::CopyJob {
    let point = seed["backup"]["recovery_points"][PRIMARY_VAULT][0]["recovery_point_arn"]
        .as_str()
        .unwrap();
    let id = east
        .start_copy_job()
        .recovery_point_arn(point)
        .source_backup_vault_name(PRIMARY_VAULT)
        .destination_backup_vault_arn(DR_VAULT_ARN)
        .iam_role_arn(ROLE)
        .send()
        .await
        .unwrap()
        .copy_job_id()
        .unwrap()
        .to_string();
    common::poll("the copy job to end", WAIT, async || {
        let job = east
            .describe_copy_job()
            .copy_job_id(&id)
            .send()
            .await
            .unwrap()
            .copy_job()
            .cloned()
            .unwrap();
        matches!(
            job.state(),
            Some(CopyJobState::Completed | CopyJobState::Partial | CopyJobState::Failed)
        )
        .then_some(job)
    })
    .await
}

#[tokio::test]
async fn the_next_copy_job_can_be_made_partial() {
    let guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"copy_job": 0.2}));
    let east = backup(PRIMARY).await;
    common::next_job_outcome("copy", "PARTIAL");
    let job = copy_job_end(&east, &guard.seed).await;
    assert_eq!(job.state(), Some(&CopyJobState::Partial));
    assert!(job.status_message().is_some());
    let copied = backup(RECOVERY)
        .await
        .describe_recovery_point()
        .backup_vault_name(DR_VAULT)
        .recovery_point_arn(job.destination_recovery_point_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(copied.status(), Some(&RecoveryPointStatus::Partial));
}

#[tokio::test]
async fn the_next_copy_job_can_be_made_to_fail() {
    let guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"copy_job": 0.2}));
    let east = backup(PRIMARY).await;
    common::next_job_outcome("copy", "FAILED");
    let job = copy_job_end(&east, &guard.seed).await;
    assert_eq!(job.state(), Some(&CopyJobState::Failed));
    assert!(job.status_message().is_some());
    assert_eq!(job.destination_recovery_point_arn(), None);
    let dr = backup(RECOVERY)
        .await
        .list_recovery_points_by_backup_vault()
        .backup_vault_name(DR_VAULT)
        .send()
        .await
        .unwrap();
    assert_eq!(dr.recovery_points().len(), 24, "no copy arrived");
}

#[tokio::test]
async fn the_next_restore_job_can_be_made_to_fail_but_not_partial() {
    let guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"restore_base": 0.2, "restore_per_gib": 0.0}));
    // AWS's RestoreJobStatus has no PARTIAL: the switch refuses it.
    let (status, body) = common::control(
        "POST",
        "/backup/next-job-outcome",
        Some(&json!({"job": "restore", "state": "PARTIAL"})),
    );
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("PARTIAL"),
        "{body}"
    );
    common::next_job_outcome("restore", "FAILED");
    let west = backup(RECOVERY).await;
    let job = restore_job(
        &west,
        &start(&west, &dr_point(&guard.seed), new_fs_metadata(), Some(ROLE))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(job.status(), Some(&RestoreJobStatus::Failed));
    assert!(job.status_message().is_some());
    assert_eq!(job.created_resource_arn(), None);
    let efs = aws_sdk_efs::Client::new(&common::sdk_config(RECOVERY).await);
    assert!(
        efs.describe_file_systems()
            .send()
            .await
            .unwrap()
            .file_systems()
            .is_empty()
    );
}
