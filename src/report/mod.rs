//! Reports: one model built from a run's journal; terminal, JSON and HTML renderers over it;
//! drill history; the run's notification messages and its EMF metrics line.

mod emf;
mod history;
mod html;
mod human;
mod model;
mod notify;

pub use emf::{EMF_NAMESPACE, emf_document, emf_line};
pub use history::{HistoryEntry, sparkline};
pub use html::render_html;
pub use human::render_human;
pub use model::{CleanupReport, REPORT_SCHEMA_VERSION, Report, StepReport, Verdict, human_secs};
pub use notify::{Message, Outcome, finish_message, start_message};
