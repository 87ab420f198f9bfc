//! One run per runbook at a time. The lock is a file created atomically (`create_new`)
//! holding the holder's run id, host, pid and a lease that a heartbeat renews. A lock is
//! *stale* when its holder is provably dead (same host, no such process) or its lease
//! expired; stale locks are named, never silently broken, except by `resume` of the very
//! run that holds them.

use std::io::Write;
use std::path::{Path, PathBuf};
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

/// A held lock shared by the session and its heartbeat.
pub type SharedLock = std::sync::Arc<std::sync::Mutex<Box<dyn HeldLock>>>;

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

/// Why the lock could not be taken.
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

/// A held lock; released on drop, unless it was kept for a resume
/// ([`RunLock::keep_for_resume`]).
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    holder: LockHolder,
    kept: bool,
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

impl LockHolder {
    /// Why this holder is stale, if it is: its process on this host is gone, or its lease
    /// expired.
    pub fn stale_reason(&self, now: DateTime<Utc>) -> Option<String> {
        if self.host == hostname() && process_alive(self.pid) == Some(false) {
            return Some(format!("its process {} on {} is gone", self.pid, self.host));
        }
        self.lease_expired(now)
    }

    /// Why this holder is stale by its lease alone. Shared stores use only this: host names
    /// and process ids are not unique across Lambda containers.
    pub fn lease_expired(&self, now: DateTime<Utc>) -> Option<String> {
        if self.lease_until < now {
            return Some(format!(
                "its lease expired at {}",
                self.lease_until.to_rfc3339()
            ));
        }
        None
    }
}

fn read_holder(path: &Path) -> Result<Option<LockHolder>, LockError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(serde_json::from_str(&text).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(LockError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Read who holds the lock at `path`, if anyone.
pub fn holder(path: &Path) -> Option<LockHolder> {
    read_holder(path).ok().flatten()
}

impl RunLock {
    /// Take the lock for `run_id`. `take_over_stale_of` lets `resume` take a stale lock held
    /// by the same run; `force` takes any lock (with a warning from the caller).
    pub fn acquire(
        path: &Path,
        runbook: &str,
        run_id: &str,
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<(RunLock, Option<LockHolder>), LockError> {
        let io = |source| LockError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let holder = LockHolder {
            run_id: run_id.into(),
            runbook: runbook.into(),
            host: hostname(),
            pid: std::process::id(),
            acquired_at: now,
            lease_until: lease_until(now),
        };
        // The lock file appears whole or not at all: the holder is written (and synced) to
        // a private file first, then linked to the lock's name, which fails if it exists.
        // A racing process never reads a half-written lock.
        let staged = path.with_extension(format!(
            "lock.{}.{}.tmp",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        {
            let mut file = std::fs::File::create(&staged).map_err(io)?;
            let body = serde_json::to_vec_pretty(&holder).unwrap_or_default();
            file.write_all(&body).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        let linked = Self::link_staged(&staged, path, &holder, force, run_id, runbook, now);
        let _ = std::fs::remove_file(&staged);
        linked
    }

    fn link_staged(
        staged: &Path,
        path: &Path,
        holder: &LockHolder,
        force: bool,
        run_id: &str,
        runbook: &str,
        now: DateTime<Utc>,
    ) -> Result<(RunLock, Option<LockHolder>), LockError> {
        let io = |source| LockError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut displaced = None;
        for _ in 0..2 {
            match std::fs::hard_link(staged, path) {
                Ok(()) => {
                    if let Some(dir) = path.parent()
                        && let Ok(dir) = std::fs::File::open(dir)
                    {
                        let _ = dir.sync_all();
                    }
                    let holder = holder.clone();
                    return Ok((
                        RunLock {
                            path: path.to_path_buf(),
                            holder,
                            kept: false,
                        },
                        displaced,
                    ));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let current = read_holder(path)?;
                    let Some(current) = current else {
                        // Unreadable or half-written lock: treat as stale only when forced.
                        if force {
                            std::fs::remove_file(path).map_err(io)?;
                            continue;
                        }
                        return Err(LockError::Stale {
                            holder: Box::new(LockHolder {
                                run_id: "?".into(),
                                runbook: runbook.into(),
                                host: "?".into(),
                                pid: 0,
                                acquired_at: now,
                                lease_until: now,
                            }),
                            why: "the lock file is unreadable".into(),
                        });
                    };
                    let stale = current.stale_reason(now);
                    let ours = current.run_id == run_id;
                    if force || (ours && stale.is_some()) {
                        std::fs::remove_file(path).map_err(io)?;
                        displaced = Some(current);
                        continue;
                    }
                    return Err(match stale {
                        Some(why) => LockError::Stale {
                            holder: Box::new(current),
                            why,
                        },
                        None => LockError::Held(Box::new(current)),
                    });
                }
                Err(e) => return Err(io(e)),
            }
        }
        Err(LockError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other("the lock changed hands while taking it"),
        })
    }
}

impl RunLock {
    fn write(&self) -> Result<(), LockError> {
        let tmp = self.path.with_extension("lock.tmp");
        let body = serde_json::to_vec_pretty(&self.holder).unwrap_or_default();
        std::fs::write(&tmp, body)
            .and_then(|_| std::fs::rename(&tmp, &self.path))
            .map_err(|source| LockError::Io {
                path: self.path.clone(),
                source,
            })
    }
}

impl HeldLock for RunLock {
    /// Renew the lease (called by the heartbeat). Does nothing once the lock is kept for a
    /// resume: its lease must stay expired.
    fn renew(&mut self, now: DateTime<Utc>) -> Result<(), LockError> {
        if self.kept {
            return Ok(());
        }
        self.holder.lease_until = lease_until(now);
        self.write()
    }

    fn keep_for_resume(&mut self, now: DateTime<Utc>) -> Result<(), LockError> {
        self.kept = true;
        self.holder.lease_until = now;
        self.write()
    }

    fn holder(&self) -> &LockHolder {
        &self.holder
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Only remove the lock if it is still ours, and not kept for a resume.
        if !self.kept
            && read_holder(&self.path)
                .ok()
                .flatten()
                .is_some_and(|h| h.run_id == self.holder.run_id && h.pid == self.holder.pid)
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_the_holder_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locks/rb.lock");
        let now = Utc::now();
        let (lock, _) = RunLock::acquire(&path, "rb", "run-a", now, false).unwrap();
        let err = RunLock::acquire(&path, "rb", "run-b", now, false).unwrap_err();
        assert!(err.to_string().contains("locked by run run-a"), "{err}");
        drop(lock);
        assert!(RunLock::acquire(&path, "rb", "run-b", now, false).is_ok());
    }

    #[test]
    fn a_dead_holder_is_stale_and_only_its_own_run_takes_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rb.lock");
        let now = Utc::now();
        let dead = LockHolder {
            run_id: "run-a".into(),
            runbook: "rb".into(),
            host: hostname(),
            pid: u32::MAX - 1,
            acquired_at: now,
            lease_until: now + chrono::Duration::seconds(600),
        };
        std::fs::write(&path, serde_json::to_vec(&dead).unwrap()).unwrap();
        let err = RunLock::acquire(&path, "rb", "run-b", now, false).unwrap_err();
        assert!(
            err.to_string().contains("stale lock from run run-a"),
            "{err}"
        );
        let (_lock, displaced) = RunLock::acquire(&path, "rb", "run-a", now, false).unwrap();
        assert_eq!(displaced.unwrap().run_id, "run-a");
    }

    #[test]
    fn a_lock_kept_for_resume_stays_names_its_run_and_only_that_run_takes_it_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rb.lock");
        let now = Utc::now();
        let (mut lock, _) = RunLock::acquire(&path, "rb", "run-a", now, false).unwrap();
        lock.keep_for_resume(now).unwrap();
        lock.renew(now).unwrap();
        drop(lock);
        assert_eq!(holder(&path).unwrap().run_id, "run-a", "kept on drop");
        let later = now + chrono::Duration::seconds(1);
        let err = RunLock::acquire(&path, "rb", "run-b", later, false).unwrap_err();
        assert!(err.to_string().contains("drctl resume run-a"), "{err}");
        let (_lock, displaced) = RunLock::acquire(&path, "rb", "run-a", later, false).unwrap();
        assert_eq!(displaced.unwrap().run_id, "run-a");
    }

    #[test]
    fn racing_acquirers_see_one_holder_never_a_half_written_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locks/race.lock");
        for round in 0..40 {
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
            let results: Vec<_> = (0..8)
                .map(|i| {
                    let (path, barrier) = (path.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        RunLock::acquire(
                            &path,
                            "rb",
                            &format!("run-{round}-{i}"),
                            Utc::now(),
                            false,
                        )
                    })
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect();
            let won = results.iter().filter(|r| r.is_ok()).count();
            assert_eq!(won, 1, "round {round}");
            for r in &results {
                if let Err(e) = r {
                    assert!(matches!(e, LockError::Held(_)), "round {round}: {e}");
                }
            }
        }
    }

    #[test]
    fn expired_lease_is_stale() {
        let now = Utc::now();
        let h = LockHolder {
            run_id: "r".into(),
            runbook: "rb".into(),
            host: "elsewhere".into(),
            pid: 1,
            acquired_at: now,
            lease_until: now - chrono::Duration::seconds(1),
        };
        assert!(h.stale_reason(now).unwrap().contains("lease expired"));
    }
}
