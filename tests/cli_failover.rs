//! `drctl failover` and `drctl resume` end to end against the sandbox: refusal without a
//! terminal, dry runs, the lock, Ctrl-C, and crashes (SIGKILL) at several points followed by
//! `resume`, compared with an uninterrupted run. Evidence comes from the sandbox's request
//! log and independent SDK reads, never from wall-clock timing.

mod cli_support;
mod common;

use cli_support::*;
use serde_json::{Value, json};

const RUNBOOK: &str = "runbooks/region-failover.toml";

fn failover(state: &std::path::Path) -> std::process::Command {
    let mut cmd = drctl(state);
    cmd.args([
        "failover",
        RUNBOOK,
        "--yes",
        "--approve",
        "approve-cutover",
        "--var",
    ])
    .arg(health_var(common::RECOVERY));
    cmd
}

#[tokio::test]
async fn without_a_terminal_and_without_yes_it_refuses_and_makes_no_call() {
    let _guard = common::SandboxGuard::seeded().await;
    common::clear_requests();
    let (_dir, state) = state_dir();
    let (code, _out, err) = run(drctl(&state).args(["failover", RUNBOOK]));
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("refusing to fail over without confirmation"),
        "{err}"
    );
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(common::requests().len(), 0, "no AWS call at all");
    assert!(run_ids(&state).is_empty(), "no run was started");
}

#[tokio::test]
async fn dry_run_prints_the_mutating_calls_and_makes_none() {
    let _guard = common::SandboxGuard::seeded().await;
    common::clear_requests();
    let (_dir, state) = state_dir();
    let (code, out, err) = run(drctl(&state).args(["failover", RUNBOOK, "--dry-run"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("restore-qdrant: backup:StartRestoreJob"),
        "{out}"
    );
    assert!(out.contains("scale-services:"), "{out}");
    assert!(out.contains("shift-traffic:"), "{out}");
    assert_eq!(common::requests().len(), 0, "a dry run makes no AWS call");

    let (code, out, _) =
        run(drctl(&state).args(["failover", RUNBOOK, "--dry-run", "--output", "json"]));
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["dry_run"], true);
    assert_eq!(doc["steps"].as_array().unwrap().len(), 12);
}

/// An uninterrupted failover: the reference for the crash tests.
async fn reference_state() -> Value {
    let _guard = common::SandboxGuard::seeded().await;
    let (_dir, state) = state_dir();
    let (code, out, err) = run(failover(&state).args(["--output", "json"]));
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["run_status"], "succeeded");
    assert_eq!(calls("backup", "StartRestoreJob"), 1);
    let s = failover_state().await;
    // The failover really happened: traffic record, services, secrets, data.
    let records = s["records"].to_string();
    assert!(
        records.contains("primary-us-east-1") && records.contains("10.1.1.10"),
        "{records}"
    );
    assert!(
        !records.contains("10.0.1.10"),
        "the primary no longer answers with us-east-1: {records}"
    );
    assert_eq!(
        s["ecs_us_west_2"],
        json!([
            "frontend=2/2",
            "backend=2/2",
            "ai-service=1/1",
            "redis=1/1",
            "qdrant=1/1"
        ])
    );
    assert_eq!(s["secrets_us_west_2"][0], "prod-infra/backend primary=None");
    assert_eq!(s["efs_us_west_2"], 1);
    assert_eq!(s["mount_targets_us_west_2"], 2);
    // Capacity came first, and Qdrant serves the restored data from the restore directory.
    assert_eq!(
        s["capacity_us_west_2"],
        json!(["min=Some(0) max=Some(5) desired=Some(2)"])
    );
    let (code, health) = common::app_health(common::RECOVERY);
    assert_eq!(code, 200, "{health}");
    let qdrant = &health["services"]["qdrant"];
    assert_eq!(qdrant["data"], "restored", "{health}");
    assert!(
        s["qdrant_task_definition_us_west_2"][0]
            .as_str()
            .unwrap()
            .ends_with(":2"),
        "a new revision: {s}"
    );
    s
}

/// Kill drctl (SIGKILL) when `point` is seen, resume, and compare with the reference.
async fn crash_and_resume(point: &str, want: impl Fn(&Value) -> bool, reference: &Value) {
    let _guard = common::SandboxGuard::seeded().await;
    // Long enough restores that the kill lands while the job is in flight.
    common::set_durations(&json!({ "restore_base": 4.0 }));
    let (_dir, state) = state_dir();
    let (mut child, events) = spawn_jsonl(&mut failover(&state));
    wait_event(&events, point, want);
    child.kill().unwrap();
    let _ = child.wait();
    let ids = run_ids(&state);
    assert_eq!(ids.len(), 1);
    let journal_before = journal(&state, &ids[0]);
    assert!(
        !journal_before
            .iter()
            .any(|e| e["record"]["kind"] == "run_finished"),
        "killed before the end ({point})"
    );

    let (code, _out, err) =
        run(drctl(&state).args(["resume", &ids[0], "--yes", "--approve", "approve-cutover"]));
    assert_eq!(code, 0, "resume after a kill at {point}: {err}");
    // No mutating call was repeated.
    assert_eq!(
        calls("backup", "StartRestoreJob"),
        1,
        "one restore job ({point})"
    );
    assert_eq!(
        calls("route53", "ChangeResourceRecordSets"),
        1,
        "one record change ({point})"
    );
    assert_eq!(
        calls("secretsmanager", "StopReplicationToReplica"),
        2,
        "one promotion per secret ({point})"
    );
    assert!(
        calls("efs", "CreateMountTarget") <= 2,
        "no extra mount targets ({point})"
    );
    assert_eq!(
        &failover_state().await,
        reference,
        "same final state as an uninterrupted run ({point})"
    );
}

#[tokio::test]
async fn a_killed_failover_resumes_to_the_same_state_without_repeating_a_mutating_call() {
    let reference = reference_state().await;
    crash_and_resume(
        "restore job in flight",
        |e| {
            e["event"] == "step_progress"
                && e["step"] == "restore-qdrant"
                && e["message"].as_str().unwrap_or("").contains("restore job")
        },
        &reference,
    )
    .await;
    crash_and_resume(
        "restore-qdrant succeeded",
        |e| e["event"] == "step_succeeded" && e["step"] == "restore-qdrant",
        &reference,
    )
    .await;
    crash_and_resume(
        "shift-traffic started",
        |e| e["event"] == "step_started" && e["step"] == "shift-traffic",
        &reference,
    )
    .await;
    crash_and_resume(
        "probe-app started",
        |e| e["event"] == "step_started" && e["step"] == "probe-app",
        &reference,
    )
    .await;
}

#[tokio::test]
async fn ctrl_c_leaves_a_resumable_run_with_its_journal_intact() {
    let _guard = common::SandboxGuard::seeded().await;
    common::set_durations(&json!({ "restore_base": 4.0 }));
    let (_dir, state) = state_dir();
    let (mut child, events) = spawn_jsonl(&mut failover(&state));
    wait_event(&events, "restore in flight", |e| {
        e["event"] == "step_progress" && e["message"].as_str().unwrap_or("").contains("restore job")
    });
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(5), "exit 5: interrupted, resumable");
    let id = &run_ids(&state)[0];
    let kinds: Vec<String> = journal(&state, id)
        .iter()
        .map(|e| e["record"]["kind"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(kinds.contains(&"run_interrupted".to_string()), "{kinds:?}");
    assert_eq!(kinds.last().map(String::as_str), Some("run_finished"));
    let (code, _, err) =
        run(drctl(&state).args(["resume", id, "--yes", "--approve", "approve-cutover"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(calls("backup", "StartRestoreJob"), 1);
}

#[tokio::test]
async fn a_second_failover_of_the_same_runbook_is_refused_naming_the_holder() {
    let _guard = common::SandboxGuard::seeded().await;
    common::set_durations(&json!({ "restore_base": 30.0 }));
    let (_dir, state) = state_dir();
    let (mut first, events) = spawn_jsonl(&mut failover(&state));
    let started = wait_event(&events, "run started", |e| e["event"] == "run_started");
    let holder = started["run_id"].as_str().unwrap().to_string();
    let (code, _, err) = run(&mut failover(&state));
    assert_eq!(code, 4, "{err}");
    assert!(err.contains(&format!("locked by run {holder}")), "{err}");
    assert!(err.contains(&format!("pid {}", first.id())), "{err}");
    first.kill().unwrap();
    let _ = first.wait();
    // The holder is gone: its lock is stale and named as such.
    let (code, _, err) = run(&mut failover(&state));
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("stale lock"), "{err}");
    assert!(err.contains(&format!("drctl resume {holder}")), "{err}");
}

#[tokio::test]
async fn access_denied_fails_at_once_naming_step_resource_and_code() {
    let _guard = common::SandboxGuard::seeded().await;
    common::inject_fault(
        &json!({ "service": "ecs", "operation": "UpdateService", "kind": "access_denied", "count": 1 }),
    );
    let (_dir, state) = state_dir();
    let (code, _out, err) = run(&mut failover(&state));
    assert_eq!(code, 1, "{err}");
    // The first UpdateService puts Qdrant on the restored file system's revision.
    assert!(err.contains("qdrant-on-restore"), "{err}");
    assert!(err.contains("service qdrant"), "{err}");
    assert!(err.contains("AccessDeniedException"), "{err}");
    assert!(err.contains("prod-infra-production-cluster"), "{err}");
    assert_eq!(
        calls("ecs", "UpdateService"),
        1,
        "a fatal error is not retried"
    );
}
