//! `drctl cleanup` end to end against the seeded sandbox, through the built binary: a drill
//! leaves leftovers (an undo that fails on an injected fault, or a drill killed mid-run),
//! cleanup removes them, which independent SDK calls confirm (no file system tagged with the
//! run id, no drill record of the run), a second cleanup is a no-op, `--all-stale` finds
//! such runs and skips running ones, and resources of other runs are never touched, even a
//! drill record sharing the run's 8-character name prefix.

mod cli_support;
mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use cli_support::{drctl, json_doc, run_expect, run_ids, write_file};
use common::{PRIMARY, RECOVERY, SandboxGuard};

const RUNBOOK: &str = r#"
name = "cleanup-test"
[regions]
primary = "us-east-1"
recovery = "us-west-2"
[targets]
rto = "30m"
rpo = "1h"
[[steps]]
id = "restore"
action = "backup.restore_efs"
region = "recovery"
[steps.with]
vault = "prod-infra-dr"
source_file_system = "fs-0123456789abcdef0"
subnets = ["subnet-0f2a0000000000001"]
[[steps]]
id = "dns"
action = "route53.failover"
region = "recovery"
after = ["restore"]
[steps.with]
zone = "prod-infra.example.com."
record = "app.prod-infra.example.com."
to = "secondary"
"#;

const DRILL: &str = r#"
name = "cleanup-drill"
runbook = "runbook.toml"
mode = "isolated"
"#;

/// A drill file (and its runbook) in `dir`.
fn drill_file(dir: &Path) -> String {
    write_file(dir, "runbook.toml", RUNBOOK);
    write_file(dir, "drill.toml", DRILL)
        .to_str()
        .unwrap()
        .to_string()
}

/// File systems in `region` tagged `drctl:run-id = run_id`, by independent SDK calls.
async fn tagged(region: &str, run_id: &str) -> Vec<String> {
    let efs = aws_sdk_efs::Client::new(&common::sdk_config(region).await);
    let out = efs.describe_file_systems().send().await.unwrap();
    out.file_systems()
        .iter()
        .filter(|fs| {
            fs.tags()
                .iter()
                .any(|t| t.key() == "drctl:run-id" && t.value() == run_id)
        })
        .map(|fs| fs.file_system_id().to_string())
        .collect()
}

async fn tagged_anywhere(run_id: &str) -> Vec<String> {
    let mut all = tagged(PRIMARY, run_id).await;
    all.extend(tagged(RECOVERY, run_id).await);
    all
}

fn zone_id(seed: &Value) -> String {
    seed["route53"]["hosted_zone_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Every record name in the zone, by an independent SDK call.
async fn record_names(zone: &str) -> Vec<String> {
    let r53 = aws_sdk_route53::Client::new(&common::sdk_config(PRIMARY).await);
    let out = r53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap();
    out.resource_record_sets()
        .iter()
        .map(|r| r.name().to_string())
        .collect()
}

/// `drctl-drill-<run id>.` as route53.failover names the run's drill records.
fn drill_prefix(run_id: &str) -> String {
    format!("drctl-drill-{}.", run_id.to_ascii_lowercase())
}

/// A file system in `region` tagged `drctl:run-id = run_id`, made behind drctl's back.
async fn tagged_file_system(region: &str, token: &str, run_id: &str) -> String {
    aws_sdk_efs::Client::new(&common::sdk_config(region).await)
        .create_file_system()
        .creation_token(token)
        .tags(
            aws_sdk_efs::types::Tag::builder()
                .key("drctl:run-id")
                .value(run_id)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .file_system_id()
        .to_string()
}

/// A file system and a drill record that belong to other runs: cleanup must leave them.
async fn decoys(zone: &str, run_id: &str) -> (String, String) {
    let fs = tagged_file_system(RECOVERY, "decoy", "20991231T000000Z-decoy1").await;
    // Same 8-character prefix as the run (a run of the same day), not in its journal.
    let name = format!("{}decoy.prod-infra.example.com.", drill_prefix(run_id));
    let record = ResourceRecordSet::builder()
        .name(&name)
        .r#type(RrType::A)
        .ttl(60)
        .resource_records(ResourceRecord::builder().value("10.9.9.9").build().unwrap())
        .build()
        .unwrap();
    aws_sdk_route53::Client::new(&common::sdk_config(PRIMARY).await)
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Create)
                        .resource_record_set(record)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    (fs, name)
}

fn assert_only_reads() {
    for r in common::requests() {
        let op = r["operation"].as_str().unwrap();
        assert!(
            ["Describe", "List", "Get"]
                .iter()
                .any(|p| op.starts_with(p)),
            "{}:{op} changes something",
            r["service"]
        );
    }
}

#[tokio::test]
async fn cleanup_finishes_an_undo_that_failed_and_a_second_cleanup_changes_nothing() {
    let guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"route53_propagation": 0.2, "restore_base": 0.2}));
    let zone = zone_id(&guard.seed);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let drill = drill_file(dir.path());

    // The drill's undo of the restore fails once: the restored file system stays.
    common::inject_fault(&json!({
        "service": "efs", "operation": "DeleteFileSystem", "kind": "access_denied", "count": 1
    }));
    let report = json_doc(&run_expect(&state, &["drill", &drill, "--output", "json"], 1).0);
    assert_eq!(report["cleanup"]["status"], "leftovers");
    let run_id = report["run_id"].as_str().unwrap().to_string();
    let left = tagged(RECOVERY, &run_id).await;
    assert_eq!(left.len(), 1, "the restored file system is left: {left:?}");
    let (decoy_fs, decoy_record) = decoys(&zone, &run_id).await;

    // --all-stale --dry-run finds the run and changes nothing.
    common::clear_requests();
    let planned = json_doc(
        &run_expect(
            &state,
            &["cleanup", "--all-stale", "--dry-run", "--output", "json"],
            0,
        )
        .0,
    );
    assert_eq!(planned["dry_run"], true);
    let runs = planned["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{planned:#}");
    assert_eq!(runs[0]["run_id"], run_id);
    assert_eq!(runs[0]["undone"][0]["step"], "restore");
    assert_eq!(runs[0]["undone"][0]["action"], "backup.restore_efs");
    assert!(
        runs[0]["undone"][0]["created"]
            .to_string()
            .contains(&left[0])
    );
    assert_only_reads();
    assert_eq!(tagged(RECOVERY, &run_id).await, left);

    // The real cleanup: the journal's undo, retried.
    let done = json_doc(&run_expect(&state, &["cleanup", &run_id, "--output", "json"], 0).0);
    let run = &done["runs"][0];
    assert_eq!(run["complete"], true, "{done:#}");
    assert_eq!(run["undone"][0]["step"], "restore");
    assert_eq!(run["failures"], json!([]));
    let kept = run["kept"].as_array().unwrap();
    assert_eq!(
        kept.len(),
        1,
        "the same-prefix record of another run: {done:#}"
    );
    assert!(kept[0]["id"].as_str().unwrap().starts_with(&decoy_record));

    assert!(
        tagged_anywhere(&run_id).await.is_empty(),
        "nothing tagged with the run id"
    );
    let names = record_names(&zone).await;
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with(&drill_prefix(&run_id)) && *n != decoy_record),
        "no drill record of the run: {names:?}"
    );
    assert!(names.contains(&decoy_record), "another run's record stays");
    assert!(
        tagged(RECOVERY, "20991231T000000Z-decoy1").await == vec![decoy_fs.clone()],
        "another run's file system stays"
    );

    // Again: nothing to do, and nothing changed.
    common::clear_requests();
    let again = json_doc(&run_expect(&state, &["cleanup", &run_id, "--output", "json"], 0).0);
    assert_eq!(again["runs"][0]["undone"], json!([]));
    assert_eq!(again["runs"][0]["removed"], json!([]));
    assert_eq!(again["runs"][0]["complete"], true);
    assert_only_reads();
    let none = json_doc(&run_expect(&state, &["cleanup", "--all-stale", "--output", "json"], 0).0);
    assert_eq!(none["runs"], json!([]));

    // The kept report now says the cleanup is done.
    let report = json_doc(&run_expect(&state, &["report", &run_id, "--output", "json"], 0).0);
    assert_eq!(
        report["cleanup"]["status"], "clean",
        "{:#}",
        report["cleanup"]
    );

    // The human listing names what it removed.
    let dir2 = tempfile::tempdir().unwrap();
    let state2 = dir2.path().join("state");
    common::inject_fault(&json!({
        "service": "efs", "operation": "DeleteFileSystem", "kind": "access_denied", "count": 1
    }));
    let run2 = json_doc(&run_expect(&state2, &["drill", &drill, "--output", "json"], 1).0);
    let run2 = run2["run_id"].as_str().unwrap();
    let (listing, _) = run_expect(&state2, &["cleanup", run2], 0);
    assert!(
        listing.contains("undone       step `restore` (backup.restore_efs)")
            && listing.contains("clean: 1 thing(s) removed"),
        "{listing}"
    );
}

#[tokio::test]
async fn a_killed_drill_is_refused_while_alive_then_found_and_cleaned_by_all_stale() {
    let guard = SandboxGuard::seeded().await;
    // The drill record's change stays PENDING for a minute: the drill hangs in its dns step.
    common::set_durations(&json!({"route53_propagation": 60.0, "restore_base": 0.2}));
    let zone = zone_id(&guard.seed);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let drill = drill_file(dir.path());
    let mut child = drctl(&state)
        .args(["drill", &drill])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let record = common::poll("the drill record", Duration::from_secs(30), async || {
        record_names(&zone)
            .await
            .into_iter()
            .find(|n| n.starts_with("drctl-drill-") && n.ends_with(".app.prod-infra.example.com."))
    })
    .await;
    let run_id = run_ids(&state).pop().expect("the drill's run");
    assert!(record.starts_with(&drill_prefix(&run_id)), "{record}");
    assert_eq!(
        tagged(RECOVERY, &run_id).await.len(),
        1,
        "restored before dns"
    );

    // While the drill runs, cleanup refuses it and --all-stale skips it.
    let (_, refused) = run_expect(&state, &["cleanup", &run_id], 4);
    assert!(refused.contains("still running"), "{refused}");
    let none = json_doc(&run_expect(&state, &["cleanup", "--all-stale", "--output", "json"], 0).0);
    assert_eq!(none["runs"], json!([]));

    // Killed: no undo ran, the lock is left to a dead process.
    child.kill().unwrap();
    child.wait().unwrap();
    common::set_durations(&json!({"route53_propagation": 0.2}));
    let done = json_doc(&run_expect(&state, &["cleanup", "--all-stale", "--output", "json"], 0).0);
    let runs = done["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{done:#}");
    let run = &runs[0];
    assert_eq!(run["run_id"], run_id);
    assert_eq!(run["complete"], true, "{done:#}");
    // The restore succeeded before the kill: its own undo. The drill record's step never
    // finished: found by name, and deleted because the run's journal names it.
    assert_eq!(run["undone"][0]["step"], "restore");
    let removed = run["removed"].as_array().unwrap();
    assert_eq!(removed.len(), 1, "{done:#}");
    assert_eq!(removed[0]["kind"], "route53-record");
    assert!(removed[0]["id"].as_str().unwrap().starts_with(&record));

    assert!(tagged_anywhere(&run_id).await.is_empty());
    assert!(!record_names(&zone).await.contains(&record));
    let none = json_doc(&run_expect(&state, &["cleanup", "--all-stale", "--output", "json"], 0).0);
    assert_eq!(
        none["runs"],
        json!([]),
        "a cleaned run is not stale any more"
    );
}

#[tokio::test]
async fn a_file_system_tagged_with_the_run_but_unknown_to_its_undo_is_found_by_tag() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"route53_propagation": 0.2, "restore_base": 0.2}));
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let drill = drill_file(dir.path());
    let report = json_doc(&run_expect(&state, &["drill", &drill, "--output", "json"], 0).0);
    let run_id = report["run_id"].as_str().unwrap().to_string();
    assert_eq!(report["cleanup"]["status"], "clean");
    // Something tagged with the run that no undo knows of (a step killed after tagging).
    let stray = tagged_file_system(PRIMARY, "stray", &run_id).await;

    let planned = json_doc(
        &run_expect(
            &state,
            &["cleanup", &run_id, "--dry-run", "--output", "json"],
            0,
        )
        .0,
    );
    assert_eq!(planned["runs"][0]["removed"][0]["id"], stray);
    assert_eq!(tagged(PRIMARY, &run_id).await, vec![stray.clone()]);
    let done = json_doc(&run_expect(&state, &["cleanup", &run_id, "--output", "json"], 0).0);
    let removed = &done["runs"][0]["removed"][0];
    assert_eq!(
        (&removed["kind"], &removed["id"], &removed["region"]),
        (&json!("efs-file-system"), &json!(stray), &json!(PRIMARY))
    );
    assert!(tagged_anywhere(&run_id).await.is_empty());
}

#[tokio::test]
async fn an_unknown_run_is_invalid_before_any_aws_call() {
    let dir = tempfile::tempdir().unwrap();
    let (_, err) = run_expect(dir.path(), &["cleanup", "20260101T000000Z-nope00"], 2);
    assert!(
        err.contains("there is no run `20260101T000000Z-nope00`"),
        "{err}"
    );
    let (_, err) = run_expect(dir.path(), &["cleanup"], 2);
    assert!(err.contains("--all-stale"), "{err}");
}

const LIVE_DRILL: &str = r#"
name = "live-cleanup-drill"
runbook = "runbook.toml"
mode = "live"
"#;

#[tokio::test]
async fn a_pending_live_failback_waits_for_yes_and_then_moves_production_back() {
    let guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"route53_propagation": 0.2, "restore_base": 0.2}));
    let zone = zone_id(&guard.seed);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    write_file(dir.path(), "runbook.toml", RUNBOOK);
    let drill = write_file(dir.path(), "live.toml", LIVE_DRILL);
    let primary_values = async || {
        let r53 = aws_sdk_route53::Client::new(&common::sdk_config(PRIMARY).await);
        let out = r53
            .list_resource_record_sets()
            .hosted_zone_id(&zone)
            .send()
            .await
            .unwrap();
        out.resource_record_sets()
            .iter()
            .find(|r| {
                r.name() == "app.prod-infra.example.com."
                    && r.set_identifier() == Some("primary-us-east-1")
            })
            .map(|r| r.resource_records()[0].value().to_string())
            .unwrap()
    };
    let before = primary_values().await;

    // A live drill that succeeds without `--approve failback` leaves production failed over.
    let report = json_doc(
        &run_expect(
            &state,
            &[
                "drill",
                drill.to_str().unwrap(),
                "--yes",
                "--output",
                "json",
            ],
            0,
        )
        .0,
    );
    let run_id = report["run_id"].as_str().unwrap().to_string();
    assert_eq!(report["cleanup"]["status"], "failback_pending");
    assert_ne!(
        primary_values().await,
        before,
        "traffic is on the secondary's values"
    );
    let restored = tagged(RECOVERY, &run_id).await;
    assert_eq!(restored.len(), 1);

    // --all-stale lists it; without --yes (and without a terminal) it is refused, untouched.
    let planned = json_doc(
        &run_expect(
            &state,
            &["cleanup", "--all-stale", "--dry-run", "--output", "json"],
            0,
        )
        .0,
    );
    let steps: Vec<&str> = planned["runs"][0]["undone"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["dns", "restore"], "failback order: newest first");
    let (_, err) = run_expect(&state, &["cleanup", &run_id], 4);
    assert!(
        err.contains("failback is pending") && err.contains("--yes"),
        "{err}"
    );
    assert_ne!(primary_values().await, before);
    assert_eq!(tagged(RECOVERY, &run_id).await, restored);

    // Confirmed: the failback runs, then the search by id finds nothing more.
    let done = json_doc(
        &run_expect(
            &state,
            &["cleanup", &run_id, "--yes", "--output", "json"],
            0,
        )
        .0,
    );
    assert_eq!(done["runs"][0]["complete"], true, "{done:#}");
    assert_eq!(primary_values().await, before, "production is back");
    assert!(tagged_anywhere(&run_id).await.is_empty());
    let none = json_doc(&run_expect(&state, &["cleanup", "--all-stale", "--output", "json"], 0).0);
    assert_eq!(none["runs"], json!([]));
}
