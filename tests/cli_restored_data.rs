//! Qdrant on the restored data, through the binary against the sandbox: after the
//! efs-restore runbook (a real failover, in us-east-1), Qdrant runs a new revision of its
//! task definition that mounts the restore's `aws-backup-restore_<timestamp>` directory on the
//! restored file system, and the application endpoint reports its data as restored from the
//! recovery point the report names.

mod cli_support;
mod common;

use cli_support::*;
use serde_json::{Value, json};

#[tokio::test]
async fn the_efs_restore_runbook_leaves_qdrant_serving_the_restore_directory() {
    let _guard = common::SandboxGuard::seeded().await;
    common::set_durations(
        &json!({"ecs_rollout": 0.5, "restore_base": 0.5, "restore_per_gib": 0.0}),
    );
    let (_dir, state) = state_dir();
    let (code, out, err) = run(drctl(&state)
        .args([
            "failover",
            "runbooks/efs-restore.toml",
            "--yes",
            "--output",
            "json",
            "--var",
        ])
        .arg(health_var(common::PRIMARY)));
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["run_status"], "succeeded", "{report}");

    let (code, health) = common::app_health(common::PRIMARY);
    assert_eq!(code, 200, "{health}");
    let qdrant = &health["services"]["qdrant"];
    assert_eq!(qdrant["data"], "restored", "{health}");
    let fs = qdrant["file_system_id"].as_str().unwrap().to_string();
    assert_ne!(fs, "fs-0123456789abcdef0", "not the damaged file system");
    // The task definition names exactly the directory the restore wrote.
    let contents = common::efs_contents(common::PRIMARY, &fs);
    let directory = contents["directories"][0].as_str().unwrap().to_string();
    let ecs = aws_sdk_ecs::Client::new(&common::sdk_config(common::PRIMARY).await);
    let td_arn = ecs
        .describe_services()
        .cluster(common::CLUSTER)
        .services("qdrant")
        .send()
        .await
        .unwrap()
        .services()[0]
        .task_definition()
        .unwrap()
        .to_string();
    let td = ecs
        .describe_task_definition()
        .task_definition(&td_arn)
        .send()
        .await
        .unwrap();
    let volume = td.task_definition().unwrap().volumes()[0]
        .efs_volume_configuration()
        .unwrap()
        .clone();
    assert_eq!(volume.file_system_id(), fs);
    assert_eq!(volume.root_directory(), Some(directory.as_str()));
    // The point the endpoint says Qdrant serves is the one the report gives as RPO evidence.
    let evidence = report["rpo"]["evidence"][0]["detail"].as_str().unwrap();
    assert!(
        evidence.contains(qdrant["recovery_point_arn"].as_str().unwrap()),
        "{evidence} / {health}"
    );
}
