//! A finished run as one CloudWatch Embedded Metric Format (EMF) log line (`--emf`): when
//! the line reaches CloudWatch Logs (a Lambda's or a container's log), CloudWatch extracts
//! AchievedRTO, AchievedRPO and DrillResult as metrics without any API call. The structure
//! follows the EMF specification: `_aws.CloudWatchMetrics` directives whose dimension keys and
//! metric names all exist as members of the root object.

use serde_json::{Map, Value, json};

use super::model::{Report, Verdict};

/// The CloudWatch namespace of drctl's metrics.
pub const EMF_NAMESPACE: &str = "drctl";

/// The EMF document of a finished run, timestamped with the run's end.
///
/// Dimensions are `[["Runbook"], ["Runbook", "Drill"]]` for drills and `[["Runbook"]]` for
/// failovers (a dimension set may only name members the document has). A figure the run did
/// not produce (no RTO after a failure) is left out rather than reported as zero, which would
/// look like an instant recovery. `DrillResult` is 1 when every target was met, else 0.
pub fn emf_document(report: &Report) -> Value {
    let mut root = Map::new();
    root.insert("Runbook".into(), json!(report.runbook));
    let mut dimensions = vec![json!(["Runbook"])];
    if let Some(drill) = &report.drill {
        root.insert("Drill".into(), json!(drill));
        dimensions.push(json!(["Runbook", "Drill"]));
    }
    let mut metrics = Vec::new();
    let figures = [
        ("AchievedRTO", report.rto.achieved_seconds),
        ("AchievedRPO", report.rpo.achieved_seconds),
    ];
    for (name, value) in figures {
        if let Some(v) = value {
            metrics.push(json!({ "Name": name, "Unit": "Seconds" }));
            root.insert(name.into(), json!(v));
        }
    }
    metrics.push(json!({ "Name": "DrillResult", "Unit": "Count" }));
    root.insert(
        "DrillResult".into(),
        json!(u8::from(report.result == Verdict::Met)),
    );
    root.insert("run_id".into(), json!(report.run_id));
    root.insert("result".into(), json!(report.result));
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": report.finished_at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": EMF_NAMESPACE,
                "Dimensions": dimensions,
                "Metrics": metrics,
            }],
        }),
    );
    Value::Object(root)
}

/// [`emf_document`] as one line of JSON (no newline).
pub fn emf_line(report: &Report) -> String {
    emf_document(report).to_string()
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::actions::Mode;
    use crate::engine::RunStatus;
    use crate::measure::{RpoFigure, RtoFigure};
    use crate::report::CleanupReport;

    fn report(drill: Option<&str>, result: Verdict, rto: Option<f64>) -> Report {
        let t0: DateTime<Utc> = "2026-03-01T06:00:00Z".parse().unwrap();
        Report {
            schema_version: 1,
            run_id: "20260301T060000Z-9c1d2e".into(),
            kind: if drill.is_some() { "drill" } else { "failover" }.into(),
            drill: drill.map(str::to_string),
            runbook: "efs-restore".into(),
            mode: if drill.is_some() {
                Mode::DrillIsolated
            } else {
                Mode::Failover
            },
            result,
            run_status: Some(RunStatus::Succeeded),
            started_at: t0,
            finished_at: "2026-03-01T06:02:03.500Z".parse().unwrap(),
            t0,
            rto: RtoFigure {
                achieved_seconds: rto,
                target_seconds: Some(2700.0),
                met: Some(true),
                t0,
                recovered_at: None,
                verification_steps: vec![],
                critical_path: vec![],
                dominant_step: None,
                note: None,
            },
            rpo: RpoFigure {
                achieved_seconds: Some(1020.5),
                target_seconds: Some(3600.0),
                met: Some(true),
                evidence: vec![],
                worst_resource: None,
            },
            steps: vec![],
            cleanup: CleanupReport {
                status: "clean".into(),
                undone: vec![],
                failures: vec![],
            },
            summary: String::new(),
        }
    }

    #[test]
    fn a_drill_is_one_directive_with_both_dimension_sets_and_three_metrics() {
        let doc = emf_document(&report(Some("monthly"), Verdict::Met, Some(123.25)));
        assert_eq!(
            doc,
            json!({
                "_aws": {
                    "Timestamp": 1772344923500_i64,
                    "CloudWatchMetrics": [{
                        "Namespace": "drctl",
                        "Dimensions": [["Runbook"], ["Runbook", "Drill"]],
                        "Metrics": [
                            { "Name": "AchievedRTO", "Unit": "Seconds" },
                            { "Name": "AchievedRPO", "Unit": "Seconds" },
                            { "Name": "DrillResult", "Unit": "Count" },
                        ],
                    }],
                },
                "Runbook": "efs-restore",
                "Drill": "monthly",
                "AchievedRTO": 123.25,
                "AchievedRPO": 1020.5,
                "DrillResult": 1,
                "run_id": "20260301T060000Z-9c1d2e",
                "result": "met",
            })
        );
        let line = emf_line(&report(Some("monthly"), Verdict::Met, Some(123.25)));
        assert!(!line.contains('\n'));
        assert_eq!(serde_json::from_str::<Value>(&line).unwrap(), doc);
    }

    #[test]
    fn every_dimension_and_metric_a_directive_names_is_in_the_document() {
        for r in [
            report(Some("monthly"), Verdict::Missed, Some(3000.0)),
            report(None, Verdict::Met, Some(60.0)),
            report(None, Verdict::Error, None),
        ] {
            let doc = emf_document(&r);
            let directive = &doc["_aws"]["CloudWatchMetrics"][0];
            for set in directive["Dimensions"].as_array().unwrap() {
                for key in set.as_array().unwrap() {
                    let key = key.as_str().unwrap();
                    assert!(doc[key].is_string(), "dimension {key} missing in {doc}");
                }
            }
            for metric in directive["Metrics"].as_array().unwrap() {
                let name = metric["Name"].as_str().unwrap();
                assert!(doc[name].is_number(), "metric {name} missing in {doc}");
            }
        }
    }

    #[test]
    fn a_failover_has_no_drill_dimension_and_a_missing_figure_is_left_out() {
        let doc = emf_document(&report(None, Verdict::Error, None));
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Dimensions"], json!([["Runbook"]]));
        assert!(doc.get("Drill").is_none());
        assert!(doc.get("AchievedRTO").is_none());
        assert_eq!(
            directive["Metrics"],
            json!([
                { "Name": "AchievedRPO", "Unit": "Seconds" },
                { "Name": "DrillResult", "Unit": "Count" },
            ])
        );
        assert_eq!(doc["DrillResult"], 0);
        assert_eq!(doc["result"], "error");

        let missed = emf_document(&report(Some("monthly"), Verdict::Missed, Some(3000.0)));
        assert_eq!(missed["DrillResult"], 0);
    }
}
