//! The contract test: every answer of every operation the sandbox's extension adds or
//! changes has botocore's output shape (no member invented, none required dropped, types
//! and enums right; error codes the operation declares). `drsandbox.contract_check`
//! enumerates the operations from the extension itself, so an operation added later is
//! checked too (or fails the test until a call reaches it), and proves its checker catches
//! each kind of violation. The harness also runs every test's sandbox strict.

mod common;

use std::process::Command;

use common::SandboxGuard;
use serde_json::Value;

fn sandbox_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sandbox")
}

#[test]
fn every_extension_operation_answers_in_botocores_shapes() {
    let install = Command::new("python3")
        .arg(sandbox_dir().join("sandbox"))
        .arg("install")
        .status()
        .expect("python3 runs the sandbox script");
    assert!(install.success(), "sandbox/sandbox install failed");
    let out = Command::new(sandbox_dir().join(".venv/bin/python"))
        .args(["-m", "drsandbox.contract_check"])
        .current_dir(sandbox_dir())
        .env("PYTHONPATH", sandbox_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("the sandbox's python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary: Value = stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no summary line\nstdout:\n{stdout}\nstderr:\n{stderr}"));
    assert!(
        out.status.success(),
        "the contract check failed:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_eq!(summary["selftest_failures"], serde_json::json!([]));
    assert_eq!(summary["violations"], serde_json::json!([]));
    assert_eq!(summary["unchecked"], serde_json::json!({}));
    // Every enumerated operation was answered and checked, including the layer API and
    // StartRestoreJob's refusals.
    let checked = summary["checked"].as_object().unwrap();
    assert_eq!(
        checked.len() as u64,
        summary["operations"].as_u64().unwrap(),
        "{stdout}"
    );
    for op in [
        "ecr:PutImage",
        "ecr:CompleteLayerUpload",
        "ecr:GetDownloadUrlForLayer",
        "backup:StartRestoreJob",
        "secretsmanager:ListSecretVersionIds",
        "efs:DescribeFileSystems",
    ] {
        assert!(checked.contains_key(op), "{op} not checked: {stdout}");
    }
}

#[tokio::test]
async fn the_test_harness_sandbox_checks_extension_answers_strictly() {
    let _guard = SandboxGuard::seeded().await;
    let backup = aws_sdk_backup::Client::new(&common::sdk_config(common::RECOVERY).await);
    backup.list_restore_jobs().send().await.unwrap();
    let (status, report) = common::control("GET", "/contract", None);
    assert_eq!(status, 200);
    assert_eq!(report["mode"], "strict");
    assert_eq!(report["checked"]["backup:ListRestoreJobs"], 1);
    assert_eq!(report["violations"], serde_json::json!([]));
    assert!(
        report["operations"]["ecr"]
            .as_array()
            .unwrap()
            .contains(&Value::from("PutImage"))
    );
}
