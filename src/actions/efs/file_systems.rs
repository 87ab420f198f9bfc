//! EFS file systems a step creates or removes: mount targets created idempotently, waiting
//! until everything is available, deleting what a drill created, and finding file systems by
//! the run's tag (for `drctl cleanup`). `backup.restore_efs` uses these.

use serde_json::json;

use aws_sdk_efs::types::LifeCycleState;

use crate::actions::context::{RUN_ID_TAG, STEP_TAG};
use crate::actions::{ActionError, Poll, StepContext, on, poll_until};
use crate::aws::{AwsClients, aws_err};

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
