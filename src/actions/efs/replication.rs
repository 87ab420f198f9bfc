//! EFS replication as DescribeReplicationConfigurations shows it: what feeds a replica and
//! how far behind it is. Read-only: `drctl check` measures the lag with it too.

use crate::actions::{ActionError, on};
use crate::aws::{AwsClients, aws_err, to_chrono};
use crate::measure::{Evidence, EvidenceKind};

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
