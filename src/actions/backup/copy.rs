//! `backup.copy`: copy a recovery point to a backup vault in another region, at most once
//! (journalled job id, idempotency token), and wait until the copy job completes.

use serde::Deserialize;
use serde_json::json;

use aws_sdk_backup::types::CopyJobState;

use super::points::{
    PointUndo, RECOVERY_POINT_DOC, choose_point, default_role, delete_point, efs_arn, job_once,
    note_point, prior_point, selector,
};
use crate::actions::spec::{ActionSpec, ParamType, RegionUse, dflt, opt, out, req};
use crate::actions::{
    ActionError, BoxFuture, Outcome, Poll, StepContext, TypedAction, on, poll_until,
};
use crate::aws::aws_err;
use crate::measure::{Evidence, EvidenceKind};

/// `backup.copy` in the catalogue.
pub(crate) static SPEC: ActionSpec = ActionSpec {
    name: "backup.copy",
    summary: "Copy a recovery point to a backup vault in another region",
    params: &[
        req(
            "source_vault",
            ParamType::String,
            "vault in the step's region holding the recovery point",
        ),
        req(
            "destination_vault",
            ParamType::String,
            "vault name in the destination region",
        ),
        req(
            "destination_region",
            ParamType::Region,
            "region of the destination vault",
        ),
        opt(
            "source_file_system",
            ParamType::String,
            "pick the recovery point of this file system (fs-...) when recovery_point is latest*",
        ),
        dflt(
            "recovery_point",
            ParamType::String,
            "latest",
            RECOVERY_POINT_DOC,
        ),
        opt(
            "iam_role",
            ParamType::String,
            "role AWS Backup assumes for the copy",
        ),
    ],
    outputs: &[
        out(
            "recovery_point_arn",
            "the recovery point created in the destination vault",
        ),
        out(
            "recovery_point_created_at",
            "creation time of the copied data, RFC 3339",
        ),
        out("copy_job_id", "the AWS Backup copy job"),
    ],
    iam: &[
        "backup:ListRecoveryPointsByBackupVault",
        "backup:DescribeRecoveryPoint",
        "backup:StartCopyJob",
        "backup:DescribeCopyJob",
        "backup:ListCopyJobs",
        "backup:DeleteRecoveryPoint",
        "iam:PassRole",
        "sts:GetCallerIdentity",
    ],
    estimate_secs: 600,
    mutating: true,
    verification: false,
    rpo_evidence: true,
    region: RegionUse::Required,
};

/// `backup.copy`.
pub(crate) struct Copy;

/// The parameters of `backup.copy`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    source_vault: String,
    destination_vault: String,
    /// A region name of the runbook (or an AWS code).
    destination_region: String,
    source_file_system: Option<String>,
    recovery_point: String,
    iam_role: Option<String>,
}

impl TypedAction for Copy {
    const SPEC: &'static ActionSpec = &SPEC;
    type Params = Params;
    /// The copy's recovery point, deleted by a drill's undo.
    type Undo = PointUndo;

    fn describe(&self, ctx: &StepContext, p: &Params) -> Vec<String> {
        vec![format!(
            "backup:StartCopyJob of the {} recovery point in vault {} ({}) to vault {} ({})",
            p.recovery_point,
            p.source_vault,
            ctx.region.clone().unwrap_or_default(),
            p.destination_vault,
            ctx.region_code(&p.destination_region),
        )]
    }

    fn run<'a>(
        &'a self,
        ctx: &'a StepContext,
        p: Params,
    ) -> BoxFuture<'a, Result<Outcome<PointUndo>, ActionError>> {
        Box::pin(async move {
            let region = ctx.region()?.to_string();
            let source_vault = p.source_vault.clone();
            let dest_vault = p.destination_vault.clone();
            let dest_region = ctx.region_code(&p.destination_region);
            let backup = ctx.aws.backup(&region);
            let account = ctx.account().await?;
            let resource_arn = p
                .source_file_system
                .as_deref()
                .map(|fs| efs_arn(&region, &account, fs));
            let point = match prior_point(ctx) {
                Some(p) => p,
                None => {
                    let p = choose_point(
                        ctx,
                        &region,
                        &source_vault,
                        resource_arn.as_deref(),
                        &selector(ctx, &p.recovery_point)?,
                    )
                    .await?;
                    note_point(ctx, &p).await?;
                    p
                }
            };
            let dest_vault_arn =
                format!("arn:aws:backup:{dest_region}:{account}:backup-vault:{dest_vault}");
            let job_id = job_once(ctx, "copy_job_id", || async {
                let token = ctx.token("copy");
                ctx.note(json!({ "copy_token": token })).await?;
                let role = p.iam_role.clone().unwrap_or_else(|| default_role(&account));
                let out = backup
                    .start_copy_job()
                    .recovery_point_arn(&point.arn)
                    .source_backup_vault_name(&source_vault)
                    .destination_backup_vault_arn(&dest_vault_arn)
                    .iam_role_arn(role)
                    .idempotency_token(token)
                    .send()
                    .await
                    .map_err(aws_err("backup:StartCopyJob"))
                    .map_err(on(format!(
                        "recovery point {} in vault {source_vault} ({region})",
                        point.arn
                    )))?;
                Ok(out.copy_job_id().unwrap_or_default().to_string())
            })
            .await?;
            let dest_arn = poll_until(ctx, || async {
                let out = backup
                    .describe_copy_job()
                    .copy_job_id(&job_id)
                    .send()
                    .await
                    .map_err(aws_err("backup:DescribeCopyJob"))
                    .map_err(on(format!("copy job {job_id} ({region})")))?;
                let job = out.copy_job();
                match job.and_then(|j| j.state()) {
                    Some(CopyJobState::Completed) => Ok(Poll::Ready(
                        job.and_then(|j| j.destination_recovery_point_arn())
                            .unwrap_or_default()
                            .to_string(),
                    )),
                    Some(s @ CopyJobState::Failed) => Err(ActionError::fatal(
                        format!("copy job {job_id} ({region})"),
                        format!(
                            "ended {}: {}",
                            s.as_str(),
                            job.and_then(|j| j.status_message()).unwrap_or("no message")
                        ),
                    )),
                    other => Ok(Poll::Pending(format!(
                        "copy job {job_id}: {}",
                        other.map(|s| s.as_str()).unwrap_or("CREATED")
                    ))),
                }
            })
            .await?;
            let mut outcome = Outcome::default();
            outcome
                .outputs
                .insert("recovery_point_arn".into(), dest_arn.clone());
            outcome.outputs.insert(
                "recovery_point_created_at".into(),
                point.created_at.to_rfc3339(),
            );
            outcome.outputs.insert("copy_job_id".into(), job_id);
            outcome.undo = Some(PointUndo {
                region: dest_region.clone(),
                vault: dest_vault.clone(),
                recovery_point_arn: dest_arn.clone(),
            });
            outcome.created.push(dest_arn.clone());
            outcome.evidence.push(Evidence {
                step: ctx.step_id.clone(),
                resource: format!("recovery point copy {dest_arn}"),
                kind: EvidenceKind::RecoveryPoint,
                consistent_at: Some(point.created_at),
                detail: format!(
                    "copy of {} (created {}) into vault {dest_vault} ({dest_region})",
                    point.arn,
                    point.created_at.to_rfc3339()
                ),
                source: "backup:DescribeCopyJob".into(),
            });
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
