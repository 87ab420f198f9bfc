//! Secrets Manager, one file per action: `secrets.replicate` (replicate secrets to the step's region and wait until
//! the replicas are InSync) and `secrets.promote` (turn replicas in the step's region into
//! standalone secrets, which is how an application in the recovery region gets a secret it
//! can rotate and write while the primary region is down).
//!
//! Both record, per secret, the RPO evidence DESIGN.md section 2 defines: the replica is
//! current when its AWSCURRENT version is the primary's; otherwise the copy is consistent up
//! to the creation time of the first primary version it lacks. Only version ids and dates are
//! read (DescribeSecret, ListSecretVersionIds): never GetSecretValue, never a secret value.
//!
//! Idempotency: a secret already replicated to the region is not replicated again, a replica
//! that is already standalone is not promoted again, and the evidence gathered before a
//! promotion is journalled, so a resumed step reports the state before it acted rather than
//! the promoted copy's. Isolated drills never promote production replicas: they check that
//! each replica exists and is promotable and record the evidence.

mod promote;
mod replicate;
pub(crate) mod versions;

pub(crate) use promote::Promote;
pub(crate) use replicate::Replicate;
pub(crate) use versions::{describe, replica_status, version_evidence};
