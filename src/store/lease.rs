//! The one lease logic both locks share (the local lock file and the DynamoDB lock item): how
//! long a lease lasts, when a holder is stale, and who may take a lock that is already held.
//!
//! One run per runbook at a time. A lock names its holder (run id, host, pid) and a lease that
//! the run's heartbeat renews every quarter lease. A holder is *stale* when its lease expired
//! or, where process ids mean something (one machine's directory), its process is provably
//! gone. A stale lock is named, never silently broken, except by a resume of the very run
//! that holds it; `--force-unlock` takes any lock. Each store only does the mechanics (an
//! atomic file link, a conditional put); [`decide`] says what they may do.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How long a lease lasts without renewal: 120 s, or `DRCTL_LOCK_LEASE_SECS` (at least 2;
/// short leases are for tests). The heartbeat renews it every quarter lease.
pub fn lease() -> Duration {
    std::env::var("DRCTL_LOCK_LEASE_SECS")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.max(2)))
        .unwrap_or(Duration::from_secs(120))
}

/// When a lease taken or renewed at `now` runs out.
pub fn lease_until(now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::from_std(lease()).unwrap_or_default()
}

/// This machine's name, for lock holders and journals.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

fn process_alive(pid: u32) -> Option<bool> {
    if cfg!(target_os = "linux") {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
        Some(match stat {
            // A zombie has exited; its lock is dead.
            Ok(s) => !s
                .rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z')),
            Err(_) => false,
        })
    } else {
        None
    }
}

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockHolder {
    pub run_id: String,
    pub runbook: String,
    pub host: String,
    pub pid: u32,
    pub acquired_at: DateTime<Utc>,
    pub lease_until: DateTime<Utc>,
}

impl LockHolder {
    /// A holder for `run_id` in this process, with a lease from `now`.
    pub(crate) fn new(runbook: &str, run_id: &str, now: DateTime<Utc>) -> LockHolder {
        LockHolder {
            run_id: run_id.into(),
            runbook: runbook.into(),
            host: hostname(),
            pid: std::process::id(),
            acquired_at: now,
            lease_until: lease_until(now),
        }
    }

    /// Stands for a holder that cannot be read, in messages.
    fn unknown(runbook: &str, now: DateTime<Utc>) -> LockHolder {
        LockHolder {
            run_id: "?".into(),
            runbook: runbook.into(),
            host: "?".into(),
            pid: 0,
            acquired_at: now,
            lease_until: now,
        }
    }

    /// Why this holder is stale, if it is: its process on this host is gone, or its lease
    /// expired.
    pub fn stale_reason(&self, now: DateTime<Utc>) -> Option<String> {
        Staleness::ProcessOrLease.reason(self, now)
    }

    /// Why this holder is stale by its lease alone.
    pub fn lease_expired(&self, now: DateTime<Utc>) -> Option<String> {
        Staleness::Lease.reason(self, now)
    }
}

/// What makes a holder stale in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staleness {
    /// Its process on this host is gone, or its lease expired (one machine's directory).
    ProcessOrLease,
    /// Its lease expired. Shared stores use only this: host names and process ids are not
    /// unique across Lambda containers.
    Lease,
}

impl Staleness {
    /// Why `holder` is stale at `now` under this rule, if it is.
    pub fn reason(self, holder: &LockHolder, now: DateTime<Utc>) -> Option<String> {
        if self == Staleness::ProcessOrLease
            && holder.host == hostname()
            && process_alive(holder.pid) == Some(false)
        {
            return Some(format!(
                "its process {} on {} is gone",
                holder.pid, holder.host
            ));
        }
        if holder.lease_until < now {
            return Some(format!(
                "its lease expired at {}",
                holder.lease_until.to_rfc3339()
            ));
        }
        None
    }
}

/// Why a lock could not be taken or kept.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "runbook `{}` is locked by run {} (pid {} on {}, since {}); wait for it, or see `drctl status {}`",
        .0.runbook, .0.run_id, .0.pid, .0.host, .0.acquired_at.to_rfc3339(), .0.run_id
    )]
    Held(Box<LockHolder>),
    #[error(
        "runbook `{}` has a stale lock from run {} ({}); continue that run with `drctl resume {}`, or take the lock with --force-unlock",
        .holder.runbook, .holder.run_id, .why, .holder.run_id
    )]
    Stale {
        holder: Box<LockHolder>,
        why: String,
    },
    #[error("cannot use lock file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A lock in a remote store (DynamoDB) could not be read or written.
    #[error("cannot use lock {location}: {message}")]
    Remote { location: String, message: String },
    /// Someone else took the lock over (after our lease expired, or with --force-unlock).
    #[error("lost lock {location}: {why}")]
    Lost { location: String, why: String },
}

/// A lock this process holds: renewed by the heartbeat, released on drop.
pub trait HeldLock: Send + std::fmt::Debug {
    /// Renew the lease. An error means the lock may be lost.
    fn renew(&mut self, now: DateTime<Utc>) -> Result<(), LockError>;
    /// Leave the lock in place for the run to be continued by another process (the Lambda
    /// handler when an invocation's deadline interrupts a drill). The lock keeps naming this
    /// run, so any other run of the runbook is refused and pointed at `drctl resume`, but its
    /// lease ends now: the next invocation, in this container or another, is a resume of
    /// the very run that holds it and so takes it over at once (a stale lock of its own),
    /// instead of waiting out a lease nobody renews. Not renewed or released after this.
    fn keep_for_resume(&mut self, now: DateTime<Utc>) -> Result<(), LockError>;
    fn holder(&self) -> &LockHolder;
}

/// A held lock shared by the session and its heartbeat.
pub type SharedLock = std::sync::Arc<std::sync::Mutex<Box<dyn HeldLock>>>;

/// The lease of a lock this process holds, as both locks keep it.
#[derive(Debug, Clone)]
pub(crate) struct Lease {
    pub(crate) holder: LockHolder,
    /// Kept for a resume by another process: neither renewed nor released any more.
    pub(crate) kept: bool,
}

impl Lease {
    pub(crate) fn new(holder: LockHolder) -> Lease {
        Lease {
            holder,
            kept: false,
        }
    }

    /// Extend the lease from `now`; false when it is kept for a resume, whose lease must
    /// stay expired (then nothing is to be written).
    pub(crate) fn renew(&mut self, now: DateTime<Utc>) -> bool {
        if self.kept {
            return false;
        }
        self.holder.lease_until = lease_until(now);
        true
    }

    /// End the lease now and keep the lock for a resume (see [`HeldLock::keep_for_resume`]).
    pub(crate) fn keep_for_resume(&mut self, now: DateTime<Utc>) {
        self.kept = true;
        self.holder.lease_until = now;
    }
}

/// What a store found where the lock is.
#[derive(Debug, Clone)]
pub(crate) enum Found {
    Holder(LockHolder),
    /// Something that does not read as a holder; the text says what (for the message).
    Unreadable(&'static str),
}

/// What a store may do with a lock someone holds.
#[derive(Debug)]
pub(crate) enum Takeover {
    /// Take it over, replacing exactly what was found.
    Take { displaced: Option<LockHolder> },
    /// Leave it: the error names the holder.
    Refuse(LockError),
}

/// The takeover rule: a lock held by someone is taken only with `force`, or when it is a
/// stale lock of the very run that asks (`resume` after a crash, or after an invocation kept
/// it for the next one). An unreadable lock is taken only with `force`.
pub(crate) fn decide(
    found: Found,
    runbook: &str,
    run_id: &str,
    now: DateTime<Utc>,
    force: bool,
    rule: Staleness,
) -> Takeover {
    let current = match found {
        Found::Holder(holder) => holder,
        Found::Unreadable(_) if force => return Takeover::Take { displaced: None },
        Found::Unreadable(why) => {
            return Takeover::Refuse(LockError::Stale {
                holder: Box::new(LockHolder::unknown(runbook, now)),
                why: why.into(),
            });
        }
    };
    let stale = rule.reason(&current, now);
    if force || (current.run_id == run_id && stale.is_some()) {
        return Takeover::Take {
            displaced: Some(current),
        };
    }
    Takeover::Refuse(match stale {
        Some(why) => LockError::Stale {
            holder: Box::new(current),
            why,
        },
        None => LockError::Held(Box::new(current)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(run_id: &str, lease_secs: i64, now: DateTime<Utc>) -> LockHolder {
        LockHolder {
            run_id: run_id.into(),
            runbook: "rb".into(),
            host: "elsewhere".into(),
            pid: 1,
            acquired_at: now,
            lease_until: now + chrono::Duration::seconds(lease_secs),
        }
    }

    #[test]
    fn expired_lease_is_stale() {
        let now = Utc::now();
        let h = holder("r", -1, now);
        assert!(h.stale_reason(now).unwrap().contains("lease expired"));
    }

    #[test]
    fn only_the_same_run_takes_over_its_stale_lock_and_force_takes_any() {
        let now = Utc::now();
        let take = |found, run_id, force| {
            matches!(
                decide(found, "rb", run_id, now, force, Staleness::Lease),
                Takeover::Take { .. }
            )
        };
        assert!(take(Found::Holder(holder("a", -1, now)), "a", false));
        assert!(!take(Found::Holder(holder("a", -1, now)), "b", false));
        assert!(!take(Found::Holder(holder("a", 60, now)), "a", false));
        assert!(take(Found::Holder(holder("a", 60, now)), "b", true));
        assert!(!take(Found::Unreadable("unreadable"), "a", false));
        assert!(take(Found::Unreadable("unreadable"), "a", true));
        match decide(
            Found::Holder(holder("a", 60, now)),
            "rb",
            "b",
            now,
            false,
            Staleness::Lease,
        ) {
            Takeover::Refuse(e) => assert!(e.to_string().contains("locked by run a"), "{e}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_dead_process_is_stale_only_where_process_ids_count() {
        let now = Utc::now();
        let mut dead = holder("a", 600, now);
        dead.host = hostname();
        dead.pid = u32::MAX - 1;
        assert!(Staleness::ProcessOrLease.reason(&dead, now).is_some());
        assert!(Staleness::Lease.reason(&dead, now).is_none());
    }
}
