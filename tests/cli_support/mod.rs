//! Running the built `drctl` binary against the sandbox, and reading AWS state back with
//! independent SDK calls (never through drctl) to check what a run did.
#![allow(dead_code)] // each test binary uses a different part of the support

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::{Value, json};

use crate::common;

/// A `drctl` command aimed at the sandbox, with its own state directory.
pub fn drctl(state_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_drctl"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("AWS_ENDPOINT_URL", common::endpoint())
        .env("AWS_ACCESS_KEY_ID", common::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", common::SECRET_ACCESS_KEY)
        .env("AWS_REGION", common::PRIMARY)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE")
        .arg("--state-dir")
        .arg(state_dir)
        .stdin(Stdio::null());
    cmd
}

/// The health URL var the seed runbooks need on the sandbox.
pub fn health_var(region: &str) -> String {
    format!(
        "health_url={}/_sandbox/app/{region}/health",
        common::endpoint()
    )
}

/// Run to completion; (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("drctl runs");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Start with `--output jsonl` events on stdout; returns the child and a reader of events.
pub fn spawn_jsonl(cmd: &mut Command) -> (Child, std::sync::mpsc::Receiver<Value>) {
    let mut child = cmd
        .arg("--output")
        .arg("jsonl")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("drctl starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line)
                && tx.send(v).is_err()
            {
                break;
            }
        }
    });
    (child, rx)
}

/// Wait (bounded) for an event matching `want`.
pub fn wait_event(
    rx: &std::sync::mpsc::Receiver<Value>,
    what: &str,
    want: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(v) if want(&v) => return v,
            Ok(_) => {}
            Err(e) => panic!("no event `{what}`: {e}"),
        }
    }
}

/// The run ids in a state dir.
pub fn run_ids(state_dir: &Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(state_dir.join("runs"))
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// A run's journal records (the `record` objects), in order.
pub fn journal(state_dir: &Path, run_id: &str) -> Vec<Value> {
    std::fs::read_to_string(state_dir.join("runs").join(run_id).join("journal.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

/// A run's kept report.
pub fn report(state_dir: &Path, run_id: &str) -> Value {
    let text = std::fs::read_to_string(state_dir.join("runs").join(run_id).join("report.json"))
        .expect("report.json kept");
    serde_json::from_str(&text).expect("report is JSON")
}

/// Count of sandbox requests for an operation (all regions).
pub fn calls(service: &str, operation: &str) -> usize {
    common::requests_for(service, operation).len()
}

/// Requests that change state (anything not Describe/List/Get).
pub fn mutating_requests() -> Vec<Value> {
    common::requests()
        .into_iter()
        .filter(|r| {
            let op = r["operation"].as_str().unwrap_or("");
            !(op.starts_with("Describe")
                || op.starts_with("List")
                || op.starts_with("Get")
                || op.starts_with("BatchGet"))
        })
        .collect()
}

/// The parts of AWS state a region failover changes, read with independent SDK calls and
/// without run-specific ids, so two runs can be compared.
pub async fn failover_state() -> Value {
    let west = common::sdk_config(common::RECOVERY).await;
    let global = common::sdk_config(common::PRIMARY).await;

    let r53 = aws_sdk_route53::Client::new(&global);
    let zones = r53
        .list_hosted_zones_by_name()
        .dns_name("prod-infra.example.com.")
        .send()
        .await
        .unwrap();
    let zone = zones.hosted_zones()[0].id().to_string();
    let sets = r53
        .list_resource_record_sets()
        .hosted_zone_id(&zone)
        .send()
        .await
        .unwrap();
    let records: Vec<String> = sets
        .resource_record_sets()
        .iter()
        .filter(|r| r.name().contains("app.prod-infra.example.com"))
        .map(|r| {
            format!(
                "{} {} {:?} {:?}",
                r.name(),
                r.r#type().as_str(),
                r.set_identifier(),
                r.resource_records()
                    .iter()
                    .map(|v| v.value().to_string())
                    .collect::<Vec<_>>()
            )
        })
        .collect();

    let ecs = aws_sdk_ecs::Client::new(&west);
    let services = ecs
        .describe_services()
        .cluster("prod-infra-production-cluster")
        .set_services(Some(
            ["frontend", "backend", "ai-service", "redis", "qdrant"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ))
        .send()
        .await
        .unwrap();
    let counts: Vec<String> = services
        .services()
        .iter()
        .map(|s| {
            format!(
                "{}={}/{}",
                s.service_name().unwrap_or(""),
                s.running_count(),
                s.desired_count()
            )
        })
        .collect();

    let qdrant_task_definition: Vec<String> = services
        .services()
        .iter()
        .filter(|s| s.service_name() == Some("qdrant"))
        .filter_map(|s| s.task_definition().map(str::to_owned))
        .collect();
    let groups = aws_sdk_autoscaling::Client::new(&west)
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(common::AUTO_SCALING_GROUP)
        .send()
        .await
        .unwrap();
    let capacity: Vec<String> = groups
        .auto_scaling_groups()
        .iter()
        .map(|g| {
            format!(
                "min={:?} max={:?} desired={:?}",
                g.min_size(),
                g.max_size(),
                g.desired_capacity()
            )
        })
        .collect();

    let sm = aws_sdk_secretsmanager::Client::new(&west);
    let mut secrets = Vec::new();
    for name in ["prod-infra/backend", "prod-infra/ai-service"] {
        let d = sm.describe_secret().secret_id(name).send().await.unwrap();
        secrets.push(format!("{name} primary={:?}", d.primary_region()));
    }

    let efs = aws_sdk_efs::Client::new(&west);
    let fss = efs.describe_file_systems().send().await.unwrap();
    let mut mount_targets = 0;
    for fs in fss.file_systems() {
        mount_targets += efs
            .describe_mount_targets()
            .file_system_id(fs.file_system_id())
            .send()
            .await
            .unwrap()
            .mount_targets()
            .len();
    }
    let ecr = aws_sdk_ecr::Client::new(&west);
    let mut images = 0;
    for repo in [
        "prod-infra/frontend",
        "prod-infra/backend",
        "prod-infra/ai-service",
    ] {
        images += ecr
            .describe_images()
            .repository_name(repo)
            .send()
            .await
            .map(|o| o.image_details().len())
            .unwrap_or(0);
    }
    json!({
        "records": records,
        "ecs_us_west_2": counts,
        "qdrant_task_definition_us_west_2": qdrant_task_definition,
        "capacity_us_west_2": capacity,
        "secrets_us_west_2": secrets,
        "efs_us_west_2": fss.file_systems().len(),
        "mount_targets_us_west_2": mount_targets,
        "ecr_images_us_west_2": images,
    })
}

/// EFS file systems in `region` tagged with a `drctl:run-id`.
pub async fn drill_file_systems(region: &str) -> Vec<String> {
    let conf = common::sdk_config(region).await;
    let efs = aws_sdk_efs::Client::new(&conf);
    let fss = efs.describe_file_systems().send().await.unwrap();
    fss.file_systems()
        .iter()
        .filter(|f| f.tags().iter().any(|t| t.key() == "drctl:run-id"))
        .map(|f| f.file_system_id().to_string())
        .collect()
}

/// A temporary state directory.
pub fn state_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    (dir, path)
}

/// Run `drctl ARGS` with its own state directory to completion, and check its exit code;
/// returns stdout and stderr (both are shown when the code differs).
pub fn run_expect(state_dir: &Path, args: &[&str], code: i32) -> (String, String) {
    let (got, stdout, stderr) = run(drctl(state_dir).args(args));
    assert_eq!(
        got, code,
        "exit code of drctl {args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (stdout, stderr)
}

/// stdout as one JSON document.
pub fn json_doc(stdout: &str) -> Value {
    serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{stdout}"))
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a test file");
    path
}
