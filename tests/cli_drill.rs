//! `drctl drill` end to end against the seeded sandbox: the three seed drills, RPO and RTO
//! figures checked against their definitions (DESIGN.md section 2) and the evidence, cleanup
//! after success and failure, exit codes, the JSON report against its documented schema,
//! history and report rendering.

mod cli_support;
mod common;

use std::path::Path;

use chrono::{DateTime, Utc};
use cli_support::*;
use serde_json::{Value, json};

fn drill(state: &Path, file: &str, region: &str) -> std::process::Command {
    let mut cmd = drctl(state);
    cmd.args(["drill", file, "--var"]).arg(health_var(region));
    cmd
}

fn json_report(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("report JSON ({e}): {out}"))
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

/// A minimal JSON Schema check (type, required, properties, items, enum): enough for the
/// documented report schema, which uses nothing else.
fn validate(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "number" => value.is_number(),
            "integer" => value.is_i64() || value.is_u64(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => false,
        });
        if !ok {
            errors.push(format!("{path}: {value} is not {types:?}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        errors.push(format!("{path}: {value} not in {options:?}"));
    }
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for key in required.iter().filter_map(Value::as_str) {
            if value.get(key).is_none() {
                errors.push(format!("{path}: missing `{key}`"));
            }
        }
    }
    if let (Some(props), Some(obj)) = (
        schema.get("properties").and_then(Value::as_object),
        value.as_object(),
    ) {
        for (key, sub) in props {
            if let Some(v) = obj.get(key) {
                validate(sub, v, &format!("{path}.{key}"), errors);
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            validate(items, v, &format!("{path}[{i}]"), errors);
        }
    }
}

fn assert_valid_report(report: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/report-schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut errors = Vec::new();
    validate(&schema, report, "$", &mut errors);
    assert!(
        errors.is_empty(),
        "report does not match docs/report-schema.json: {errors:#?}"
    );
}

#[tokio::test]
async fn the_three_seed_drills_run_end_to_end_and_leave_nothing_behind() {
    let _guard = common::SandboxGuard::seeded().await;
    let (_dir, state) = state_dir();
    let before = failover_state().await;

    // Monthly: restore Qdrant's EFS beside production; RPO target 1h (the backup interval).
    let (code, out, err) =
        run(drill(&state, "drills/monthly.toml", common::PRIMARY).args(["--output", "json"]));
    let monthly = json_report(&out);
    assert_eq!(code, 0, "{err}");
    assert_eq!(monthly["result"], "met");
    assert_valid_report(&monthly);
    assert_eq!(monthly["cleanup"]["status"], "clean");
    assert!(
        drill_file_systems(common::PRIMARY).await.is_empty(),
        "the restored copy was deleted"
    );

    // Quarterly: the whole region failover, isolated. Hourly backups cannot meet 5 minutes.
    let (code, out, err) =
        run(drill(&state, "drills/quarterly.toml", common::RECOVERY).args(["--output", "json"]));
    let quarterly = json_report(&out);
    assert_eq!(code, 3, "missed its RPO target: {err}");
    assert_eq!(quarterly["result"], "missed");
    assert_eq!(quarterly["rto"]["met"], true);
    assert_eq!(quarterly["rpo"]["met"], false);
    assert_valid_report(&quarterly);
    assert_eq!(quarterly["cleanup"]["status"], "clean");
    assert!(drill_file_systems(common::RECOVERY).await.is_empty());
    assert_eq!(
        failover_state().await,
        before,
        "an isolated drill leaves production as it was"
    );

    // Annual: the live failover, then its failback.
    let (code, out, err) = run(drill(&state, "drills/annual.toml", common::RECOVERY).args([
        "--yes",
        "--approve",
        "approve-cutover",
        "--approve",
        "failback",
        "--output",
        "json",
    ]));
    let annual = json_report(&out);
    assert_eq!(code, 3, "{err}");
    assert_eq!(annual["mode"], "drill-live");
    assert_eq!(annual["run_status"], "succeeded");
    assert_eq!(
        annual["cleanup"]["status"], "clean",
        "failed back: {}",
        annual["cleanup"]
    );
    assert!(
        calls("route53", "ChangeResourceRecordSets") >= 2,
        "the record moved and moved back"
    );
    let after = failover_state().await;
    assert_eq!(
        after["records"], before["records"],
        "traffic is back on us-east-1"
    );
    assert_eq!(after["ecs_us_west_2"], before["ecs_us_west_2"]);
    assert_eq!(after["efs_us_west_2"], before["efs_us_west_2"]);

    // History keeps all three; a past run renders as HTML with its timeline.
    let (code, out, _) = run(drctl(&state).args(["history", "--output", "json"]));
    assert_eq!(code, 0);
    let history: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 3);
    let (code, out, _) = run(drctl(&state).args(["history"]));
    assert_eq!(code, 0);
    assert!(out.contains("RTO trend"), "{out}");
    let id = quarterly["run_id"].as_str().unwrap();
    let (code, html, _) = run(drctl(&state).args(["report", id, "--format", "html", "--history"]));
    assert_eq!(code, 0);
    assert!(html.contains("<svg class=\"timeline\""), "SVG timeline");
    assert!(
        html.contains("aria-label=\"achieved RTO of past drills\""),
        "history chart"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://") || !html.contains("src="),
        "no external assets"
    );
    let (code, text, _) = run(drctl(&state).args(["report", id]));
    assert_eq!(code, 0);
    assert!(text.contains("RPO: 17m"), "{text}");
}

#[tokio::test]
async fn rpo_is_the_age_at_t0_of_the_restored_recovery_point_and_names_it() {
    let _guard = common::SandboxGuard::seeded().await;
    let (_dir, state) = state_dir();
    // A recovery point 3 minutes old becomes the newest.
    let rp = common::create_recovery_point(&json!({
        "vault": "prod-infra-backup",
        "region": common::PRIMARY,
        "resource_arn": format!("arn:aws:elasticfilesystem:us-east-1:{}:file-system/fs-0123456789abcdef0", common::ACCOUNT),
        "age_seconds": 180,
        "size_bytes": 1_073_741_824u64,
    }));
    let (code, out, err) =
        run(drill(&state, "drills/monthly.toml", common::PRIMARY).args(["--output", "json"]));
    assert_eq!(code, 0, "{err}");
    let report = json_report(&out);
    let evidence = &report["rpo"]["evidence"][0];
    assert_eq!(evidence["kind"], "recovery-point");
    assert!(
        evidence["detail"]
            .as_str()
            .unwrap()
            .contains(rp["recovery_point_arn"].as_str().unwrap()),
        "{evidence}"
    );
    let created = time(&rp["creation_time"]);
    let t0 = time(&report["t0"]);
    let expected = (t0 - created).num_milliseconds() as f64 / 1000.0;
    let got = report["rpo"]["achieved_seconds"].as_f64().unwrap();
    // To the millisecond: drctl read the creation date as the SDK parses epoch seconds (a
    // float), the control API wrote it in RFC 3339.
    assert!(
        (got - expected).abs() < 0.0015,
        "RPO {got} s, T0 - creation = {expected} s"
    );
}

/// Runs the quarterly drill in the recovery region, letting the lagging secret replica
/// catch up once the replicate step waits for it; returns the report and stderr.
fn quarterly_drill_with_a_lagging_secret(state: &std::path::Path) -> (Value, String) {
    let (mut child, events) =
        spawn_jsonl(&mut drill(state, "drills/quarterly.toml", common::RECOVERY));
    // The replicate step measures the lag at once, then waits for the replica to catch up:
    // let it catch up once it waits.
    wait_event(&events, "waiting for the lagging replica", |e| {
        e["event"] == "step_progress"
            && e["step"] == "replicate-secrets"
            && e["message"].as_str().unwrap_or("").contains("InSync")
    });
    common::control(
        "POST",
        "/secrets/lag",
        Some(
            &json!({ "secret_id": "prod-infra/backend", "region": common::RECOVERY, "lagging": false }),
        ),
    );
    let report = wait_event(&events, "the report", |e| e.get("schema_version").is_some());
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(3), "{err}");
    (report, err)
}

/// The RPO evidence of `kind` for a resource naming `name`.
fn evidence_of<'a>(report: &'a Value, kind: &str, name: &str) -> &'a Value {
    report["rpo"]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == kind && e["resource"].as_str().unwrap().contains(name))
        .unwrap_or_else(|| panic!("no {kind} evidence for {name}: {report:#}"))
}

#[tokio::test]
async fn a_lagging_secret_replica_gives_the_rpo_of_the_version_it_lacks() {
    let _guard = common::SandboxGuard::seeded().await;
    let (_dir, state) = state_dir();
    let lag = common::lag_secret(
        "prod-infra/backend",
        common::RECOVERY,
        Some("{\"rotated\":\"value-not-in-any-report\"}"),
    );
    // The date the primary gives the version the replica lacks, as drctl reads it.
    let created = aws_sdk_secretsmanager::Client::new(&common::sdk_config(common::PRIMARY).await)
        .list_secret_version_ids()
        .secret_id("prod-infra/backend")
        .send()
        .await
        .unwrap()
        .versions()
        .iter()
        .find(|v| v.version_id() == lag["new_version_id"].as_str())
        .and_then(|v| v.created_date())
        .map(drctl::aws::to_chrono)
        .expect("the new version's creation date");
    let (report, err) = quarterly_drill_with_a_lagging_secret(&state);
    assert!(
        !report.to_string().contains("value-not-in-any-report")
            && !err.contains("value-not-in-any-report"),
        "secret values never printed"
    );
    let t0 = time(&report["t0"]);
    let secret = evidence_of(&report, "secret-version", "prod-infra/backend");
    // Exactly T0 minus the version's creation (the sandbox used to date every version at
    // the listing, which made this check flaky).
    assert_eq!(time(&secret["consistent_at"]), created, "{secret}");
    assert_eq!(
        secret["seconds"].as_f64().unwrap(),
        (t0 - created).num_milliseconds() as f64 / 1000.0,
        "{secret}"
    );
    assert!(drill_file_systems(common::RECOVERY).await.is_empty());
    for dir in std::fs::read_dir(state.join("runs")).unwrap() {
        let journal = std::fs::read_to_string(dir.unwrap().path().join("journal.jsonl")).unwrap();
        assert!(
            !journal.contains("value-not-in-any-report"),
            "secret values never journalled"
        );
    }
}

#[tokio::test]
#[ignore = "waits for issue 14: copying image layers (the drill's ecr.replicate copies the unreplicated image's manifest only; the strict sandbox refuses it with LayersNotFoundException)"]
async fn an_unreplicated_image_shows_up_in_rpo_since_its_push() {
    let _guard = common::SandboxGuard::seeded().await;
    let (_dir, state) = state_dir();
    common::lag_secret("prod-infra/backend", common::RECOVERY, Some("{}"));
    let pushed = common::push_unreplicated_image("prod-infra/backend", "v9.9.9");
    let (report, _) = quarterly_drill_with_a_lagging_secret(&state);
    let t0 = time(&report["t0"]);
    let ecr = evidence_of(&report, "ecr-images", "prod-infra/backend");
    assert_eq!(
        time(&ecr["consistent_at"]),
        time(&pushed["pushed_at"]),
        "{ecr}"
    );
    let expected = (t0 - time(&pushed["pushed_at"])).num_milliseconds() as f64 / 1000.0;
    assert_eq!(ecr["seconds"].as_f64().unwrap(), expected, "{ecr}");
}

#[tokio::test]
async fn rto_is_the_last_verification_success_minus_t0_from_the_journal() {
    let _guard = common::SandboxGuard::seeded().await;
    // Known durations on the critical path: restore 3 s, ECS rollout 2 s, Route 53 1 s.
    common::set_durations(
        &json!({ "restore_base": 3.0, "restore_per_gib": 0.0, "ecs_rollout": 2.0, "route53_propagation": 1.0 }),
    );
    let (_dir, state) = state_dir();
    let (code, out, err) =
        run(drill(&state, "drills/quarterly.toml", common::RECOVERY).args(["--output", "json"]));
    assert_eq!(code, 3, "{err}");
    let report = json_report(&out);
    let id = report["run_id"].as_str().unwrap();
    let journal = journal(&state, id);
    let t0 = time(&journal[0]["record"]["header"]["t0"]);
    let recovered = journal
        .iter()
        .filter(|e| {
            e["record"]["kind"] == "step_succeeded"
                && ["shift-traffic", "probe-app"].contains(&e["record"]["step"].as_str().unwrap())
        })
        .map(|e| time(&e["at"]))
        .max()
        .unwrap();
    let from_journal = (recovered - t0).num_milliseconds() as f64 / 1000.0;
    let rto = report["rto"]["achieved_seconds"].as_f64().unwrap();
    assert!(
        (rto - from_journal).abs() < 0.001,
        "report {rto} vs journal {from_journal}"
    );
    assert_eq!(
        report["rto"]["verification_steps"],
        json!(["shift-traffic", "probe-app"])
    );
    assert_eq!(
        report["rto"]["critical_path"]
            .as_array()
            .unwrap()
            .first()
            .unwrap(),
        "restore-qdrant"
    );
}

#[tokio::test]
async fn a_drill_that_fails_halfway_cleans_up_and_exits_1() {
    let _guard = common::SandboxGuard::seeded().await;
    common::inject_fault(
        &json!({ "service": "ecs", "operation": "UpdateService", "kind": "access_denied", "count": 1 }),
    );
    let (_dir, state) = state_dir();
    let before = failover_state().await;
    let (code, out, err) =
        run(drill(&state, "drills/quarterly.toml", common::RECOVERY).args(["--output", "json"]));
    assert_eq!(code, 1, "{err}");
    let report = json_report(&out);
    assert_eq!(report["result"], "error");
    assert!(
        report["summary"]
            .as_str()
            .unwrap()
            .contains("qdrant-on-restore"),
        "the first UpdateService is Qdrant's move to the restored data: {}",
        report["summary"]
    );
    assert_eq!(report["cleanup"]["status"], "clean");
    let undone = report["cleanup"]["undone"].to_string();
    assert!(undone.contains("restore-qdrant"), "{undone}");
    assert!(undone.contains("add-capacity"), "{undone}");
    assert!(
        drill_file_systems(common::RECOVERY).await.is_empty(),
        "the restored copy was removed"
    );
    assert_eq!(failover_state().await, before);
}

#[tokio::test]
async fn a_missed_rto_exits_3_saying_by_how_much_and_which_step_dominated() {
    let _guard = common::SandboxGuard::seeded().await;
    // The restore is by far the longest step.
    common::set_durations(&json!({ "restore_base": 12.0, "restore_per_gib": 0.0 }));
    let (dir, state) = state_dir();
    let drill_file = dir.path().join("tight.toml");
    std::fs::write(
        &drill_file,
        format!(
            "name = \"tight\"\nrunbook = \"{}/runbooks/region-failover.toml\"\n[targets]\nrto = \"2s\"\nrpo = \"1h\"\n",
            env!("CARGO_MANIFEST_DIR")
        ),
    )
    .unwrap();
    let (code, _out, err) = run(&mut drill(
        &state,
        drill_file.to_str().unwrap(),
        common::RECOVERY,
    ));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("result: MISSED"), "{err}");
    assert!(err.contains("missed the 2s target by"), "{err}");
    assert!(
        err.contains("(step `restore-qdrant` dominated the critical path)"),
        "{err}"
    );
    assert!(err.contains("report: "), "{err}");
}
