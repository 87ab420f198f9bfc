//! AWS Backup actions: `backup.restore_efs`, `backup.copy`, `backup.start`.
//!
//! Every job is started with an idempotency token derived from the run and step, and its id
//! is journalled before the done-check: a resumed step polls the job its crashed attempt
//! started (or, if the crash came between the call and the journal line, gets the same job
//! back from AWS for the same token). No second restore or copy is ever started.

use chrono::{DateTime, Utc};
use serde_json::json;

use aws_sdk_backup::types::{BackupJobState, CopyJobState, RecoveryPointStatus, RestoreJobStatus};

use super::spec::{self, ActionSpec};
use super::{Action, ActionError, BoxFuture, Poll, StepContext, StepOutcome, on, poll_until};
use crate::aws::{AwsClients, all_pages, aws_err, to_chrono};
use crate::measure::{Evidence, EvidenceKind};

/// A recovery point chosen for a restore or copy.
#[derive(Debug, Clone)]
pub(crate) struct ChosenPoint {
    pub arn: String,
    pub created_at: DateTime<Utc>,
    pub size_bytes: Option<i64>,
}

/// The selector of `recovery_point`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PointSelector {
    Latest,
    LatestBefore(DateTime<Utc>),
    Arn(String),
}

impl PointSelector {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        if text == "latest" {
            Ok(PointSelector::Latest)
        } else if let Some(time) = text.strip_prefix("latest-before:") {
            time.parse::<DateTime<Utc>>()
                .map(PointSelector::LatestBefore)
                .map_err(|e| format!("`{time}` is not an RFC 3339 time: {e}"))
        } else if text.starts_with("arn:") {
            Ok(PointSelector::Arn(text.to_string()))
        } else {
            Err(format!(
                "`{text}` is not a recovery point selector: use latest, latest-before:<RFC 3339 time>, or an ARN"
            ))
        }
    }
}

/// The ARN of an EFS file system, as AWS Backup names the resources it protects.
pub(crate) fn efs_arn(region: &str, account: &str, fs: &str) -> String {
    format!("arn:aws:elasticfilesystem:{region}:{account}:file-system/{fs}")
}

fn default_role(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/service-role/AWSBackupDefaultServiceRole")
}

/// Pick a completed recovery point of `resource_arn` in `vault`.
pub(crate) async fn choose_point(
    ctx: &StepContext,
    region: &str,
    vault: &str,
    resource_arn: Option<&str>,
    selector: &PointSelector,
) -> Result<ChosenPoint, ActionError> {
    newest_point(&ctx.aws, region, vault, resource_arn, selector)
        .await?
        .ok_or_else(|| {
            ActionError::fatal(
                format!("vault {vault} ({region})"),
                format!(
                    "no COMPLETED recovery point{}{}",
                    resource_arn.map(|a| format!(" of {a}")).unwrap_or_default(),
                    match selector {
                        PointSelector::LatestBefore(t) =>
                            format!(" created before {}", t.to_rfc3339()),
                        _ => String::new(),
                    }
                ),
            )
        })
}

/// The completed recovery point of `resource_arn` in `vault` that `selector` names, if there
/// is one. Read-only: `drctl check` measures exposure with it too.
pub(crate) async fn newest_point(
    aws: &AwsClients,
    region: &str,
    vault: &str,
    resource_arn: Option<&str>,
    selector: &PointSelector,
) -> Result<Option<ChosenPoint>, ActionError> {
    let client = aws.backup(region);
    let where_ = format!("vault {vault} ({region})");
    if let PointSelector::Arn(arn) = selector {
        let out = client
            .describe_recovery_point()
            .backup_vault_name(vault)
            .recovery_point_arn(arn)
            .send()
            .await
            .map_err(aws_err("backup:DescribeRecoveryPoint"))
            .map_err(on(format!("recovery point {arn} in {where_}")))?;
        if out.status() != Some(&RecoveryPointStatus::Completed) {
            return Err(ActionError::fatal(
                format!("recovery point {arn}"),
                format!("is {:?}, not COMPLETED", out.status()),
            ));
        }
        return Ok(Some(ChosenPoint {
            arn: arn.clone(),
            created_at: out.creation_date().map(to_chrono).unwrap_or_default(),
            size_bytes: out.backup_size_in_bytes(),
        }));
    }
    let points = all_pages(|token| {
        let mut req = client
            .list_recovery_points_by_backup_vault()
            .backup_vault_name(vault)
            .set_next_token(token);
        if let Some(arn) = resource_arn {
            req = req.by_resource_arn(arn);
        }
        async move {
            let out = req
                .send()
                .await
                .map_err(aws_err("backup:ListRecoveryPointsByBackupVault"))?;
            let next = out.next_token().map(str::to_owned);
            Ok((out.recovery_points.unwrap_or_default(), next))
        }
    })
    .await
    .map_err(on(where_.clone()))?;
    let mut best: Option<ChosenPoint> = None;
    for rp in &points {
        if rp.status() != Some(&RecoveryPointStatus::Completed) {
            continue;
        }
        if let Some(want) = resource_arn
            && rp.resource_arn() != Some(want)
        {
            continue;
        }
        let (Some(arn), Some(created)) = (rp.recovery_point_arn(), rp.creation_date()) else {
            continue;
        };
        let created_at = to_chrono(created);
        if let PointSelector::LatestBefore(limit) = selector
            && created_at >= *limit
        {
            continue;
        }
        if best.as_ref().is_none_or(|b| created_at > b.created_at) {
            best = Some(ChosenPoint {
                arn: arn.to_string(),
                created_at,
                size_bytes: rp.backup_size_in_bytes(),
            });
        }
    }
    Ok(best)
}

/// The id of the job this step started, starting it at most once: an earlier attempt's
/// journalled id wins, and a new id is journalled before anything waits on it. (A crash
/// between the start call and the journal line is covered by the idempotency token: the
/// same call returns the same job.)
async fn job_once<F, Fut>(ctx: &StepContext, key: &str, start: F) -> Result<String, ActionError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<String, ActionError>>,
{
    if let Some(id) = ctx.prior(key).and_then(|v| v.as_str()) {
        return Ok(id.to_string());
    }
    let id = start().await?;
    ctx.note(json!({ key: id })).await?;
    Ok(id)
}

fn selector(ctx: &StepContext) -> Result<PointSelector, ActionError> {
    PointSelector::parse(ctx.str("recovery_point")?)
        .map_err(|m| ActionError::fatal(format!("step {}", ctx.step_id), m))
}

async fn note_point(ctx: &StepContext, point: &ChosenPoint) -> Result<(), ActionError> {
    ctx.note(json!({
        "recovery_point_arn": point.arn,
        "recovery_point_created_at": point.created_at.to_rfc3339(),
        "recovery_point_size_bytes": point.size_bytes,
    }))
    .await
}

fn prior_point(ctx: &StepContext) -> Option<ChosenPoint> {
    let arn = ctx.prior("recovery_point_arn")?.as_str()?.to_string();
    let created_at = ctx
        .prior("recovery_point_created_at")?
        .as_str()?
        .parse()
        .ok()?;
    Some(ChosenPoint {
        arn,
        created_at,
        size_bytes: ctx
            .prior("recovery_point_size_bytes")
            .and_then(|v| v.as_i64()),
    })
}

/// `backup.restore_efs`.
pub(crate) struct RestoreEfs;

impl Action for RestoreEfs {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("backup.restore_efs").expect("catalogue entry")
    }

    fn describe(&self, ctx: &StepContext) -> Vec<String> {
        let region = ctx.region.clone().unwrap_or_default();
        vec![
            format!(
                "backup:StartRestoreJob of the {} recovery point of {} from vault {} ({region}) into a new file system",
                ctx.opt_str("recovery_point").unwrap_or("latest"),
                ctx.opt_str("source_file_system").unwrap_or("?"),
                ctx.opt_str("vault").unwrap_or("?"),
            ),
            format!(
                "elasticfilesystem:CreateMountTarget in {}",
                ctx.list("subnets").join(", ")
            ),
            "elasticfilesystem:TagResource drctl:run-id on the new file system".into(),
        ]
    }

    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            let region = ctx.region()?.to_string();
            let vault = ctx.str("vault")?.to_string();
            let source_fs = ctx.str("source_file_system")?.to_string();
            let source_region = ctx.region_param("source_region")?;
            let backup = ctx.aws.backup(&region);
            let account = ctx.account().await?;
            let source_arn = efs_arn(&source_region, &account, &source_fs);

            // Resume: reuse the recovery point and job of an earlier attempt.
            let point = match prior_point(ctx) {
                Some(point) => point,
                None => {
                    let point =
                        choose_point(ctx, &region, &vault, Some(&source_arn), &selector(ctx)?)
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
                let role = ctx
                    .opt_str("iam_role")
                    .map(str::to_owned)
                    .unwrap_or_else(|| default_role(&account));
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

            let created_arn = poll_until(ctx, || async {
                let job = backup
                    .describe_restore_job()
                    .restore_job_id(&job_id)
                    .send()
                    .await
                    .map_err(aws_err("backup:DescribeRestoreJob"))
                    .map_err(on(format!("restore job {job_id} ({region})")))?;
                match job.status() {
                    Some(RestoreJobStatus::Completed) => Ok(Poll::Ready(
                        job.created_resource_arn().unwrap_or_default().to_string(),
                    )),
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

            let mount_targets = super::efs::ensure_mount_targets(
                ctx,
                &region,
                &fs_id,
                &ctx.list("subnets"),
                &ctx.list("security_groups"),
            )
            .await?;
            super::efs::wait_available(ctx, &region, &fs_id, &mount_targets).await?;

            let mut outcome = StepOutcome::default();
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
            outcome.undo = Some(json!({
                "region": region,
                "file_system_id": fs_id,
                "mount_targets": mount_targets,
            }));
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
        undo: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async move {
            let region = undo["region"].as_str().unwrap_or_default();
            let fs_id = undo["file_system_id"].as_str().unwrap_or_default();
            super::efs::delete_file_system(ctx, region, fs_id).await
        })
    }
}

/// `backup.copy`.
pub(crate) struct Copy;

impl Action for Copy {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("backup.copy").expect("catalogue entry")
    }

    fn describe(&self, ctx: &StepContext) -> Vec<String> {
        vec![format!(
            "backup:StartCopyJob of the {} recovery point in vault {} ({}) to vault {} ({})",
            ctx.opt_str("recovery_point").unwrap_or("latest"),
            ctx.opt_str("source_vault").unwrap_or("?"),
            ctx.region.clone().unwrap_or_default(),
            ctx.opt_str("destination_vault").unwrap_or("?"),
            ctx.region_param("destination_region").unwrap_or_default(),
        )]
    }

    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            let region = ctx.region()?.to_string();
            let source_vault = ctx.str("source_vault")?.to_string();
            let dest_vault = ctx.str("destination_vault")?.to_string();
            let dest_region = ctx.region_param("destination_region")?;
            let backup = ctx.aws.backup(&region);
            let account = ctx.account().await?;
            let resource_arn = ctx
                .opt_str("source_file_system")
                .map(|fs| efs_arn(&region, &account, fs));
            let point = match prior_point(ctx) {
                Some(p) => p,
                None => {
                    let p = choose_point(
                        ctx,
                        &region,
                        &source_vault,
                        resource_arn.as_deref(),
                        &selector(ctx)?,
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
                let role = ctx
                    .opt_str("iam_role")
                    .map(str::to_owned)
                    .unwrap_or_else(|| default_role(&account));
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
            let mut outcome = StepOutcome::default();
            outcome
                .outputs
                .insert("recovery_point_arn".into(), dest_arn.clone());
            outcome.outputs.insert(
                "recovery_point_created_at".into(),
                point.created_at.to_rfc3339(),
            );
            outcome.outputs.insert("copy_job_id".into(), job_id);
            outcome.undo = Some(
                json!({ "region": dest_region, "vault": dest_vault, "recovery_point_arn": dest_arn }),
            );
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
        undo: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(delete_point(ctx, undo))
    }
}

async fn delete_point(ctx: &StepContext, undo: &serde_json::Value) -> Result<(), ActionError> {
    let region = undo["region"].as_str().unwrap_or_default();
    let vault = undo["vault"].as_str().unwrap_or_default();
    let arn = undo["recovery_point_arn"].as_str().unwrap_or_default();
    match ctx
        .aws
        .backup(region)
        .delete_recovery_point()
        .backup_vault_name(vault)
        .recovery_point_arn(arn)
        .send()
        .await
        .map_err(aws_err("backup:DeleteRecoveryPoint"))
    {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(on(format!(
            "recovery point {arn} in vault {vault} ({region})"
        ))(e)),
    }
}

/// `backup.start`.
pub(crate) struct Start;

impl Action for Start {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("backup.start").expect("catalogue entry")
    }

    fn describe(&self, ctx: &StepContext) -> Vec<String> {
        vec![format!(
            "backup:StartBackupJob of {} into vault {} ({})",
            ctx.opt_str("file_system").unwrap_or("?"),
            ctx.opt_str("vault").unwrap_or("?"),
            ctx.region.clone().unwrap_or_default()
        )]
    }

    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            let region = ctx.region()?.to_string();
            let vault = ctx.str("vault")?.to_string();
            let fs = ctx.str("file_system")?.to_string();
            let backup = ctx.aws.backup(&region);
            let account = ctx.account().await?;
            let job_id = job_once(ctx, "backup_job_id", || async {
                let token = ctx.token("backup");
                ctx.note(json!({ "backup_token": token })).await?;
                let role = ctx
                    .opt_str("iam_role")
                    .map(str::to_owned)
                    .unwrap_or_else(|| default_role(&account));
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
            let mut outcome = StepOutcome::default();
            outcome
                .outputs
                .insert("recovery_point_arn".into(), arn.clone());
            outcome
                .outputs
                .insert("recovery_point_created_at".into(), created.to_rfc3339());
            outcome.outputs.insert("backup_job_id".into(), job_id);
            outcome.undo =
                Some(json!({ "region": region, "vault": vault, "recovery_point_arn": arn }));
            outcome.created.push(arn);
            Ok(outcome)
        })
    }

    fn undo<'a>(
        &'a self,
        ctx: &'a StepContext,
        undo: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(delete_point(ctx, undo))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_and_explain_mistakes() {
        assert_eq!(PointSelector::parse("latest"), Ok(PointSelector::Latest));
        assert_eq!(
            PointSelector::parse("latest-before:2026-01-01T00:00:00Z"),
            Ok(PointSelector::LatestBefore(
                "2026-01-01T00:00:00Z".parse().unwrap()
            ))
        );
        assert!(matches!(
            PointSelector::parse("arn:aws:backup:us-west-2:1:recovery-point:x"),
            Ok(PointSelector::Arn(_))
        ));
        assert!(
            PointSelector::parse("newest")
                .unwrap_err()
                .contains("latest-before")
        );
    }
}
