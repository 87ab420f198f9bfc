//! Reports: one model built from a run's journal; terminal, JSON and HTML renderers over it;
//! drill history.

mod history;
mod html;
mod human;
mod model;

pub use history::{HistoryEntry, append_history, read_history, sparkline};
pub use html::render_html;
pub use human::render_human;
pub use model::{CleanupReport, REPORT_SCHEMA_VERSION, Report, StepReport, Verdict, human_secs};
