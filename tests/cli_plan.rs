//! `drctl plan`: the region failover's waves, critical path and prediction, in every format.

mod snapshot_support;

use serde_json::Value;
use snapshot_support::{assert_snapshot, code, drctl, stderr, stdout};

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn json_plan_of_the_region_failover() {
    let out = drctl(&["plan", "runbooks/region-failover.toml", "--output", "json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let plan: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(plan["runbook"], "region-failover");
    let waves: Vec<Vec<String>> = plan["waves"]
        .as_array()
        .unwrap()
        .iter()
        .map(strings)
        .collect();
    assert_eq!(
        waves,
        vec![
            vec![
                "announce",
                "add-capacity",
                "restore-qdrant",
                "replicate-images",
                "replicate-secrets"
            ],
            vec!["promote-secrets", "qdrant-on-restore"],
            vec!["scale-services"],
            vec!["approve-cutover"],
            vec!["shift-traffic"],
            vec!["probe-app"],
            vec!["report-done"],
        ]
    );
    assert_eq!(
        strings(&plan["critical_path"]),
        vec![
            "restore-qdrant",
            "qdrant-on-restore",
            "scale-services",
            "approve-cutover",
            "shift-traffic",
            "probe-app",
            "report-done"
        ]
    );
    // 15m restore + 1m new Qdrant revision + 5m scale + 1m approval + 1m30s DNS + 30s probe
    // + 2s notify.
    assert_eq!(plan["predicted_seconds"], 900 + 60 + 300 + 60 + 90 + 30 + 2);
    assert_eq!(plan["targets"]["rto_seconds"], 1800);
    assert_eq!(plan["targets"]["rpo_seconds"], 300);

    let steps = plan["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 12);
    let scale = steps.iter().find(|s| s["id"] == "scale-services").unwrap();
    assert_eq!(scale["action"], "ecs.scale");
    assert_eq!(scale["region"], "recovery");
    assert_eq!(scale["region_code"], "us-west-2");
    assert_eq!(
        strings(&scale["after"]),
        vec![
            "add-capacity",
            "qdrant-on-restore",
            "replicate-images",
            "promote-secrets"
        ]
    );
    assert_eq!(scale["estimate_seconds"], 300);
    assert_eq!(scale["wave"], 3);
    let probe = steps.iter().find(|s| s["id"] == "probe-app").unwrap();
    assert_eq!(probe["region"], Value::Null);
    assert_eq!(probe["verify"], true);
    assert_eq!(probe["mutating"], false);

    // The order respects every `after`.
    let order = strings(&plan["order"]);
    for step in steps {
        let at = order
            .iter()
            .position(|s| s == step["id"].as_str().unwrap())
            .unwrap();
        for dep in strings(&step["after"]) {
            assert!(order.iter().position(|s| *s == dep).unwrap() < at);
        }
    }
}

#[test]
fn human_plan_of_the_region_failover() {
    let out = drctl(&["plan", "runbooks/region-failover.toml"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    assert_snapshot("plan_region_failover.txt", &stdout(&out));
}

#[test]
fn dot_plan_of_the_region_failover() {
    let out = drctl(&["plan", "runbooks/region-failover.toml", "--output", "dot"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_snapshot("plan_region_failover.dot", &stdout(&out));
}

#[test]
fn a_drill_plans_its_runbook_with_its_targets() {
    let out = drctl(&["plan", "drills/monthly.toml", "--output", "json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let plan: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(plan["runbook"], "efs-restore");
    assert_eq!(plan["file"], "runbooks/efs-restore.toml");
    assert_eq!(plan["drill"]["name"], "monthly");
    assert_eq!(plan["drill"]["mode"], "isolated");
    assert_eq!(
        strings(&plan["critical_path"]),
        vec![
            "restore-qdrant",
            "qdrant-on-restore",
            "start-qdrant",
            "probe-app",
            "report-done"
        ]
    );
}

#[test]
fn an_invalid_runbook_is_not_planned() {
    let out = drctl(&[
        "plan",
        "tests/fixtures/bad/DR014-two-step-cycle.toml",
        "--output",
        "json",
    ]);
    assert_eq!(code(&out), 2);
    assert_eq!(stdout(&out), "");
    assert_snapshot("plan_cycle.txt", &stderr(&out));
}

#[test]
fn plan_rejects_jsonl() {
    let out = drctl(&["plan", "runbooks/region-failover.toml", "--output", "jsonl"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("it supports: human, json, dot"),
        "{}",
        stderr(&out)
    );
}
