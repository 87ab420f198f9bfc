//! Capacity first, through the binary against the sandbox: a runbook that scales services in
//! the pilot-light recovery region without a capacity step fails at once naming ECS's
//! placement event (instead of waiting out its timeout), and `ecs.capacity` grows the Auto
//! Scaling group, waits for ACTIVE container instances, and an isolated drill puts the group
//! back as it was.

mod cli_support;
mod common;

use cli_support::*;
use serde_json::Value;

const SCALE_ONLY: &str = r#"
name = "scale-only"
[regions]
primary = "us-east-1"
recovery = "us-west-2"
[[steps]]
id = "scale-backend"
action = "ecs.scale"
region = "recovery"
timeout = "20m"
[steps.with]
cluster = "prod-infra-production-cluster"
services = { backend = 1 }
"#;

const CAPACITY_FIRST: &str = r#"
name = "capacity-first"
[regions]
primary = "us-east-1"
recovery = "us-west-2"
[[steps]]
id = "add-capacity"
action = "ecs.capacity"
region = "recovery"
timeout = "5m"
[steps.with]
cluster = "prod-infra-production-cluster"
auto_scaling_group = "prod-infra-ecs"
instances = 2
[[steps]]
id = "scale-backend"
action = "ecs.scale"
region = "recovery"
after = ["add-capacity"]
timeout = "5m"
verify = true
[steps.with]
cluster = "prod-infra-production-cluster"
services = { backend = 2 }
"#;

#[tokio::test]
async fn scaling_a_pilot_light_without_capacity_fails_at_once_naming_the_placement_event() {
    let _guard = common::SandboxGuard::seeded().await;
    common::set_durations(&serde_json::json!({"ecs_rollout": 0.5}));
    let (dir, state) = state_dir();
    let runbook = write_file(dir.path(), "scale-only.toml", SCALE_ONLY);
    let (code, _out, err) =
        run(drctl(&state).args(["failover", runbook.to_str().unwrap(), "--yes"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("scale-backend"), "{err}");
    assert!(
        err.contains("(service backend) was unable to place a task because no container instance met all of its requirements"),
        "{err}"
    );
    assert!(
        err.contains("service backend in cluster prod-infra-production-cluster (us-west-2)"),
        "{err}"
    );
}

#[tokio::test]
async fn the_capacity_step_grows_the_group_first_and_an_isolated_drill_puts_it_back() {
    let _guard = common::SandboxGuard::seeded().await;
    common::set_durations(
        &serde_json::json!({"ecs_rollout": 0.3, "ecs_instance_registration": 0.5}),
    );
    let (dir, state) = state_dir();
    let runbook = write_file(dir.path(), "capacity-first.toml", CAPACITY_FIRST);
    let drill = write_file(
        dir.path(),
        "drill.toml",
        &format!(
            "name = \"capacity\"\nrunbook = \"{}\"\nmode = \"isolated\"\n",
            runbook.display()
        ),
    );
    let before = failover_state().await;
    let (code, out, err) =
        run(drctl(&state).args(["drill", drill.to_str().unwrap(), "--output", "json"]));
    assert_eq!(code, 0, "{err}\n{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        report["cleanup"]["status"], "clean",
        "{}",
        report["cleanup"]
    );
    let id = report["run_id"].as_str().unwrap();
    // The capacity step waited for two ACTIVE container instances before backend scaled.
    let journal = journal(&state, id);
    let succeeded = |step: &str| {
        journal
            .iter()
            .find(|e| e["record"]["kind"] == "step_succeeded" && e["record"]["step"] == step)
            .unwrap_or_else(|| panic!("{step} succeeded: {journal:#?}"))
            .clone()
    };
    let capacity = succeeded("add-capacity");
    assert_eq!(
        capacity["record"]["outcome"]["outputs"]["container_instances"], "2",
        "{capacity}"
    );
    assert_eq!(
        capacity["record"]["outcome"]["outputs"]["previous_capacity"],
        r#"{"min":0,"max":5,"desired":0}"#
    );
    succeeded("scale-backend");
    let first = |service: &str, operation: &str| {
        common::requests_for(service, operation)[0]["seq"]
            .as_u64()
            .unwrap()
    };
    assert!(
        first("autoscaling", "UpdateAutoScalingGroup") < first("ecs", "UpdateService"),
        "capacity first"
    );
    assert_eq!(
        calls("autoscaling", "UpdateAutoScalingGroup"),
        2,
        "grow, then put back"
    );
    // The undo put the group (and the service) back as they were.
    assert_eq!(failover_state().await, before);
}
