//! The engine: the scheduler (sole writer of run state), the executor of steps (timeouts,
//! retries), events, the journal and the lock (DESIGN.md section 5b).

mod events;
mod journal;
mod lock;
mod scheduler;
mod state;

pub use events::{EventSink, RunEvent, null_sink};
pub use journal::{
    Entry, FailureRecord, JOURNAL_VERSION, JournalError, JournalSink, JournalWriter, Record,
    RunHeader, RunStatus, SharedJournal, read_entries,
};
pub use lock::{
    HeldLock, LockError, LockHolder, RunLock, SharedLock, holder as lock_holder, hostname, lease,
    lease_until,
};
pub use scheduler::{Engine, ExecPlan, ExecStep, Interrupts, RunOptions, resolve_step_refs};
pub use state::{RunState, StepState, StepStatus, UndoStatus};
