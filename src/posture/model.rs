//! The check report: one row per (runbook or drill, recovered resource) with its exposure,
//! target, verdict, evidence and a plain statement. The table and the JSON document both
//! render it. The JSON form is versioned (`schema_version`) and described in docs/check.md.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::measure::EvidenceKind;

/// The check JSON format version.
pub const CHECK_SCHEMA_VERSION: u32 = 1;

/// One fact behind a figure, and which API said so.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    pub detail: String,
    /// e.g. `backup:ListRecoveryPointsByBackupVault`.
    pub source: String,
}

/// One recovered resource of one runbook, judged against its RPO target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceCheck {
    pub runbook: String,
    /// The drill, when the file checked was a drill.
    pub drill: Option<String>,
    /// The file checked, as given.
    pub file: String,
    /// The step that recovers the resource.
    pub step: String,
    pub resource: String,
    pub kind: EvidenceKind,
    /// Region of the recovered copy.
    pub region: String,
    /// What a disaster now would lose, in seconds. `None` when it could not be measured or
    /// there is nothing to recover from (then `met` is false when there is a target).
    pub exposure_seconds: Option<f64>,
    pub target_seconds: Option<f64>,
    /// `None` without a target, or when the exposure could not be measured.
    pub met: Option<bool>,
    /// The latest time up to which every change would be recovered (`None`: nothing missing,
    /// or unknown).
    pub consistent_at: Option<DateTime<Utc>>,
    pub evidence: Vec<Fact>,
    /// The verdict in plain words, including what the schedule can and cannot give.
    pub statement: String,
    /// Why the resource could not be (fully) measured: the resource, AWS operation and code.
    pub error: Option<String>,
    pub error_code: Option<String>,
}

/// How the check came out, from worst: any exposure over target, else any resource not
/// measured, else within target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Every measured resource is within its target.
    Ok,
    /// At least one exposure is over its target (exit 3), whatever else happened.
    Exceeded,
    /// Nothing is over target, but some resource could not be measured (exit 1).
    Error,
}

/// The whole check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    pub schema_version: u32,
    /// The instant exposures are measured from.
    pub checked_at: DateTime<Utc>,
    pub status: CheckStatus,
    pub results: Vec<ResourceCheck>,
    /// What was not checked and why (steps whose parameters come from other steps, runbooks
    /// that recover no data).
    pub notes: Vec<String>,
}

impl CheckReport {
    /// The status the results add up to.
    pub(crate) fn status_of(results: &[ResourceCheck]) -> CheckStatus {
        if results.iter().any(|r| r.met == Some(false)) {
            CheckStatus::Exceeded
        } else if results.iter().any(|r| r.error.is_some()) {
            CheckStatus::Error
        } else {
            CheckStatus::Ok
        }
    }
}
