//! `drctl schedule plan|apply|remove` end to end against the sandbox, through the built
//! binary. What drctl made is read back with independent `aws_sdk_scheduler` calls; that a
//! command made no mutating call is read from the sandbox's request log.

mod cli_support;
mod common;

use std::path::{Path, PathBuf};

use aws_sdk_scheduler::types::{FlexibleTimeWindow, FlexibleTimeWindowMode, Target};
use serde_json::{Value, json};

use cli_support::{json_doc, mutating_requests, run_expect, write_file};
use common::{RECOVERY, SandboxGuard};

const FUNCTION: &str = "arn:aws:lambda:us-west-2:123456789012:function:drctl";
const ROLE: &str = "arn:aws:iam::123456789012:role/drctl-scheduler";
const GROUP: &str = "drctl";

/// `drctl --region us-west-2 schedule ACTION --function-arn .. --role-arn .. EXTRA...`
fn schedule_args<'a>(action: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--region", RECOVERY, "schedule", action];
    if action != "remove" {
        args.extend(["--function-arn", FUNCTION, "--role-arn", ROLE]);
    }
    args.extend(extra);
    args
}

async fn client() -> aws_sdk_scheduler::Client {
    aws_sdk_scheduler::Client::new(&common::sdk_config(RECOVERY).await)
}

/// Every schedule in `group` (all names, not only drctl's), read in full, by name.
async fn schedules(group: &str) -> Vec<Value> {
    let c = client().await;
    let listed = c.list_schedules().group_name(group).send().await.unwrap();
    let mut names: Vec<String> = listed
        .schedules()
        .iter()
        .filter_map(|s| s.name().map(str::to_owned))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let s = c
            .get_schedule()
            .group_name(group)
            .name(&name)
            .send()
            .await
            .unwrap();
        let target = s.target().unwrap();
        out.push(json!({
            "name": name,
            "expression": s.schedule_expression(),
            "timezone": s.schedule_expression_timezone(),
            "window": s.flexible_time_window().map(|w| w.mode().as_str().to_string()),
            "description": s.description(),
            "state": s.state().map(|s| s.as_str().to_string()),
            "target": target.arn(),
            "role": target.role_arn(),
            "input": target.input().map(|i| serde_json::from_str::<Value>(i).unwrap()),
        }));
    }
    out
}

fn names(schedules: &[Value]) -> Vec<&str> {
    schedules
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect()
}

fn by_name<'a>(schedules: &'a [Value], name: &str) -> &'a Value {
    schedules
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no schedule {name} in {schedules:#?}"))
}

/// Scheduler requests that change state.
fn scheduler_mutations() -> Vec<Value> {
    mutating_requests()
        .into_iter()
        .filter(|r| r["service"] == "scheduler")
        .collect()
}

/// A drill file in `dir` running the efs-restore runbook on `schedule`.
fn drill(dir: &Path, name: &str, schedule: &str) -> PathBuf {
    let runbook = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/efs-restore.toml");
    write_file(
        dir,
        &format!("{name}.toml"),
        &format!(
            "name = \"{name}\"\nrunbook = \"{}\"\nmode = \"isolated\"\nschedule = \"{schedule}\"\n",
            runbook.display()
        ),
    )
}

/// A schedule drctl does not own, in `group` (created with the SDK, not drctl).
async fn foreign_schedule(group: &str, name: &str) {
    let c = client().await;
    c.create_schedule()
        .group_name(group)
        .name(name)
        .schedule_expression("rate(1 day)")
        .flexible_time_window(
            FlexibleTimeWindow::builder()
                .mode(FlexibleTimeWindowMode::Off)
                .build()
                .unwrap(),
        )
        .target(
            Target::builder()
                .arn("arn:aws:lambda:us-west-2:123456789012:function:other")
                .role_arn(ROLE)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn apply_creates_a_schedule_per_drill_and_a_second_apply_makes_no_mutating_call() {
    let _guard = SandboxGuard::empty().await;
    let state = tempfile::tempdir().unwrap();

    // The plan of an empty account: the group and every schedule to create, nothing changed.
    let (stdout, _) = run_expect(
        state.path(),
        &schedule_args("plan", &["--output", "json"]),
        0,
    );
    let plan = json_doc(&stdout);
    assert_eq!(plan["group_exists"], false);
    assert_eq!(plan["region"], RECOVERY);
    assert_eq!(
        plan["summary"],
        json!({"create": 4, "update": 0, "delete": 0, "unchanged": 0})
    );
    assert!(scheduler_mutations().is_empty(), "plan changes nothing");

    // Apply with the default files: every drill in ./drills.
    let (_, stderr) = run_expect(state.path(), &schedule_args("apply", &["--yes"]), 0);
    assert!(stderr.contains("created drctl-drill-monthly"), "{stderr}");
    let made = schedules(GROUP).await;
    assert_eq!(
        names(&made),
        [
            "drctl-check",
            "drctl-drill-annual",
            "drctl-drill-monthly",
            "drctl-drill-quarterly"
        ]
    );
    for name in ["annual", "monthly", "quarterly"] {
        let file = format!("drills/{name}.toml");
        let (drill, _) = drctl::runbook::load_drill(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join(&file),
            &Default::default(),
        )
        .unwrap();
        let s = by_name(&made, &format!("drctl-drill-{name}"));
        assert_eq!(s["expression"], drill.schedule.unwrap().as_str(), "{s:#}");
        assert_eq!(s["input"], json!({"command": "drill", "drill": name}));
        assert_eq!(
            (
                &s["target"],
                &s["role"],
                &s["timezone"],
                &s["window"],
                &s["state"]
            ),
            (
                &json!(FUNCTION),
                &json!(ROLE),
                &json!("UTC"),
                &json!("OFF"),
                &json!("ENABLED")
            )
        );
        assert!(s["description"].as_str().unwrap().contains(&file), "{s:#}");
    }
    let check = by_name(&made, "drctl-check");
    assert_eq!(check["expression"], "rate(5 minutes)");
    assert_eq!(check["input"], json!({"command": "check"}));

    // Again: nothing to do, no mutating call, nothing changed.
    common::clear_requests();
    let (stdout, stderr) = run_expect(state.path(), &schedule_args("apply", &[]), 0);
    assert!(stderr.contains("nothing to change"), "{stderr}");
    assert!(
        stdout.contains("0 to create, 0 to update, 0 to delete, 4 unchanged"),
        "{stdout}"
    );
    assert_eq!(scheduler_mutations(), Vec::<Value>::new());
    assert!(
        !common::requests_for("scheduler", "ListSchedules").is_empty(),
        "the second apply did read the group"
    );
    assert_eq!(schedules(GROUP).await, made);
}

#[tokio::test]
async fn a_changed_expression_plans_an_update_and_apply_updates_only_that_schedule() {
    let _guard = SandboxGuard::empty().await;
    let state = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = drill(dir.path(), "alpha", "cron(0 6 1 * ? *)");
    let b = drill(dir.path(), "beta", "rate(7 days)");
    let files = [a.to_str().unwrap(), b.to_str().unwrap()];
    let mut apply = vec!["--yes", "--check-every", "off"];
    apply.extend(files);
    run_expect(state.path(), &schedule_args("apply", &apply), 0);

    drill(dir.path(), "alpha", "cron(30 7 ? * MON *)");
    let mut plan = vec!["--check-every", "off"];
    plan.extend(files);
    let (stdout, _) = run_expect(state.path(), &schedule_args("plan", &plan), 0);
    assert!(
        stdout.contains("~ update     drctl-drill-alpha  cron(30 7 ? * MON *)  (")
            && stdout.contains("      expression: cron(0 6 1 * ? *) -> cron(30 7 ? * MON *)\n"),
        "{stdout}"
    );
    assert!(stdout.contains("  unchanged  drctl-drill-beta"), "{stdout}");
    let mut plan_json = plan.clone();
    plan_json.extend(["--output", "json"]);
    let (stdout, _) = run_expect(state.path(), &schedule_args("plan", &plan_json), 0);
    let doc = json_doc(&stdout);
    let update = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "drctl-drill-alpha")
        .unwrap();
    assert_eq!(update["action"], "update");
    assert_eq!(
        update["fields"],
        json!([{"field": "expression", "current": "cron(0 6 1 * ? *)", "desired": "cron(30 7 ? * MON *)"}])
    );

    common::clear_requests();
    run_expect(state.path(), &schedule_args("apply", &apply), 0);
    let ops: Vec<Value> = scheduler_mutations()
        .iter()
        .map(|r| r["operation"].clone())
        .collect();
    assert_eq!(ops, [json!("UpdateSchedule")]);
    let now = schedules(GROUP).await;
    assert_eq!(
        by_name(&now, "drctl-drill-alpha")["expression"],
        "cron(30 7 ? * MON *)"
    );
    assert_eq!(
        by_name(&now, "drctl-drill-beta")["expression"],
        "rate(7 days)"
    );
}

#[tokio::test]
async fn a_removed_drill_file_plans_a_delete_and_schedules_drctl_does_not_own_are_kept() {
    let _guard = SandboxGuard::empty().await;
    let state = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = drill(dir.path(), "alpha", "rate(1 day)");
    let b = drill(dir.path(), "beta", "rate(2 days)");
    run_expect(
        state.path(),
        &schedule_args(
            "apply",
            &["--yes", a.to_str().unwrap(), b.to_str().unwrap()],
        ),
        0,
    );
    foreign_schedule(GROUP, "nightly-report").await;

    std::fs::remove_file(&b).unwrap();
    let (stdout, _) = run_expect(
        state.path(),
        &schedule_args("plan", &[a.to_str().unwrap(), "--output", "json"]),
        0,
    );
    let doc = json_doc(&stdout);
    let actions: Vec<(String, String)> = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().into(),
                c["action"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("drctl-check".to_string(), "unchanged".to_string()),
            ("drctl-drill-alpha".into(), "unchanged".into()),
            ("drctl-drill-beta".into(), "delete".into()),
        ]
    );
    run_expect(
        state.path(),
        &schedule_args("apply", &["--yes", a.to_str().unwrap()]),
        0,
    );
    assert_eq!(
        names(&schedules(GROUP).await),
        ["drctl-check", "drctl-drill-alpha", "nightly-report"]
    );
}

#[tokio::test]
async fn remove_needs_confirmation_then_deletes_every_drctl_schedule_and_nothing_else() {
    let _guard = SandboxGuard::empty().await;
    let state = tempfile::tempdir().unwrap();
    run_expect(state.path(), &schedule_args("apply", &["--yes"]), 0);
    foreign_schedule(GROUP, "nightly-report").await;
    let before = schedules(GROUP).await;
    assert_eq!(before.len(), 5);

    // No terminal (stdin is /dev/null) and no --yes: refused, nothing deleted.
    common::clear_requests();
    let (_, stderr) = run_expect(state.path(), &schedule_args("remove", &[]), 4);
    assert!(
        stderr.contains("refusing to change schedules without confirmation"),
        "{stderr}"
    );
    assert!(scheduler_mutations().is_empty());
    assert_eq!(schedules(GROUP).await, before);

    // Apply refuses the same way when there is something to change.
    let (_, stderr) = run_expect(
        state.path(),
        &schedule_args("apply", &["--check-every", "off"]),
        4,
    );
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert!(scheduler_mutations().is_empty());

    let (stdout, _) = run_expect(
        state.path(),
        &schedule_args("remove", &["--yes", "--output", "json"]),
        0,
    );
    assert_eq!(
        json_doc(&stdout)["deleted"],
        json!([
            "drctl-check",
            "drctl-drill-annual",
            "drctl-drill-monthly",
            "drctl-drill-quarterly"
        ])
    );
    assert_eq!(names(&schedules(GROUP).await), ["nightly-report"]);

    // Nothing left: remove again is a no-op.
    common::clear_requests();
    run_expect(state.path(), &schedule_args("remove", &[]), 0);
    assert!(scheduler_mutations().is_empty());
}

#[tokio::test]
async fn an_invalid_drill_exits_2_before_any_aws_call() {
    let _guard = SandboxGuard::empty().await;
    let state = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = drill(dir.path(), "alpha", "rate(1 day)");
    let bad = drill(dir.path(), "beta", "rate(1 days)");
    common::clear_requests();
    // Without --yes too: the files are judged before anything else.
    for action in ["plan", "apply"] {
        let (_, stderr) = run_expect(
            state.path(),
            &schedule_args(action, &[good.to_str().unwrap(), bad.to_str().unwrap()]),
            2,
        );
        assert!(stderr.contains("bad schedule `rate(1 days)`"), "{stderr}");
        assert!(
            stderr.contains("no schedule was read or changed"),
            "{stderr}"
        );
    }
    assert_eq!(
        common::requests(),
        Vec::<Value>::new(),
        "no AWS call at all"
    );
    // A runbook is not a drill.
    let (_, stderr) = run_expect(
        state.path(),
        &schedule_args("plan", &["runbooks/efs-restore.toml"]),
        2,
    );
    assert!(
        stderr.contains("is a runbook (`efs-restore`), not a drill"),
        "{stderr}"
    );
}

#[tokio::test]
async fn an_aws_failure_names_the_operation_the_schedule_and_the_error_code() {
    let _guard = SandboxGuard::empty().await;
    let state = tempfile::tempdir().unwrap();
    common::inject_fault(&json!({
        "service": "scheduler", "operation": "CreateSchedule", "kind": "access_denied", "count": 1
    }));
    let (_, stderr) = run_expect(state.path(), &schedule_args("apply", &["--yes"]), 1);
    assert!(
        stderr.contains(
            "error: failed to create schedule `drctl-check` in group `drctl` (us-west-2): scheduler:CreateSchedule: AccessDeniedException"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("0 of 4 change(s) were made"), "{stderr}");
    // Applying again finishes the job: the group already exists, every schedule is created.
    run_expect(state.path(), &schedule_args("apply", &["--yes"]), 0);
    assert_eq!(schedules(GROUP).await.len(), 4);
}
