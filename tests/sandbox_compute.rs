//! The sandbox stages disasters and refuses what AWS refuses, through the AWS SDK for Rust:
//! region and zone outages (endpoints, Route 53's us-east-1 control plane, health checks and
//! answers), ECS task stops and replacement, ECS on EC2 (pilot-light capacity, placement and
//! start refusals, draining), the ALB's targets, Route 53 alias and weighted answers, and the
//! application endpoint's view of Qdrant's data. Tests wait for state and never assert on time.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use aws_sdk_ecs::types::{
    Compatibility, ContainerDefinition, ContainerInstanceStatus, DeploymentRolloutState,
    DesiredStatus, EfsVolumeConfiguration, LaunchType, MountPoint, NetworkMode, PortMapping,
    Secret, Service, Task, TaskStopCode, Volume,
};
use aws_sdk_elasticloadbalancingv2::types::TargetDescription;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecord, ResourceRecordSet, RrType,
};
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use common::{CLUSTER, PRIMARY, RECOVERY, SandboxGuard};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);
const ACCOUNT: &str = common::ACCOUNT;

async fn ecs(region: &str) -> aws_sdk_ecs::Client {
    aws_sdk_ecs::Client::new(&common::sdk_config(region).await)
}

async fn elb(region: &str) -> aws_sdk_elasticloadbalancingv2::Client {
    aws_sdk_elasticloadbalancingv2::Client::new(&common::sdk_config(region).await)
}

async fn service(ecs: &aws_sdk_ecs::Client, name: &str) -> Service {
    ecs.describe_services()
        .cluster(CLUSTER)
        .services(name)
        .send()
        .await
        .unwrap()
        .services()[0]
        .clone()
}

fn messages(svc: &Service) -> Vec<String> {
    svc.events()
        .iter()
        .filter_map(|e| e.message().map(str::to_owned))
        .collect()
}

async fn tasks(ecs: &aws_sdk_ecs::Client, service: &str, status: DesiredStatus) -> Vec<Task> {
    let arns = ecs
        .list_tasks()
        .cluster(CLUSTER)
        .service_name(service)
        .desired_status(status)
        .send()
        .await
        .unwrap()
        .task_arns()
        .to_vec();
    if arns.is_empty() {
        return Vec::new();
    }
    ecs.describe_tasks()
        .cluster(CLUSTER)
        .set_tasks(Some(arns))
        .send()
        .await
        .unwrap()
        .tasks()
        .to_vec()
}

/// Waits until `name` has `count` RUNNING tasks and a COMPLETED deployment.
async fn steady(ecs: &aws_sdk_ecs::Client, name: &str, count: i32) -> Service {
    common::poll(&format!("{name} to run {count} tasks"), WAIT, async || {
        let svc = service(ecs, name).await;
        (svc.running_count() == count
            && svc.deployments()[0].rollout_state() == Some(&DeploymentRolloutState::Completed))
        .then_some(svc)
    })
    .await
}

/// Waits for a STOPPED task of `name` whose stoppedReason contains `text`.
async fn stopped_with(ecs: &aws_sdk_ecs::Client, name: &str, text: &str) -> Task {
    common::poll(
        &format!("a task of {name} stopped with {text}"),
        WAIT,
        async || {
            tasks(ecs, name, DesiredStatus::Stopped)
                .await
                .into_iter()
                .find(|t| t.stopped_reason().unwrap_or("").contains(text))
        },
    )
    .await
}

fn dropped<E, R>(err: &SdkError<E, R>) -> bool {
    matches!(
        err,
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
    )
}

fn seed_secret_arn(seed: &Value, field: &str) -> String {
    seed["secrets"]["prod-infra/backend"][field]
        .as_str()
        .unwrap()
        .to_string()
}

/// A one-container EC2 task definition in bridge mode.
fn container(
    name: &str,
    image: &str,
    memory: i32,
) -> aws_sdk_ecs::types::builders::ContainerDefinitionBuilder {
    ContainerDefinition::builder()
        .name(name)
        .image(image)
        .cpu(128)
        .memory(memory)
        .essential(true)
        .port_mappings(
            PortMapping::builder()
                .container_port(8080)
                .host_port(0)
                .build(),
        )
}

async fn register(
    ecs: &aws_sdk_ecs::Client,
    family: &str,
    definition: ContainerDefinition,
    volumes: Vec<Volume>,
) -> String {
    ecs.register_task_definition()
        .family(family)
        .network_mode(NetworkMode::Bridge)
        .requires_compatibilities(Compatibility::Ec2)
        .container_definitions(definition)
        .set_volumes(Some(volumes))
        .send()
        .await
        .unwrap()
        .task_definition()
        .unwrap()
        .task_definition_arn()
        .unwrap()
        .to_string()
}

async fn create_service(ecs: &aws_sdk_ecs::Client, name: &str, task_definition: &str, count: i32) {
    ecs.create_service()
        .cluster(CLUSTER)
        .service_name(name)
        .task_definition(task_definition)
        .desired_count(count)
        .launch_type(LaunchType::Ec2)
        .send()
        .await
        .unwrap();
}

fn qdrant_volume(fs_id: &str) -> Volume {
    qdrant_volume_at(fs_id, None)
}

/// Qdrant's volume on `fs_id`, mounting `root` (None: the file system's root).
fn qdrant_volume_at(fs_id: &str, root: Option<&str>) -> Volume {
    Volume::builder()
        .name("qdrant-storage")
        .efs_volume_configuration(
            EfsVolumeConfiguration::builder()
                .file_system_id(fs_id)
                .set_root_directory(root.map(str::to_owned))
                .build()
                .unwrap(),
        )
        .build()
}

fn qdrant_container() -> ContainerDefinition {
    ContainerDefinition::builder()
        .name("qdrant")
        .image("qdrant/qdrant:v1.7.4")
        .cpu(512)
        .memory(1024)
        .essential(true)
        .port_mappings(
            PortMapping::builder()
                .container_port(6333)
                .host_port(0)
                .build(),
        )
        .mount_points(
            MountPoint::builder()
                .source_volume("qdrant-storage")
                .container_path("/qdrant/storage")
                .build(),
        )
        .build()
}

/// A file system in `region` with a mount target in each of the given seed subnets.
async fn file_system(seed: &Value, region: &str, token: &str, subnets: &[usize]) -> String {
    let efs = aws_sdk_efs::Client::new(&common::sdk_config(region).await);
    let fs = efs
        .create_file_system()
        .creation_token(token)
        .encrypted(true)
        .send()
        .await
        .unwrap()
        .file_system_id()
        .to_string();
    mount_targets(seed, region, &fs, subnets).await;
    fs
}

async fn mount_targets(seed: &Value, region: &str, fs: &str, subnets: &[usize]) {
    let efs = aws_sdk_efs::Client::new(&common::sdk_config(region).await);
    for &i in subnets {
        efs.create_mount_target()
            .file_system_id(fs)
            .subnet_id(
                seed["network"][region]["private_subnets"][i]["subnet_id"]
                    .as_str()
                    .unwrap(),
            )
            .security_groups(
                seed["network"][region]["efs_security_group"]
                    .as_str()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
}

/// Points the recovery region's Qdrant service at `fs` (a new task definition revision).
async fn qdrant_on(ecs: &aws_sdk_ecs::Client, fs: &str, count: i32) {
    qdrant_on_at(ecs, fs, None, count).await
}

async fn qdrant_on_at(ecs: &aws_sdk_ecs::Client, fs: &str, root: Option<&str>, count: i32) {
    let td = register(
        ecs,
        "prod-infra-qdrant",
        qdrant_container(),
        vec![qdrant_volume_at(fs, root)],
    )
    .await;
    ecs.update_service()
        .cluster(CLUSTER)
        .service("qdrant")
        .task_definition(td)
        .desired_count(count)
        .send()
        .await
        .unwrap();
}

async fn scale(ecs: &aws_sdk_ecs::Client, name: &str, count: i32) {
    ecs.update_service()
        .cluster(CLUSTER)
        .service(name)
        .desired_count(count)
        .send()
        .await
        .unwrap();
}

async fn target_group_arn(elb: &aws_sdk_elasticloadbalancingv2::Client, name: &str) -> String {
    elb.describe_target_groups()
        .names(name)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string()
}

/// (target id, port, state, reason) of every target of a target group.
async fn targets(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    tg: &str,
) -> BTreeSet<(String, i32, String, String)> {
    elb.describe_target_health()
        .target_group_arn(tg)
        .send()
        .await
        .unwrap()
        .target_health_descriptions()
        .iter()
        .map(|d| {
            let target = d.target().unwrap();
            let health = d.target_health().unwrap();
            (
                target.id().unwrap_or_default().to_string(),
                target.port().unwrap_or_default(),
                health
                    .state()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                health
                    .reason()
                    .map(|r| r.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// The EC2 instance behind each container instance of the cluster, with its zone.
async fn container_instances(
    ecs: &aws_sdk_ecs::Client,
) -> Vec<aws_sdk_ecs::types::ContainerInstance> {
    let arns = ecs
        .list_container_instances()
        .cluster(CLUSTER)
        .send()
        .await
        .unwrap()
        .container_instance_arns()
        .to_vec();
    if arns.is_empty() {
        return Vec::new();
    }
    ecs.describe_container_instances()
        .cluster(CLUSTER)
        .set_container_instances(Some(arns))
        .send()
        .await
        .unwrap()
        .container_instances()
        .to_vec()
}

fn zone_of(ci: &aws_sdk_ecs::types::ContainerInstance) -> String {
    ci.attributes()
        .iter()
        .find(|a| a.name() == "ecs.availability-zone")
        .and_then(|a| a.value())
        .unwrap_or_default()
        .to_string()
}

// --- outages -----------------------------------------------------------------------------------

#[tokio::test]
async fn a_region_outage_fails_its_endpoints_and_route53_while_the_answer_moves_to_the_secondary() {
    let guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"route53_propagation": 0.2}));
    let east = aws_sdk_secretsmanager::Client::new(&common::sdk_config(PRIMARY).await);
    let west = aws_sdk_secretsmanager::Client::new(&common::sdk_config(RECOVERY).await);
    // Route 53 signed for us-west-2 still goes to its us-east-1 control plane.
    let r53 = aws_sdk_route53::Client::new(&common::sdk_config(RECOVERY).await);
    let zone = guard.seed["route53"]["hosted_zone_id"].as_str().unwrap();
    let (_, before) = common::route53_answer("app.prod-infra.example.com");
    assert_eq!(before["values"], json!(["10.0.1.10"]), "{before}");

    let listed = common::outage(&json!({"region": "us-east-1"}));
    assert_eq!(listed["outages"][0]["region"], "us-east-1");
    assert_eq!(listed["outages"][0]["mode"], "timeout");

    let err = east
        .describe_secret()
        .secret_id("prod-infra/backend")
        .send()
        .await
        .unwrap_err();
    assert!(dropped(&err), "an unreachable endpoint: {err:?}");
    let replica = west
        .describe_secret()
        .secret_id("prod-infra/backend")
        .send()
        .await
        .unwrap();
    assert_eq!(
        replica.primary_region(),
        Some(PRIMARY),
        "us-west-2 still answers"
    );

    let change = ChangeBatch::builder()
        .changes(
            Change::builder()
                .action(ChangeAction::Upsert)
                .resource_record_set(
                    ResourceRecordSet::builder()
                        .name("dr-test.prod-infra.example.com.")
                        .r#type(RrType::A)
                        .ttl(60)
                        .resource_records(
                            ResourceRecord::builder().value("10.9.9.9").build().unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let err = r53
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(change.clone())
        .send()
        .await
        .unwrap_err();
    assert!(
        dropped(&err),
        "Route 53's control plane is in us-east-1: {err:?}"
    );
    let logged = common::requests_for("route53", "ChangeResourceRecordSets");
    let last = logged.last().unwrap();
    assert_eq!(last["region"], "us-east-1", "{last}");
    assert_eq!(last["signing_region"], "us-west-2", "{last}");
    assert_eq!(last["fault"], "outage", "{last}");
    assert!(last["status"].is_null(), "no answer at all: {last}");

    // DNS is data plane: the primary's health check fails and the answer moves.
    let (status, answer) = common::route53_answer("app.prod-infra.example.com");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["values"], json!(["10.1.1.10"]), "{answer}");
    assert_eq!(answer["record"]["failover"], "SECONDARY", "{answer}");
    let primary = answer["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["failover"] == "PRIMARY")
        .unwrap();
    assert_eq!(primary["healthy"], false, "{primary}");
    assert!(
        primary["why"]
            .as_str()
            .unwrap()
            .contains("us-east-1 is dark"),
        "{primary}"
    );

    common::end_outages();
    assert_eq!(
        common::route53_answer("app.prod-infra.example.com").1["values"],
        json!(["10.0.1.10"])
    );
    east.describe_secret()
        .secret_id("prod-infra/backend")
        .send()
        .await
        .unwrap();
    let done = r53
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(change)
        .send()
        .await
        .unwrap();
    let id = done.change_info().unwrap().id().to_string();
    common::poll("the change to be INSYNC", WAIT, async || {
        let out = r53.get_change().id(&id).send().await.unwrap();
        (out.change_info().unwrap().status() == &ChangeStatus::Insync).then_some(())
    })
    .await;
}

#[tokio::test]
async fn error503_mode_fails_fast_the_control_api_checks_its_input_and_reset_ends_outages() {
    let guard = SandboxGuard::seeded().await;
    common::outage(&json!({"region": "us-west-2", "mode": "error503"}));
    let err = ecs(RECOVERY)
        .await
        .list_clusters()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ServiceUnavailable"), "{err:?}");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 503);
    ecs(PRIMARY).await.list_clusters().send().await.unwrap();

    // Health checks keep evaluating: the secondary's endpoint is in the dark region.
    let r53 = aws_sdk_route53::Client::new(&common::sdk_config(PRIMARY).await);
    let status = async |role: &str| {
        let id = guard.seed["route53"]["health_checks"][role]["id"]
            .as_str()
            .unwrap();
        r53.get_health_check_status()
            .health_check_id(id)
            .send()
            .await
            .unwrap()
            .health_check_observations()[0]
            .status_report()
            .unwrap()
            .status()
            .unwrap()
            .to_string()
    };
    assert!(status("secondary").await.starts_with("Failure"));
    assert!(status("primary").await.starts_with("Success"));
    // The dark region's application endpoint answers as its load balancer would: 503.
    let (code, body) = common::app_health(RECOVERY);
    assert_eq!(
        (code, body["status"].as_str()),
        (503, Some("unreachable")),
        "{body}"
    );

    for bad in [
        json!({"region": "us-east-1", "az": "us-east-1a"}),
        json!({}),
        json!({"region": "us-east-1", "mode": "slow"}),
        json!({"az": "us-east-1"}),
        json!({"region": "mars"}),
    ] {
        let (code, body) = common::control("POST", "/outage", Some(&bad));
        assert_eq!(code, 400, "{bad}: {body}");
    }
    common::outage(&json!({"az": "us-east-1b"}));
    let (_, listed) = common::control("GET", "/outage", None);
    assert_eq!(listed["outages"].as_array().unwrap().len(), 2, "{listed}");
    common::reset();
    let (_, listed) = common::control("GET", "/outage", None);
    assert_eq!(
        listed["outages"],
        json!([]),
        "outages do not survive a reset"
    );
}

#[tokio::test]
async fn a_dark_regions_application_endpoint_drops_the_connection() {
    let _guard = SandboxGuard::seeded().await;
    common::outage(&json!({"region": "us-east-1"}));
    let endpoint = common::endpoint();
    let address = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
        .write_all(
            format!("GET /_sandbox/app/us-east-1/health HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(
        answer.is_empty(),
        "no HTTP answer: {}",
        String::from_utf8_lossy(&answer)
    );
    // The other region answers as before (pilot light: unhealthy, but there).
    assert_eq!(common::app_health(RECOVERY).0, 503);
    assert_eq!(common::app_health(RECOVERY).1["status"], "unhealthy");
}

#[tokio::test]
async fn an_az_outage_stops_the_zones_tasks_fails_its_targets_and_places_nothing_there() {
    let _guard = SandboxGuard::seeded().await;
    // Auto Scaling replaces the impaired instance only when the test says so (below).
    common::set_durations(&json!({"asg_instance_replacement": 600.0, "ecs_task_replacement": 0.2}));
    let ecs = ecs(PRIMARY).await;
    let elb = elb(PRIMARY).await;
    let instances = container_instances(&ecs).await;
    let in_a = instances
        .iter()
        .find(|ci| zone_of(ci) == "us-east-1a")
        .unwrap();
    let instance_a = in_a.ec2_instance_id().unwrap().to_string();
    let frontend_tg = target_group_arn(&elb, "prod-infra-frontend").await;
    // A target registered by hand on the us-east-1a instance (tasks' targets leave with them).
    elb.register_targets()
        .target_group_arn(&frontend_tg)
        .targets(
            TargetDescription::builder()
                .id(&instance_a)
                .port(8080)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut doomed = Vec::new();
    for name in ["frontend", "backend", "ai-service", "redis", "qdrant"] {
        for t in tasks(&ecs, name, DesiredStatus::Running).await {
            if t.availability_zone() == Some("us-east-1a") {
                doomed.push(t.task_arn().unwrap().to_string());
            }
        }
    }
    assert!(!doomed.is_empty(), "the seed runs tasks in both zones");

    common::outage(&json!({"az": "us-east-1a"}));

    let stopped = common::poll("the zone's tasks to stop", WAIT, async || {
        let out = ecs
            .describe_tasks()
            .cluster(CLUSTER)
            .set_tasks(Some(doomed.clone()))
            .send()
            .await
            .unwrap();
        out.tasks()
            .iter()
            .all(|t| t.last_status() == Some("STOPPED"))
            .then(|| out.tasks().to_vec())
    })
    .await;
    for t in &stopped {
        let reason = t.stopped_reason().unwrap_or("");
        assert!(
            reason.contains(&instance_a) && reason.contains("us-east-1a"),
            "{reason}"
        );
    }
    let ci = container_instances(&ecs)
        .await
        .into_iter()
        .find(|c| c.ec2_instance_id() == Some(instance_a.as_str()))
        .unwrap();
    assert!(
        !ci.agent_connected(),
        "the agent in the dark zone is disconnected"
    );
    let health = targets(&elb, &frontend_tg).await;
    assert!(
        health.contains(&(
            instance_a.clone(),
            8080,
            "unhealthy".into(),
            "Target.Timeout".into()
        )),
        "{health:?}"
    );
    assert!(
        health
            .iter()
            .filter(|t| t.0 != instance_a)
            .all(|t| t.2 == "healthy"),
        "targets in us-east-1b stay healthy: {health:?}"
    );

    // The group replaces the impaired instance in the zone that serves; services recover there.
    common::set_durations(&json!({"asg_instance_replacement": 0.0}));
    let asg = aws_sdk_autoscaling::Client::new(&common::sdk_config(PRIMARY).await);
    common::poll("a replacement instance in us-east-1b", WAIT, async || {
        let out = asg
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(common::AUTO_SCALING_GROUP)
            .send()
            .await
            .unwrap();
        let group = &out.auto_scaling_groups()[0];
        (group.instances().len() == 2
            && group
                .instances()
                .iter()
                .all(|i| i.availability_zone() == Some("us-east-1b")))
        .then_some(())
    })
    .await;
    for (name, count) in [
        ("frontend", 2),
        ("backend", 2),
        ("ai-service", 1),
        ("redis", 1),
        ("qdrant", 1),
    ] {
        steady(&ecs, name, count).await;
        for t in tasks(&ecs, name, DesiredStatus::Running).await {
            assert_eq!(
                t.availability_zone(),
                Some("us-east-1b"),
                "{name}: nothing is placed in the dark zone"
            );
        }
    }
    common::poll("the app endpoint to be healthy again", WAIT, async || {
        (common::app_health(PRIMARY).0 == 200).then_some(())
    })
    .await;
}

// --- task stops and replacement ------------------------------------------------------------------

#[tokio::test]
async fn stopped_tasks_are_replaced_by_the_scheduler_with_new_ids() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"ecs_task_replacement": 3.0}));
    let ecs = ecs(PRIMARY).await;
    let before: BTreeSet<String> = tasks(&ecs, "backend", DesiredStatus::Running)
        .await
        .iter()
        .map(|t| t.task_arn().unwrap().to_string())
        .collect();

    let stopped = common::stop_tasks(PRIMARY, "backend", 1);
    assert!(before.contains(&stopped[0]));
    let svc = service(&ecs, "backend").await;
    assert_eq!(
        svc.running_count(),
        1,
        "replaced only after ecs_task_replacement"
    );
    assert_eq!(
        svc.deployments()[0].rollout_state(),
        Some(&DeploymentRolloutState::Completed)
    );
    let task = &ecs
        .describe_tasks()
        .cluster(CLUSTER)
        .tasks(&stopped[0])
        .send()
        .await
        .unwrap()
        .tasks()[0]
        .clone();
    assert_eq!(task.last_status(), Some("STOPPED"));
    assert_eq!(
        task.stop_code(),
        Some(&TaskStopCode::EssentialContainerExited)
    );
    assert_eq!(
        task.stopped_reason(),
        Some("Essential container in task exited")
    );

    common::set_durations(&json!({"ecs_task_replacement": 0.2}));
    let svc = steady(&ecs, "backend", 2).await;
    let after: BTreeSet<String> = tasks(&ecs, "backend", DesiredStatus::Running)
        .await
        .iter()
        .map(|t| t.task_arn().unwrap().to_string())
        .collect();
    let new: Vec<_> = after.difference(&before).collect();
    assert_eq!(new.len(), 1, "one new task id: {after:?}");
    let started = messages(&svc)
        .into_iter()
        .find(|m| m.contains("has started 1 tasks"))
        .expect("a started event");
    assert!(
        started.contains(new[0].rsplit('/').next().unwrap()),
        "{started}"
    );

    // StopTask itself: the same replacement, with the caller's reason.
    let victim = tasks(&ecs, "frontend", DesiredStatus::Running).await[0]
        .task_arn()
        .unwrap()
        .to_string();
    let out = ecs
        .stop_task()
        .cluster(CLUSTER)
        .task(&victim)
        .reason("drill: simulated failure")
        .send()
        .await
        .unwrap();
    let t = out.task().unwrap();
    assert_eq!(t.stop_code(), Some(&TaskStopCode::UserInitiated));
    assert_eq!(t.stopped_reason(), Some("drill: simulated failure"));
    steady(&ecs, "frontend", 2).await;
    let running = tasks(&ecs, "frontend", DesiredStatus::Running).await;
    assert!(
        running
            .iter()
            .all(|t| t.task_arn() != Some(victim.as_str()))
    );

    let (code, body) =
        common::control("POST", "/ecs/stop-tasks", Some(&json!({"service": "nope"})));
    assert_eq!(code, 400, "{body}");
}

// --- ECS on EC2: capacity, placement, refusals -----------------------------------------------------

#[tokio::test]
async fn the_pilot_light_places_nothing_until_its_group_is_scaled_then_spreads_over_both_zones() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"ecs_rollout": 0.2}));
    let ecs = ecs(RECOVERY).await;
    assert!(
        container_instances(&ecs).await.is_empty(),
        "no capacity in the recovery region"
    );
    let err = ecs
        .run_task()
        .cluster(CLUSTER)
        .task_definition("prod-infra-frontend")
        .launch_type(LaunchType::Ec2)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterException"));
    assert!(
        err.message()
            .unwrap()
            .contains("No Container Instances were found in your cluster")
    );

    scale(&ecs, "frontend", 2).await;
    let event = common::poll("the placement refusal", WAIT, async || {
        messages(&service(&ecs, "frontend").await)
            .into_iter()
            .find(|m| m.contains("was unable to place a task because no container instance met all of its requirements"))
    })
    .await;
    assert!(event.starts_with("(service frontend)"), "{event}");
    assert_eq!(service(&ecs, "frontend").await.running_count(), 0);

    common::ensure_capacity(RECOVERY, 2).await;
    let zones: BTreeSet<String> = container_instances(&ecs)
        .await
        .iter()
        .map(zone_of)
        .collect();
    assert_eq!(
        zones,
        BTreeSet::from(["us-west-2a".to_string(), "us-west-2b".to_string()])
    );
    steady(&ecs, "frontend", 2).await;
    let zones: BTreeSet<String> = tasks(&ecs, "frontend", DesiredStatus::Running)
        .await
        .iter()
        .map(|t| t.availability_zone().unwrap().to_string())
        .collect();
    assert_eq!(zones.len(), 2, "tasks spread across the zones: {zones:?}");
}

#[tokio::test]
async fn a_task_larger_than_any_instance_is_refused_in_ecs_words() {
    let _guard = SandboxGuard::seeded().await;
    let ecs = ecs(PRIMARY).await;
    let td = register(
        &ecs,
        "too-big",
        container("big", "busybox", 8000).build(),
        vec![],
    )
    .await;
    let out = ecs
        .run_task()
        .cluster(CLUSTER)
        .task_definition(&td)
        .launch_type(LaunchType::Ec2)
        .send()
        .await
        .unwrap();
    assert!(out.tasks().is_empty());
    assert_eq!(out.failures()[0].reason(), Some("RESOURCE:MEMORY"));

    create_service(&ecs, "too-big", &td, 1).await;
    let event = common::poll("the placement refusal", WAIT, async || {
        messages(&service(&ecs, "too-big").await)
            .into_iter()
            .find(|m| m.contains("was unable to place a task"))
    })
    .await;
    assert!(
        event.contains("has insufficient memory available"),
        "{event}"
    );
    let svc = service(&ecs, "too-big").await;
    assert_eq!((svc.running_count(), svc.pending_count()), (0, 0));
}

#[tokio::test]
async fn an_image_missing_from_the_regions_registry_cannot_start() {
    let _guard = SandboxGuard::seeded().await;
    common::ensure_capacity(RECOVERY, 1).await;
    let ecs = ecs(RECOVERY).await;
    let image = format!("{ACCOUNT}.dkr.ecr.{RECOVERY}.amazonaws.com/prod-infra/frontend:v9.9.9");
    let td = register(
        &ecs,
        "missing-image",
        container("web", &image, 256).build(),
        vec![],
    )
    .await;
    create_service(&ecs, "missing-image", &td, 1).await;

    let task = stopped_with(&ecs, "missing-image", "CannotPullContainerError").await;
    assert_eq!(task.stop_code(), Some(&TaskStopCode::TaskFailedToStart));
    assert!(
        task.stopped_reason().unwrap().contains(&image),
        "{:?}",
        task.stopped_reason()
    );
    let svc = common::poll("the service event", WAIT, async || {
        let svc = service(&ecs, "missing-image").await;
        messages(&svc)
            .iter()
            .any(|m| m.contains("CannotPullContainerError"))
            .then_some(svc)
    })
    .await;
    assert_eq!(svc.running_count(), 0);
    assert!(svc.deployments()[0].failed_tasks() >= 1);
    assert_eq!(
        svc.deployments()[0].rollout_state(),
        Some(&DeploymentRolloutState::InProgress)
    );
}

#[tokio::test]
async fn a_task_definition_naming_a_us_east_1_secret_cannot_start_in_us_west_2() {
    let guard = SandboxGuard::seeded().await;
    common::ensure_capacity(RECOVERY, 1).await;
    let ecs = ecs(RECOVERY).await;
    let east_arn = seed_secret_arn(&guard.seed, "arn");
    assert!(east_arn.contains(":us-east-1:"));
    let with_secret = |arn: &str| {
        container("api", "redis:7", 256)
            .secrets(
                Secret::builder()
                    .name("MONGODB_URI")
                    .value_from(format!("{arn}:MONGODB_URI::"))
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let td = register(&ecs, "foreign-secret", with_secret(&east_arn), vec![]).await;
    create_service(&ecs, "foreign-secret", &td, 1).await;

    let task = stopped_with(&ecs, "foreign-secret", "ResourceInitializationError").await;
    let reason = task.stopped_reason().unwrap();
    assert!(
        reason.contains("unable to pull secrets or registry auth"),
        "{reason}"
    );
    assert!(reason.contains(&east_arn), "{reason}");
    assert_eq!(service(&ecs, "foreign-secret").await.running_count(), 0);

    // Naming the region's own replica, the same task starts.
    let replica_arn = seed_secret_arn(&guard.seed, "replica_arn");
    let td = register(&ecs, "foreign-secret", with_secret(&replica_arn), vec![]).await;
    ecs.update_service()
        .cluster(CLUSTER)
        .service("foreign-secret")
        .task_definition(td)
        .send()
        .await
        .unwrap();
    steady(&ecs, "foreign-secret", 1).await;
}

#[tokio::test]
async fn an_efs_volume_needs_its_file_system_in_the_region_with_a_mount_target_in_the_tasks_zone() {
    let guard = SandboxGuard::seeded().await;
    common::ensure_capacity(RECOVERY, 2).await;
    let ecs = ecs(RECOVERY).await;

    // The seed's recovery task definition still names the primary's file system.
    scale(&ecs, "qdrant", 1).await;
    let task = stopped_with(&ecs, "qdrant", "ResourceInitializationError").await;
    let reason = task.stopped_reason().unwrap();
    assert!(
        reason.contains("Failed to resolve \"fs-0123456789abcdef0.efs.us-west-2.amazonaws.com\""),
        "{reason}"
    );
    scale(&ecs, "qdrant", 0).await;

    // A file system whose only mount target is in us-west-2a: a task on the us-west-2b
    // instance cannot mount it, one on the us-west-2a instance can.
    let fs = file_system(&guard.seed, RECOVERY, "one-zone", &[0]).await;
    let td = register(
        &ecs,
        "one-zone",
        qdrant_container(),
        vec![qdrant_volume(&fs)],
    )
    .await;
    let instances = container_instances(&ecs).await;
    for (zone, ok) in [("us-west-2b", false), ("us-west-2a", true)] {
        let ci = instances.iter().find(|c| zone_of(c) == zone).unwrap();
        let out = ecs
            .start_task()
            .cluster(CLUSTER)
            .task_definition(&td)
            .container_instances(ci.container_instance_arn().unwrap())
            .send()
            .await
            .unwrap();
        let arn = out.tasks()[0].task_arn().unwrap().to_string();
        let settled = common::poll("the task to leave PENDING", WAIT, async || {
            let t = ecs
                .describe_tasks()
                .cluster(CLUSTER)
                .tasks(&arn)
                .send()
                .await
                .unwrap()
                .tasks()[0]
                .clone();
            (t.last_status() != Some("PENDING")).then_some(t)
        })
        .await;
        if ok {
            assert_eq!(settled.last_status(), Some("RUNNING"), "{zone}");
        } else {
            assert_eq!(settled.last_status(), Some("STOPPED"), "{zone}");
            assert!(
                settled.stopped_reason().unwrap().contains(&fs),
                "{:?}",
                settled.stopped_reason()
            );
        }
    }
}

#[tokio::test]
async fn the_app_endpoint_reports_qdrant_healthy_only_on_restored_data_naming_its_recovery_point() {
    let guard = SandboxGuard::seeded().await;
    common::set_durations(
        &json!({"ecs_rollout": 0.2, "restore_base": 0.2, "restore_per_gib": 0.0}),
    );
    common::ensure_capacity(RECOVERY, 2).await;
    let ecs = ecs(RECOVERY).await;
    for (name, count) in [
        ("frontend", 2),
        ("backend", 2),
        ("ai-service", 1),
        ("redis", 1),
    ] {
        scale(&ecs, name, count).await;
    }
    // Qdrant on an empty, new file system: it runs, but the app is not healthy.
    let empty = file_system(&guard.seed, RECOVERY, "qdrant-empty", &[0, 1]).await;
    qdrant_on(&ecs, &empty, 1).await;
    for (name, count) in [
        ("frontend", 2),
        ("backend", 2),
        ("ai-service", 1),
        ("redis", 1),
        ("qdrant", 1),
    ] {
        steady(&ecs, name, count).await;
    }
    let (code, body) = common::app_health(RECOVERY);
    assert_eq!(code, 503, "{body}");
    assert_eq!(body["services"]["qdrant"]["data"], "empty", "{body}");
    assert_eq!(body["services"]["qdrant"]["healthy"], false);
    assert!(
        body["reason"].as_str().unwrap().contains("holds no data"),
        "{body}"
    );
    assert_eq!(body["services"]["frontend"]["healthy"], true, "{body}");

    // Restored from the newest copy in the DR vault: healthy, and the body names the point.
    let config = common::sdk_config(RECOVERY).await;
    let backup = aws_sdk_backup::Client::new(&config);
    let points = backup
        .list_recovery_points_by_backup_vault()
        .backup_vault_name("prod-infra-dr")
        .send()
        .await
        .unwrap();
    let newest = points
        .recovery_points()
        .iter()
        .max_by_key(|p| p.creation_date().map(|d| d.secs()))
        .unwrap();
    let rp_arn = newest.recovery_point_arn().unwrap().to_string();
    let mut metadata = backup
        .get_recovery_point_restore_metadata()
        .backup_vault_name("prod-infra-dr")
        .recovery_point_arn(&rp_arn)
        .send()
        .await
        .unwrap()
        .restore_metadata()
        .cloned()
        .unwrap_or_default();
    metadata.insert("newFileSystem".into(), "true".into());
    metadata.insert("CreationToken".into(), "qdrant-restored".into());
    metadata.entry("Encrypted".into()).or_insert("true".into());
    let job = backup
        .start_restore_job()
        .recovery_point_arn(&rp_arn)
        .iam_role_arn(format!(
            "arn:aws:iam::{ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole"
        ))
        .resource_type("EFS")
        .set_metadata(Some(metadata))
        .send()
        .await
        .unwrap()
        .restore_job_id()
        .unwrap()
        .to_string();
    let restored_arn = common::poll("the restore to complete", WAIT, async || {
        let out = backup
            .describe_restore_job()
            .restore_job_id(&job)
            .send()
            .await
            .unwrap();
        (out.status().map(|s| s.as_str()) == Some("COMPLETED"))
            .then(|| out.created_resource_arn().unwrap().to_string())
    })
    .await;
    let restored = restored_arn.rsplit('/').next().unwrap().to_string();
    mount_targets(&guard.seed, RECOVERY, &restored, &[0, 1]).await;
    // Mounted at the file system's root, Qdrant finds only the restore's directory there.
    qdrant_on(&ecs, &restored, 1).await;
    steady(&ecs, "qdrant", 1).await;
    let (code, body) = common::app_health(RECOVERY);
    assert_eq!(code, 503, "{body}");
    assert_eq!(body["services"]["qdrant"]["data"], "empty", "{body}");
    let directory = common::efs_contents(RECOVERY, &restored)["directories"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("the restore is in {directory}")),
        "{body}"
    );
    // Mounted at the restore's directory, it serves the restored data.
    qdrant_on_at(&ecs, &restored, Some(&directory), 1).await;
    steady(&ecs, "qdrant", 1).await;
    let body = common::poll("the app endpoint to be healthy", WAIT, async || {
        let (code, body) = common::app_health(RECOVERY);
        (code == 200).then_some(body)
    })
    .await;
    let qdrant = &body["services"]["qdrant"];
    assert_eq!(qdrant["data"], "restored", "{body}");
    assert_eq!(qdrant["file_system_id"], restored.as_str(), "{body}");
    assert_eq!(qdrant["recovery_point_arn"], rp_arn.as_str(), "{body}");
    assert!(
        qdrant["restore_directory"]
            .as_str()
            .unwrap()
            .starts_with("aws-backup-restore_"),
        "{body}"
    );
}

#[tokio::test]
async fn draining_an_instance_moves_its_service_tasks_to_the_others() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"ecs_task_start": 0.1}));
    common::ensure_capacity(PRIMARY, 3).await;
    let ecs = ecs(PRIMARY).await;
    let busiest = container_instances(&ecs)
        .await
        .into_iter()
        .max_by_key(|c| c.running_tasks_count())
        .unwrap();
    assert!(busiest.running_tasks_count() > 0);
    let arn = busiest.container_instance_arn().unwrap().to_string();
    ecs.update_container_instances_state()
        .cluster(CLUSTER)
        .container_instances(&arn)
        .status(ContainerInstanceStatus::Draining)
        .send()
        .await
        .unwrap();
    common::poll("the drained instance to run nothing", WAIT, async || {
        let ci = container_instances(&ecs)
            .await
            .into_iter()
            .find(|c| c.container_instance_arn() == Some(arn.as_str()))?;
        (ci.running_tasks_count() == 0 && ci.status() == Some("DRAINING")).then_some(())
    })
    .await;
    for (name, count) in [
        ("frontend", 2),
        ("backend", 2),
        ("ai-service", 1),
        ("redis", 1),
        ("qdrant", 1),
    ] {
        steady(&ecs, name, count).await;
        for t in tasks(&ecs, name, DesiredStatus::Running).await {
            assert_ne!(t.container_instance_arn(), Some(arn.as_str()), "{name}");
        }
    }
    let moved = tasks(&ecs, "frontend", DesiredStatus::Stopped)
        .await
        .into_iter()
        .chain(tasks(&ecs, "backend", DesiredStatus::Stopped).await)
        .filter(|t| t.container_instance_arn() == Some(arn.as_str()))
        .collect::<Vec<_>>();
    for t in moved {
        assert_eq!(
            t.stopped_reason(),
            Some("Container instance is being drained")
        );
    }
    assert_eq!(common::app_health(PRIMARY).0, 200);
}

// --- the ALB and Route 53 answers ------------------------------------------------------------------

#[tokio::test]
async fn running_tasks_are_the_albs_targets_and_leave_when_they_stop() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"ecs_task_replacement": 2.0}));
    let ecs = ecs(PRIMARY).await;
    let elb = elb(PRIMARY).await;
    let tg = target_group_arn(&elb, "prod-infra-frontend").await;
    let expected = async || -> BTreeSet<(String, i32, String, String)> {
        let instances = container_instances(&ecs).await;
        tasks(&ecs, "frontend", DesiredStatus::Running)
            .await
            .iter()
            .filter(|t| t.last_status() == Some("RUNNING"))
            .map(|t| {
                let ci = instances
                    .iter()
                    .find(|c| c.container_instance_arn() == t.container_instance_arn())
                    .unwrap();
                let port = t.containers()[0].network_bindings()[0].host_port().unwrap();
                (
                    ci.ec2_instance_id().unwrap().to_string(),
                    port,
                    "healthy".to_string(),
                    String::new(),
                )
            })
            .collect()
    };
    let now = targets(&elb, &tg).await;
    assert_eq!(now.len(), 2, "{now:?}");
    assert_eq!(now, expected().await);
    let instances: BTreeSet<&str> = now.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(
        instances.len(),
        2,
        "one target per zone's instance: {now:?}"
    );

    common::stop_tasks(PRIMARY, "frontend", 1);
    assert_eq!(
        targets(&elb, &tg).await.len(),
        1,
        "the stopped task's target left"
    );
    steady(&ecs, "frontend", 2).await;
    common::poll("the replacement to be a target", WAIT, async || {
        let now = targets(&elb, &tg).await;
        (now.len() == 2 && now == expected().await).then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_alias_record_resolves_to_the_alb_region_and_fails_over_with_target_health() {
    let guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"ecs_rollout": 0.2}));
    let (status, answer) = common::route53_answer("www.prod-infra.example.com");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["region"], "us-east-1", "{answer}");
    assert_eq!(
        answer["record"]["alias"]["dns_name"],
        guard.seed["elbv2"][PRIMARY]["dns_name"]
    );
    assert!(!answer["values"].as_array().unwrap().is_empty());
    let secondary = answer["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["failover"] == "SECONDARY")
        .unwrap();
    assert_eq!(
        secondary["healthy"], false,
        "pilot light: no healthy target there: {secondary}"
    );

    // Bring the recovery stack's ALB targets up: capacity, frontend, backend, and Qdrant on
    // a file system of its own.
    common::ensure_capacity(RECOVERY, 2).await;
    let ecs = ecs(RECOVERY).await;
    scale(&ecs, "frontend", 1).await;
    scale(&ecs, "backend", 1).await;
    let fs = file_system(&guard.seed, RECOVERY, "qdrant-west", &[0, 1]).await;
    qdrant_on(&ecs, &fs, 1).await;
    for name in ["frontend", "backend", "qdrant"] {
        steady(&ecs, name, 1).await;
    }
    let elb = elb(RECOVERY).await;
    for name in [
        "prod-infra-frontend",
        "prod-infra-backend",
        "prod-infra-qdrant",
    ] {
        let tg = target_group_arn(&elb, name).await;
        let health = targets(&elb, &tg).await;
        assert!(
            health.iter().any(|t| t.2 == "healthy"),
            "{name}: {health:?}"
        );
    }

    common::outage(&json!({"region": "us-east-1", "mode": "error503"}));
    let (_, answer) = common::route53_answer("www.prod-infra.example.com");
    assert_eq!(answer["region"], "us-west-2", "{answer}");
    assert_eq!(answer["record"]["failover"], "SECONDARY", "{answer}");
    assert_eq!(
        answer["ttl"], 60,
        "alias records to load balancers answer with 60 s"
    );
    common::end_outages();
    assert_eq!(
        common::route53_answer("www.prod-infra.example.com").1["region"],
        "us-east-1"
    );
}

#[tokio::test]
async fn weighted_answers_follow_health_and_a_pending_change_is_not_yet_visible() {
    let guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"route53_propagation": 5.0}));
    let r53 = aws_sdk_route53::Client::new(&common::sdk_config(PRIMARY).await);
    let zone = guard.seed["route53"]["hosted_zone_id"].as_str().unwrap();
    let check = |role: &str| {
        guard.seed["route53"]["health_checks"][role]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let record = |id: &str, weight: i64, value: &str, check: String| {
        Change::builder()
            .action(ChangeAction::Create)
            .resource_record_set(
                ResourceRecordSet::builder()
                    .name("api.prod-infra.example.com.")
                    .r#type(RrType::A)
                    .ttl(30)
                    .set_identifier(id)
                    .weight(weight)
                    .health_check_id(check)
                    .resource_records(ResourceRecord::builder().value(value).build().unwrap())
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    };
    let out = r53
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(
            ChangeBatch::builder()
                .changes(record("blue", 100, "10.0.2.10", check("primary")))
                .changes(record("green", 0, "10.1.2.10", check("secondary")))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let id = out.change_info().unwrap().id().to_string();
    assert_eq!(out.change_info().unwrap().status(), &ChangeStatus::Pending);
    let (status, body) = common::route53_answer("api.prod-infra.example.com");
    assert_eq!(
        (status, body["rcode"].as_str()),
        (404, Some("NXDOMAIN")),
        "still PENDING: {body}"
    );

    common::poll("the change to be INSYNC", WAIT, async || {
        let out = r53.get_change().id(&id).send().await.unwrap();
        (out.change_info().unwrap().status() == &ChangeStatus::Insync).then_some(())
    })
    .await;
    let (status, body) = common::route53_answer("api.prod-infra.example.com");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["routing"], "weighted");
    assert_eq!(body["values"], json!(["10.0.2.10"]), "{body}");
    assert_eq!(body["ttl"], 30);

    // The weight-100 record's endpoint fails: only the healthy one is left to answer.
    common::set_endpoint_health(&check("primary"), false);
    let (_, body) = common::route53_answer("api.prod-infra.example.com");
    assert_eq!(body["values"], json!(["10.1.2.10"]), "{body}");
    assert_eq!(body["record"]["set_identifier"], "green");

    let (status, body) = common::route53_answer("nothing.example.org");
    assert_eq!(
        (status, body["rcode"].as_str()),
        (404, Some("NXDOMAIN")),
        "{body}"
    );
    let (status, _) = common::control("GET", "/route53/answer", None);
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_health_check_follows_the_region_its_endpoint_is_in() {
    let guard = SandboxGuard::seeded().await;
    let id = guard.seed["route53"]["health_checks"]["primary"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r53 = aws_sdk_route53::Client::new(&common::sdk_config(PRIMARY).await);
    let healthy = async || {
        r53.get_health_check_status()
            .health_check_id(&id)
            .send()
            .await
            .unwrap()
            .health_check_observations()[0]
            .status_report()
            .unwrap()
            .status()
            .unwrap()
            .starts_with("Success")
    };
    assert!(healthy().await);
    common::outage(&json!({"region": "eu-west-1", "mode": "error503"}));
    let (code, body) = common::control(
        "POST",
        &format!("/route53/health-checks/{id}/endpoint"),
        Some(&json!({"region": "eu-west-1"})),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["endpoint_region"], "eu-west-1");
    assert!(!healthy().await, "its endpoint now lives in a dark region");
    let (_, answer) = common::route53_answer("app.prod-infra.example.com");
    assert_eq!(answer["values"], json!(["10.1.1.10"]), "{answer}");
    common::end_outages();
    assert!(healthy().await);
}
