//! EFS: `efs.replication_failover`, and the file-system and replication helpers the restore
//! action and `drctl check` share.

pub(crate) mod file_systems;
pub(crate) mod replication;
mod replication_failover;

pub(crate) use file_systems::{
    delete_file_system, ensure_mount_targets, tagged_file_systems, wait_available,
};
pub(crate) use replication::replica_state;
pub(crate) use replication_failover::ReplicationFailover;
