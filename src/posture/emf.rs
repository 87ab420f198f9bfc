//! The check as CloudWatch Embedded Metric Format lines (`--emf`, DESIGN.md section 7): one
//! line per (runbook or drill, resource) with its `RPOExposure` in seconds, so a scheduled
//! check's log becomes a metric an alarm can watch, without any API call. Same namespace as
//! the drill metrics (`crate::report::EMF_NAMESPACE`).

use serde_json::{Map, Value, json};

use super::model::{CheckReport, ResourceCheck};
use crate::report::EMF_NAMESPACE;

/// The EMF document of one result, timestamped with the check. `None` when there is no
/// exposure to report (not measured, or nothing to recover from): a missing figure is left
/// out rather than reported as zero, which would look like a perfect RPO.
pub fn emf_document(report: &CheckReport, row: &ResourceCheck) -> Option<Value> {
    let exposure = row.exposure_seconds?;
    let mut root = Map::new();
    root.insert("Runbook".into(), json!(row.runbook));
    root.insert("Resource".into(), json!(row.resource));
    let mut dimensions = vec![json!(["Runbook", "Resource"])];
    if let Some(drill) = &row.drill {
        root.insert("Drill".into(), json!(drill));
        dimensions.push(json!(["Runbook", "Drill", "Resource"]));
    }
    root.insert("RPOExposure".into(), json!(exposure));
    let mut metrics = vec![json!({ "Name": "RPOExposure", "Unit": "Seconds" })];
    if let Some(target) = row.target_seconds {
        root.insert("RPOTarget".into(), json!(target));
        metrics.push(json!({ "Name": "RPOTarget", "Unit": "Seconds" }));
    }
    root.insert("kind".into(), json!(row.kind));
    root.insert("met".into(), json!(row.met));
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": report.checked_at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": EMF_NAMESPACE,
                "Dimensions": dimensions,
                "Metrics": metrics,
            }],
        }),
    );
    Some(Value::Object(root))
}

/// Every result with an exposure, as one line of JSON each (no newlines).
pub fn emf_lines(report: &CheckReport) -> Vec<String> {
    report
        .results
        .iter()
        .filter_map(|row| emf_document(report, row))
        .map(|doc| doc.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::EvidenceKind;
    use crate::posture::model::{CHECK_SCHEMA_VERSION, CheckStatus};

    fn row(drill: Option<&str>, exposure: Option<f64>) -> ResourceCheck {
        ResourceCheck {
            runbook: "region-failover".into(),
            drill: drill.map(str::to_owned),
            file: "drills/quarterly.toml".into(),
            step: "restore-qdrant".into(),
            resource: "efs fs-1 (us-east-1) in vault dr (us-west-2)".into(),
            kind: EvidenceKind::RecoveryPoint,
            region: "us-west-2".into(),
            exposure_seconds: exposure,
            target_seconds: Some(300.0),
            met: exposure.map(|e| e <= 300.0),
            consistent_at: None,
            evidence: Vec::new(),
            statement: String::new(),
            error: None,
            error_code: None,
        }
    }

    #[test]
    fn one_line_per_measured_resource_with_only_members_as_dimensions() {
        let report = CheckReport {
            schema_version: CHECK_SCHEMA_VERSION,
            checked_at: "2026-03-01T06:00:00Z".parse().unwrap(),
            status: CheckStatus::Exceeded,
            results: vec![row(Some("quarterly"), Some(1020.0)), row(None, None)],
            notes: Vec::new(),
        };
        let lines = emf_lines(&report);
        assert_eq!(lines.len(), 1, "no exposure, no line: {lines:?}");
        let doc: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(doc["RPOExposure"], 1020.0);
        assert_eq!(doc["RPOTarget"], 300.0);
        assert_eq!(doc["met"], false);
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "drctl");
        assert_eq!(doc["_aws"]["Timestamp"], 1_772_344_800_000_i64);
        for set in directive["Dimensions"].as_array().unwrap() {
            for key in set.as_array().unwrap() {
                assert!(
                    doc.get(key.as_str().unwrap()).is_some(),
                    "{key} is a member"
                );
            }
        }
        for metric in directive["Metrics"].as_array().unwrap() {
            assert!(doc.get(metric["Name"].as_str().unwrap()).is_some());
        }
    }
}
