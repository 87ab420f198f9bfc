//! The engine: the scheduler (sole writer of run state), the executor of steps (timeouts,
//! retries), events, the journal's format and the run state it replays to (DESIGN.md
//! section 5b). Where journals and locks live is `src/store/`.

mod events;
mod journal;
mod scheduler;
mod state;
mod template;

pub use events::{EventSink, RunEvent, null_sink};
pub use journal::{
    Entry, FailureRecord, JOURNAL_VERSION, JournalError, JournalSink, Record, RunHeader, RunStatus,
    SharedJournal,
};
pub use scheduler::{Engine, ExecPlan, ExecStep, Interrupts, RunOptions};
pub use state::{RunState, StepState, StepStatus, UndoStatus};
pub use template::{MissingOutput, OutputRef, Outputs, Param, Part, StepParams, Template};
