//! Where journals, locks, reports and history live: one [`Store`] per process, chosen by
//! `--state` (or `DRCTL_STATE`). The local directory (`--state-dir`, default `.drctl`) is the
//! default; `dynamodb://TABLE?region=REGION` shares one lock, journal and history between
//! people at terminals and scheduled runs, in a table that lives in the recovery region.
//! Both stores sit side by side (`local/`, `dynamodb/`) and share one lease logic
//! (`lease.rs`) for their locks.
//!
//! The interface is synchronous: the engine journals from its scheduler loop and the
//! read-only commands (`runs`, `status`, `history`) have no async runtime. The DynamoDB
//! store runs its calls on a small runtime of its own (see [`dynamodb`]).

pub mod dynamodb;
mod error;
mod interface;
mod lease;
pub mod local;
mod url;

pub use dynamodb::DynamoStore;
pub use error::StoreError;
pub use interface::{SharedStore, Store};
pub use lease::{
    HeldLock, LockError, LockHolder, SharedLock, Staleness, hostname, lease, lease_until,
};
pub use local::{JournalWriter, LocalStore, RunLock, lock_holder, read_entries};
pub use url::{StateUrl, StateUrlError};
