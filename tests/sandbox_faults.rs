//! Fault injection as the AWS SDK for Rust sees it: throttling in each protocol's shape,
//! 5xx, access denied, dropped connections and latency; by count, probability and region.

mod common;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_backup::error::{ProvideErrorMetadata, SdkError};
use common::{PRIMARY, RECOVERY, SandboxGuard};
use serde_json::{Value, json};

fn fault(service: &str, operation: &str, kind: &str) -> Value {
    common::inject_fault(&json!({"service": service, "operation": operation, "kind": kind}))
}

/// The error code and HTTP status of a service error; panics on any other kind of failure.
fn code_and_status<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    err: SdkError<E, R>,
    status: impl Fn(&R) -> u16,
) -> (String, u16) {
    match err {
        SdkError::ServiceError(se) => (
            se.err().code().unwrap_or_default().to_string(),
            status(se.raw()),
        ),
        other => panic!("expected a service error, got {other:?}"),
    }
}

fn http_status(raw: &aws_smithy_runtime_api::http::Response) -> u16 {
    raw.status().as_u16()
}

#[tokio::test]
async fn throttling_has_each_protocols_code_and_status() {
    let _guard = SandboxGuard::seeded().await;
    let east = common::sdk_config(PRIMARY).await;

    // awsJson 1.1: Secrets Manager, ECS, ECR
    fault("secretsmanager", "DescribeSecret", "throttle");
    let err = aws_sdk_secretsmanager::Client::new(&east)
        .describe_secret()
        .secret_id("prod-infra/backend")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_status(err, http_status),
        ("ThrottlingException".into(), 400)
    );
    fault("ecs", "DescribeServices", "throttle");
    let err = aws_sdk_ecs::Client::new(&east)
        .describe_services()
        .cluster("prod-infra-production-cluster")
        .services("frontend")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_status(err, http_status),
        ("ThrottlingException".into(), 400)
    );
    fault("ecr", "DescribeImages", "throttle");
    let err = aws_sdk_ecr::Client::new(&east)
        .describe_images()
        .repository_name("prod-infra/backend")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_status(err, http_status),
        ("ThrottlingException".into(), 400)
    );

    // restJson: Backup (400) and EFS (429)
    fault("backup", "ListRecoveryPointsByBackupVault", "throttle");
    let err = aws_sdk_backup::Client::new(&east)
        .list_recovery_points_by_backup_vault()
        .backup_vault_name("prod-infra-backup")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_status(err, http_status),
        ("ThrottlingException".into(), 400)
    );
    fault("efs", "DescribeFileSystems", "throttle");
    let err = aws_sdk_efs::Client::new(&east)
        .describe_file_systems()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_status(err, http_status),
        ("ThrottlingException".into(), 429)
    );

    // restXml: Route 53
    fault("route53", "GetChange", "throttle");
    let err = aws_sdk_route53::Client::new(&east)
        .get_change()
        .id("C0000000000000")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_status(err, http_status),
        ("Throttling".into(), 400)
    );

    // awsQuery: SNS and STS
    fault("sns", "ListTopics", "throttle");
    let err = aws_sdk_sns::Client::new(&east)
        .list_topics()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_status(err, http_status),
        ("Throttling".into(), 400)
    );
    fault("sts", "GetCallerIdentity", "throttle");
    let err = aws_sdk_sts::Client::new(&east)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_status(err, http_status),
        ("Throttling".into(), 400)
    );

    // Each fault fired once and was logged as such; nothing reached moto for those calls.
    let log = common::requests();
    assert_eq!(log.len(), 8);
    assert!(log.iter().all(|r| r["fault"] == "throttle"));
    assert!(
        common::control("GET", "/faults", None).1["faults"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn server_errors_and_access_denied_keep_their_status_and_code() {
    let _guard = SandboxGuard::seeded().await;
    let east = common::sdk_config(PRIMARY).await;
    let backup = aws_sdk_backup::Client::new(&east);

    fault("backup", "ListBackupVaults", "error500");
    let err = backup.list_backup_vaults().send().await.unwrap_err();
    assert_eq!(code_and_status(err, http_status).1, 500);
    fault("route53", "ListHostedZones", "error503");
    let err = aws_sdk_route53::Client::new(&east)
        .list_hosted_zones()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_status(err, http_status),
        ("ServiceUnavailable".into(), 503)
    );

    fault("ecs", "UpdateService", "access_denied");
    let err = aws_sdk_ecs::Client::new(&east)
        .update_service()
        .cluster("prod-infra-production-cluster")
        .service("frontend")
        .desired_count(3)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_status(err, http_status),
        ("AccessDeniedException".into(), 400)
    );
    fault("backup", "StartRestoreJob", "access_denied");
    let err = backup
        .start_restore_job()
        .recovery_point_arn("arn:aws:backup:us-east-1:123456789012:recovery-point:x")
        .iam_role_arn("arn:aws:iam::123456789012:role/r")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_status(err, http_status),
        ("AccessDeniedException".into(), 403)
    );
    fault("sts", "GetCallerIdentity", "access_denied");
    let err = aws_sdk_sts::Client::new(&east)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_status(err, http_status),
        ("AccessDenied".into(), 403)
    );

    // The denied UpdateService never reached moto: the service is unchanged.
    let svc = aws_sdk_ecs::Client::new(&east)
        .describe_services()
        .cluster("prod-infra-production-cluster")
        .services("frontend")
        .send()
        .await
        .unwrap();
    assert_eq!(svc.services()[0].desired_count(), 2);
}

#[tokio::test]
async fn dropped_connection_is_a_dispatch_or_response_failure() {
    let _guard = SandboxGuard::seeded().await;
    let client = aws_sdk_secretsmanager::Client::new(&common::sdk_config(PRIMARY).await);
    fault("secretsmanager", "ListSecrets", "drop");
    let err = client.list_secrets().send().await.unwrap_err();
    assert!(
        matches!(
            err,
            SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
        ),
        "expected a dispatch or response failure, got {err:?}"
    );
    let log = common::requests_for("secretsmanager", "ListSecrets");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["fault"], "drop");
    assert!(log[0]["status"].is_null());
    client
        .list_secrets()
        .send()
        .await
        .expect("the next call is answered");
}

#[tokio::test]
async fn latency_longer_than_the_operation_timeout_is_a_timeout_error() {
    let _guard = SandboxGuard::seeded().await;
    let config = common::config_loader(PRIMARY)
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_millis(300))
                .build(),
        )
        .load()
        .await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    common::inject_fault(
        &json!({"service": "secretsmanager", "operation": "ListSecrets", "kind": "latency", "latency_ms": 1500}),
    );
    let err = client.list_secrets().send().await.unwrap_err();
    assert!(
        matches!(err, SdkError::TimeoutError(_)),
        "expected a timeout, got {err:?}"
    );
    // The delayed call still reaches the service (it is "in doubt", as with real AWS).
    let done = common::poll(
        "the delayed call to finish",
        Duration::from_secs(10),
        async || {
            let log = common::requests_for("secretsmanager", "ListSecrets");
            log.first().filter(|r| r["status"] == 200).cloned()
        },
    )
    .await;
    assert_eq!(done["fault"], "latency");

    // A latency below the timeout only delays the answer.
    common::inject_fault(
        &json!({"service": "secretsmanager", "operation": "ListSecrets", "kind": "latency", "latency_ms": 50}),
    );
    client
        .list_secrets()
        .send()
        .await
        .expect("answered after a short delay");
}

#[tokio::test]
async fn count_probability_region_and_sdk_retries() {
    let _guard = SandboxGuard::seeded().await;
    let east = aws_sdk_sns::Client::new(&common::sdk_config(PRIMARY).await);
    let west = aws_sdk_sns::Client::new(&common::sdk_config(RECOVERY).await);

    // Count: the next two matching calls fail, the third succeeds.
    common::inject_fault(
        &json!({"service": "sns", "operation": "ListTopics", "kind": "error503", "count": 2}),
    );
    assert!(east.list_topics().send().await.is_err());
    assert!(east.list_topics().send().await.is_err());
    assert!(east.list_topics().send().await.is_ok());

    // Region: a fault for us-west-2 leaves us-east-1 alone.
    common::inject_fault(&json!({"service": "sns", "kind": "throttle", "region": RECOVERY}));
    assert!(east.list_topics().send().await.is_ok());
    assert!(west.list_topics().send().await.is_err());

    // Probability with a seed: the same seed gives the same pattern.
    let mut patterns = Vec::new();
    for _ in 0..2 {
        common::clear_faults();
        common::inject_fault(
            &json!({"service": "sns", "operation": "ListTopics", "kind": "throttle", "probability": 0.5, "seed": 7}),
        );
        let mut pattern = Vec::new();
        for _ in 0..20 {
            pattern.push(east.list_topics().send().await.is_err());
        }
        patterns.push(pattern);
    }
    assert_eq!(patterns[0], patterns[1]);
    let failed = patterns[0].iter().filter(|f| **f).count();
    assert!(
        failed > 0 && failed < 20,
        "about half should fail: {failed}"
    );
    common::clear_faults();

    // With the SDK's standard retries a single throttle is absorbed: two calls, one answer.
    common::clear_requests();
    let retrying = aws_sdk_sns::Client::new(
        &common::config_loader(PRIMARY)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(10)),
            )
            .load()
            .await,
    );
    common::inject_fault(&json!({"service": "sns", "operation": "ListTopics", "kind": "throttle"}));
    retrying
        .list_topics()
        .send()
        .await
        .expect("retried past the throttle");
    let log = common::requests_for("sns", "ListTopics");
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["fault"], "throttle");
    assert!(log[1]["fault"].is_null());
}
