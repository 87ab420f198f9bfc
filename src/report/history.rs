//! Drill history: one entry per finished drill, kept by the state store (`src/store/`) and
//! read by `drctl history` (with a terminal sparkline) and the HTML history chart.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::{Report, Verdict};

/// One past drill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub run_id: String,
    pub drill: Option<String>,
    pub runbook: String,
    pub finished_at: DateTime<Utc>,
    pub result: Verdict,
    pub rto_seconds: Option<f64>,
    pub rto_target_seconds: Option<f64>,
    pub rpo_seconds: Option<f64>,
    pub rpo_target_seconds: Option<f64>,
}

impl From<&Report> for HistoryEntry {
    fn from(r: &Report) -> Self {
        HistoryEntry {
            run_id: r.run_id.clone(),
            drill: r.drill.clone(),
            runbook: r.runbook.clone(),
            finished_at: r.finished_at,
            result: r.result,
            rto_seconds: r.rto.achieved_seconds,
            rto_target_seconds: r.rto.target_seconds,
            rpo_seconds: r.rpo.achieved_seconds,
            rpo_target_seconds: r.rpo.target_seconds,
        }
    }
}

/// A sparkline of values (missing values as a space).
pub fn sparkline(values: &[Option<f64>]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().flatten().cloned().fold(0.0_f64, f64::max);
    values
        .iter()
        .map(|v| match v {
            Some(v) if max > 0.0 => BARS[((v / max) * 7.0).round().clamp(0.0, 7.0) as usize],
            Some(_) => BARS[0],
            None => ' ',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_to_the_maximum() {
        assert_eq!(
            sparkline(&[Some(0.0), Some(50.0), Some(100.0), None]),
            "▁▅█ "
        );
    }
}
