//! What an invocation gets (an [`Event`]) and answers (a [`Summary`], or an error response).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lambda_runtime::Diagnostic;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cli::{Exit, exit_code};
use crate::posture::CheckReport;
use crate::runner::{ExitClass, SessionError};

/// What the events look like, for error messages.
const EVENTS: &str = r#"{"command":"drill","drill":"NAME"}, {"command":"check"} or {"command":"resume","run_id":"RUN_ID"}"#;

/// An invocation's event.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum Event {
    /// Run `<home>/drills/<drill>.toml`, or continue its run a deadline interrupted.
    Drill {
        drill: String,
        /// Variable overrides, as `--var` gives them.
        #[serde(default)]
        vars: BTreeMap<String, String>,
    },
    /// Continue any run a deadline interrupted, then `drctl check` every drill in
    /// `<home>/drills`. (A struct variant, so that unknown fields are refused too.)
    Check {},
    /// Continue a run (`drctl resume RUN_ID --yes`).
    Resume { run_id: String },
}

impl Event {
    pub(super) fn parse(payload: Value) -> Result<Event, Diagnostic> {
        serde_json::from_value(payload).map_err(|e| {
            error(
                "InvalidEvent",
                format!("invalid event: {e}; expected {EVENTS}"),
            )
        })
    }
}

/// The response: one JSON summary of what the invocation did.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Summary {
    pub(super) command: &'static str,
    pub(super) run_id: Option<String>,
    /// met, missed, failed or continuing (a run); ok, exceeded or failed (a check).
    pub(super) status: &'static str,
    /// The exit code the CLI would have given (docs/exit-codes.md).
    pub(super) exit_code: u8,
    pub(super) achieved_rto_secs: Option<f64>,
    pub(super) achieved_rpo_secs: Option<f64>,
    /// The HTML report (beside it, report.json) in the state store.
    pub(super) report: Option<String>,
    pub(super) t0: Option<DateTime<Utc>>,
    /// The report's one-sentence summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) summary: Option<String>,
    /// A check's document, as `drctl check --output json` prints it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) check: Option<CheckReport>,
    /// Runs a `check` event continued first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) continued: Vec<Summary>,
}

impl Summary {
    pub(super) fn empty(command: &'static str, status: &'static str, exit: Exit) -> Summary {
        Summary {
            command,
            run_id: None,
            status,
            exit_code: exit_code(exit),
            achieved_rto_secs: None,
            achieved_rpo_secs: None,
            report: None,
            t0: None,
            summary: None,
            check: None,
            continued: Vec::new(),
        }
    }
}

/// An error response of the kind `kind`.
pub(super) fn error(kind: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        error_type: kind.into(),
        error_message: message.into(),
    }
}

/// The error response of a run that could not start or reopen.
pub(super) fn session_error(e: SessionError) -> Diagnostic {
    let kind = match e.class() {
        ExitClass::Refused => "Refused",
        ExitClass::Invalid => "InvalidInput",
        _ => "Failed",
    };
    error(kind, e.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn events_parse_strictly_and_errors_say_what_is_expected() {
        assert_eq!(
            Event::parse(json!({"command": "drill", "drill": "monthly"})).unwrap(),
            Event::Drill {
                drill: "monthly".into(),
                vars: BTreeMap::new()
            }
        );
        assert_eq!(
            Event::parse(json!({"command": "check"})).unwrap(),
            Event::Check {}
        );
        assert_eq!(
            Event::parse(json!({"command": "resume", "run_id": "r1"})).unwrap(),
            Event::Resume {
                run_id: "r1".into()
            }
        );
        for bad in [
            json!({"command": "dril", "drill": "monthly"}),
            json!({"command": "drill"}),
            json!({"command": "drill", "drill": "monthly", "dril": 1}),
            json!({"command": "check", "drill": "monthly"}),
            json!({"drill": "monthly"}),
            json!("check"),
            json!(null),
        ] {
            let e = Event::parse(bad.clone()).unwrap_err();
            assert_eq!(e.error_type, "InvalidEvent");
            assert!(
                e.error_message.contains(r#"{"command":"check"}"#),
                "{bad}: {}",
                e.error_message
            );
        }
    }
}
