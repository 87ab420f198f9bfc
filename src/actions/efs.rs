//! EFS: `efs.replication_failover`, plus the mount-target and file-system helpers the restore
//! action shares (create mount targets idempotently, wait until available, delete in drills).

use serde_json::json;

use aws_sdk_efs::types::LifeCycleState;

use super::context::{RUN_ID_TAG, STEP_TAG};
use super::spec::{self, ActionSpec};
use super::{Action, ActionError, BoxFuture, Mode, Poll, StepContext, StepOutcome, on, poll_until};
use crate::aws::{AwsClients, aws_err, to_chrono};
use crate::measure::{Evidence, EvidenceKind};

/// The mount targets of a file system.
async fn mount_targets_of(
    ctx: &StepContext,
    region: &str,
    fs_id: &str,
) -> Result<Vec<aws_sdk_efs::types::MountTargetDescription>, crate::aws::AwsError> {
    Ok(ctx
        .aws
        .efs(region)
        .describe_mount_targets()
        .file_system_id(fs_id)
        .send()
        .await
        .map_err(aws_err("elasticfilesystem:DescribeMountTargets"))?
        .mount_targets()
        .to_vec())
}

/// Create a mount target in every subnet that lacks one; returns all mount target ids.
pub(crate) async fn ensure_mount_targets(
    ctx: &StepContext,
    region: &str,
    fs_id: &str,
    subnets: &[String],
    security_groups: &[String],
) -> Result<Vec<String>, ActionError> {
    let efs = ctx.aws.efs(region);
    let resource = format!("file system {fs_id} ({region})");
    let existing = mount_targets_of(ctx, region, fs_id)
        .await
        .map_err(on(resource.clone()))?;
    let mut ids: Vec<String> = Vec::new();
    for subnet in subnets {
        if let Some(mt) = existing.iter().find(|mt| mt.subnet_id() == subnet.as_str()) {
            ids.push(mt.mount_target_id().to_string());
            continue;
        }
        ctx.progress(format!("creating mount target for {fs_id} in {subnet}"));
        let mut req = efs
            .create_mount_target()
            .file_system_id(fs_id)
            .subnet_id(subnet);
        if !security_groups.is_empty() {
            req = req.set_security_groups(Some(security_groups.to_vec()));
        }
        let out = req
            .send()
            .await
            .map_err(aws_err("elasticfilesystem:CreateMountTarget"))
            .map_err(on(format!("{resource}, subnet {subnet}")))?;
        ctx.note(json!({ "mount_target_id": out.mount_target_id(), "subnet": subnet }))
            .await?;
        ids.push(out.mount_target_id().to_string());
    }
    Ok(ids)
}

/// Wait until the file system and its mount targets are `available`.
pub(crate) async fn wait_available(
    ctx: &StepContext,
    region: &str,
    fs_id: &str,
    mount_targets: &[String],
) -> Result<(), ActionError> {
    let efs = ctx.aws.efs(region);
    let resource = format!("file system {fs_id} ({region})");
    poll_until(ctx, || async {
        let out = efs
            .describe_file_systems()
            .file_system_id(fs_id)
            .send()
            .await
            .map_err(aws_err("elasticfilesystem:DescribeFileSystems"))
            .map_err(on(resource.clone()))?;
        let state = out
            .file_systems()
            .first()
            .map(|f| f.life_cycle_state().clone());
        if state != Some(LifeCycleState::Available) {
            return Ok(Poll::Pending(format!(
                "file system {fs_id}: {}",
                state
                    .map(|s| s.as_str().to_string())
                    .unwrap_or("missing".into())
            )));
        }
        if mount_targets.is_empty() {
            return Ok(Poll::Ready(()));
        }
        let mts = mount_targets_of(ctx, region, fs_id)
            .await
            .map_err(on(resource.clone()))?;
        let pending: Vec<&str> = mts
            .iter()
            .filter(|mt| mount_targets.iter().any(|id| id == mt.mount_target_id()))
            .filter(|mt| mt.life_cycle_state() != &LifeCycleState::Available)
            .map(|mt| mt.mount_target_id())
            .collect();
        if pending.is_empty() {
            Ok(Poll::Ready(()))
        } else {
            Ok(Poll::Pending(format!(
                "mount targets {} not yet available",
                pending.join(", ")
            )))
        }
    })
    .await
}

/// Delete a file system a drill created: its mount targets first, then the file system.
/// Already gone counts as done.
pub(crate) async fn delete_file_system(
    ctx: &StepContext,
    region: &str,
    fs_id: &str,
) -> Result<(), ActionError> {
    let efs = ctx.aws.efs(region);
    let resource = format!("file system {fs_id} ({region})");
    let mts = match mount_targets_of(ctx, region, fs_id).await {
        Ok(mts) => mts,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(on(resource)(e)),
    };
    for mt in &mts {
        match efs
            .delete_mount_target()
            .mount_target_id(mt.mount_target_id())
            .send()
            .await
            .map_err(aws_err("elasticfilesystem:DeleteMountTarget"))
        {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(on(resource)(e)),
        }
    }
    poll_until(ctx, || async {
        let left = mount_targets_of(ctx, region, fs_id)
            .await
            .map_err(on(resource.clone()))?;
        if left.is_empty() {
            Ok(Poll::Ready(()))
        } else {
            Ok(Poll::Pending(format!("deleting mount targets of {fs_id}")))
        }
    })
    .await?;
    match efs
        .delete_file_system()
        .file_system_id(fs_id)
        .send()
        .await
        .map_err(aws_err("elasticfilesystem:DeleteFileSystem"))
    {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(on(resource)(e)),
    }
}

/// A file system a run created, found by its `drctl:run-id` tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaggedFileSystem {
    pub(crate) id: String,
    /// The `drctl:step` tag, when there is one.
    pub(crate) step: Option<String>,
}

/// Every file system in `region` tagged `drctl:run-id = run_id`. Read-only.
pub(crate) async fn tagged_file_systems(
    aws: &AwsClients,
    region: &str,
    run_id: &str,
) -> Result<Vec<TaggedFileSystem>, ActionError> {
    let efs = aws.efs(region);
    let mut found = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = efs
            .describe_file_systems()
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(aws_err("elasticfilesystem:DescribeFileSystems"))
            .map_err(on(format!("file systems in {region}")))?;
        for fs in out.file_systems() {
            let tag = |key: &str| {
                fs.tags()
                    .iter()
                    .find(|t| t.key() == key)
                    .map(|t| t.value().to_string())
            };
            if tag(RUN_ID_TAG).as_deref() == Some(run_id) {
                found.push(TaggedFileSystem {
                    id: fs.file_system_id().to_string(),
                    step: tag(STEP_TAG),
                });
            }
        }
        marker = out
            .next_marker()
            .filter(|m| !m.is_empty())
            .map(str::to_owned);
        if marker.is_none() {
            return Ok(found);
        }
    }
}

/// A replica as DescribeReplicationConfigurations shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReplicaState {
    /// The source file system and its region.
    pub(crate) source: String,
    pub(crate) source_region: String,
    /// The destination's status: ENABLED, ENABLING, PAUSED, ERROR, ...
    pub(crate) status: String,
    /// Every change made before this time is in the replica.
    pub(crate) last_replicated: Option<chrono::DateTime<chrono::Utc>>,
}

/// The replication that feeds `dest` in `region`, or `None` when `dest` is not (or no longer)
/// a replication destination. Read-only: `drctl check` measures the lag with it too.
pub(crate) async fn replica_state(
    aws: &AwsClients,
    region: &str,
    dest: &str,
) -> Result<Option<ReplicaState>, ActionError> {
    let described = aws
        .efs(region)
        .describe_replication_configurations()
        .file_system_id(dest)
        .send()
        .await
        .map_err(aws_err(
            "elasticfilesystem:DescribeReplicationConfigurations",
        ));
    let config = match described {
        Ok(out) => out.replications().first().cloned(),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(on(format!("replica file system {dest} ({region})"))(e)),
    };
    Ok(config.map(|config| {
        let destination = config
            .destinations()
            .iter()
            .find(|d| d.file_system_id() == dest);
        ReplicaState {
            source: config.source_file_system_id().to_string(),
            source_region: config.source_file_system_region().to_string(),
            status: destination
                .map(|d| d.status().as_str().to_string())
                .unwrap_or_default(),
            last_replicated: destination
                .and_then(|d| d.last_replicated_timestamp())
                .map(to_chrono),
        }
    }))
}

/// `efs.replication_failover`.
pub(crate) struct ReplicationFailover;

impl Action for ReplicationFailover {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("efs.replication_failover").expect("catalogue entry")
    }

    fn describe(&self, ctx: &StepContext) -> Vec<String> {
        vec![format!(
            "elasticfilesystem:DeleteReplicationConfiguration of replica {} ({}), mode {}",
            ctx.opt_str("destination_file_system").unwrap_or("?"),
            ctx.region.clone().unwrap_or_default(),
            ctx.opt_str("deletion_mode").unwrap_or("ALL_CONFIGURATIONS")
        )]
    }

    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            let region = ctx.region()?.to_string();
            let dest = ctx.str("destination_file_system")?.to_string();
            let mode = ctx.str("deletion_mode")?.to_string();
            let efs = ctx.aws.efs(&region);
            let resource = format!("replica file system {dest} ({region})");
            let config = replica_state(&ctx.aws, &region, &dest).await?;
            let mut outcome = StepOutcome::default();
            outcome
                .outputs
                .insert("file_system_id".into(), dest.clone());
            let Some(config) = config else {
                // Already broken (an earlier attempt, or by hand): the replica is writable.
                let last = ctx
                    .prior("last_replicated_at")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string();
                outcome
                    .outputs
                    .insert("last_replicated_at".into(), last.clone());
                if let Ok(at) = last.parse() {
                    outcome
                        .evidence
                        .push(replication_evidence(&ctx.step_id, &dest, at));
                }
                return Ok(outcome);
            };
            let last = config.last_replicated;
            let source = config.source;
            if let Some(at) = last {
                ctx.note(json!({ "last_replicated_at": at.to_rfc3339() }))
                    .await?;
                outcome
                    .outputs
                    .insert("last_replicated_at".into(), at.to_rfc3339());
                outcome
                    .evidence
                    .push(replication_evidence(&ctx.step_id, &dest, at));
            }
            if ctx.mode == Mode::DrillIsolated {
                outcome.simulated = Some(format!(
                    "isolated drill: replication {source} -> {dest} left in place; its lag was measured"
                ));
                return Ok(outcome);
            }
            ctx.progress(format!("deleting replication {source} -> {dest}"));
            let deletion_mode = aws_sdk_efs::types::DeletionMode::from(mode.as_str());
            let mut result = efs
                .delete_replication_configuration()
                .source_file_system_id(&dest)
                .deletion_mode(deletion_mode.clone())
                .send()
                .await
                .map_err(aws_err("elasticfilesystem:DeleteReplicationConfiguration"));
            if matches!(&result, Err(e) if e.is_not_found()) {
                // Some endpoints want the source id even when called on the destination side.
                result = efs
                    .delete_replication_configuration()
                    .source_file_system_id(&source)
                    .deletion_mode(deletion_mode)
                    .send()
                    .await
                    .map_err(aws_err("elasticfilesystem:DeleteReplicationConfiguration"));
            }
            match result {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(on(resource)(e)),
            }
            poll_until(ctx, || async {
                match efs
                    .describe_replication_configurations()
                    .file_system_id(&dest)
                    .send()
                    .await
                    .map_err(aws_err(
                        "elasticfilesystem:DescribeReplicationConfigurations",
                    )) {
                    Ok(out) if !out.replications().is_empty() => Ok(Poll::Pending(format!(
                        "replication {source} -> {dest} is being deleted"
                    ))),
                    Ok(_) => Ok(Poll::Ready(())),
                    Err(e) if e.is_not_found() => Ok(Poll::Ready(())),
                    Err(e) => Err(on(resource.clone())(e)),
                }
            })
            .await?;
            Ok(outcome)
        })
    }
}

/// RPO evidence of the replica `dest`: consistent up to its last replicated timestamp.
pub(crate) fn replication_evidence(
    step: &str,
    dest: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Evidence {
    Evidence {
        step: step.to_string(),
        resource: format!("efs replica {dest}"),
        kind: EvidenceKind::Replication,
        consistent_at: Some(at),
        detail: format!("last replicated timestamp {}", at.to_rfc3339()),
        source: "elasticfilesystem:DescribeReplicationConfigurations".into(),
    }
}
