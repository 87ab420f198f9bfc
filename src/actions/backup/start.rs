//! `backup.start`: an on-demand AWS Backup of an EFS file system before a drill, at most once
//! (journalled job id, idempotency token), waiting until the backup job completes.

use serde::Deserialize;
use serde_json::json;

use aws_sdk_backup::types::BackupJobState;

use super::points::{PointUndo, default_role, delete_point, efs_arn, job_once};
use crate::actions::spec::{ActionSpec, ParamType, RegionUse, opt, out, req};
use crate::actions::{
    ActionError, BoxFuture, Outcome, Poll, StepContext, TypedAction, on, poll_until,
};
use crate::aws::{aws_err, to_chrono};

/// `backup.start` in the catalogue.
pub(crate) static SPEC: ActionSpec = ActionSpec {
    name: "backup.start",
    summary: "Take an on-demand AWS Backup of an EFS file system",
    params: &[
        req("vault", ParamType::String, "vault to back up into"),
        req("file_system", ParamType::String, "file system id (fs-...)"),
        opt(
            "iam_role",
            ParamType::String,
            "role AWS Backup assumes for the backup",
        ),
    ],
    outputs: &[
        out("recovery_point_arn", "the new recovery point"),
        out("recovery_point_created_at", "its creation time, RFC 3339"),
        out("backup_job_id", "the AWS Backup job"),
    ],
    iam: &[
        "backup:StartBackupJob",
        "backup:DescribeBackupJob",
        "backup:ListBackupJobs",
        "backup:DeleteRecoveryPoint",
        "iam:PassRole",
        "sts:GetCallerIdentity",
    ],
    estimate_secs: 600,
    mutating: true,
    verification: false,
    rpo_evidence: false,
    region: RegionUse::Required,
};

/// `backup.start`.
pub(crate) struct Start;

/// The parameters of `backup.start`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    vault: String,
    file_system: String,
    iam_role: Option<String>,
}

impl TypedAction for Start {
    const SPEC: &'static ActionSpec = &SPEC;
    type Params = Params;
    /// The new recovery point, deleted by a drill's undo.
    type Undo = PointUndo;

    fn describe(&self, ctx: &StepContext, p: &Params) -> Vec<String> {
        vec![format!(
            "backup:StartBackupJob of {} into vault {} ({})",
            p.file_system,
            p.vault,
            ctx.region.clone().unwrap_or_default()
        )]
    }

    fn run<'a>(
        &'a self,
        ctx: &'a StepContext,
        p: Params,
    ) -> BoxFuture<'a, Result<Outcome<PointUndo>, ActionError>> {
        Box::pin(async move {
            let region = ctx.region()?.to_string();
            let vault = p.vault.clone();
            let fs = p.file_system.clone();
            let backup = ctx.aws.backup(&region);
            let account = ctx.account().await?;
            let job_id = job_once(ctx, "backup_job_id", || async {
                let token = ctx.token("backup");
                ctx.note(json!({ "backup_token": token })).await?;
                let role = p.iam_role.clone().unwrap_or_else(|| default_role(&account));
                let out = backup
                    .start_backup_job()
                    .backup_vault_name(&vault)
                    .resource_arn(efs_arn(&region, &account, &fs))
                    .iam_role_arn(role)
                    .idempotency_token(token)
                    .send()
                    .await
                    .map_err(aws_err("backup:StartBackupJob"))
                    .map_err(on(format!("file system {fs} ({region})")))?;
                Ok(out.backup_job_id().unwrap_or_default().to_string())
            })
            .await?;
            let (arn, created) = poll_until(ctx, || async {
                let job = backup
                    .describe_backup_job()
                    .backup_job_id(&job_id)
                    .send()
                    .await
                    .map_err(aws_err("backup:DescribeBackupJob"))
                    .map_err(on(format!("backup job {job_id} ({region})")))?;
                match job.state() {
                    Some(BackupJobState::Completed) => Ok(Poll::Ready((
                        job.recovery_point_arn().unwrap_or_default().to_string(),
                        job.creation_date().map(to_chrono).unwrap_or_default(),
                    ))),
                    Some(
                        s @ (BackupJobState::Failed
                        | BackupJobState::Aborted
                        | BackupJobState::Expired),
                    ) => Err(ActionError::fatal(
                        format!("backup job {job_id} ({region})"),
                        format!(
                            "ended {}: {}",
                            s.as_str(),
                            job.status_message().unwrap_or("no message")
                        ),
                    )),
                    other => Ok(Poll::Pending(format!(
                        "backup job {job_id}: {}",
                        other.map(|s| s.as_str()).unwrap_or("CREATED")
                    ))),
                }
            })
            .await?;
            let mut outcome = Outcome::default();
            outcome
                .outputs
                .insert("recovery_point_arn".into(), arn.clone());
            outcome
                .outputs
                .insert("recovery_point_created_at".into(), created.to_rfc3339());
            outcome.outputs.insert("backup_job_id".into(), job_id);
            outcome.undo = Some(PointUndo {
                region: region.clone(),
                vault: vault.clone(),
                recovery_point_arn: arn.clone(),
            });
            outcome.created.push(arn);
            Ok(outcome)
        })
    }

    fn undo<'a>(
        &'a self,
        ctx: &'a StepContext,
        undo: PointUndo,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async move { delete_point(ctx, &undo).await })
    }
}
