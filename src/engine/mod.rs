//! The engine (DESIGN.md section 5b): the `scheduler` (the dispatcher, and the only writer of
//! run state), the `executor` (one step's attempts, with its timeout and `RetryPolicy`), the
//! `undo` driver, the `plan` it executes with parameters compiled into `template`s, the
//! `events` it emits, the `journal`'s format and the run `state` a journal replays to.
//! Where journals and locks live is `src/store/`; nothing here imports `runbook`.

mod events;
mod executor;
mod journal;
mod plan;
mod scheduler;
mod state;
mod template;
mod undo;

pub use events::{EventSink, RunEvent, null_sink};
pub use executor::{Backoff, RetryPolicy};
pub use journal::{
    Entry, FailureRecord, JOURNAL_VERSION, JournalError, JournalSink, Record, RunHeader, RunStatus,
    SharedJournal,
};
pub use plan::{ExecPlan, ExecStep, Interrupts, RunOptions};
pub use scheduler::{Engine, lifecycle};
pub use state::{RunState, StepState, StepStatus, UndoStatus};
pub use template::{MissingOutput, OutputRef, Outputs, Param, Part, StepParams, Template};
