//! EFS replication, Secrets Manager promotion, ECR replication, Route 53 propagation and
//! health checks, and ECS rollouts in the sandbox, through the AWS SDK for Rust.

mod common;

use std::time::Duration;

use aws_sdk_ecr::types::{ImageIdentifier, ReplicationStatus as EcrReplicationStatus};
use aws_sdk_ecs::types::{
    ContainerDefinition, DeploymentRolloutState, LaunchType, NetworkMode, PortMapping,
};
use aws_sdk_efs::types::{
    BackupPolicy, DestinationToCreate, ReplicationOverwriteProtection, ReplicationStatus, Status,
};
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecord, ResourceRecordSet,
    ResourceRecordSetFailover, RrType,
};
use aws_sdk_secretsmanager::types::StatusType;
use common::{PRIMARY, RECOVERY, SandboxGuard};
use serde_json::json;

const QDRANT: &str = "fs-0123456789abcdef0";
const CLUSTER: &str = "prod-infra-production-cluster";
const WAIT: Duration = Duration::from_secs(20);

async fn protection(efs: &aws_sdk_efs::Client, fs_id: &str) -> ReplicationOverwriteProtection {
    let out = efs
        .describe_file_systems()
        .file_system_id(fs_id)
        .send()
        .await
        .unwrap();
    out.file_systems()[0]
        .file_system_protection()
        .and_then(|p| p.replication_overwrite_protection())
        .cloned()
        .expect("FileSystemProtection")
}

#[tokio::test]
async fn efs_replication_creates_a_read_only_destination_that_becomes_writable_after_deletion() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(
        &json!({"efs_replication_enable": 0.2, "efs_replication_lag": 30.0, "efs_replication_delete": 0.5}),
    );
    let east = aws_sdk_efs::Client::new(&common::sdk_config(PRIMARY).await);
    let west = aws_sdk_efs::Client::new(&common::sdk_config(RECOVERY).await);
    assert_eq!(
        protection(&east, QDRANT).await,
        ReplicationOverwriteProtection::Enabled
    );

    let created = east
        .create_replication_configuration()
        .source_file_system_id(QDRANT)
        .destinations(DestinationToCreate::builder().region(RECOVERY).build())
        .send()
        .await
        .unwrap();
    let dest_id = created.destinations()[0].file_system_id().to_string();
    assert_eq!(
        protection(&west, &dest_id).await,
        ReplicationOverwriteProtection::Replicating
    );

    let dest = common::poll("replication to be ENABLED", WAIT, async || {
        let out = west
            .describe_replication_configurations()
            .file_system_id(&dest_id)
            .send()
            .await
            .unwrap();
        let dest = out.replications()[0].destinations()[0].clone();
        (dest.status() == &ReplicationStatus::Enabled).then_some(dest)
    })
    .await;
    let last = dest
        .last_replicated_timestamp()
        .expect("LastReplicatedTimestamp");
    // Compared with the configuration's own creation, never with the test's clock.
    assert!(
        last.as_nanos() >= created.creation_time().as_nanos(),
        "replicated since the configuration was created"
    );
    let from_source = east
        .describe_replication_configurations()
        .file_system_id(QDRANT)
        .send()
        .await
        .unwrap();
    assert_eq!(
        from_source.replications()[0].source_file_system_region(),
        PRIMARY
    );

    let refused = west
        .update_file_system_protection()
        .file_system_id(&dest_id)
        .replication_overwrite_protection(ReplicationOverwriteProtection::Disabled)
        .send()
        .await
        .unwrap_err();
    assert!(refused.into_service_error().is_replication_already_exists());

    // Fail over: delete the configuration from the destination's region.
    west.delete_replication_configuration()
        .source_file_system_id(&dest_id)
        .send()
        .await
        .unwrap();
    let during = west
        .describe_replication_configurations()
        .file_system_id(&dest_id)
        .send()
        .await;
    if let Ok(during) = during {
        assert_eq!(
            during.replications()[0].destinations()[0].status(),
            &ReplicationStatus::Deleting
        );
    }
    common::poll("the configuration to be gone", WAIT, async || {
        let out = west
            .describe_replication_configurations()
            .file_system_id(&dest_id)
            .send()
            .await;
        match out {
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_replication_not_found()) =>
            {
                Some(())
            }
            _ => None,
        }
    })
    .await;
    assert_eq!(
        protection(&west, &dest_id).await,
        ReplicationOverwriteProtection::Enabled
    );

    let policy = east
        .put_backup_policy()
        .file_system_id(QDRANT)
        .backup_policy(
            BackupPolicy::builder()
                .status(Status::Disabled)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        policy.backup_policy().map(|p| p.status()),
        Some(&Status::Disabled)
    );
    let updated = east
        .update_file_system_protection()
        .file_system_id(QDRANT)
        .replication_overwrite_protection(ReplicationOverwriteProtection::Disabled)
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated.replication_overwrite_protection(),
        Some(&ReplicationOverwriteProtection::Disabled)
    );
}

#[tokio::test]
async fn secrets_replica_lags_then_is_promoted_to_an_independent_secret() {
    let _guard = SandboxGuard::seeded().await;
    let east = aws_sdk_secretsmanager::Client::new(&common::sdk_config(PRIMARY).await);
    let west = aws_sdk_secretsmanager::Client::new(&common::sdk_config(RECOVERY).await);
    let name = "prod-infra/backend";

    let primary = east.describe_secret().secret_id(name).send().await.unwrap();
    let replica = west.describe_secret().secret_id(name).send().await.unwrap();
    assert_eq!(replica.primary_region(), Some(PRIMARY));
    assert_eq!(
        primary.version_ids_to_stages(),
        replica.version_ids_to_stages()
    );
    let status = &primary.replication_status()[0];
    assert_eq!(status.region(), Some(RECOVERY));
    assert_eq!(status.status(), Some(&StatusType::InSync));
    assert!(status.last_accessed_date().is_some());

    let lag = common::lag_secret(name, RECOVERY, Some(r#"{"API_KEY":"rotated"}"#));
    let primary = east.describe_secret().secret_id(name).send().await.unwrap();
    let replica = west.describe_secret().secret_id(name).send().await.unwrap();
    assert_ne!(
        primary.version_ids_to_stages(),
        replica.version_ids_to_stages()
    );
    let current = |stages: Option<&std::collections::HashMap<String, Vec<String>>>| {
        stages
            .unwrap()
            .iter()
            .find(|(_, s)| s.iter().any(|s| s == "AWSCURRENT"))
            .map(|(id, _)| id.clone())
            .unwrap()
    };
    assert_eq!(
        current(primary.version_ids_to_stages()),
        lag["primary_current_version_id"]
    );
    assert_eq!(
        current(replica.version_ids_to_stages()),
        lag["replica_current_version_id"]
    );
    assert_eq!(
        primary.replication_status()[0].status(),
        Some(&StatusType::InProgress)
    );
    let old_value = west
        .get_secret_value()
        .secret_id(name)
        .send()
        .await
        .unwrap();
    assert!(old_value.secret_string().unwrap().contains("MONGODB_URI"));

    // Promote the replica in its own region.
    let promoted = west
        .stop_replication_to_replica()
        .secret_id(name)
        .send()
        .await
        .unwrap();
    assert!(
        promoted.arn().unwrap().starts_with(
            "arn:aws:secretsmanager:us-west-2:123456789012:secret:prod-infra/backend-"
        )
    );
    let standalone = west.describe_secret().secret_id(name).send().await.unwrap();
    assert_eq!(standalone.primary_region(), None);
    assert!(
        east.describe_secret()
            .secret_id(name)
            .send()
            .await
            .unwrap()
            .replication_status()
            .is_empty()
    );

    west.put_secret_value()
        .secret_id(name)
        .secret_string("west-only")
        .send()
        .await
        .unwrap();
    let east_value = east
        .get_secret_value()
        .secret_id(name)
        .send()
        .await
        .unwrap();
    let west_value = west
        .get_secret_value()
        .secret_id(name)
        .send()
        .await
        .unwrap();
    assert_eq!(east_value.secret_string(), Some(r#"{"API_KEY":"rotated"}"#));
    assert_eq!(west_value.secret_string(), Some("west-only"));

    let not_replica = east
        .stop_replication_to_replica()
        .secret_id(name)
        .send()
        .await
        .unwrap_err();
    assert!(
        not_replica
            .into_service_error()
            .is_invalid_parameter_exception()
    );
}

/// Pushes a small image whose config and single layer name `tag`, so every tag is new bytes.
async fn push(ecr: &aws_sdk_ecr::Client, repository: &str, tag: &str) -> (String, String) {
    let layer = format!("layer of {repository}:{tag}").into_bytes();
    let config = format!("{{\"config\": \"{repository}:{tag}\"}}").into_bytes();
    let digest = common::push_image(ecr, repository, tag, &config, &[&layer]).await;
    (digest, common::sha256_digest(&layer))
}

#[tokio::test]
async fn ecr_replicates_new_pushes_after_the_lag_and_reports_status() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"ecr_replication_lag": 0.3}));
    let east = aws_sdk_ecr::Client::new(&common::sdk_config(PRIMARY).await);
    let west = aws_sdk_ecr::Client::new(&common::sdk_config(RECOVERY).await);
    let repo = "prod-infra/backend";

    let registry = east.describe_registry().send().await.unwrap();
    let rule = &registry.replication_configuration().unwrap().rules()[0];
    assert_eq!(rule.destinations()[0].region(), RECOVERY);

    // Seeded images are present in both regions with the same digests.
    let east_images = east
        .describe_images()
        .repository_name(repo)
        .send()
        .await
        .unwrap();
    let west_images = west
        .describe_images()
        .repository_name(repo)
        .send()
        .await
        .unwrap();
    let digests = |out: &aws_sdk_ecr::operation::describe_images::DescribeImagesOutput| {
        let mut d: Vec<String> = out
            .image_details()
            .iter()
            .map(|i| i.image_digest().unwrap().to_string())
            .collect();
        d.sort();
        d
    };
    assert_eq!(digests(&east_images), digests(&west_images));

    let (digest, layer) = push(&east, repo, "v2.0.0").await;
    // Not in the recovery region until replication copies it, layers included.
    let early = west
        .batch_check_layer_availability()
        .repository_name(repo)
        .layer_digests(&layer)
        .send()
        .await
        .unwrap();
    assert_eq!(early.failures()[0].layer_digest(), Some(layer.as_str()));
    let by_tag = ImageIdentifier::builder().image_tag("v2.0.0").build();
    let status = common::poll("replication to complete", WAIT, async || {
        let out = east
            .describe_image_replication_status()
            .repository_name(repo)
            .image_id(by_tag.clone())
            .send()
            .await
            .unwrap();
        let status = out.replication_statuses()[0].clone();
        (status.status() == Some(&EcrReplicationStatus::Complete)).then_some(status)
    })
    .await;
    assert_eq!(status.region(), Some(RECOVERY));
    let copied = west
        .describe_images()
        .repository_name(repo)
        .image_ids(ImageIdentifier::builder().image_tag("v2.0.0").build())
        .send()
        .await
        .unwrap();
    assert_eq!(
        copied.image_details()[0].image_digest(),
        Some(digest.as_str())
    );
    // Replication copied the layer too: the recovery region serves its bytes.
    let url = west
        .get_download_url_for_layer()
        .repository_name(repo)
        .layer_digest(&layer)
        .send()
        .await
        .unwrap();
    let (status, bytes) = common::http_get(url.download_url().unwrap());
    assert_eq!(status, 200);
    assert_eq!(common::sha256_digest(&bytes), layer);

    // A repository that does not exist in the destination yet is created there.
    east.create_repository()
        .repository_name("prod-infra/worker")
        .send()
        .await
        .unwrap();
    push(&east, "prod-infra/worker", "w1").await;
    common::poll("the new repository to be replicated", WAIT, async || {
        west.describe_images()
            .repository_name("prod-infra/worker")
            .send()
            .await
            .ok()
            .filter(|o| !o.image_details().is_empty())
    })
    .await;

    // An image pushed around replication never arrives and has no replication status.
    let hotfix = common::push_unreplicated_image("prod-infra/frontend", "hotfix");
    let out = east
        .describe_image_replication_status()
        .repository_name("prod-infra/frontend")
        .image_id(
            ImageIdentifier::builder()
                .image_digest(hotfix["digest"].as_str().unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(out.replication_statuses().is_empty());
    let missing = west
        .describe_images()
        .repository_name("prod-infra/frontend")
        .image_ids(ImageIdentifier::builder().image_tag("hotfix").build())
        .send()
        .await;
    match missing {
        Ok(out) => assert!(
            out.image_details().is_empty(),
            "hotfix must not be in {RECOVERY}"
        ),
        Err(err) => assert!(err.into_service_error().is_image_not_found_exception()),
    }

    // An injected replication failure is reported as FAILED.
    common::control(
        "POST",
        "/ecr/fail-replication",
        Some(&json!({"region": RECOVERY})),
    );
    push(&east, repo, "v2.0.1").await;
    common::poll("replication to fail", WAIT, async || {
        let out = east
            .describe_image_replication_status()
            .repository_name(repo)
            .image_id(ImageIdentifier::builder().image_tag("v2.0.1").build())
            .send()
            .await
            .unwrap();
        (out.replication_statuses()[0].status() == Some(&EcrReplicationStatus::Failed))
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn route53_changes_are_pending_then_insync_and_unknown_changes_are_errors() {
    let guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"route53_propagation": 0.5}));
    let r53 = aws_sdk_route53::Client::new(&common::sdk_config(PRIMARY).await);
    let zone_id = guard.seed["route53"]["hosted_zone_id"]
        .as_str()
        .unwrap()
        .to_string();
    let secondary_check = guard.seed["route53"]["health_checks"]["secondary"]["id"]
        .as_str()
        .unwrap();

    let record = |value: &str| {
        ResourceRecordSet::builder()
            .name("app.prod-infra.example.com.")
            .r#type(RrType::A)
            .ttl(60)
            .set_identifier("secondary-us-west-2")
            .failover(ResourceRecordSetFailover::Secondary)
            .health_check_id(secondary_check)
            .resource_records(ResourceRecord::builder().value(value).build().unwrap())
            .build()
            .unwrap()
    };
    let change = |value: &str| {
        ChangeBatch::builder()
            .changes(
                Change::builder()
                    .action(ChangeAction::Upsert)
                    .resource_record_set(record(value))
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    };
    let first = r53
        .change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(change("10.1.1.20"))
        .send()
        .await
        .unwrap();
    let second = r53
        .change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(change("10.1.1.30"))
        .send()
        .await
        .unwrap();
    let info = first.change_info().unwrap();
    assert_eq!(info.status(), &ChangeStatus::Pending);
    assert_ne!(
        info.id(),
        second.change_info().unwrap().id(),
        "every change has its own id"
    );

    let id = info.id().to_string();
    common::poll("the change to be INSYNC", WAIT, async || {
        let out = r53.get_change().id(&id).send().await.unwrap();
        (out.change_info().unwrap().status() == &ChangeStatus::Insync).then_some(())
    })
    .await;
    let sets = r53
        .list_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .send()
        .await
        .unwrap();
    let secondary = sets
        .resource_record_sets()
        .iter()
        .find(|r| r.set_identifier() == Some("secondary-us-west-2"))
        .unwrap();
    assert_eq!(secondary.resource_records()[0].value(), "10.1.1.30");

    let unknown = r53
        .get_change()
        .id("C0000000000000")
        .send()
        .await
        .unwrap_err();
    assert!(unknown.into_service_error().is_no_such_change());
}

#[tokio::test]
async fn route53_health_check_status_follows_endpoint_inverted_and_disabled() {
    let guard = SandboxGuard::seeded().await;
    let r53 = aws_sdk_route53::Client::new(&common::sdk_config(PRIMARY).await);
    let id = guard.seed["route53"]["health_checks"]["primary"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let status = async || {
        let out = r53
            .get_health_check_status()
            .health_check_id(&id)
            .send()
            .await
            .unwrap();
        let report = out.health_check_observations()[0]
            .status_report()
            .unwrap()
            .status()
            .unwrap()
            .to_string();
        report.starts_with("Success")
    };
    assert!(status().await, "healthy by default");
    common::set_endpoint_health(&id, false);
    assert!(!status().await, "endpoint down");
    r53.update_health_check()
        .health_check_id(&id)
        .inverted(true)
        .send()
        .await
        .unwrap();
    assert!(status().await, "inverted: down reads as healthy");
    common::set_endpoint_health(&id, true);
    assert!(!status().await, "inverted: up reads as unhealthy");
    r53.update_health_check()
        .health_check_id(&id)
        .disabled(true)
        .send()
        .await
        .unwrap();
    assert!(status().await, "disabled checks are considered healthy");
}

#[tokio::test]
async fn ecs_scale_up_rolls_out_over_time_and_the_app_endpoint_follows() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"ecs_rollout": 0.6}));
    let ecs = aws_sdk_ecs::Client::new(&common::sdk_config(RECOVERY).await);
    let (status, detail) = common::app_health(RECOVERY);
    assert_eq!(status, 503, "pilot light: {detail}");
    assert_eq!(common::app_health(PRIMARY).0, 200);

    for service in ["frontend", "backend"] {
        ecs.update_service()
            .cluster(CLUSTER)
            .service(service)
            .desired_count(2)
            .send()
            .await
            .unwrap();
    }
    let first = ecs
        .describe_services()
        .cluster(CLUSTER)
        .services("frontend")
        .send()
        .await
        .unwrap();
    let svc = &first.services()[0];
    assert_eq!(svc.desired_count(), 2);
    let deployment = &svc.deployments()[0];
    assert_eq!(deployment.status(), Some("PRIMARY"));
    assert_eq!(
        deployment.rollout_state(),
        Some(&DeploymentRolloutState::InProgress)
    );
    assert!(svc.running_count() < 2);
    assert_eq!(common::app_health(RECOVERY).0, 503);

    let done = common::poll("frontend to reach its steady state", WAIT, async || {
        let out = ecs
            .describe_services()
            .cluster(CLUSTER)
            .services("frontend")
            .send()
            .await
            .unwrap();
        let svc = out.services()[0].clone();
        (svc.deployments()[0].rollout_state() == Some(&DeploymentRolloutState::Completed))
            .then_some(svc)
    })
    .await;
    assert_eq!(done.running_count(), 2);
    assert_eq!(done.pending_count(), 0);
    assert_eq!(done.deployments()[0].running_count(), 2);
    assert_eq!(done.deployments()[0].desired_count(), 2);
    assert!(done.events()[0].message().unwrap().contains("steady state"));
    common::poll("the application endpoint to be healthy", WAIT, async || {
        (common::app_health(RECOVERY).0 == 200).then_some(())
    })
    .await;

    // EC2 launch type with bridge networking needs no subnets.
    ecs.register_task_definition()
        .family("drill-probe")
        .network_mode(NetworkMode::Bridge)
        .container_definitions(
            ContainerDefinition::builder()
                .name("probe")
                .image("busybox")
                .memory(64)
                .port_mappings(PortMapping::builder().container_port(8080).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let created = ecs
        .create_service()
        .cluster(CLUSTER)
        .service_name("drill-probe")
        .task_definition("drill-probe")
        .desired_count(1)
        .launch_type(LaunchType::Ec2)
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.service().unwrap().deployments()[0].rollout_state(),
        Some(&DeploymentRolloutState::InProgress)
    );
    common::poll("the new service to run", WAIT, async || {
        let out = ecs
            .describe_services()
            .cluster(CLUSTER)
            .services("drill-probe")
            .send()
            .await
            .unwrap();
        (out.services()[0].running_count() == 1).then_some(())
    })
    .await;
}
