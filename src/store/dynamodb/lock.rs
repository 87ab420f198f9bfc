//! The lock item `lock#<runbook>` / `lock`: the holder as JSON and an owner token. It is put
//! only if absent, renewed and released only while its token is ours, and taken over only by
//! the token that was read. Who may take a held lock is decided by `store::lease`, with
//! leases alone: process ids are not unique across Lambda containers.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::table::{DynamoStore, Item, conditional_failed, s, text};
use crate::aws::AwsError;
use crate::store::lease::{
    Found, HeldLock, Lease, LockError, LockHolder, Staleness, Takeover, decide,
};

fn lock_pk(runbook: &str) -> String {
    format!("lock#{runbook}")
}

fn lock_location(store: &DynamoStore, runbook: &str) -> String {
    format!("{} lock {runbook}", store.url())
}

/// What the lock item holds.
fn found(item: &Item) -> Found {
    match text(item, "holder").and_then(|h| serde_json::from_str(&h).ok()) {
        Some(holder) => Found::Holder(holder),
        None => Found::Unreadable("the lock item is unreadable"),
    }
}

/// A lock held in the table; released (if still ours) on drop.
#[derive(Debug)]
pub(super) struct DynamoLock {
    store: DynamoStore,
    lease: Lease,
    token: String,
}

impl DynamoLock {
    /// Take the lock of `runbook` for `run_id` (see `Store::acquire_lock`).
    pub(super) fn acquire(
        store: &DynamoStore,
        runbook: &str,
        run_id: &str,
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<(DynamoLock, Option<LockHolder>), LockError> {
        let remote = |e: AwsError| LockError::Remote {
            location: lock_location(store, runbook),
            message: e.to_string(),
        };
        let lock = DynamoLock {
            store: store.clone(),
            lease: Lease::new(LockHolder::new(runbook, run_id, now)),
            token: uuid::Uuid::new_v4().to_string(),
        };
        for _ in 0..3 {
            match store.put(
                lock.item(),
                Some(("attribute_not_exists(pk)", HashMap::new())),
            ) {
                Ok(()) => return Ok((lock, None)),
                Err(e) if conditional_failed(&e) => {}
                Err(e) => return Err(remote(e)),
            }
            let Some(item) = store.get(&lock_pk(runbook), "lock").map_err(remote)? else {
                continue; // released meanwhile: try again
            };
            let current_token = text(&item, "token").unwrap_or_default();
            match decide(found(&item), runbook, run_id, now, force, Staleness::Lease) {
                // Take over exactly the lock we read; if it changed meanwhile, look again.
                Takeover::Take { displaced } => match store.put(
                    lock.item(),
                    Some((
                        "#t = :old",
                        HashMap::from([(":old".to_string(), s(current_token))]),
                    )),
                ) {
                    Ok(()) => return Ok((lock, displaced)),
                    Err(e) if conditional_failed(&e) => continue,
                    Err(e) => return Err(remote(e)),
                },
                Takeover::Refuse(e) => return Err(e),
            }
        }
        Err(LockError::Remote {
            location: lock_location(store, runbook),
            message: "the lock changed hands while taking it".into(),
        })
    }

    /// Who holds the lock of `runbook`, if anyone (and readably).
    pub(super) fn holder_of(store: &DynamoStore, runbook: &str) -> Option<LockHolder> {
        match found(&store.get(&lock_pk(runbook), "lock").ok()??) {
            Found::Holder(holder) => Some(holder),
            Found::Unreadable(_) => None,
        }
    }

    fn item(&self) -> Item {
        HashMap::from([
            ("pk".to_string(), s(lock_pk(&self.lease.holder.runbook))),
            ("sk".to_string(), s("lock")),
            (
                "holder".to_string(),
                s(serde_json::to_string(&self.lease.holder).unwrap_or_default()),
            ),
            ("token".to_string(), s(self.token.clone())),
        ])
    }

    fn ours(&self) -> (&'static str, Item) {
        (
            "#t = :mine",
            HashMap::from([(":mine".to_string(), s(self.token.clone()))]),
        )
    }

    /// Write the holder, only while the lock is still ours.
    fn write(&self) -> Result<(), LockError> {
        let location = lock_location(&self.store, &self.lease.holder.runbook);
        match self.store.put(self.item(), Some(self.ours())) {
            Ok(()) => Ok(()),
            Err(e) if conditional_failed(&e) => Err(LockError::Lost {
                location,
                why: "another run took it over after this run's lease expired, or with --force-unlock".into(),
            }),
            Err(e) => Err(LockError::Remote {
                location,
                message: e.to_string(),
            }),
        }
    }
}

impl HeldLock for DynamoLock {
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

impl Drop for DynamoLock {
    fn drop(&mut self) {
        if self.lease.kept {
            return;
        }
        let _ = self.store.delete(
            &lock_pk(&self.lease.holder.runbook),
            "lock",
            Some(self.ours()),
        );
    }
}
