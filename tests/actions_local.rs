//! The actions that are not one AWS service's: `notify` (checked through an SQS queue
//! subscribed to the topic in the sandbox), `http.probe`, `approve` and `exec`.

mod actions_support;
mod common;

use std::sync::Arc;
use std::time::Duration;

use actions_support::step;
use drctl::actions::{ActionError, Mode};
use serde_json::json;

#[tokio::test]
async fn notify_publishes_to_sns_and_a_subscribed_queue_receives_it_marked_in_drills() {
    let _guard = common::SandboxGuard::seeded().await;
    let conf = common::sdk_config(common::RECOVERY).await;
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let sns = aws_sdk_sns::Client::new(&conf);
    let queue = sqs
        .create_queue()
        .queue_name("dr-alerts-inbox")
        .send()
        .await
        .unwrap();
    let queue_url = queue.queue_url().unwrap().to_string();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let queue_arn =
        attrs.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
    let topic_arn = format!(
        "arn:aws:sns:{}:{}:prod-infra-dr-alerts",
        common::RECOVERY,
        common::ACCOUNT
    );
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .send()
        .await
        .unwrap();

    let s = step(
        "notify",
        common::RECOVERY,
        json!({ "topic": "prod-infra-dr-alerts", "subject": "drctl: failover started", "message": "moving to us-west-2" }),
    )
    .mode(Mode::DrillIsolated)
    .run_id("20260101T000000Z-abcdef")
    .build()
    .await;
    let outcome = s.run().await.unwrap();
    assert!(!outcome.outputs["message_id"].is_empty());
    s.assert_calls_declared();

    let got = sqs
        .receive_message()
        .queue_url(&queue_url)
        .wait_time_seconds(5)
        .send()
        .await
        .unwrap();
    let body = got.messages()[0].body().unwrap().to_string();
    assert!(
        body.contains("[DRILL 20260101T000000Z-abcdef] moving to us-west-2"),
        "{body}"
    );
    assert!(body.contains("[DRILL] drctl: failover started"), "{body}");
}

#[tokio::test]
async fn probe_counts_consecutive_healthy_answers_and_keeps_trying_when_unhealthy() {
    let _guard = common::SandboxGuard::seeded().await;
    let healthy = format!("{}/_sandbox/app/us-east-1/health", common::endpoint());
    let s = step(
        "http.probe",
        common::PRIMARY,
        json!({ "url": healthy, "consecutive": 3, "interval": 10 }),
    )
    .build()
    .await;
    let outcome = s.run().await.unwrap();
    assert_eq!(outcome.outputs["status"], "200");
    assert_eq!(outcome.outputs["attempts"], "3");

    // us-west-2 is pilot light (no running services): 503 until the step's timeout.
    let unhealthy = format!("{}/_sandbox/app/us-west-2/health", common::endpoint());
    let s = step(
        "http.probe",
        common::PRIMARY,
        json!({ "url": unhealthy, "interval": 50 }),
    )
    .build()
    .await;
    assert!(
        tokio::time::timeout(Duration::from_millis(500), s.run())
            .await
            .is_err(),
        "still probing"
    );

    // A body expectation that is not met is unhealthy too.
    let s = step(
        "http.probe",
        common::PRIMARY,
        json!({ "url": healthy, "expect_body": "no-such-text", "interval": 50 }),
    )
    .build()
    .await;
    assert!(
        tokio::time::timeout(Duration::from_millis(500), s.run())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn approve_takes_a_flag_a_drill_or_a_person_and_never_waits_for_nobody() {
    let s = step(
        "approve",
        common::PRIMARY,
        json!({ "message": "move traffic?" }),
    )
    .build()
    .await;
    let err = s.run().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("rerun with --approve step-under-test"),
        "{err}"
    );

    let mut s = step("approve", common::PRIMARY, json!({})).build().await;
    s.ctx
        .approvals
        .pre_approved
        .insert("step-under-test".into());
    assert_eq!(s.run().await.unwrap().outputs["approved_by"], "flag");

    let s = step("approve", common::PRIMARY, json!({}))
        .mode(Mode::DrillIsolated)
        .build()
        .await;
    assert_eq!(s.run().await.unwrap().outputs["approved_by"], "drill");

    let mut s = step("approve", common::PRIMARY, json!({ "in_drill": "ask" }))
        .mode(Mode::DrillIsolated)
        .build()
        .await;
    s.ctx.approvals.ask = Some(Arc::new(|_step, _message| Box::pin(async { false })));
    let err = s.run().await.unwrap_err();
    assert!(
        matches!(err, ActionError::Failed { .. }) && err.to_string().contains("declined"),
        "{err}"
    );
}

#[tokio::test]
async fn exec_passes_outputs_as_environment_and_redacts_secrets_from_its_output() {
    let mut s = step(
        "exec",
        common::PRIMARY,
        json!({ "command": ["sh", "-c", "echo fs=$DRCTL_STEP_RESTORE_QDRANT_FILE_SYSTEM_ID token=$DRCTL_TEST_API_TOKEN run=$DRCTL_RUN_ID"] }),
    )
    .build()
    .await;
    s.ctx.step_outputs.insert(
        "restore-qdrant".into(),
        [("file_system_id".to_string(), "fs-0abc".to_string())].into(),
    );
    // SAFETY: this test binary's other tests do not read this variable.
    unsafe { std::env::set_var("DRCTL_TEST_API_TOKEN", "s3cr3t-token-value") };
    let outcome = s.run().await.unwrap();
    let out = &outcome.outputs["stdout"];
    assert!(out.contains("fs=fs-0abc"), "{out}");
    assert!(out.contains("token=[REDACTED]"), "{out}");
    assert!(!out.contains("s3cr3t-token-value"), "{out}");

    let s = step(
        "exec",
        common::PRIMARY,
        json!({ "command": ["sh", "-c", "echo broken >&2; exit 7"] }),
    )
    .build()
    .await;
    let err = s.run().await.unwrap_err().to_string();
    assert!(err.contains("exited with code 7: broken"), "{err}");
}
