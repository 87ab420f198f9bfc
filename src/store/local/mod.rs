//! The local state directory (`--state-dir`, default `.drctl`), the default store.

mod directory;
mod history;
mod journal;
mod lock;

pub use directory::LocalStore;
pub use journal::{JournalWriter, read_entries};
pub use lock::{RunLock, holder as lock_holder};
