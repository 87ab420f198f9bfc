//! AWS Backup actions: `backup.restore_efs`, `backup.copy`, `backup.start`, one file each,
//! and the recovery-point helpers they share (`points`).
//!
//! Every job is started with an idempotency token derived from the run and step, and its id
//! is journalled before the done-check: a resumed step polls the job its crashed attempt
//! started (or, if the crash came between the call and the journal line, gets the same job
//! back from AWS for the same token). No second restore or copy is ever started.

mod copy;
pub(crate) mod points;
mod restore_efs;
mod start;

pub(crate) use copy::Copy;
pub(crate) use points::{PointSelector, efs_arn, newest_point};
pub(crate) use restore_efs::RestoreEfs;
pub(crate) use start::Start;
