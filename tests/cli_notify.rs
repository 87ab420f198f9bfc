//! Run notifications (`--notify`) and EMF metrics (`--emf`) end to end against the seeded
//! sandbox: the start and finish messages reach an SQS queue subscribed to the topic, with
//! the outcome, figures and report path and no secret value; a topic that does not exist
//! only warns; a publish that does not answer is given up within its bound; the EMF line
//! carries the report's figures.

mod cli_support;
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use cli_support::*;
use serde_json::{Value, json};

const MARKER: &str = "rotated-value-never-notified";

/// An SQS queue subscribed to `topic_arn`; returns the queue URL.
async fn subscribed_queue(region: &str, topic_arn: &str) -> (aws_sdk_sqs::Client, String) {
    let conf = common::sdk_config(region).await;
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let sns = aws_sdk_sns::Client::new(&conf);
    let url = sqs
        .create_queue()
        .queue_name("run-notifications")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let queue_arn =
        attrs.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
    sns.subscribe()
        .topic_arn(topic_arn)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .send()
        .await
        .unwrap();
    (sqs, url)
}

/// Every SNS notification (`{"Subject", "Message", ...}`) waiting in the queue; stops once
/// `enough` says so, or after a bounded wait.
async fn notifications(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    enough: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut got = Vec::new();
    while !enough(&got) && Instant::now() < deadline {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for m in out.messages() {
            got.push(serde_json::from_str(m.body().unwrap()).unwrap());
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    got
}

/// The seed's alert topic with a queue subscribed, and prod-infra/backend's replica lagging
/// behind a new version whose value holds [`MARKER`].
async fn alerts_with_a_lagging_secret() -> (String, aws_sdk_sqs::Client, String) {
    let topic = format!(
        "arn:aws:sns:{}:{}:prod-infra-dr-alerts",
        common::RECOVERY,
        common::ACCOUNT
    );
    let (sqs, queue) = subscribed_queue(common::RECOVERY, &topic).await;
    common::lag_secret(
        "prod-infra/backend",
        common::RECOVERY,
        Some(&format!("{{\"rotated\":\"{MARKER}\"}}")),
    );
    (topic, sqs, queue)
}

fn subject(n: &Value) -> &str {
    n["Subject"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_drill_announces_its_start_and_its_missed_target_on_the_topic() {
    let _guard = common::SandboxGuard::seeded().await;
    let (_dir, state) = state_dir();
    // The quarterly drill reads this secret's replica: its new value must not travel.
    let (topic, sqs, queue) = alerts_with_a_lagging_secret().await;
    let mut cmd = drctl(&state);
    cmd.args([
        "--notify",
        &topic,
        "drill",
        "drills/quarterly.toml",
        "--var",
    ])
    .arg(health_var(common::RECOVERY));
    let (mut child, events) = spawn_jsonl(&mut cmd);
    wait_event(&events, "waiting for the lagging replica", |e| {
        e["event"] == "step_progress"
            && e["step"] == "replicate-secrets"
            && e["message"].as_str().unwrap_or("").contains("InSync")
    });
    common::control(
        "POST",
        "/secrets/lag",
        Some(
            &json!({ "secret_id": "prod-infra/backend", "region": common::RECOVERY, "lagging": false }),
        ),
    );
    let report = wait_event(&events, "the report", |e| e.get("schema_version").is_some());
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(
        status.code(),
        Some(3),
        "the seed misses the RPO target: {err}"
    );
    assert!(!err.contains("warning: could not send"), "{err}");
    let run_id = report["run_id"].as_str().unwrap();

    // The runbook's own `notify` steps publish to the same topic: pick drctl's run messages.
    let ours = |n: &Value| subject(n).starts_with("[DRILL] drctl: drill quarterly ");
    let got = notifications(&sqs, &queue, |got| {
        got.iter().filter(|n| ours(n)).count() >= 2
    })
    .await;
    let ours: Vec<&Value> = got.iter().filter(|n| ours(n)).collect();
    let start = ours
        .iter()
        .find(|n| subject(n).contains(" started"))
        .unwrap_or_else(|| panic!("no start message in {got:?}"));
    assert_eq!(
        subject(start),
        format!("[DRILL] drctl: drill quarterly started, run {run_id}")
    );
    let start_body = start["Message"].as_str().unwrap();
    assert!(
        start_body.contains(&format!("run:        {run_id}\n")),
        "{start_body}"
    );
    assert!(
        start_body.contains("runbook:    region-failover\n"),
        "{start_body}"
    );

    let finish = ours
        .iter()
        .find(|n| subject(n).contains("MISSED"))
        .unwrap_or_else(|| panic!("no finish message in {got:?}"));
    assert_eq!(
        subject(finish),
        format!("[DRILL] drctl: drill quarterly MISSED its targets, run {run_id}")
    );
    let body = finish["Message"].as_str().unwrap();
    assert!(body.contains(&format!("run:      {run_id}\n")), "{body}");
    assert!(body.contains("drill:    quarterly\n"), "{body}");
    assert!(body.contains("result:   missed\n"), "{body}");
    let rpo_line = body
        .lines()
        .find(|l| l.starts_with("RPO:"))
        .unwrap_or_else(|| panic!("{body}"));
    assert!(rpo_line.contains(": MISSED by "), "{rpo_line}");
    let achieved = report["rpo"]["achieved_seconds"].as_f64().unwrap();
    assert!(
        rpo_line.contains(&format!("({achieved:.1} s)")),
        "{rpo_line}"
    );
    assert!(body.contains("RTO:      "), "{body}");
    let html = body
        .lines()
        .find_map(|l| l.strip_prefix("report:   "))
        .unwrap_or_else(|| panic!("no report path: {body}"));
    assert!(html.ends_with(&format!("{run_id}/report.html")), "{html}");
    assert!(Path::new(html).is_file(), "{html}");

    for n in &got {
        assert!(
            !n.to_string().contains(MARKER),
            "a secret value was sent: {n}"
        );
    }
}

#[tokio::test]
async fn a_missing_topic_only_warns_and_emf_carries_the_report_figures() {
    let _guard = common::SandboxGuard::seeded().await;
    let (_dir, state) = state_dir();
    let topic = format!(
        "arn:aws:sns:{}:{}:no-such-topic",
        common::PRIMARY,
        common::ACCOUNT
    );
    let (code, out, err) = run(drctl(&state)
        .args(["--notify", &topic, "--emf", "--output", "json"])
        .args(["drill", "drills/monthly.toml", "--var"])
        .arg(health_var(common::PRIMARY)));
    assert_eq!(code, 0, "the drill's own exit code: {err}");
    for which in ["start", "finish"] {
        assert!(
            err.contains(&format!(
                "warning: could not send the {which} notification to {topic}: sns:Publish: NotFound"
            )),
            "{which}: {err}"
        );
    }
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(report["result"], "met");

    let emf: Vec<Value> = err
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect();
    assert_eq!(emf.len(), 1, "one EMF line: {err}");
    let emf = &emf[0];
    assert_eq!(emf["AchievedRTO"], report["rto"]["achieved_seconds"]);
    assert_eq!(emf["AchievedRPO"], report["rpo"]["achieved_seconds"]);
    assert_eq!(emf["DrillResult"], 1);
    assert_eq!(emf["Runbook"], "efs-restore");
    assert_eq!(emf["Drill"], "monthly");
    assert_eq!(emf["run_id"], report["run_id"]);
    assert_eq!(emf["result"], "met");
    let directive = &emf["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "drctl");
    assert_eq!(
        directive["Dimensions"],
        json!([["Runbook"], ["Runbook", "Drill"]])
    );
    let finished: chrono::DateTime<chrono::Utc> =
        report["finished_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(emf["_aws"]["Timestamp"], finished.timestamp_millis());
}

#[tokio::test]
async fn a_publish_that_does_not_answer_is_given_up_within_its_bound() {
    let _guard = common::SandboxGuard::seeded().await;
    // SAFETY: every test of this binary holds the sandbox guard, so no other thread is
    // reading the environment (the SDK's credential chain) while these are set.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", common::ACCESS_KEY_ID);
        std::env::set_var("AWS_SECRET_ACCESS_KEY", common::SECRET_ACCESS_KEY);
        std::env::remove_var("AWS_SESSION_TOKEN");
        std::env::remove_var("AWS_PROFILE");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    }
    let aws = drctl::aws::AwsClients::new(&drctl::aws::AwsSettings {
        endpoint_url: Some(common::endpoint()),
        region: Some(common::PRIMARY.to_string()),
        ..Default::default()
    })
    .await;
    let topic = format!(
        "arn:aws:sns:{}:{}:prod-infra-dr-alerts",
        common::PRIMARY,
        common::ACCOUNT
    );
    common::inject_fault(
        &json!({"service": "sns", "operation": "Publish", "kind": "latency", "latency_ms": 5000, "count": 4}),
    );
    let notifier = drctl::runner::Notifier::new(&aws, &topic)
        .expect("a topic ARN")
        .with_timeout(Duration::from_millis(300));
    let message = drctl::report::Message {
        subject: "s".into(),
        body: "b".into(),
    };
    let err = notifier.publish(&message).await.unwrap_err();
    assert!(
        matches!(err, drctl::runner::NotifyError::Timeout(_)),
        "{err}"
    );
    assert!(err.to_string().contains("may still arrive"), "{err}");
}

#[tokio::test]
async fn check_notifies_only_when_the_exposure_is_over_target_and_never_a_secret_value() {
    let _guard = common::SandboxGuard::seeded().await;
    let (_dir, state) = state_dir();
    // A lagging replica with a new value: the check reports the lag, never the value.
    let (topic, sqs, queue) = alerts_with_a_lagging_secret().await;
    let is_check = |n: &Value| subject(n).starts_with("drctl: RPO exposure over target");

    // Within target (the monthly drill's 1 h target against a 17-minute-old backup): silent.
    run_expect(
        &state,
        &["--notify", &topic, "check", "drills/monthly.toml"],
        0,
    );
    // Over target (the quarterly drill's 5 minutes): one message naming the resources.
    let (table, _) = run_expect(
        &state,
        &["--notify", &topic, "check", "drills/quarterly.toml"],
        3,
    );
    let got = notifications(&sqs, &queue, |got| got.iter().any(is_check)).await;
    let checks: Vec<&Value> = got.iter().filter(|n| is_check(n)).collect();
    assert_eq!(
        checks.len(),
        1,
        "one message, from the exceeded check: {got:?}"
    );
    let body = checks[0]["Message"].as_str().unwrap();
    assert!(body.contains("fs-0123456789abcdef0"), "{body}");
    assert!(body.contains("region-failover, drill quarterly"), "{body}");
    assert!(body.contains("vs target 5m"), "{body}");
    assert!(table.contains("fs-0123456789abcdef0"), "{table}");
    for n in &got {
        assert!(
            !n.to_string().contains(MARKER),
            "a secret value was sent: {n}"
        );
    }
}
