//! Every AWS operation drctl makes is allowed by the policy `drctl iam-policy` prints for the
//! runbook that made it. The calls are recorded by drctl's own client interceptor
//! (`DRCTL_CALL_LOG`), in real runs of the seed runbooks against the sandbox: a failover, an
//! isolated drill (with its undo) and a live drill (with its failback).

mod cli_support;
mod common;

use std::collections::BTreeSet;
use std::path::Path;

use cli_support::*;
use serde_json::Value;

fn recorded(log: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn allowed(runbook: &str, global: &[&str]) -> BTreeSet<String> {
    let (_d, state) = state_dir();
    let (code, out, err) = run(drctl(&state).args(global).args(["iam-policy", runbook]));
    assert_eq!(code, 0, "{err}");
    let policy: Value = serde_json::from_str(&out).unwrap();
    drctl::actions::iam::allowed_actions(&policy)
}

fn assert_covered(runbook: &str, global: &[&str], log: &Path) {
    let calls = recorded(log);
    assert!(calls.len() > 10, "calls were recorded: {calls:?}");
    let allowed = allowed(runbook, global);
    let missing: Vec<&String> = calls.iter().filter(|c| !allowed.contains(*c)).collect();
    assert!(
        missing.is_empty(),
        "{runbook}: calls not in its policy: {missing:?}"
    );
}

#[tokio::test]
async fn every_call_of_the_seed_runbooks_is_in_their_printed_policy() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], &str); 4] = [
        (
            "runbooks/region-failover.toml",
            &[
                "failover",
                "runbooks/region-failover.toml",
                "--yes",
                "--approve",
                "approve-cutover",
            ],
            common::RECOVERY,
        ),
        (
            "runbooks/region-failover.toml",
            &["drill", "drills/quarterly.toml"],
            common::RECOVERY,
        ),
        (
            "runbooks/region-failover.toml",
            &[
                "drill",
                "drills/annual.toml",
                "--yes",
                "--approve",
                "approve-cutover",
                "--approve",
                "failback",
            ],
            common::RECOVERY,
        ),
        (
            "runbooks/efs-restore.toml",
            &["drill", "drills/monthly.toml"],
            common::PRIMARY,
        ),
    ];
    for (i, (runbook, args, region)) in cases.iter().enumerate() {
        let _guard = common::SandboxGuard::seeded().await;
        let (_d, state) = state_dir();
        let log = dir.path().join(format!("calls-{i}.log"));
        let (code, _out, err) = run(drctl(&state)
            .env("DRCTL_CALL_LOG", &log)
            .args(*args)
            .arg("--var")
            .arg(health_var(region)));
        assert!(code == 0 || code == 3, "{args:?}: {err}");
        assert_covered(runbook, &[], &log);
    }
}

#[tokio::test]
async fn a_scheduled_run_with_shared_state_and_notifications_is_covered_too() {
    // The Lambda role: the runbook's policy printed with the same --state and --notify.
    let _guard = common::SandboxGuard::seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let (_d, state) = state_dir();
    let url = format!("dynamodb://drctl-state?region={}", common::RECOVERY);
    let topic = format!(
        "arn:aws:sns:{}:{}:prod-infra-dr-alerts",
        common::RECOVERY,
        common::ACCOUNT
    );
    let (code, _, err) = run(drctl(&state).args(["--state", &url, "state", "init"]));
    assert_eq!(code, 0, "{err}");
    let global = ["--state", url.as_str(), "--notify", topic.as_str()];
    let log = dir.path().join("calls.log");
    let (code, _out, err) = run(drctl(&state)
        .env("DRCTL_CALL_LOG", &log)
        .args(global)
        .args(["drill", "drills/monthly.toml", "--var"])
        .arg(health_var(common::PRIMARY)));
    assert_eq!(code, 0, "{err}");
    let calls = recorded(&log);
    assert!(calls.contains("dynamodb:PutItem"), "{calls:?}");
    assert!(calls.contains("sns:Publish"), "{calls:?}");
    assert_covered("runbooks/efs-restore.toml", &global, &log);
}
