//! `efs.replication_failover`: break EFS replication so the replica in the step's region
//! becomes writable. The replica's last replicated timestamp is journalled before the
//! break: it is the RPO evidence, and a resumed step (the replication already gone) reports
//! it from the journal. Isolated drills leave replication in place and only measure the lag.

use serde::Deserialize;
use serde_json::json;

use super::replication::{replica_state, replication_evidence};
use crate::actions::spec::{ActionSpec, ParamType, RegionUse, dflt, out, req};
use crate::actions::{
    ActionError, BoxFuture, Mode, NoUndo, Outcome, Poll, StepContext, TypedAction, nothing_to_undo,
    on, poll_until,
};
use crate::aws::aws_err;

/// `efs.replication_failover` in the catalogue.
pub(crate) static SPEC: ActionSpec = ActionSpec {
    name: "efs.replication_failover",
    summary: "Break EFS replication so the replica in the step's region becomes writable",
    params: &[
        req(
            "destination_file_system",
            ParamType::String,
            "the replica file system (fs-...) in the step's region",
        ),
        dflt(
            "deletion_mode",
            ParamType::Enum(&["ALL_CONFIGURATIONS", "LOCAL_CONFIGURATION_ONLY"]),
            "ALL_CONFIGURATIONS",
            "LOCAL_CONFIGURATION_ONLY when the source region is unreachable",
        ),
    ],
    outputs: &[
        out("file_system_id", "the now writable file system"),
        out(
            "last_replicated_at",
            "last replicated timestamp before the break, RFC 3339 (RPO evidence)",
        ),
    ],
    iam: &[
        "elasticfilesystem:DescribeReplicationConfigurations",
        "elasticfilesystem:DeleteReplicationConfiguration",
        "elasticfilesystem:DescribeFileSystems",
    ],
    estimate_secs: 300,
    mutating: true,
    verification: false,
    rpo_evidence: true,
    region: RegionUse::Required,
};

/// `efs.replication_failover`.
pub(crate) struct ReplicationFailover;

/// The parameters of `efs.replication_failover`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    destination_file_system: String,
    deletion_mode: String,
}

impl TypedAction for ReplicationFailover {
    const SPEC: &'static ActionSpec = &SPEC;
    type Params = Params;
    /// drctl never re-creates a replication it broke: an isolated drill leaves it in place,
    /// and after a live drill re-creating it is a new full copy that people decide on.
    type Undo = NoUndo;

    fn describe(&self, ctx: &StepContext, p: &Params) -> Vec<String> {
        vec![format!(
            "elasticfilesystem:DeleteReplicationConfiguration of replica {} ({}), mode {}",
            p.destination_file_system,
            ctx.region.clone().unwrap_or_default(),
            p.deletion_mode
        )]
    }

    fn run<'a>(
        &'a self,
        ctx: &'a StepContext,
        p: Params,
    ) -> BoxFuture<'a, Result<Outcome<NoUndo>, ActionError>> {
        Box::pin(async move {
            let region = ctx.region()?.to_string();
            let dest = p.destination_file_system;
            let mode = p.deletion_mode;
            let efs = ctx.aws.efs(&region);
            let resource = format!("replica file system {dest} ({region})");
            let config = replica_state(&ctx.aws, &region, &dest).await?;
            let mut outcome = Outcome::default();
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

    fn undo<'a>(
        &'a self,
        _ctx: &'a StepContext,
        undo: NoUndo,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        nothing_to_undo(undo)
    }
}
