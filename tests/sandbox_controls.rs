//! The sandbox's recovery controls through the AWS SDK for Rust, one section per service
//! (docs/sandbox.md, "Recovery controls"): what each serves, and each refusal.

mod common;

use std::time::Duration;

use aws_sdk_arczonalshift::operation::start_zonal_shift::StartZonalShiftError;
use aws_sdk_arczonalshift::types::{
    ConflictExceptionReason, ValidationExceptionReason, ZonalShiftStatus,
};
use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
use aws_sdk_ecs::types::{ContainerDefinition, ContainerInstanceStatus, LaunchType};
use aws_sdk_fis::types::{
    CreateExperimentTemplateActionInput, CreateExperimentTemplateStopConditionInput,
    CreateExperimentTemplateTargetInput, ExperimentStatus,
};
use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum, PolicyEvaluationDecisionType};
use aws_sdk_route53::types::{HealthCheckConfig, HealthCheckType};
use aws_sdk_route53recoverycluster::error::ProvideErrorMetadata;
use aws_sdk_route53recoverycluster::types::{RoutingControlState, UpdateRoutingControlStateEntry};
use aws_sdk_route53recoverycontrolconfig::types::{NewGatingRule, RuleConfig, RuleType, Status};
use common::{PRIMARY, RECOVERY, SandboxGuard};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

// --- Route 53 ARC ---------------------------------------------------------------------------

async fn control_config() -> aws_sdk_route53recoverycontrolconfig::Client {
    // The control-config API is hosted in us-west-2 on AWS.
    aws_sdk_route53recoverycontrolconfig::Client::new(&common::sdk_config(RECOVERY).await)
}

/// A data-plane client for one cluster endpoint, as AWS tells clients to make them: the
/// endpoint's URL and its region.
async fn cluster_client(endpoint: &str, region: &str) -> aws_sdk_route53recoverycluster::Client {
    let conf = common::config_loader(region)
        .endpoint_url(endpoint)
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(10))
                .build(),
        )
        .load()
        .await;
    aws_sdk_route53recoverycluster::Client::new(&conf)
}

/// The seed cluster's endpoints as DescribeCluster gives them: (region, endpoint URL).
async fn cluster_endpoints(seed: &Value) -> Vec<(String, String)> {
    let cluster = control_config()
        .await
        .describe_cluster()
        .cluster_arn(seed["arc"]["cluster_arn"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .cluster
        .expect("a cluster");
    assert_eq!(cluster.status(), Some(&Status::Deployed));
    cluster
        .cluster_endpoints()
        .iter()
        .map(|e| {
            (
                e.region().unwrap().to_string(),
                e.endpoint().unwrap().to_string(),
            )
        })
        .collect()
}

fn control_arn(seed: &Value, name: &str) -> String {
    seed["arc"]["routing_controls"][name]["arn"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Gets a routing control's state from the first endpoint that answers, trying each in turn
/// (what AWS's own examples do). Returns the region that answered, the state, and the
/// regions that failed.
async fn state_from_first_answering(
    endpoints: &[(String, String)],
    arn: &str,
) -> (String, RoutingControlState, Vec<String>) {
    let mut failed = Vec::new();
    for (region, url) in endpoints {
        let client = cluster_client(url, region).await;
        match client
            .get_routing_control_state()
            .routing_control_arn(arn)
            .send()
            .await
        {
            Ok(out) => return (region.clone(), out.routing_control_state, failed),
            Err(_) => failed.push(region.clone()),
        }
    }
    panic!("no cluster endpoint answered (failed: {failed:?})");
}

async fn health_status(route53: &aws_sdk_route53::Client, id: &str) -> String {
    route53
        .get_health_check_status()
        .health_check_id(id)
        .send()
        .await
        .unwrap()
        .health_check_observations()[0]
        .status_report()
        .and_then(|r| r.status())
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn arc_cluster_endpoints_are_sandbox_urls_that_each_serve_the_routing_controls() {
    let guard = SandboxGuard::seeded().await;
    let endpoints = cluster_endpoints(&guard.seed).await;
    let regions: Vec<&str> = endpoints.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        regions,
        [
            "us-east-1",
            "us-west-2",
            "eu-west-1",
            "ap-northeast-1",
            "ap-southeast-2"
        ]
    );
    let east = control_arn(&guard.seed, "prod-infra-us-east-1");
    common::clear_requests();
    for (region, url) in &endpoints {
        assert!(
            url.starts_with(&format!("{}/_arc/{region}/", common::endpoint())),
            "{url}"
        );
        let state = cluster_client(url, region)
            .await
            .get_routing_control_state()
            .routing_control_arn(&east)
            .send()
            .await
            .unwrap();
        assert_eq!(state.routing_control_state, RoutingControlState::On);
        assert_eq!(
            state.routing_control_name.as_deref(),
            Some("prod-infra-us-east-1")
        );
    }
    // The SDK sent each JSON-1.0 request to its endpoint's path (plus the operation's `/`),
    // and the sandbox logged it under that endpoint's region.
    let logged = common::requests_for("route53-recovery-cluster", "GetRoutingControlState");
    let logged: Vec<(&str, &str)> = logged
        .iter()
        .map(|e| (e["region"].as_str().unwrap(), e["path"].as_str().unwrap()))
        .collect();
    assert_eq!(logged.len(), 5);
    for ((region, path), (want_region, url)) in logged.iter().zip(&endpoints) {
        assert_eq!(region, want_region);
        let endpoint_path = url.strip_prefix(&common::endpoint()).unwrap();
        assert_eq!(*path, format!("{endpoint_path}/"));
    }
    let listed = cluster_client(&endpoints[1].1, &endpoints[1].0)
        .await
        .list_routing_controls()
        .send()
        .await
        .unwrap();
    let mut states: Vec<(String, RoutingControlState)> = listed
        .routing_controls()
        .iter()
        .map(|c| {
            (
                c.routing_control_name().unwrap().to_string(),
                c.routing_control_state().unwrap().clone(),
            )
        })
        .collect();
    states.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        states,
        [
            ("prod-infra-us-east-1".to_string(), RoutingControlState::On),
            ("prod-infra-us-west-2".to_string(), RoutingControlState::Off)
        ]
    );
}

#[tokio::test]
async fn arc_assertion_rule_refuses_turning_every_region_off_unless_overridden() {
    let guard = SandboxGuard::seeded().await;
    let endpoints = cluster_endpoints(&guard.seed).await;
    let client = cluster_client(&endpoints[0].1, &endpoints[0].0).await;
    let east = control_arn(&guard.seed, "prod-infra-us-east-1");
    let rule = guard.seed["arc"]["safety_rules"]["at-least-one-region-on"]
        .as_str()
        .unwrap();

    let err = client
        .update_routing_control_state()
        .routing_control_arn(&east)
        .routing_control_state(RoutingControlState::Off)
        .send()
        .await
        .expect_err("the assertion rule must refuse turning the last region Off");
    let err = err.into_service_error();
    assert!(err.is_conflict_exception(), "{err:?}");
    assert!(
        err.message().unwrap_or_default().contains(rule),
        "the error names the rule: {err:?}"
    );
    let (_, state, _) = state_from_first_answering(&endpoints, &east).await;
    assert_eq!(state, RoutingControlState::On, "nothing changed");

    client
        .update_routing_control_state()
        .routing_control_arn(&east)
        .routing_control_state(RoutingControlState::Off)
        .safety_rules_to_override(rule)
        .send()
        .await
        .unwrap();
    let (_, state, _) = state_from_first_answering(&endpoints, &east).await;
    assert_eq!(state, RoutingControlState::Off);
}

#[tokio::test]
async fn arc_failover_flips_both_controls_at_once_and_recovery_control_checks_follow() {
    let guard = SandboxGuard::seeded().await;
    let endpoints = cluster_endpoints(&guard.seed).await;
    let client = cluster_client(&endpoints[1].1, &endpoints[1].0).await;
    let route53 = aws_sdk_route53::Client::new(&common::sdk_config(PRIMARY).await);
    let east_check = guard.seed["arc"]["health_checks"]["us-east-1"]
        .as_str()
        .unwrap();
    let west_check = guard.seed["arc"]["health_checks"]["us-west-2"]
        .as_str()
        .unwrap();
    assert!(
        health_status(&route53, east_check)
            .await
            .starts_with("Success")
    );
    assert!(
        health_status(&route53, west_check)
            .await
            .starts_with("Failure")
    );

    let entry = |name: &str, state: RoutingControlState| {
        UpdateRoutingControlStateEntry::builder()
            .routing_control_arn(control_arn(&guard.seed, name))
            .routing_control_state(state)
            .build()
            .unwrap()
    };
    // Off first, then On: evaluated as one change, so "at least one On" holds.
    client
        .update_routing_control_states()
        .update_routing_control_state_entries(entry(
            "prod-infra-us-east-1",
            RoutingControlState::Off,
        ))
        .update_routing_control_state_entries(entry(
            "prod-infra-us-west-2",
            RoutingControlState::On,
        ))
        .send()
        .await
        .unwrap();
    assert!(
        health_status(&route53, east_check)
            .await
            .starts_with("Failure")
    );
    assert!(
        health_status(&route53, west_check)
            .await
            .starts_with("Success")
    );

    // A batch that would leave nothing On is refused as a whole.
    let err = client
        .update_routing_control_states()
        .update_routing_control_state_entries(entry(
            "prod-infra-us-west-2",
            RoutingControlState::Off,
        ))
        .send()
        .await
        .expect_err("refused by the assertion rule");
    assert!(err.into_service_error().is_conflict_exception());
    assert!(
        health_status(&route53, west_check)
            .await
            .starts_with("Success")
    );
}

#[tokio::test]
async fn arc_a_failing_cluster_endpoint_makes_the_client_try_the_next() {
    let guard = SandboxGuard::seeded().await;
    let endpoints = cluster_endpoints(&guard.seed).await;
    let east = control_arn(&guard.seed, "prod-infra-us-east-1");
    common::inject_fault(&json!({
        "service": "route53-recovery-cluster", "region": "us-east-1", "kind": "drop", "count": 5
    }));
    let (answered, state, failed) = state_from_first_answering(&endpoints, &east).await;
    assert_eq!(failed, ["us-east-1"]);
    assert_eq!(answered, "us-west-2");
    assert_eq!(state, RoutingControlState::On);
    let faulted: Vec<Value> =
        common::requests_for("route53-recovery-cluster", "GetRoutingControlState")
            .into_iter()
            .filter(|e| e["fault"] == "drop")
            .collect();
    assert_eq!(faulted.len(), 1);
    assert_eq!(faulted[0]["region"], "us-east-1");
}

#[tokio::test]
#[ignore = "needs S1's region outage switch (POST /_sandbox/outage, branch sbx-compute): un-ignore at merge"]
async fn arc_cluster_endpoint_in_a_dark_region_fails_and_the_next_answers() {
    let guard = SandboxGuard::seeded().await;
    let endpoints = cluster_endpoints(&guard.seed).await;
    let east = control_arn(&guard.seed, "prod-infra-us-east-1");
    let (status, body) = common::control(
        "POST",
        "/outage",
        Some(&json!({"region": "us-east-1", "mode": "error503"})),
    );
    assert_eq!(status, 200, "{body}");
    let (answered, state, failed) = state_from_first_answering(&endpoints, &east).await;
    assert_eq!(failed, ["us-east-1"]);
    assert_eq!(answered, "us-west-2");
    assert_eq!(state, RoutingControlState::On);
    common::control("DELETE", "/outage", None);
}

#[tokio::test]
async fn arc_new_cluster_deploys_with_endpoints_and_a_gating_rule_guards_its_targets() {
    let _guard = SandboxGuard::empty().await;
    common::set_durations(&json!({"arc_cluster_deploy": 0.3}));
    let config = control_config().await;
    let created = config
        .create_cluster()
        .cluster_name("drill")
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap();
    assert_eq!(created.status(), Some(&Status::Pending));
    assert!(created.cluster_endpoints().is_empty());
    let cluster_arn = created.cluster_arn().unwrap().to_string();
    let cluster = common::poll("the cluster to deploy", WAIT, async || {
        let c = config
            .describe_cluster()
            .cluster_arn(&cluster_arn)
            .send()
            .await
            .unwrap()
            .cluster
            .unwrap();
        (c.status() == Some(&Status::Deployed)).then_some(c)
    })
    .await;
    assert_eq!(cluster.cluster_endpoints().len(), 5);
    // AWS serves the control-config API from us-west-2 only: a client signing for another
    // region reaches it there (and an outage of us-west-2 would take it away).
    common::clear_requests();
    aws_sdk_route53recoverycontrolconfig::Client::new(&common::sdk_config(PRIMARY).await)
        .list_clusters()
        .send()
        .await
        .unwrap();
    let logged = common::requests_for("route53-recovery-control-config", "ListClusters");
    assert_eq!(logged[0]["region"], RECOVERY);

    let panels = config
        .list_control_panels()
        .cluster_arn(&cluster_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        panels.control_panels().len(),
        1,
        "the default control panel"
    );
    assert_eq!(
        panels.control_panels()[0].default_control_panel(),
        Some(true)
    );
    let panel = config
        .create_control_panel()
        .cluster_arn(&cluster_arn)
        .control_panel_name("gated")
        .send()
        .await
        .unwrap()
        .control_panel
        .unwrap();
    let panel_arn = panel.control_panel_arn().unwrap().to_string();
    let mut arns = Vec::new();
    for name in ["gate", "target"] {
        let control = config
            .create_routing_control()
            .cluster_arn(&cluster_arn)
            .control_panel_arn(&panel_arn)
            .routing_control_name(name)
            .send()
            .await
            .unwrap()
            .routing_control
            .unwrap();
        arns.push(control.routing_control_arn().unwrap().to_string());
    }
    let (gate, target) = (&arns[0], &arns[1]);
    config
        .create_safety_rule()
        .gating_rule(
            NewGatingRule::builder()
                .control_panel_arn(&panel_arn)
                .name("gate-must-be-on")
                .gating_controls(gate)
                .target_controls(target)
                .rule_config(
                    RuleConfig::builder()
                        .r#type(RuleType::Or)
                        .threshold(1)
                        .inverted(false)
                        .build(),
                )
                .wait_period_ms(5000)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let listed = config
        .list_routing_controls()
        .control_panel_arn(&panel_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.routing_controls().len(), 2);

    let (region, url) = (
        cluster.cluster_endpoints()[2].region().unwrap(),
        cluster.cluster_endpoints()[2].endpoint().unwrap(),
    );
    let client = cluster_client(url, region).await;
    let state = client
        .get_routing_control_state()
        .routing_control_arn(target)
        .send()
        .await
        .unwrap();
    assert_eq!(
        state.routing_control_state,
        RoutingControlState::Off,
        "new controls are Off"
    );
    let set_target_on = || {
        client
            .update_routing_control_state()
            .routing_control_arn(target)
            .routing_control_state(RoutingControlState::On)
            .send()
    };
    let err = set_target_on().await.expect_err("the gate is Off");
    assert!(err.into_service_error().is_conflict_exception());
    client
        .update_routing_control_state()
        .routing_control_arn(gate)
        .routing_control_state(RoutingControlState::On)
        .send()
        .await
        .unwrap();
    set_target_on().await.unwrap();

    // The seed's cluster endpoint does not serve another cluster's controls.
    let missing = aws_sdk_route53recoverycluster::Client::new(
        &common::config_loader(region)
            .endpoint_url(format!(
                "{}/_arc/{region}/no-such-cluster/v1",
                common::endpoint()
            ))
            .load()
            .await,
    )
    .get_routing_control_state()
    .routing_control_arn(target)
    .send()
    .await
    .expect_err("no such cluster endpoint");
    assert!(
        missing
            .into_service_error()
            .is_resource_not_found_exception()
    );
}

#[tokio::test]
async fn recovery_control_health_check_needs_an_existing_routing_control() {
    let guard = SandboxGuard::seeded().await;
    let route53 = aws_sdk_route53::Client::new(&common::sdk_config(PRIMARY).await);
    let east = control_arn(&guard.seed, "prod-infra-us-east-1");
    let config = |arn: &str| {
        HealthCheckConfig::builder()
            .r#type(HealthCheckType::RecoveryControl)
            .routing_control_arn(arn)
            .build()
            .unwrap()
    };
    let err = route53
        .create_health_check()
        .caller_reference("missing-control")
        .health_check_config(config(&format!("{east}x")))
        .send()
        .await
        .expect_err("an unknown routing control");
    assert_eq!(err.into_service_error().code(), Some("InvalidInput"));

    let created = route53
        .create_health_check()
        .caller_reference("east-control")
        .health_check_config(config(&east))
        .send()
        .await
        .unwrap();
    let check = created.health_check().unwrap();
    let got = route53
        .get_health_check()
        .health_check_id(check.id())
        .send()
        .await
        .unwrap();
    let got = got.health_check().unwrap().health_check_config().unwrap();
    assert_eq!(got.r#type(), &HealthCheckType::RecoveryControl);
    assert_eq!(got.routing_control_arn(), Some(east.as_str()));
    assert!(
        health_status(&route53, check.id())
            .await
            .starts_with("Success")
    );

    let associated = control_config()
        .await
        .list_associated_route53_health_checks()
        .routing_control_arn(&east)
        .send()
        .await
        .unwrap();
    let mut ids = associated.health_check_ids().to_vec();
    ids.sort();
    let mut want = vec![
        check.id().to_string(),
        guard.seed["arc"]["health_checks"]["us-east-1"]
            .as_str()
            .unwrap()
            .to_string(),
    ];
    want.sort();
    assert_eq!(ids, want);
}

// --- ARC zonal shift --------------------------------------------------------------------------

/// The seed's primary ALB when S1's seed has one, else one made here in the seed's subnets
/// (us-east-1a = use1-az6, us-east-1b = use1-az1 in moto's zone table).
async fn alb(seed: &Value) -> String {
    let elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(&common::sdk_config(PRIMARY).await);
    let existing = elbv2.describe_load_balancers().send().await.unwrap();
    if let Some(lb) = existing.load_balancers().first() {
        return lb.load_balancer_arn().unwrap().to_string();
    }
    let subnets: Vec<String> = seed["network"][PRIMARY]["private_subnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subnet_id"].as_str().or(s.as_str()).unwrap().to_string())
        .collect();
    let created = elbv2
        .create_load_balancer()
        .name("prod-infra-alb")
        .set_subnets(Some(subnets))
        .r#type(aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum::Application)
        .send()
        .await
        .unwrap();
    created.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string()
}

async fn zonal_shift() -> aws_sdk_arczonalshift::Client {
    aws_sdk_arczonalshift::Client::new(&common::sdk_config(PRIMARY).await)
}

#[tokio::test]
async fn zonal_shift_moves_the_albs_traffic_away_from_an_az_until_cancelled() {
    let guard = SandboxGuard::seeded().await;
    let lb = alb(&guard.seed).await;
    let shifts = zonal_shift().await;
    let managed = shifts.list_managed_resources().send().await.unwrap();
    let resource = managed
        .items()
        .iter()
        .find(|r| r.arn() == Some(lb.as_str()))
        .expect("the ALB is a managed resource");
    assert_eq!(resource.availability_zones(), ["use1-az6", "use1-az1"]);

    let started = shifts
        .start_zonal_shift()
        .resource_identifier(&lb)
        .away_from("use1-az6")
        .expires_in("30m")
        .comment("quarterly AZ drill")
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), &ZonalShiftStatus::Active);
    let got = shifts
        .get_managed_resource()
        .resource_identifier(&lb)
        .send()
        .await
        .unwrap();
    assert_eq!(got.applied_weights().get("use1-az6"), Some(&0.0));
    assert_eq!(got.applied_weights().get("use1-az1"), Some(&1.0));
    assert_eq!(got.zonal_shifts().len(), 1);
    assert_eq!(
        got.zonal_shifts()[0].zonal_shift_id(),
        started.zonal_shift_id()
    );

    let updated = shifts
        .update_zonal_shift()
        .zonal_shift_id(started.zonal_shift_id())
        .expires_in("2h")
        .send()
        .await
        .unwrap();
    assert!(updated.expiry_time() > started.expiry_time());

    let cancelled = shifts
        .cancel_zonal_shift()
        .zonal_shift_id(started.zonal_shift_id())
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), &ZonalShiftStatus::Canceled);
    let got = shifts
        .get_managed_resource()
        .resource_identifier(&lb)
        .send()
        .await
        .unwrap();
    assert_eq!(got.applied_weights().get("use1-az6"), Some(&1.0));
    assert!(got.zonal_shifts().is_empty());
}

#[tokio::test]
async fn zonal_shift_refuses_what_aws_refuses() {
    let guard = SandboxGuard::seeded().await;
    let lb = alb(&guard.seed).await;
    let shifts = zonal_shift().await;
    let start = |away: &str, expires: &str, resource: &str| {
        shifts
            .start_zonal_shift()
            .resource_identifier(resource)
            .away_from(away)
            .expires_in(expires)
            .comment("drill")
            .send()
    };
    for expires in ["0m", "73h", "4321m", "90s"] {
        match start("use1-az6", expires, &lb)
            .await
            .map_err(|e| e.into_service_error())
        {
            Err(StartZonalShiftError::ValidationException(e)) => {
                assert_eq!(
                    e.reason(),
                    &ValidationExceptionReason::InvalidExpiresIn,
                    "{expires}"
                )
            }
            other => panic!("expiresIn {expires}: {other:?}"),
        }
    }
    // AZs are named by their AZ IDs, as on AWS; the name is not accepted.
    match start("us-east-1a", "30m", &lb)
        .await
        .map_err(|e| e.into_service_error())
    {
        Err(StartZonalShiftError::ValidationException(e)) => {
            assert_eq!(e.reason(), &ValidationExceptionReason::InvalidAz)
        }
        other => panic!("{other:?}"),
    }
    let unknown = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/nope/0123456789abcdef";
    let err = start("use1-az6", "30m", unknown)
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    let first = start("use1-az6", "30m", &lb).await.unwrap();
    match start("use1-az1", "30m", &lb)
        .await
        .map_err(|e| e.into_service_error())
    {
        Err(StartZonalShiftError::ConflictException(e)) => {
            assert_eq!(
                e.reason(),
                &ConflictExceptionReason::ZonalShiftAlreadyExists
            );
            assert_eq!(e.zonal_shift_id(), Some(first.zonal_shift_id()));
        }
        other => panic!("{other:?}"),
    }
    shifts
        .cancel_zonal_shift()
        .zonal_shift_id(first.zonal_shift_id())
        .send()
        .await
        .unwrap();
    let err = shifts
        .cancel_zonal_shift()
        .zonal_shift_id(first.zonal_shift_id())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ConflictException"));
    let err = shifts
        .update_zonal_shift()
        .zonal_shift_id("00000000-0000-0000-0000-000000000000")
        .comment("x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
}

#[tokio::test]
async fn zonal_shift_expires_after_its_expires_in() {
    let guard = SandboxGuard::seeded().await;
    // One minute of expiresIn lasts 0.1 s here.
    common::set_durations(&json!({"zonal_shift_minute": 0.1}));
    let lb = alb(&guard.seed).await;
    let shifts = zonal_shift().await;
    let started = shifts
        .start_zonal_shift()
        .resource_identifier(&lb)
        .away_from("use1-az1")
        .expires_in("2m")
        .comment("expires")
        .send()
        .await
        .unwrap();
    common::poll("the shift to expire", WAIT, async || {
        let expired = shifts
            .list_zonal_shifts()
            .status(ZonalShiftStatus::Expired)
            .send()
            .await
            .unwrap();
        expired
            .items()
            .iter()
            .any(|s| s.zonal_shift_id() == started.zonal_shift_id())
            .then_some(())
    })
    .await;
    let got = shifts
        .get_managed_resource()
        .resource_identifier(&lb)
        .send()
        .await
        .unwrap();
    assert_eq!(got.applied_weights().get("use1-az1"), Some(&1.0));
    // A new shift may start once the old one expired.
    shifts
        .start_zonal_shift()
        .resource_identifier(&lb)
        .away_from("use1-az1")
        .expires_in("2m")
        .comment("again")
        .send()
        .await
        .unwrap();
}

// --- AWS FIS on ECS ---------------------------------------------------------------------------

const FIS_CLUSTER: &str = "fis-drill";

/// A cluster with two container instances (EC2 instances registered with ECS) and two running
/// tasks placed on them. Returns (cluster ARN, container instance ARNs, task ARNs).
async fn ecs_with_tasks() -> (String, Vec<String>, Vec<String>) {
    let conf = common::sdk_config(PRIMARY).await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let cluster = ecs
        .create_cluster()
        .cluster_name(FIS_CLUSTER)
        .send()
        .await
        .unwrap();
    let cluster_arn = cluster
        .cluster()
        .unwrap()
        .cluster_arn()
        .unwrap()
        .to_string();
    let images = ec2.describe_images().send().await.unwrap();
    let image = images.images()[0].image_id().unwrap().to_string();
    let mut instances = Vec::new();
    for _ in 0..2 {
        let run = ec2
            .run_instances()
            .image_id(&image)
            .min_count(1)
            .max_count(1)
            .send()
            .await
            .unwrap();
        let instance_id = run.instances()[0].instance_id().unwrap();
        let registered = ecs
            .register_container_instance()
            .cluster(FIS_CLUSTER)
            .instance_identity_document(
                json!({"instanceId": instance_id, "region": PRIMARY}).to_string(),
            )
            .send()
            .await
            .unwrap();
        instances.push(
            registered
                .container_instance()
                .unwrap()
                .container_instance_arn()
                .unwrap()
                .to_string(),
        );
    }
    ecs.register_task_definition()
        .family("fis-redis")
        .container_definitions(
            ContainerDefinition::builder()
                .name("redis")
                .image("redis:7")
                .cpu(128)
                .memory(256)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let run = ecs
        .run_task()
        .cluster(FIS_CLUSTER)
        .task_definition("fis-redis")
        .count(2)
        .launch_type(LaunchType::Ec2)
        .send()
        .await
        .unwrap();
    let tasks = run
        .tasks()
        .iter()
        .map(|t| t.task_arn().unwrap().to_string())
        .collect();
    (cluster_arn, instances, tasks)
}

async fn container_instance_states(instances: &[String]) -> Vec<ContainerInstanceStatus> {
    let ecs = aws_sdk_ecs::Client::new(&common::sdk_config(PRIMARY).await);
    let out = ecs
        .describe_container_instances()
        .cluster(FIS_CLUSTER)
        .set_container_instances(Some(instances.to_vec()))
        .send()
        .await
        .unwrap();
    let mut by_arn: Vec<(String, String)> = out
        .container_instances()
        .iter()
        .map(|c| {
            (
                c.container_instance_arn().unwrap().to_string(),
                c.status().unwrap().to_string(),
            )
        })
        .collect();
    by_arn.sort();
    instances
        .iter()
        .map(|arn| {
            let status = &by_arn.iter().find(|(a, _)| a == arn).unwrap().1;
            ContainerInstanceStatus::from(status.as_str())
        })
        .collect()
}

fn target(resource_type: &str, arns: &[&str]) -> CreateExperimentTemplateTargetInput {
    let mut builder = CreateExperimentTemplateTargetInput::builder()
        .resource_type(resource_type)
        .selection_mode("ALL");
    for arn in arns {
        builder = builder.resource_arns(*arn);
    }
    builder.build().unwrap()
}

fn no_stop_condition() -> CreateExperimentTemplateStopConditionInput {
    CreateExperimentTemplateStopConditionInput::builder()
        .source("none")
        .build()
        .unwrap()
}

async fn experiment_status(fis: &aws_sdk_fis::Client, id: &str) -> (ExperimentStatus, String) {
    let out = fis.get_experiment().id(id).send().await.unwrap();
    let state = out.experiment().unwrap().state().unwrap();
    (
        state.status().unwrap().clone(),
        state.reason().unwrap_or_default().to_string(),
    )
}

async fn wait_for_status(fis: &aws_sdk_fis::Client, id: &str, want: ExperimentStatus) -> String {
    common::poll(
        &format!("the experiment to be {want:?}"),
        WAIT,
        async || {
            let (status, reason) = experiment_status(fis, id).await;
            (status == want).then_some(reason)
        },
    )
    .await
}

#[tokio::test]
async fn fis_experiment_progresses_and_its_ecs_actions_stop_tasks_and_drain_instances() {
    let _guard = SandboxGuard::empty().await;
    common::set_durations(&json!({"fis_experiment_initiating": 0.2, "fis_experiment_run": 1.5}));
    let (cluster_arn, instances, tasks) = ecs_with_tasks().await;
    let fis = aws_sdk_fis::Client::new(&common::sdk_config(PRIMARY).await);
    let template = fis
        .create_experiment_template()
        .client_token("monthly-service")
        .description("stop one task, drain half the instances")
        .role_arn("arn:aws:iam::123456789012:role/fis-drill")
        .stop_conditions(no_stop_condition())
        .targets("one-task", target("aws:ecs:task", &[&tasks[0]]))
        .targets("cluster", target("aws:ecs:cluster", &[&cluster_arn]))
        .actions(
            "stop",
            CreateExperimentTemplateActionInput::builder()
                .action_id("aws:ecs:stop-task")
                .targets("Tasks", "one-task")
                .build()
                .unwrap(),
        )
        .actions(
            "drain",
            CreateExperimentTemplateActionInput::builder()
                .action_id("aws:ecs:drain-container-instances")
                .parameters("drainagePercentage", "50")
                .parameters("duration", "PT5M")
                .targets("Clusters", "cluster")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let template_id = template.experiment_template().unwrap().id().unwrap();
    let started = fis
        .start_experiment()
        .client_token("run-1")
        .experiment_template_id(template_id)
        .send()
        .await
        .unwrap();
    let experiment = started.experiment().unwrap();
    assert_eq!(
        experiment.state().unwrap().status(),
        Some(&ExperimentStatus::Initiating)
    );
    let id = experiment.id().unwrap().to_string();

    wait_for_status(&fis, &id, ExperimentStatus::Running).await;
    let states = container_instance_states(&instances).await;
    assert_eq!(
        states
            .iter()
            .filter(|s| **s == ContainerInstanceStatus::Draining)
            .count(),
        1,
        "half of two instances drain: {states:?}"
    );
    let ecs = aws_sdk_ecs::Client::new(&common::sdk_config(PRIMARY).await);
    let described = ecs
        .describe_tasks()
        .cluster(FIS_CLUSTER)
        .set_tasks(Some(tasks.clone()))
        .send()
        .await
        .unwrap();
    let stopped: Vec<(String, String)> = described
        .tasks()
        .iter()
        .map(|t| {
            (
                t.task_arn().unwrap().to_string(),
                t.stopped_reason().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let reason_of = |arn: &str| stopped.iter().find(|(a, _)| a == arn).unwrap().1.clone();
    assert!(reason_of(&tasks[0]).contains(&id), "{stopped:?}");
    assert_eq!(reason_of(&tasks[1]), "", "the other task was not a target");

    wait_for_status(&fis, &id, ExperimentStatus::Completed).await;
    assert_eq!(
        container_instance_states(&instances).await,
        [
            ContainerInstanceStatus::Active,
            ContainerInstanceStatus::Active
        ],
        "the drain ends with the experiment"
    );
    let got = fis.get_experiment().id(&id).send().await.unwrap();
    assert!(got.experiment().unwrap().end_time().is_some());
}

#[tokio::test]
async fn fis_stop_experiment_stops_it_and_reverts_the_drain() {
    let _guard = SandboxGuard::empty().await;
    common::set_durations(&json!({"fis_experiment_initiating": 0.1, "fis_experiment_run": 60.0}));
    let (cluster_arn, instances, _) = ecs_with_tasks().await;
    let fis = aws_sdk_fis::Client::new(&common::sdk_config(PRIMARY).await);
    let template = fis
        .create_experiment_template()
        .client_token("drain-all")
        .description("drain every instance")
        .role_arn("arn:aws:iam::123456789012:role/fis-drill")
        .stop_conditions(no_stop_condition())
        .targets("cluster", target("aws:ecs:cluster", &[&cluster_arn]))
        .actions(
            "drain",
            CreateExperimentTemplateActionInput::builder()
                .action_id("aws:ecs:drain-container-instances")
                .parameters("drainagePercentage", "100")
                .parameters("duration", "PT10M")
                .targets("Clusters", "cluster")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let id = fis
        .start_experiment()
        .client_token("run-2")
        .experiment_template_id(template.experiment_template().unwrap().id().unwrap())
        .send()
        .await
        .unwrap()
        .experiment()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    wait_for_status(&fis, &id, ExperimentStatus::Running).await;
    assert_eq!(
        container_instance_states(&instances).await,
        [
            ContainerInstanceStatus::Draining,
            ContainerInstanceStatus::Draining
        ]
    );
    let stopping = fis.stop_experiment().id(&id).send().await.unwrap();
    assert_eq!(
        stopping.experiment().unwrap().state().unwrap().status(),
        Some(&ExperimentStatus::Stopping)
    );
    wait_for_status(&fis, &id, ExperimentStatus::Stopped).await;
    assert_eq!(
        container_instance_states(&instances).await,
        [
            ContainerInstanceStatus::Active,
            ContainerInstanceStatus::Active
        ]
    );
}

#[tokio::test]
async fn fis_stop_condition_alarm_stops_a_running_experiment() {
    let _guard = SandboxGuard::empty().await;
    common::set_durations(&json!({"fis_experiment_initiating": 0.1, "fis_experiment_run": 60.0}));
    let conf = common::sdk_config(PRIMARY).await;
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&conf);
    let fis = aws_sdk_fis::Client::new(&conf);
    put_alarm(&cloudwatch, "prod-infra-5xx").await;
    let alarm_arn = describe_alarm(&cloudwatch, "prod-infra-5xx")
        .await
        .alarm_arn()
        .unwrap()
        .to_string();
    let template = fis
        .create_experiment_template()
        .client_token("abort-on-alarm")
        .description("wait, abort when the alarm fires")
        .role_arn("arn:aws:iam::123456789012:role/fis-drill")
        .stop_conditions(
            CreateExperimentTemplateStopConditionInput::builder()
                .source("aws:cloudwatch:alarm")
                .value(&alarm_arn)
                .build()
                .unwrap(),
        )
        .actions(
            "wait",
            CreateExperimentTemplateActionInput::builder()
                .action_id("aws:fis:wait")
                .parameters("duration", "PT10M")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let id = fis
        .start_experiment()
        .client_token("run-3")
        .experiment_template_id(template.experiment_template().unwrap().id().unwrap())
        .send()
        .await
        .unwrap()
        .experiment()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    wait_for_status(&fis, &id, ExperimentStatus::Running).await;
    cloudwatch
        .set_alarm_state()
        .alarm_name("prod-infra-5xx")
        .state_value(StateValue::Alarm)
        .state_reason("5xx above threshold")
        .send()
        .await
        .unwrap();
    let reason = wait_for_status(&fis, &id, ExperimentStatus::Stopped).await;
    assert!(reason.contains(&alarm_arn), "{reason}");
}

#[tokio::test]
async fn fis_experiment_whose_target_resolves_to_nothing_fails() {
    let _guard = SandboxGuard::empty().await;
    common::set_durations(&json!({"fis_experiment_initiating": 0.1}));
    let fis = aws_sdk_fis::Client::new(&common::sdk_config(PRIMARY).await);
    let gone = "arn:aws:ecs:us-east-1:123456789012:task/fis-drill/00000000000000000000000000000000";
    let template = fis
        .create_experiment_template()
        .client_token("stop-nothing")
        .description("stop a task that does not exist")
        .role_arn("arn:aws:iam::123456789012:role/fis-drill")
        .stop_conditions(no_stop_condition())
        .targets("gone", target("aws:ecs:task", &[gone]))
        .actions(
            "stop",
            CreateExperimentTemplateActionInput::builder()
                .action_id("aws:ecs:stop-task")
                .targets("Tasks", "gone")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let id = fis
        .start_experiment()
        .client_token("run-4")
        .experiment_template_id(template.experiment_template().unwrap().id().unwrap())
        .send()
        .await
        .unwrap()
        .experiment()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    let reason = wait_for_status(&fis, &id, ExperimentStatus::Failed).await;
    assert!(reason.contains("empty"), "{reason}");
}

// --- CloudWatch (Smithy RPC v2 CBOR) ------------------------------------------------------------

async fn put_alarm(cloudwatch: &aws_sdk_cloudwatch::Client, name: &str) {
    cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("AWS/ApplicationELB")
        .metric_name("HTTPCode_Target_5XX_Count")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(5.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
}

async fn describe_alarm(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    name: &str,
) -> aws_sdk_cloudwatch::types::MetricAlarm {
    let out = cloudwatch
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .unwrap();
    assert_eq!(out.metric_alarms().len(), 1, "{out:?}");
    out.metric_alarms()[0].clone()
}

#[tokio::test]
async fn cloudwatch_alarms_work_from_the_rust_sdk() {
    let _guard = SandboxGuard::empty().await;
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&common::sdk_config(PRIMARY).await);
    put_alarm(&cloudwatch, "prod-infra-5xx").await;
    let alarm = describe_alarm(&cloudwatch, "prod-infra-5xx").await;
    assert_eq!(alarm.state_value(), Some(&StateValue::Ok));
    assert_eq!(alarm.threshold(), Some(5.0));
    assert_eq!(alarm.period(), Some(60));
    assert_eq!(
        alarm.alarm_arn(),
        Some("arn:aws:cloudwatch:us-east-1:123456789012:alarm:prod-infra-5xx")
    );
    let before = *alarm.state_updated_timestamp().unwrap();

    cloudwatch
        .set_alarm_state()
        .alarm_name("prod-infra-5xx")
        .state_value(StateValue::Alarm)
        .state_reason("drill abort condition")
        .send()
        .await
        .unwrap();
    let alarm = describe_alarm(&cloudwatch, "prod-infra-5xx").await;
    assert_eq!(alarm.state_value(), Some(&StateValue::Alarm));
    assert_eq!(alarm.state_reason(), Some("drill abort condition"));
    assert!(*alarm.state_updated_timestamp().unwrap() >= before);

    cloudwatch
        .delete_alarms()
        .alarm_names("prod-infra-5xx")
        .send()
        .await
        .unwrap();
    let left = cloudwatch.describe_alarms().send().await.unwrap();
    assert!(left.metric_alarms().is_empty());

    let logged: Vec<String> = common::requests()
        .iter()
        .filter(|e| e["service"] == "cloudwatch")
        .map(|e| format!("{} {}", e["operation"].as_str().unwrap(), e["status"]))
        .collect();
    assert_eq!(
        logged,
        [
            "PutMetricAlarm 200",
            "DescribeAlarms 200",
            "SetAlarmState 200",
            "DescribeAlarms 200",
            "DeleteAlarms 200",
            "DescribeAlarms 200"
        ]
    );
}

#[tokio::test]
async fn cloudwatch_errors_and_injected_faults_carry_awss_codes() {
    let _guard = SandboxGuard::empty().await;
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&common::sdk_config(PRIMARY).await);
    let err = cloudwatch
        .set_alarm_state()
        .alarm_name("no-such-alarm")
        .state_value(StateValue::Alarm)
        .state_reason("x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found(), "{err:?}");

    common::inject_fault(&json!({
        "service": "cloudwatch", "operation": "DescribeAlarms", "kind": "throttle", "count": 1
    }));
    let err = cloudwatch
        .describe_alarms()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        aws_sdk_cloudwatch::error::ProvideErrorMetadata::code(&err),
        Some("Throttling")
    );
    let faulted = common::requests_for("cloudwatch", "DescribeAlarms");
    assert_eq!(faulted.len(), 1);
    assert_eq!(faulted[0]["fault"], "throttle");
    cloudwatch.describe_alarms().send().await.unwrap();
}

// --- IAM SimulatePrincipalPolicy ------------------------------------------------------------------

const ONCALL_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["backup:Start*", "backup:Describe*"], "Resource": "arn:aws:backup:*:123456789012:backup-vault:prod-*"},
    {"Effect": "Deny", "Action": "backup:StartRestoreJob", "Resource": "*",
     "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}
  ]
}"#;

#[tokio::test]
async fn simulate_principal_policy_evaluates_a_users_inline_group_and_managed_policies() {
    let _guard = SandboxGuard::empty().await;
    let iam = aws_sdk_iam::Client::new(&common::sdk_config(PRIMARY).await);
    iam.create_user().user_name("oncall").send().await.unwrap();
    iam.put_user_policy()
        .user_name("oncall")
        .policy_name("ecs-read")
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"}]})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    iam.create_group().group_name("dr").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("dr")
        .user_name("oncall")
        .send()
        .await
        .unwrap();
    let policy = iam
        .create_policy()
        .policy_name("dr-backup")
        .policy_document(ONCALL_POLICY)
        .send()
        .await
        .unwrap();
    iam.attach_group_policy()
        .group_name("dr")
        .policy_arn(policy.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();

    let vault = "arn:aws:backup:us-west-2:123456789012:backup-vault:prod-infra-dr";
    let out = iam
        .simulate_principal_policy()
        .policy_source_arn("arn:aws:iam::123456789012:user/oncall")
        .action_names("ecs:DescribeServices")
        .action_names("ECS:describetasks")
        .action_names("ecs:UpdateService")
        .action_names("backup:StartCopyJob")
        .action_names("backup:StartRestoreJob")
        .resource_arns(vault)
        .context_entries(
            ContextEntry::builder()
                .context_key_name("aws:RequestedRegion")
                .context_key_values("us-east-1")
                .context_key_type(ContextKeyTypeEnum::String)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let decisions: Vec<(&str, &PolicyEvaluationDecisionType)> = out
        .evaluation_results()
        .iter()
        .map(|r| (r.eval_action_name(), r.eval_decision()))
        .collect();
    assert_eq!(
        decisions,
        [
            (
                "ecs:DescribeServices",
                &PolicyEvaluationDecisionType::Allowed
            ),
            ("ECS:describetasks", &PolicyEvaluationDecisionType::Allowed),
            (
                "ecs:UpdateService",
                &PolicyEvaluationDecisionType::ImplicitDeny
            ),
            (
                "backup:StartCopyJob",
                &PolicyEvaluationDecisionType::Allowed
            ),
            (
                "backup:StartRestoreJob",
                &PolicyEvaluationDecisionType::ExplicitDeny
            ),
        ]
    );
    let results = out.evaluation_results();
    assert_eq!(results[0].eval_resource_name(), Some(vault));
    let inline = &results[0].matched_statements()[0];
    assert_eq!(inline.source_policy_id(), Some("ecs-read"));
    assert_eq!(
        inline.source_policy_type(),
        Some(&aws_sdk_iam::types::PolicySourceType::User)
    );
    let deny = &results[4].matched_statements()[0];
    assert_eq!(deny.source_policy_id(), Some("dr-backup"));
    assert_eq!(
        deny.source_policy_type(),
        Some(&aws_sdk_iam::types::PolicySourceType::UserManaged)
    );
    // The deny statement starts on line 5, column 5 of the document.
    let start = deny.start_position().unwrap();
    assert_eq!((start.line(), start.column()), (5, 5));
    assert!(results[2].matched_statements().is_empty());

    // Without the context key, the conditional deny cannot apply: the key is reported missing.
    let out = iam
        .simulate_principal_policy()
        .policy_source_arn("arn:aws:iam::123456789012:user/oncall")
        .action_names("backup:StartRestoreJob")
        .resource_arns(vault)
        .send()
        .await
        .unwrap();
    let result = &out.evaluation_results()[0];
    assert_eq!(
        result.eval_decision(),
        &PolicyEvaluationDecisionType::Allowed
    );
    assert_eq!(result.missing_context_values(), ["aws:RequestedRegion"]);
}

#[tokio::test]
async fn simulate_principal_policy_for_a_role_and_for_a_missing_principal() {
    let _guard = SandboxGuard::empty().await;
    let iam = aws_sdk_iam::Client::new(&common::sdk_config(PRIMARY).await);
    iam.create_role()
        .role_name("drctl")
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("drctl")
        .policy_name("route53")
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "NotAction": "route53:Delete*", "Resource": "*"}
            ]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let out = iam
        .simulate_principal_policy()
        .policy_source_arn("arn:aws:iam::123456789012:role/drctl")
        .action_names("route53:ChangeResourceRecordSets")
        .action_names("route53:DeleteHostedZone")
        .send()
        .await
        .unwrap();
    let decisions: Vec<&PolicyEvaluationDecisionType> = out
        .evaluation_results()
        .iter()
        .map(|r| r.eval_decision())
        .collect();
    assert_eq!(
        decisions,
        [
            &PolicyEvaluationDecisionType::Allowed,
            &PolicyEvaluationDecisionType::ImplicitDeny
        ]
    );
    assert_eq!(out.evaluation_results()[0].eval_resource_name(), Some("*"));

    let err = iam
        .simulate_principal_policy()
        .policy_source_arn("arn:aws:iam::123456789012:user/nobody")
        .action_names("s3:GetObject")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_entity_exception(), "{err:?}");
}
