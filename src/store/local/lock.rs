//! The local lock file `<state-dir>/locks/<runbook>.lock`: created atomically and whole (the
//! holder is written to a private file, then hard-linked to the lock's name, which fails if it
//! exists), renewed in place by the heartbeat, removed on drop while it is still ours. Who may
//! take a held lock is decided by [`super::super::lease`].

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::store::lease::{
    Found, HeldLock, Lease, LockError, LockHolder, Staleness, Takeover, decide,
};

/// A held lock file; released on drop, unless it was kept for a resume
/// ([`HeldLock::keep_for_resume`]).
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    lease: Lease,
}

fn read_holder(path: &Path) -> Result<Option<Found>, LockError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(match serde_json::from_str(&text) {
            Ok(holder) => Found::Holder(holder),
            Err(_) => Found::Unreadable("the lock file is unreadable"),
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(LockError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Read who holds the lock at `path`, if anyone.
pub fn holder(path: &Path) -> Option<LockHolder> {
    match read_holder(path) {
        Ok(Some(Found::Holder(holder))) => Some(holder),
        _ => None,
    }
}

impl RunLock {
    /// Take the lock for `run_id`. A stale lock of the same run is taken over (returned as
    /// displaced); `force` takes any lock (with a warning from the caller).
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
        let holder = LockHolder::new(runbook, run_id, now);
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
        let linked = Self::link_staged(&staged, path, holder, force, now);
        let _ = std::fs::remove_file(&staged);
        linked
    }

    fn link_staged(
        staged: &Path,
        path: &Path,
        holder: LockHolder,
        force: bool,
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
                    return Ok((
                        RunLock {
                            path: path.to_path_buf(),
                            lease: Lease::new(holder),
                        },
                        displaced,
                    ));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    // Released meanwhile: link again.
                    let Some(found) = read_holder(path)? else {
                        continue;
                    };
                    match decide(
                        found,
                        &holder.runbook,
                        &holder.run_id,
                        now,
                        force,
                        Staleness::ProcessOrLease,
                    ) {
                        Takeover::Take { displaced: old } => {
                            std::fs::remove_file(path).map_err(io)?;
                            displaced = old;
                        }
                        Takeover::Refuse(e) => return Err(e),
                    }
                }
                Err(e) => return Err(io(e)),
            }
        }
        Err(LockError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other("the lock changed hands while taking it"),
        })
    }

    fn write(&self) -> Result<(), LockError> {
        let tmp = self.path.with_extension("lock.tmp");
        let body = serde_json::to_vec_pretty(&self.lease.holder).unwrap_or_default();
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
        if self.lease.renew(now) {
            self.write()?;
        }
        Ok(())
    }

    fn keep_for_resume(&mut self, now: DateTime<Utc>) -> Result<(), LockError> {
        self.lease.keep_for_resume(now);
        self.write()
    }

    fn holder(&self) -> &LockHolder {
        &self.lease.holder
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Only remove the lock if it is still ours, and not kept for a resume.
        let ours = &self.lease.holder;
        if !self.lease.kept
            && holder(&self.path).is_some_and(|h| h.run_id == ours.run_id && h.pid == ours.pid)
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::lease::hostname;

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
}
