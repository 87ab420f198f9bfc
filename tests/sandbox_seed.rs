//! The seed stack as the AWS SDK for Rust sees it, the request log, and the control API.

mod common;

use std::collections::BTreeSet;

use aws_sdk_route53::types::ResourceRecordSetFailover;
use common::{ACCOUNT, PRIMARY, RECOVERY, SandboxGuard};
use serde_json::json;

const CLUSTER: &str = "prod-infra-production-cluster";
const SERVICES: [(&str, i32); 5] = [
    ("frontend", 2),
    ("backend", 2),
    ("ai-service", 1),
    ("redis", 1),
    ("qdrant", 1),
];

#[tokio::test]
async fn the_seed_stack_can_be_listed_in_both_regions() {
    let guard = SandboxGuard::seeded().await;
    let east = common::sdk_config(PRIMARY).await;
    let west = common::sdk_config(RECOVERY).await;

    let identity = aws_sdk_sts::Client::new(&east)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(identity.account(), Some(ACCOUNT));

    // ECS: same services in both regions, running in the primary, pilot light in the recovery region.
    for (config, primary) in [(&east, true), (&west, false)] {
        let ecs = aws_sdk_ecs::Client::new(config);
        let names: Vec<&str> = SERVICES.iter().map(|(n, _)| *n).collect();
        let out = ecs
            .describe_services()
            .cluster(CLUSTER)
            .set_services(Some(names.iter().map(|s| s.to_string()).collect()))
            .send()
            .await
            .unwrap();
        assert_eq!(out.services().len(), 5);
        for (svc, (name, desired)) in out.services().iter().zip(SERVICES) {
            assert_eq!(svc.service_name(), Some(name));
            assert_eq!(svc.launch_type().map(|l| l.as_str()), Some("EC2"));
            let want = if primary { desired } else { 0 };
            assert_eq!(
                (svc.desired_count(), svc.running_count()),
                (want, want),
                "{name}"
            );
            assert_eq!(
                svc.deployments()[0].rollout_state().map(|s| s.as_str()),
                Some("COMPLETED")
            );
        }
        let td = ecs
            .describe_task_definition()
            .task_definition("prod-infra-backend")
            .send()
            .await
            .unwrap();
        let port = td.task_definition().unwrap().container_definitions()[0].port_mappings()[0]
            .container_port();
        assert_eq!(port, Some(5001));
    }

    // EFS: the Qdrant file system with its id, token, tag and two mount targets.
    let efs = aws_sdk_efs::Client::new(&east);
    let fs = efs
        .describe_file_systems()
        .file_system_id("fs-0123456789abcdef0")
        .send()
        .await
        .unwrap();
    let fs = &fs.file_systems()[0];
    assert_eq!(fs.creation_token(), "prod-infra-qdrant");
    assert_eq!(fs.name(), Some("prod-infra-qdrant"));
    let mts = efs
        .describe_mount_targets()
        .file_system_id("fs-0123456789abcdef0")
        .send()
        .await
        .unwrap();
    let subnets: BTreeSet<&str> = mts.mount_targets().iter().map(|m| m.subnet_id()).collect();
    assert_eq!(
        subnets,
        BTreeSet::from(["subnet-0e1a0000000000001", "subnet-0e1b0000000000002"])
    );
    let sg = efs
        .describe_mount_target_security_groups()
        .mount_target_id(mts.mount_targets()[0].mount_target_id())
        .send()
        .await
        .unwrap();
    assert_eq!(sg.security_groups(), ["sg-0e1e0000000000ef5"]);

    // Backup: vaults, the hourly plan with its cross-region copy, the selection.
    let backup = aws_sdk_backup::Client::new(&east);
    let plans = backup.list_backup_plans().send().await.unwrap();
    let plan_id = plans.backup_plans_list()[0].backup_plan_id().unwrap();
    let plan = backup
        .get_backup_plan()
        .backup_plan_id(plan_id)
        .send()
        .await
        .unwrap();
    let rule = &plan.backup_plan().unwrap().rules()[0];
    assert_eq!(rule.target_backup_vault_name(), "prod-infra-backup");
    assert_eq!(rule.schedule_expression(), Some("cron(0 * ? * * *)"));
    assert_eq!(
        rule.copy_actions()[0].destination_backup_vault_arn(),
        "arn:aws:backup:us-west-2:123456789012:backup-vault:prod-infra-dr"
    );
    let selections = backup
        .list_backup_selections()
        .backup_plan_id(plan_id)
        .send()
        .await
        .unwrap();
    assert_eq!(selections.backup_selections_list().len(), 1);
    let dr = aws_sdk_backup::Client::new(&west)
        .list_backup_vaults()
        .send()
        .await
        .unwrap();
    assert_eq!(
        dr.backup_vault_list()[0].backup_vault_name(),
        Some("prod-infra-dr")
    );

    // ECR: three repositories with tagged images in both regions.
    for config in [&east, &west] {
        let ecr = aws_sdk_ecr::Client::new(config);
        let repos = ecr.describe_repositories().send().await.unwrap();
        let names: BTreeSet<&str> = repos
            .repositories()
            .iter()
            .filter_map(|r| r.repository_name())
            .collect();
        assert_eq!(
            names,
            BTreeSet::from([
                "prod-infra/ai-service",
                "prod-infra/backend",
                "prod-infra/frontend"
            ])
        );
        let images = ecr
            .describe_images()
            .repository_name("prod-infra/frontend")
            .send()
            .await
            .unwrap();
        let tags: BTreeSet<&str> = images
            .image_details()
            .iter()
            .flat_map(|i| i.image_tags())
            .map(|t| t.as_str())
            .collect();
        assert_eq!(
            tags,
            BTreeSet::from(["latest", "v1.0.0", "v1.1.0", "v1.2.0"])
        );
    }

    // Secrets: both secrets, replicated, with fake values.
    for name in ["prod-infra/backend", "prod-infra/ai-service"] {
        let replica = aws_sdk_secretsmanager::Client::new(&west)
            .describe_secret()
            .secret_id(name)
            .send()
            .await
            .unwrap();
        assert_eq!(replica.primary_region(), Some(PRIMARY));
    }
    let value = aws_sdk_secretsmanager::Client::new(&east)
        .get_secret_value()
        .secret_id("prod-infra/backend")
        .send()
        .await
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(value.secret_string().unwrap()).unwrap();
    assert!(
        value["MONGODB_URI"]
            .as_str()
            .unwrap()
            .contains("not-a-real-password")
    );
    assert!(value.get("API_KEY").is_some());

    // Route 53: failover records with health checks, TTL 60.
    let r53 = aws_sdk_route53::Client::new(&east);
    let zones = r53
        .list_hosted_zones_by_name()
        .dns_name("prod-infra.example.com.")
        .send()
        .await
        .unwrap();
    let zone = &zones.hosted_zones()[0];
    assert_eq!(zone.name(), "prod-infra.example.com.");
    assert_eq!(
        zone.id().trim_start_matches("/hostedzone/"),
        guard.seed["route53"]["hosted_zone_id"].as_str().unwrap()
    );
    let sets = r53
        .list_resource_record_sets()
        .hosted_zone_id(zone.id())
        .send()
        .await
        .unwrap();
    let app: Vec<_> = sets
        .resource_record_sets()
        .iter()
        .filter(|r| r.name() == "app.prod-infra.example.com.")
        .collect();
    assert_eq!(app.len(), 2);
    for (record, (failover, id, ip)) in app.iter().zip([
        (
            ResourceRecordSetFailover::Primary,
            "primary-us-east-1",
            "10.0.1.10",
        ),
        (
            ResourceRecordSetFailover::Secondary,
            "secondary-us-west-2",
            "10.1.1.10",
        ),
    ]) {
        assert_eq!(record.failover(), Some(&failover));
        assert_eq!(record.set_identifier(), Some(id));
        assert_eq!(record.resource_records()[0].value(), ip);
        assert_eq!(record.ttl(), Some(60));
        assert!(record.health_check_id().is_some());
    }
    let checks = r53.list_health_checks().send().await.unwrap();
    let mut types: Vec<&str> = checks
        .health_checks()
        .iter()
        .map(|c| c.health_check_config().unwrap().r#type().as_str())
        .collect();
    types.sort();
    // The failover records' two HTTPS checks, and one per ARC routing control.
    assert_eq!(
        types,
        ["HTTPS", "HTTPS", "RECOVERY_CONTROL", "RECOVERY_CONTROL"]
    );

    // SNS: the alert topic in both regions.
    for (config, region) in [(&east, PRIMARY), (&west, RECOVERY)] {
        let topics = aws_sdk_sns::Client::new(config)
            .list_topics()
            .send()
            .await
            .unwrap();
        assert_eq!(
            topics.topics()[0].topic_arn(),
            Some(format!("arn:aws:sns:{region}:{ACCOUNT}:prod-infra-dr-alerts").as_str())
        );
    }

    // The summary names the deterministic ids the runbooks use.
    let seed = &guard.seed;
    assert_eq!(
        seed["efs"]["qdrant"]["file_system_id"],
        "fs-0123456789abcdef0"
    );
    assert_eq!(
        seed["network"][RECOVERY]["private_subnets"][1]["subnet_id"],
        "subnet-0f2b0000000000002"
    );
    assert_eq!(
        seed["network"][RECOVERY]["efs_security_group"],
        "sg-0f2e0000000000ef5"
    );
}

#[tokio::test]
async fn seeding_twice_gives_the_same_ids() {
    let first = SandboxGuard::seeded().await.seed.clone();
    let second = SandboxGuard::seeded().await.seed.clone();
    assert_eq!(
        first["route53"]["hosted_zone_id"],
        second["route53"]["hosted_zone_id"]
    );
    assert_eq!(
        first["route53"]["health_checks"],
        second["route53"]["health_checks"]
    );
    assert_eq!(
        first["backup"]["plan"]["id"],
        second["backup"]["plan"]["id"]
    );
    assert_eq!(
        first["efs"]["qdrant"]["mount_targets"],
        second["efs"]["qdrant"]["mount_targets"]
    );
}

#[tokio::test]
async fn the_request_log_counts_aws_calls_only() {
    let _guard = SandboxGuard::seeded().await;
    let east = common::sdk_config(PRIMARY).await;
    let west = common::sdk_config(RECOVERY).await;
    common::clear_requests();
    let sns = aws_sdk_sns::Client::new(&east);
    for _ in 0..3 {
        sns.list_topics().send().await.unwrap();
    }
    let secrets = aws_sdk_secretsmanager::Client::new(&west);
    secrets
        .describe_secret()
        .secret_id("prod-infra/ai-service")
        .send()
        .await
        .unwrap();
    secrets
        .describe_secret()
        .secret_id("prod-infra/ai-service")
        .send()
        .await
        .unwrap();
    common::durations(); // control-API calls are not logged

    let log = common::requests();
    assert_eq!(log.len(), 5);
    assert_eq!(common::requests_for("sns", "ListTopics").len(), 3);
    let describe = common::requests_for("secretsmanager", "DescribeSecret");
    assert_eq!(describe.len(), 2);
    let entry = &describe[0];
    assert_eq!(entry["region"], RECOVERY);
    assert_eq!(entry["account"], ACCOUNT);
    assert_eq!(entry["status"], 200);
    assert!(entry["fault"].is_null());
    let time = entry["time"].as_str().unwrap();
    let rfc3339_ms = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$").unwrap();
    assert!(rfc3339_ms.is_match(time), "{time}");

    // A failed AWS call is logged with its status.
    let missing = secrets
        .describe_secret()
        .secret_id("no-such-secret")
        .send()
        .await
        .unwrap_err();
    let seen_status = missing
        .raw_response()
        .map(|r| u64::from(r.status().as_u16()));
    let last = common::requests().pop().unwrap();
    assert_eq!(
        (last["operation"].as_str(), last["status"].as_u64()),
        (Some("DescribeSecret"), seen_status)
    );
}

#[tokio::test]
async fn durations_and_control_api_validation() {
    let _guard = SandboxGuard::empty().await;
    let defaults = common::durations();
    assert_eq!(defaults["profile"], "fast");
    assert_eq!(defaults["durations"]["route53_propagation"], 1.0);

    let realistic = common::set_durations(&json!({"profile": "realistic", "scale": 0.01}));
    assert_eq!(realistic["durations"]["route53_propagation"], 0.6);
    assert_eq!(realistic["durations"]["efs_replication_lag"], 0.6);
    common::set_durations(&json!({"ecs_rollout": 0.1}));
    assert_eq!(common::durations()["durations"]["ecs_rollout"], 0.1);
    common::reset();
    assert_eq!(
        common::durations(),
        defaults,
        "reset restores the start-up durations"
    );

    let (status, body) =
        common::control("POST", "/durations", Some(&json!({"no_such_duration": 1})));
    assert_eq!(status, 400, "{body}");
    let (status, body) = common::control(
        "POST",
        "/faults",
        Some(&json!({"service": "sns", "kind": "explode"})),
    );
    assert_eq!(status, 400, "{body}");
    let (status, _) = common::control("GET", "/no-such-endpoint", None);
    assert_eq!(status, 404);
    let (status, body) = common::control(
        "POST",
        "/recovery-points",
        Some(&json!({"vault": "prod-infra-backup"})),
    );
    assert_eq!(status, 400, "no such vault in an empty sandbox: {body}");
}

#[tokio::test]
async fn seeding_a_seeded_sandbox_says_a_reset_is_needed_and_changes_nothing() {
    let guard = SandboxGuard::seeded().await;
    let ec2 = aws_sdk_ec2::Client::new(&common::sdk_config(PRIMARY).await);
    let subnets = || async {
        let mut ids: Vec<String> = ec2
            .describe_subnets()
            .send()
            .await
            .unwrap()
            .subnets()
            .iter()
            .filter_map(|s| s.subnet_id().map(str::to_owned))
            .collect();
        ids.sort();
        ids
    };
    let before = subnets().await;
    let (status, body) = common::control("POST", "/seed", None);
    assert_eq!(status, 409, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.starts_with("the sandbox is already seeded (VPC vpc-0e10000000000000a (us-east-1)"),
        "{error}"
    );
    assert!(
        error.contains("`sandbox/sandbox seed --reset`"),
        "names the fix: {error}"
    );
    assert!(
        !error.contains("CIDR"),
        "not moto's subnet conflict: {error}"
    );
    assert_eq!(subnets().await, before, "nothing half-created");
    // With a reset first, it seeds cleanly, with the same ids.
    let (status, again) = common::control("POST", "/seed", Some(&json!({"reset": true})));
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["efs"]["qdrant"], guard.seed["efs"]["qdrant"]);
    assert_eq!(
        again["ecr"]["repositories"]["prod-infra/backend"]["images"][0]["digest"],
        guard.seed["ecr"]["repositories"]["prod-infra/backend"]["images"][0]["digest"]
    );
    assert_eq!(subnets().await, before);
}

/// `sandbox/sandbox seed` against a server of its own state directory (a `serve` child whose
/// pid and port are written where the script looks), so the command is tested as a user runs it.
struct OwnServer {
    state: tempfile::TempDir,
    _child: std::process::Child,
}

impl OwnServer {
    fn start() -> Self {
        use std::io::BufRead;
        let state = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/sandbox/sandbox"))
            .args(["serve", "--port", "0", "--watch-stdin"])
            .env("SANDBOX_STATE_DIR", state.path())
            .stdin(std::process::Stdio::piped()) // closed when the child is dropped with the test
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let endpoint = std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|l| l.strip_prefix("AWS_ENDPOINT_URL=").map(str::to_owned))
            .expect("the server's endpoint line");
        let port = endpoint.rsplit(':').next().unwrap();
        std::fs::write(state.path().join("pid"), child.id().to_string()).unwrap();
        std::fs::write(state.path().join("port"), port).unwrap();
        Self {
            state,
            _child: child,
        }
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = std::process::Command::new("python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/sandbox/sandbox"))
            .args(args)
            .env("SANDBOX_STATE_DIR", self.state.path())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[test]
fn the_seed_command_on_a_seeded_sandbox_says_to_reset_and_seed_reset_does() {
    let server = OwnServer::start();
    let (code, stdout, stderr) = server.run(&["seed"]);
    assert_eq!(code, 0, "{stderr}");
    let first: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let (code, stdout, stderr) = server.run(&["seed"]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "", "nothing on stdout");
    assert!(
        stderr.starts_with("sandbox: the sandbox is already seeded ("),
        "{stderr}"
    );
    assert!(stderr.contains("sandbox/sandbox seed --reset"), "{stderr}");
    let (code, stdout, stderr) = server.run(&["seed", "--reset"]);
    assert_eq!(code, 0, "{stderr}");
    let again: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(again["efs"], first["efs"]);
    assert_eq!(again["network"], first["network"]);
}
