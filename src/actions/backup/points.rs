//! What the AWS Backup actions share: choosing a recovery point (`latest`,
//! `latest-before:<time>`, an ARN), starting a job at most once, journalling the chosen point,
//! and deleting a point a drill made. `drctl check` reads recovery points through here too.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use aws_sdk_backup::types::RecoveryPointStatus;

use crate::actions::{ActionError, StepContext, on};
use crate::aws::{AwsClients, all_pages, aws_err, to_chrono};

/// How the catalogue describes `recovery_point`.
pub(super) const RECOVERY_POINT_DOC: &str =
    "which recovery point: \"latest\", \"latest-before:<RFC 3339 time>\", or a recovery point ARN";

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

/// A `recovery_point` that names no recovery point; the message says the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct BadSelector(String);

impl PointSelector {
    pub(crate) fn parse(text: &str) -> Result<Self, BadSelector> {
        if text == "latest" {
            Ok(PointSelector::Latest)
        } else if let Some(time) = text.strip_prefix("latest-before:") {
            time.parse::<DateTime<Utc>>()
                .map(PointSelector::LatestBefore)
                .map_err(|e| BadSelector(format!("`{time}` is not an RFC 3339 time: {e}")))
        } else if text.starts_with("arn:") {
            Ok(PointSelector::Arn(text.to_string()))
        } else {
            Err(BadSelector(format!(
                "`{text}` is not a recovery point selector: use latest, latest-before:<RFC 3339 time>, or an ARN"
            )))
        }
    }
}

/// The ARN of an EFS file system, as AWS Backup names the resources it protects.
pub(crate) fn efs_arn(region: &str, account: &str, fs: &str) -> String {
    format!("arn:aws:elasticfilesystem:{region}:{account}:file-system/{fs}")
}

pub(super) fn default_role(account: &str) -> String {
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
pub(super) async fn job_once<F, Fut>(
    ctx: &StepContext,
    key: &str,
    start: F,
) -> Result<String, ActionError>
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

/// The `recovery_point` parameter of the step, parsed.
pub(super) fn selector(ctx: &StepContext, text: &str) -> Result<PointSelector, ActionError> {
    PointSelector::parse(text)
        .map_err(|e| ActionError::fatal(format!("step {}", ctx.step_id), e.to_string()))
}

pub(super) async fn note_point(ctx: &StepContext, point: &ChosenPoint) -> Result<(), ActionError> {
    ctx.note(json!({
        "recovery_point_arn": point.arn,
        "recovery_point_created_at": point.created_at.to_rfc3339(),
        "recovery_point_size_bytes": point.size_bytes,
    }))
    .await
}

pub(super) fn prior_point(ctx: &StepContext) -> Option<ChosenPoint> {
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

/// The undo record of `backup.copy` and `backup.start`: the recovery point they made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PointUndo {
    pub(super) region: String,
    pub(super) vault: String,
    pub(super) recovery_point_arn: String,
}

/// Delete the recovery point a step made; already gone counts as done.
pub(super) async fn delete_point(ctx: &StepContext, undo: &PointUndo) -> Result<(), ActionError> {
    let (region, vault, arn) = (&undo.region, &undo.vault, &undo.recovery_point_arn);
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
                .to_string()
                .contains("latest-before")
        );
    }
}
