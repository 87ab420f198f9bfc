//! What both Secrets Manager actions share: DescribeSecret (metadata and version stages,
//! never the value), replication status, and the RPO evidence DESIGN.md section 2 defines for
//! a replica. `drctl check` measures the same evidence through here.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::types::StatusType;

use crate::actions::{ActionError, Poll, StepContext, on, poll_until};
use crate::aws::{AwsClients, AwsError, all_pages, aws_err, to_chrono};
use crate::measure::{Evidence, EvidenceKind};

pub(super) fn secret_at(name: &str, region: &str) -> String {
    format!("secret {name} ({region})")
}

/// DescribeSecret: metadata and version stages only, never the value.
pub(crate) async fn describe(
    aws: &AwsClients,
    region: &str,
    name: &str,
) -> Result<DescribeSecretOutput, AwsError> {
    aws.secrets(region)
        .describe_secret()
        .secret_id(name)
        .send()
        .await
        .map_err(aws_err("secretsmanager:DescribeSecret"))
}

pub(super) fn current_version(out: &DescribeSecretOutput) -> Option<String> {
    out.version_ids_to_stages()?
        .iter()
        .find(|(_, stages)| stages.iter().any(|s| s == "AWSCURRENT"))
        .map(|(id, _)| id.clone())
}

/// The replication status of `region` as the primary reports it.
pub(crate) fn replica_status(
    primary: &DescribeSecretOutput,
    region: &str,
) -> Option<(StatusType, String)> {
    primary
        .replication_status()
        .iter()
        .find(|r| r.region() == Some(region))
        .map(|r| {
            (
                r.status().cloned().unwrap_or(StatusType::InProgress),
                r.status_message().unwrap_or_default().to_string(),
            )
        })
}

/// Whether the secret in its region is standalone (not a replica of another region).
pub(super) fn standalone(out: &DescribeSecretOutput, region: &str) -> bool {
    out.primary_region().is_none_or(|p| p == region)
}

/// Creation times of every version of a secret (deprecated ones included).
pub(super) async fn version_dates(
    aws: &AwsClients,
    region: &str,
    name: &str,
) -> Result<HashMap<String, DateTime<Utc>>, ActionError> {
    let client = aws.secrets(region);
    let versions = all_pages(|token| {
        let req = client
            .list_secret_version_ids()
            .secret_id(name)
            .include_deprecated(true)
            .set_next_token(token);
        async move {
            let out = req
                .send()
                .await
                .map_err(aws_err("secretsmanager:ListSecretVersionIds"))?;
            let next = out.next_token().map(str::to_owned);
            Ok((out.versions.unwrap_or_default(), next))
        }
    })
    .await
    .map_err(on(secret_at(name, region)))?;
    Ok(versions
        .iter()
        .filter_map(|v| Some((v.version_id()?.to_string(), to_chrono(v.created_date()?))))
        .collect())
}

/// RPO evidence of the replica of `name` in `replica_region`, from both sides' version ids,
/// for `step`; `t0` stands in for a version's creation time when no date can be found.
#[allow(clippy::too_many_arguments)] // the two sides of one comparison, and who asks
pub(crate) async fn version_evidence(
    aws: &AwsClients,
    step: &str,
    t0: DateTime<Utc>,
    name: &str,
    source: &str,
    replica_region: &str,
    primary: &DescribeSecretOutput,
    replica: &DescribeSecretOutput,
) -> Result<Evidence, ActionError> {
    let resource = format!("secret {name} (replica in {replica_region} of {source})");
    let primary_current = current_version(primary);
    let replica_current = current_version(replica);
    let replica_has: Vec<&String> = replica
        .version_ids_to_stages()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    if primary_current.is_some() && primary_current == replica_current {
        return Ok(Evidence {
            step: step.to_string(),
            resource,
            kind: EvidenceKind::SecretVersion,
            consistent_at: None,
            detail: format!(
                "replica AWSCURRENT is the primary's version {}",
                primary_current.unwrap_or_default()
            ),
            source: "secretsmanager:DescribeSecret".into(),
        });
    }
    let dates = version_dates(aws, source, name).await?;
    let replica_current_at = replica_current
        .as_ref()
        .and_then(|id| dates.get(id))
        .copied();
    // The first version the replica lacks, among those newer than what it has: older
    // versions the replica never saw (deprecated before it was created) do not count.
    let first_missing = dates
        .iter()
        .filter(|(id, _)| !replica_has.contains(id))
        .filter(|(_, at)| replica_current_at.is_none_or(|r| **at > r))
        .min_by_key(|(_, at)| **at)
        .map(|(id, at)| (id.clone(), *at))
        .or_else(|| {
            let id = primary_current.clone()?;
            let at = *dates.get(&id)?;
            Some((id, at))
        });
    let (detail, consistent_at) = match first_missing {
        Some((id, at)) => (
            format!(
                "replica AWSCURRENT is {}, the primary's is {}; first missing version {id} created {}",
                replica_current.as_deref().unwrap_or("none"),
                primary_current.as_deref().unwrap_or("none"),
                at.to_rfc3339()
            ),
            Some(at),
        ),
        None => (
            format!(
                "replica AWSCURRENT is {}, the primary's is {}; no creation date found, assumed as old as T0",
                replica_current.as_deref().unwrap_or("none"),
                primary_current.as_deref().unwrap_or("none"),
            ),
            Some(t0),
        ),
    };
    Ok(Evidence {
        step: step.to_string(),
        resource,
        kind: EvidenceKind::SecretVersion,
        consistent_at,
        detail,
        source: "secretsmanager:DescribeSecret, secretsmanager:ListSecretVersionIds".into(),
    })
}

/// [`version_evidence`] for the step of `ctx`, as of its T0.
pub(super) async fn step_evidence(
    ctx: &StepContext,
    name: &str,
    source: &str,
    replica_region: &str,
    primary: &DescribeSecretOutput,
    replica: &DescribeSecretOutput,
) -> Result<Evidence, ActionError> {
    version_evidence(
        &ctx.aws,
        &ctx.step_id,
        ctx.t0,
        name,
        source,
        replica_region,
        primary,
        replica,
    )
    .await
}

/// Evidence when the primary region cannot be asked (the disaster itself): the replica is
/// only known to hold its own AWSCURRENT version, so it counts as consistent up to that
/// version's creation, a pessimistic figure that says so.
pub(super) async fn replica_only_evidence(
    ctx: &StepContext,
    name: &str,
    source: &str,
    region: &str,
    replica: &DescribeSecretOutput,
    why: &AwsError,
) -> Result<Evidence, ActionError> {
    let current = current_version(replica);
    let dates = version_dates(&ctx.aws, region, name).await?;
    let at = current
        .as_ref()
        .and_then(|id| dates.get(id))
        .copied()
        .or_else(|| replica.last_changed_date().map(to_chrono));
    Ok(Evidence {
        step: ctx.step_id.clone(),
        resource: format!("secret {name} (replica in {region} of {source})"),
        kind: EvidenceKind::SecretVersion,
        consistent_at: Some(at.unwrap_or(ctx.t0)),
        detail: format!(
            "primary region {source} did not answer ({why}); the replica's AWSCURRENT {} counts as the latest version present",
            current.as_deref().unwrap_or("none")
        ),
        source: "secretsmanager:DescribeSecret, secretsmanager:ListSecretVersionIds (replica only)"
            .into(),
    })
}

/// Wait until the replica of every secret in `names` is InSync.
pub(super) async fn wait_in_sync(
    ctx: &StepContext,
    source: &str,
    region: &str,
    names: &[String],
) -> Result<(), ActionError> {
    if names.is_empty() {
        return Ok(());
    }
    poll_until(ctx, || async {
        let mut pending = Vec::new();
        for name in names {
            let primary = describe(&ctx.aws, source, name)
                .await
                .map_err(on(secret_at(name, source)))?;
            match replica_status(&primary, region) {
                Some((StatusType::InSync, _)) => {}
                Some((StatusType::Failed, message)) => {
                    return Err(ActionError::fatal(
                        format!("replica of {}", secret_at(name, region)),
                        format!("replication Failed: {message}"),
                    ));
                }
                Some((status, _)) => pending.push(format!("{name}: {}", status.as_str())),
                None => pending.push(format!("{name}: not yet listed")),
            }
        }
        if pending.is_empty() {
            Ok(Poll::Ready(()))
        } else {
            Ok(Poll::Pending(format!(
                "waiting for replicas in {region} to be InSync ({})",
                pending.join(", ")
            )))
        }
    })
    .await
}

/// Names journalled under `key` by earlier attempts (each note holds one name).
pub(super) fn prior_names(ctx: &StepContext, key: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in ctx
        .prior_notes
        .iter()
        .filter_map(|n| n.get(key).and_then(Value::as_str))
    {
        // An attempt that crashed before its call journals the same name again on resume.
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

/// The source region (a runbook region name, or an AWS code) and the step's region, which
/// must differ.
pub(super) fn regions(ctx: &StepContext, source: &str) -> Result<(String, String), ActionError> {
    let region = ctx.region()?.to_string();
    let source = ctx.region_code(source);
    if source == region {
        return Err(ActionError::fatal(
            format!("step {}", ctx.step_id),
            format!("the source region and the step's region are both {region}"),
        ));
    }
    Ok((source, region))
}
