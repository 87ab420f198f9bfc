//! `drctl check` end to end against the seeded sandbox, through the built binary: the RPO
//! exposure of every recovered resource, judged against the drill's target, with the plain
//! statement for hourly backups; each figure compared with the sandbox's own timestamps
//! (never with the wall clock); exit codes 0, 1, 2 and 3; and, from the request log, that
//! check makes no mutating call.

mod cli_support;
mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use cli_support::{json_doc, mutating_requests, run_expect, write_file};
use common::{PRIMARY, RECOVERY, SandboxGuard};

const QUARTERLY: &str = "drills/quarterly.toml";
const MONTHLY: &str = "drills/monthly.toml";
const DR_VAULT_ROW: &str =
    "efs fs-0123456789abcdef0 (us-east-1) in vault prod-infra-dr (us-west-2)";

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("{v} is not a time"))
        .parse()
        .unwrap()
}

/// The one result row of `resource` in a check document.
fn row<'a>(doc: &'a Value, resource: &str) -> &'a Value {
    let rows: Vec<&Value> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["resource"] == resource)
        .collect();
    assert_eq!(rows.len(), 1, "one row for {resource} in {doc:#}");
    rows[0]
}

fn exposure(row: &Value) -> f64 {
    row["exposure_seconds"]
        .as_f64()
        .unwrap_or_else(|| panic!("no exposure in {row:#}"))
}

/// Seconds from `from` to the check's `checked_at`.
fn since(doc: &Value, from: DateTime<Utc>) -> f64 {
    (at(&doc["checked_at"]) - from).num_milliseconds() as f64 / 1000.0
}

/// Equal to the millisecond: a time the sandbox wrote as RFC 3339 (milliseconds) and the
/// same time drctl read through the SDK (epoch seconds parsed as a float, so …14.685 may
/// arrive as …14.684999990) can fall on either side of a millisecond.
fn same_ms(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.0015
}

#[tokio::test]
async fn the_newest_seeded_backup_is_the_exposure_and_hourly_backups_cannot_give_5_minutes() {
    let guard = SandboxGuard::seeded().await;
    let state = tempfile::tempdir().unwrap();
    let (stdout, stderr) = run_expect(
        state.path(),
        &["check", QUARTERLY, "--output", "json", "--emf"],
        3,
    );
    let doc = json_doc(&stdout);
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["status"], "exceeded");

    let newest = &guard.seed["backup"]["recovery_points"]["prod-infra-dr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| at(&p["creation_time"]))
        .max()
        .unwrap();
    let efs = row(&doc, DR_VAULT_ROW);
    let seconds = exposure(efs);
    assert!(
        same_ms(seconds, since(&doc, *newest)),
        "{seconds} s is the age of the newest copy in the recovery vault"
    );
    assert_eq!(efs["runbook"], "region-failover");
    assert_eq!(efs["drill"], "quarterly");
    assert_eq!(efs["step"], "restore-qdrant");
    assert_eq!(efs["kind"], "recovery-point");
    assert_eq!(efs["target_seconds"], 300.0);
    assert_eq!(efs["met"], false);
    assert!(
        (at(&efs["consistent_at"]) - *newest)
            .num_milliseconds()
            .abs()
            < 1
    );
    let statement = efs["statement"].as_str().unwrap();
    assert!(
        statement.contains(
            "Hourly EFS backups cannot give a 5m RPO: the best case is 1h (AWS Backup snapshots EFS at most hourly); use EFS replication"
        ),
        "{statement}"
    );
    let evidence = efs["evidence"].to_string();
    assert!(
        evidence.contains("backup:ListRecoveryPointsByBackupVault"),
        "{evidence}"
    );
    assert!(
        evidence.contains("rule `hourly` of backup plan `prod-infra-efs-hourly` (us-east-1): cron(0 * ? * * *) (every 1h)")
            && evidence.contains("copies to vault prod-infra-dr (us-west-2)"),
        "{evidence}"
    );

    // Everything else the runbook recovers is current.
    for resource in [
        "ecr repository prod-infra/frontend (us-east-1 -> us-west-2)",
        "ecr repository prod-infra/backend (us-east-1 -> us-west-2)",
        "ecr repository prod-infra/ai-service (us-east-1 -> us-west-2)",
        "secret prod-infra/backend (replica in us-west-2 of us-east-1)",
        "secret prod-infra/ai-service (replica in us-west-2 of us-east-1)",
    ] {
        let r = row(&doc, resource);
        assert_eq!((exposure(r), &r["met"]), (0.0, &json!(true)), "{r:#}");
    }
    assert_eq!(doc["results"].as_array().unwrap().len(), 6);

    // --emf: one RPOExposure metric line per resource on stderr, the same figures.
    let metrics: Vec<Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("RPOExposure").is_some())
        .collect();
    assert_eq!(metrics.len(), 6, "{stderr}");
    let efs_metric = metrics
        .iter()
        .find(|m| m["Resource"] == DR_VAULT_ROW)
        .expect("the EFS line");
    assert_eq!(efs_metric["RPOExposure"], efs["exposure_seconds"]);
    assert_eq!(
        (
            &efs_metric["Runbook"],
            &efs_metric["Drill"],
            &efs_metric["RPOTarget"]
        ),
        (
            &json!("region-failover"),
            &json!("quarterly"),
            &json!(300.0)
        )
    );
    assert_eq!(
        efs_metric["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "drctl"
    );

    // The table says the same, on stdout.
    let (table, _) = run_expect(state.path(), &["check", QUARTERLY], 3);
    assert!(
        table.contains("drill `quarterly` (runbook `region-failover`"),
        "{}",
        table
    );
    assert!(table.contains(DR_VAULT_ROW));
    assert!(table.contains("EXCEEDED"));
    assert!(table.contains("Hourly EFS backups cannot give a 5m RPO"));
    assert!(
        table.contains("EXCEEDED: 1 of 6 resources over target"),
        "{}",
        table
    );
}

#[tokio::test]
async fn a_two_minute_old_recovery_point_is_within_five_minutes_but_the_schedule_still_is_not() {
    let _guard = SandboxGuard::seeded().await;
    let point = common::create_recovery_point(
        &json!({"vault": "prod-infra-dr", "region": RECOVERY, "age_seconds": 120}),
    );
    let state = tempfile::tempdir().unwrap();
    let doc = json_doc(&run_expect(state.path(), &["check", QUARTERLY, "--output", "json"], 0).0);
    assert_eq!(doc["status"], "ok");
    let efs = row(&doc, DR_VAULT_ROW);
    let seconds = exposure(efs);
    assert!(
        same_ms(seconds, since(&doc, at(&point["creation_time"]))),
        "{seconds}"
    );
    assert_eq!(efs["met"], true);
    assert!(
        efs["evidence"]
            .to_string()
            .contains(point["recovery_point_arn"].as_str().unwrap())
    );
    let statement = efs["statement"].as_str().unwrap();
    assert!(statement.contains("within the 5m target"), "{statement}");
    assert!(
        statement.contains("Hourly EFS backups cannot give a 5m RPO"),
        "{statement}"
    );
}

#[tokio::test]
async fn a_lagging_secret_replica_shows_the_age_of_the_version_it_lacks() {
    let _guard = SandboxGuard::seeded().await;
    let lag = common::lag_secret("prod-infra/backend", RECOVERY, Some("{\"rotated\": true}"));
    let missing = lag["primary_current_version_id"]
        .as_str()
        .unwrap()
        .to_string();
    let versions = aws_sdk_secretsmanager::Client::new(&common::sdk_config(PRIMARY).await)
        .list_secret_version_ids()
        .secret_id("prod-infra/backend")
        .send()
        .await
        .unwrap();
    let created = versions
        .versions()
        .iter()
        .find(|v| v.version_id() == Some(missing.as_str()))
        .and_then(|v| v.created_date())
        .map(|d| DateTime::from_timestamp(d.secs(), d.subsec_nanos()).unwrap())
        .expect("the new version's creation date");
    let state = tempfile::tempdir().unwrap();
    let doc = json_doc(&run_expect(state.path(), &["check", QUARTERLY, "--output", "json"], 3).0);
    let secret = row(
        &doc,
        "secret prod-infra/backend (replica in us-west-2 of us-east-1)",
    );
    // The version's own creation date (the sandbox used to answer the time of the listing,
    // which made this flaky): drctl's figure is exactly the check's time minus it.
    assert_eq!(at(&secret["consistent_at"]), created, "{secret:#}");
    assert_eq!(exposure(secret), since(&doc, created), "{secret:#}");
    let named = at(&lag["new_version_created_date"]) - created;
    assert!(
        named.num_microseconds().unwrap().abs() < 1000,
        "the lag control names the same date, to the millisecond: {named}"
    );
    assert_eq!(secret["met"], true, "seconds old, within 5 minutes");
    assert_eq!(secret["kind"], "secret-version");
    let evidence = secret["evidence"].to_string();
    assert!(
        evidence.contains(&missing),
        "names the version it lacks: {evidence}"
    );
    assert!(evidence.contains("InProgress"), "{evidence}");
    assert!(
        secret["statement"]
            .as_str()
            .unwrap()
            .starts_with("the replica lacks a version created"),
        "{secret:#}"
    );
    // The other secret is unaffected.
    let other = row(
        &doc,
        "secret prod-infra/ai-service (replica in us-west-2 of us-east-1)",
    );
    assert_eq!(exposure(other), 0.0);
    // No value was read.
    assert!(common::requests_for("secretsmanager", "GetSecretValue").is_empty());
}

#[tokio::test]
async fn an_unreplicated_image_is_exposed_since_its_push() {
    let _guard = SandboxGuard::seeded().await;
    let pushed = common::push_unreplicated_image("prod-infra/frontend", "hotfix");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let state = tempfile::tempdir().unwrap();
    let doc = json_doc(&run_expect(state.path(), &["check", QUARTERLY, "--output", "json"], 3).0);
    let ecr = row(
        &doc,
        "ecr repository prod-infra/frontend (us-east-1 -> us-west-2)",
    );
    let seconds = exposure(ecr);
    let expected = since(&doc, at(&pushed["pushed_at"]));
    assert_eq!(
        seconds, expected,
        "exposure {seconds} s, the sandbox pushed {expected} s before the check"
    );
    assert_eq!(ecr["met"], true);
    assert!(
        ecr["evidence"]
            .to_string()
            .contains(pushed["digest"].as_str().unwrap()),
        "{ecr:#}"
    );
    let other = row(
        &doc,
        "ecr repository prod-infra/backend (us-east-1 -> us-west-2)",
    );
    assert_eq!(exposure(other), 0.0);
}

#[tokio::test]
async fn replication_lag_is_the_exposure_of_an_efs_replica() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"efs_replication_enable": 0.2, "efs_replication_lag": 3.0}));
    let efs = aws_sdk_efs::Client::new(&common::sdk_config(PRIMARY).await);
    let created = efs
        .create_replication_configuration()
        .source_file_system_id("fs-0123456789abcdef0")
        .destinations(
            aws_sdk_efs::types::DestinationToCreate::builder()
                .region(RECOVERY)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let replica = created.destinations()[0].file_system_id().to_string();
    let west = aws_sdk_efs::Client::new(&common::sdk_config(RECOVERY).await);
    common::poll(
        "replication to be ENABLED",
        Duration::from_secs(20),
        async || {
            let out = west
                .describe_replication_configurations()
                .file_system_id(&replica)
                .send()
                .await
                .ok()?;
            let status = out
                .replications()
                .first()?
                .destinations()
                .first()?
                .status()
                .clone();
            (status == aws_sdk_efs::types::ReplicationStatus::Enabled).then_some(())
        },
    )
    .await;
    // Past the first `lag` seconds the sandbox reports LastReplicatedTimestamp = now - lag.
    tokio::time::sleep(Duration::from_secs(4)).await;

    let dir = tempfile::tempdir().unwrap();
    let runbook = write_file(
        dir.path(),
        "replica.toml",
        &format!(
            r#"
name = "replica-failover"
[regions]
primary = "us-east-1"
recovery = "us-west-2"
[targets]
rpo = "1s"
[[steps]]
id = "promote-replica"
action = "efs.replication_failover"
region = "recovery"
[steps.with]
destination_file_system = "{replica}"
"#
        ),
    );
    let doc = json_doc(
        &run_expect(
            dir.path(),
            &["check", runbook.to_str().unwrap(), "--output", "json"],
            3,
        )
        .0,
    );
    let r = row(&doc, &format!("efs replica {replica} (us-west-2)"));
    let consistent_at = at(&r["consistent_at"]);
    assert_eq!(exposure(r), since(&doc, consistent_at), "{r:#}");
    // The replica's LastReplicatedTimestamp only moves forward: what the check saw is no
    // later than what the sandbox reports after it.
    let after = west
        .describe_replication_configurations()
        .file_system_id(&replica)
        .send()
        .await
        .unwrap();
    let last = after.replications()[0].destinations()[0]
        .last_replicated_timestamp()
        .map(drctl::aws::to_chrono)
        .unwrap();
    assert!(consistent_at <= last, "{consistent_at} vs {last}");
    assert_eq!(r["kind"], "replication");
    assert_eq!(r["met"], false);
    assert_eq!(r["drill"], Value::Null);
    assert!(
        r["evidence"].to_string().contains("last replicated"),
        "{r:#}"
    );
    assert!(
        r["statement"]
            .as_str()
            .unwrap()
            .starts_with("last replicated"),
        "{r:#}"
    );
}

#[tokio::test]
async fn check_makes_no_mutating_call() {
    let _guard = SandboxGuard::seeded().await;
    common::clear_requests();
    let state = tempfile::tempdir().unwrap();
    // No file: every drill in ./drills.
    let doc = json_doc(&run_expect(state.path(), &["check", "--output", "json"], 3).0);
    let drills: Vec<&str> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["drill"].as_str())
        .collect();
    for drill in ["annual", "monthly", "quarterly"] {
        assert!(drills.contains(&drill), "{drill} checked: {drills:?}");
    }
    let requests = common::requests();
    assert!(requests.len() > 5, "check asked AWS: {requests:?}");
    assert_eq!(mutating_requests(), Vec::<Value>::new(), "check only reads");
    // A resource several drills recover is asked about once.
    assert_eq!(
        common::requests_for("backup", "ListRecoveryPointsByBackupVault").len(),
        2,
        "one per vault"
    );
}

#[tokio::test]
async fn an_aws_error_exits_1_naming_the_resource_and_the_code() {
    let _guard = SandboxGuard::seeded().await;
    common::inject_fault(&json!({
        "service": "backup", "operation": "ListRecoveryPointsByBackupVault",
        "kind": "access_denied", "count": 5
    }));
    let state = tempfile::tempdir().unwrap();
    let (stdout, stderr) = run_expect(state.path(), &["check", MONTHLY, "--output", "json"], 1);
    let doc = json_doc(&stdout);
    assert_eq!(doc["status"], "error");
    let efs = row(
        &doc,
        "efs fs-0123456789abcdef0 (us-east-1) in vault prod-infra-backup (us-east-1)",
    );
    assert_eq!(efs["error_code"], "AccessDeniedException");
    assert_eq!(efs["exposure_seconds"], Value::Null);
    assert_eq!(efs["met"], Value::Null);
    let error = efs["error"].as_str().unwrap();
    assert!(
        error.starts_with("vault prod-infra-backup (us-east-1): backup:ListRecoveryPointsByBackupVault: AccessDeniedException"),
        "{error}"
    );
    assert!(
        stderr.contains("AccessDeniedException") && stderr.contains("vault prod-infra-backup"),
        "{}",
        stderr
    );
}

#[tokio::test]
async fn invalid_files_exit_2_and_nothing_is_measured() {
    let _guard = SandboxGuard::seeded().await;
    common::clear_requests();
    let dir = tempfile::tempdir().unwrap();
    let broken = write_file(
        dir.path(),
        "broken.toml",
        "name = \"x\"\n[[steps]]\nid = \"a\"\naction = \"backup.restore\"\n",
    );
    let (stdout, stderr) = run_expect(
        dir.path(),
        &[
            "check",
            QUARTERLY,
            broken.to_str().unwrap(),
            "--output",
            "json",
        ],
        2,
    );
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("broken.toml"), "{stderr}");
    assert!(stderr.contains("nothing was checked"), "{stderr}");
    assert!(common::requests().is_empty());
}
