//! `backup.restore_efs`: restore an EFS file system from an AWS Backup recovery point into a
//! new file system, tag it with the run, create its mount targets and wait until all is
//! available. The chosen point and the job id are journalled before anything waits on them,
//! and the job is started with an idempotency token, so a resumed step polls the job its
//! crashed attempt started instead of starting a second restore.

use serde::{Deserialize, Serialize};
use serde_json::json;

use aws_sdk_backup::types::RestoreJobStatus;

use super::points::{
    RECOVERY_POINT_DOC, choose_point, default_role, efs_arn, job_once, note_point, prior_point,
    selector,
};
use crate::actions::efs::{delete_file_system, ensure_mount_targets, wait_available};
use crate::actions::spec::{ActionSpec, ParamType, RegionUse, dflt, opt, out, req};
use crate::actions::{
    ActionError, BoxFuture, Outcome, Poll, StepContext, TypedAction, on, poll_until,
};
use crate::aws::aws_err;
use crate::measure::{Evidence, EvidenceKind};

/// `backup.restore_efs` in the catalogue.
pub(crate) static SPEC: ActionSpec = ActionSpec {
    name: "backup.restore_efs",
    summary: "Restore an EFS file system from an AWS Backup recovery point into a new file system, with mount targets",
    params: &[
        req(
            "vault",
            ParamType::String,
            "backup vault (in the step's region) holding the recovery points",
        ),
        req(
            "source_file_system",
            ParamType::String,
            "id of the protected file system (fs-...) whose recovery points to use",
        ),
        dflt(
            "source_region",
            ParamType::Region,
            "primary",
            "region the protected file system lives in (recovery points name it by ARN)",
        ),
        dflt(
            "recovery_point",
            ParamType::String,
            "latest",
            RECOVERY_POINT_DOC,
        ),
        opt(
            "subnets",
            ParamType::StringList,
            "subnet ids to create mount targets in (one per availability zone)",
        ),
        opt(
            "security_groups",
            ParamType::StringList,
            "security group ids for the mount targets",
        ),
        opt(
            "iam_role",
            ParamType::String,
            "role AWS Backup assumes for the restore (default: the account's AWSBackupDefaultServiceRole)",
        ),
    ],
    outputs: &[
        out("file_system_id", "id of the restored file system"),
        out("file_system_arn", "ARN of the restored file system"),
        out(
            "recovery_point_arn",
            "the recovery point restored (RPO evidence)",
        ),
        out(
            "recovery_point_created_at",
            "creation time of that recovery point, RFC 3339 (RPO evidence)",
        ),
        out("restore_job_id", "the AWS Backup restore job"),
        out(
            "restore_directory",
            "where the restore put the data, as a path from the new file system's root (`/aws-backup-restore_<timestamp>`, named after the restore job's creation time as AWS Backup names it): the `root_directory` for `ecs.use_file_system`",
        ),
    ],
    iam: &[
        "backup:ListRecoveryPointsByBackupVault",
        "backup:DescribeRecoveryPoint",
        "backup:GetRecoveryPointRestoreMetadata",
        "backup:StartRestoreJob",
        "backup:DescribeRestoreJob",
        "backup:ListRestoreJobs",
        "iam:PassRole",
        "sts:GetCallerIdentity",
        "elasticfilesystem:DescribeFileSystems",
        "elasticfilesystem:CreateMountTarget",
        "elasticfilesystem:DescribeMountTargets",
        "elasticfilesystem:TagResource",
        "elasticfilesystem:DeleteMountTarget",
        "elasticfilesystem:DeleteFileSystem",
    ],
    estimate_secs: 900,
    mutating: true,
    verification: false,
    rpo_evidence: true,
    region: RegionUse::Required,
};

/// `backup.restore_efs`.
pub(crate) struct RestoreEfs;

/// The parameters of `backup.restore_efs`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    vault: String,
    source_file_system: String,
    /// A region name of the runbook (or an AWS code).
    source_region: String,
    recovery_point: String,
    #[serde(default)]
    subnets: Vec<String>,
    #[serde(default)]
    security_groups: Vec<String>,
    iam_role: Option<String>,
}

/// What a drill's undo removes: the restored file system (its mount targets first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Undo {
    region: String,
    file_system_id: String,
    /// The mount targets created (all of the file system's are removed).
    #[serde(default)]
    mount_targets: Vec<String>,
}

/// The directory AWS Backup restores a full EFS recovery point into, off the root of the
/// target file system: `aws-backup-restore_` and the job's creation time in UTC with
/// milliseconds, `:` and `.` replaced by `-` (e.g.
/// `/aws-backup-restore_2022-01-17T08-53-32-695Z`). The wire carries milliseconds, so the
/// time is rounded to the nearest one (an epoch-seconds float may read a hair below it).
fn restore_directory(created: &aws_smithy_types::DateTime) -> String {
    let millis = created.secs() * 1000 + i64::from((created.subsec_nanos() + 500_000) / 1_000_000);
    let at = chrono::DateTime::from_timestamp_millis(millis).unwrap_or_default();
    format!(
        "/aws-backup-restore_{}",
        at.format("%Y-%m-%dT%H-%M-%S-%3fZ")
    )
}

impl TypedAction for RestoreEfs {
    const SPEC: &'static ActionSpec = &SPEC;
    type Params = Params;
    type Undo = Undo;

    fn describe(&self, ctx: &StepContext, p: &Params) -> Vec<String> {
        let region = ctx.region.clone().unwrap_or_default();
        vec![
            format!(
                "backup:StartRestoreJob of the {} recovery point of {} from vault {} ({region}) into a new file system",
                p.recovery_point, p.source_file_system, p.vault,
            ),
            format!(
                "elasticfilesystem:CreateMountTarget in {}",
                p.subnets.join(", ")
            ),
            "elasticfilesystem:TagResource drctl:run-id on the new file system".into(),
        ]
    }

    fn run<'a>(
        &'a self,
        ctx: &'a StepContext,
        p: Params,
    ) -> BoxFuture<'a, Result<Outcome<Undo>, ActionError>> {
        Box::pin(async move {
            let region = ctx.region()?.to_string();
            let vault = p.vault.clone();
            let source_fs = p.source_file_system.clone();
            let source_region = ctx.region_code(&p.source_region);
            let backup = ctx.aws.backup(&region);
            let account = ctx.account().await?;
            let source_arn = efs_arn(&source_region, &account, &source_fs);

            // Resume: reuse the recovery point and job of an earlier attempt.
            let point = match prior_point(ctx) {
                Some(point) => point,
                None => {
                    let point = choose_point(
                        ctx,
                        &region,
                        &vault,
                        Some(&source_arn),
                        &selector(ctx, &p.recovery_point)?,
                    )
                    .await?;
                    note_point(ctx, &point).await?;
                    point
                }
            };
            let job_id = job_once(ctx, "restore_job_id", || async {
                let resource = format!("recovery point {} in vault {vault} ({region})", point.arn);
                let mut metadata = backup
                    .get_recovery_point_restore_metadata()
                    .backup_vault_name(&vault)
                    .recovery_point_arn(&point.arn)
                    .send()
                    .await
                    .map_err(aws_err("backup:GetRecoveryPointRestoreMetadata"))
                    .map_err(on(resource.clone()))?
                    .restore_metadata()
                    .cloned()
                    .unwrap_or_default();
                let token = ctx.token("restore");
                metadata.insert("newFileSystem".into(), "true".into());
                metadata.insert("CreationToken".into(), token.clone());
                metadata
                    .entry("file-system-id".into())
                    .or_insert(source_fs.clone());
                metadata.entry("Encrypted".into()).or_insert("true".into());
                metadata
                    .entry("PerformanceMode".into())
                    .or_insert("generalPurpose".into());
                let role = p.iam_role.clone().unwrap_or_else(|| default_role(&account));
                ctx.note(json!({ "restore_token": token })).await?;
                ctx.progress(format!("starting restore of {}", point.arn));
                let out = backup
                    .start_restore_job()
                    .recovery_point_arn(&point.arn)
                    .set_metadata(Some(metadata))
                    .iam_role_arn(role)
                    .idempotency_token(&token)
                    .resource_type("EFS")
                    .send()
                    .await
                    .map_err(aws_err("backup:StartRestoreJob"))
                    .map_err(on(resource))?;
                Ok(out.restore_job_id().unwrap_or_default().to_string())
            })
            .await?;

            let (created_arn, job_created) = poll_until(ctx, || async {
                let job = backup
                    .describe_restore_job()
                    .restore_job_id(&job_id)
                    .send()
                    .await
                    .map_err(aws_err("backup:DescribeRestoreJob"))
                    .map_err(on(format!("restore job {job_id} ({region})")))?;
                match job.status() {
                    Some(RestoreJobStatus::Completed) => Ok(Poll::Ready((
                        job.created_resource_arn().unwrap_or_default().to_string(),
                        job.creation_date().cloned(),
                    ))),
                    Some(s @ (RestoreJobStatus::Failed | RestoreJobStatus::Aborted)) => {
                        Err(ActionError::fatal(
                            format!("restore job {job_id} ({region})"),
                            format!(
                                "ended {}: {}",
                                s.as_str(),
                                job.status_message().unwrap_or("no message")
                            ),
                        ))
                    }
                    other => Ok(Poll::Pending(format!(
                        "restore job {job_id}: {}{}",
                        other.map(|s| s.as_str()).unwrap_or("PENDING"),
                        job.percent_done()
                            .map(|p| format!(" ({}%)", p.trim_end_matches('%')))
                            .unwrap_or_default()
                    ))),
                }
            })
            .await?;
            let fs_id = created_arn
                .rsplit('/')
                .next()
                .filter(|id| id.starts_with("fs-"))
                .ok_or_else(|| {
                    ActionError::fatal(
                        format!("restore job {job_id}"),
                        format!("completed without a file system ARN (got `{created_arn}`)"),
                    )
                })?
                .to_string();
            ctx.note(json!({ "file_system_id": fs_id })).await?;

            let efs = ctx.aws.efs(&region);
            let tags: Vec<_> = ctx
                .tags()
                .into_iter()
                .map(|(k, v)| aws_sdk_efs::types::Tag::builder().key(k).value(v).build())
                .collect::<Result<_, _>>()
                .map_err(|e| ActionError::fatal(&fs_id, e.to_string()))?;
            efs.tag_resource()
                .resource_id(&fs_id)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(aws_err("elasticfilesystem:TagResource"))
                .map_err(on(format!("file system {fs_id} ({region})")))?;

            let mount_targets =
                ensure_mount_targets(ctx, &region, &fs_id, &p.subnets, &p.security_groups).await?;
            wait_available(ctx, &region, &fs_id, &mount_targets).await?;

            let mut outcome = Outcome::default();
            outcome
                .outputs
                .insert("file_system_id".into(), fs_id.clone());
            outcome
                .outputs
                .insert("file_system_arn".into(), created_arn.clone());
            outcome
                .outputs
                .insert("recovery_point_arn".into(), point.arn.clone());
            outcome.outputs.insert(
                "recovery_point_created_at".into(),
                point.created_at.to_rfc3339(),
            );
            outcome
                .outputs
                .insert("restore_job_id".into(), job_id.clone());
            let directory = job_created.as_ref().map(restore_directory).ok_or_else(|| {
                ActionError::fatal(
                    format!("restore job {job_id} ({region})"),
                    "completed without a creation date, so its restore directory is unknown",
                )
            })?;
            outcome
                .outputs
                .insert("restore_directory".into(), directory);
            outcome.undo = Some(Undo {
                region: region.clone(),
                file_system_id: fs_id.clone(),
                mount_targets,
            });
            outcome.created.push(created_arn);
            outcome.evidence.push(Evidence {
                step: ctx.step_id.clone(),
                resource: format!("efs {source_fs} (restored as {fs_id})"),
                kind: EvidenceKind::RecoveryPoint,
                consistent_at: Some(point.created_at),
                detail: format!(
                    "recovery point {} in vault {vault} ({region}), created {}",
                    point.arn,
                    point.created_at.to_rfc3339()
                ),
                source: "backup:ListRecoveryPointsByBackupVault".into(),
            });
            Ok(outcome)
        })
    }

    fn undo<'a>(
        &'a self,
        ctx: &'a StepContext,
        undo: Undo,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async move { delete_file_system(ctx, &undo.region, &undo.file_system_id).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_restore_directory_is_named_after_the_job_creation_to_the_millisecond() {
        // 1642409612.695 as an f64 reads 1642409612.69499993...
        let created = aws_smithy_types::DateTime::from_secs_f64(1_642_409_612.695);
        assert_eq!(
            restore_directory(&created),
            "/aws-backup-restore_2022-01-17T08-53-32-695Z"
        );
        let whole = aws_smithy_types::DateTime::from_secs(1_642_409_612);
        assert_eq!(
            restore_directory(&whole),
            "/aws-backup-restore_2022-01-17T08-53-32-000Z"
        );
    }
}
