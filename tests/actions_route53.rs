//! `route53.failover` end to end against the seeded sandbox (whose changes stay PENDING for
//! `route53_propagation` seconds and whose health checks follow Inverted): the PRIMARY record
//! answers with the SECONDARY's values, a failback restores it from the memo, drill undo puts
//! the zone back byte for byte, isolated drills only create and delete their own record,
//! resumed steps change nothing twice, and faults are absorbed or reported.

mod actions_support;
mod common;

use serde_json::{Value, json};

use aws_sdk_route53::types::{ChangeStatus, ResourceRecordSet, ResourceRecordSetFailover};
use drctl::actions::Mode;

use actions_support::{assert_aws_error, count, outcomes, step};
use common::{PRIMARY, SandboxGuard};

const ZONE: &str = "prod-infra.example.com.";
const RECORD: &str = "app.prod-infra.example.com.";
const PRIMARY_IP: &str = "10.0.1.10";
const SECONDARY_IP: &str = "10.1.1.10";

async fn r53() -> aws_sdk_route53::Client {
    aws_sdk_route53::Client::new(&common::sdk_config(PRIMARY).await)
}

fn zone_id(seed: &Value) -> String {
    seed["route53"]["hosted_zone_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Every record set of the zone, exactly as ListResourceRecordSets returns them.
async fn zone_listing(zone_id: &str) -> Vec<ResourceRecordSet> {
    let client = r53().await;
    let mut all = Vec::new();
    let mut start: Option<(String, aws_sdk_route53::types::RrType, Option<String>)> = None;
    loop {
        let mut req = client.list_resource_record_sets().hosted_zone_id(zone_id);
        if let Some((name, rtype, id)) = &start {
            req = req
                .start_record_name(name)
                .start_record_type(rtype.clone())
                .set_start_record_identifier(id.clone());
        }
        let out = req.send().await.unwrap();
        all.extend(out.resource_record_sets().iter().cloned());
        if !out.is_truncated() {
            return all;
        }
        start = Some((
            out.next_record_name().unwrap().to_string(),
            out.next_record_type().unwrap().clone(),
            out.next_record_identifier().map(str::to_owned),
        ));
    }
}

fn find(listing: &[ResourceRecordSet], failover: ResourceRecordSetFailover) -> &ResourceRecordSet {
    listing
        .iter()
        .find(|r| r.name() == RECORD && r.failover() == Some(&failover))
        .unwrap()
}

fn values(r: &ResourceRecordSet) -> Vec<&str> {
    r.resource_records().iter().map(|v| v.value()).collect()
}

async fn change_status(id: &str) -> ChangeStatus {
    r53()
        .await
        .get_change()
        .id(id)
        .send()
        .await
        .unwrap()
        .change_info()
        .unwrap()
        .status()
        .clone()
}

fn failover_params(to: &str) -> Value {
    json!({"zone": ZONE, "record": RECORD, "to": to})
}

#[tokio::test]
async fn records_failover_points_the_primary_at_the_secondary_and_undo_restores_byte_for_byte() {
    let guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"route53_propagation": 0.4}));
    let zone = zone_id(&guard.seed);
    let before = zone_listing(&zone).await;

    let s = step("route53.failover", PRIMARY, failover_params("secondary"))
        .mode(Mode::DrillLive)
        .build()
        .await;
    let out = s.run().await.unwrap();

    let after = zone_listing(&zone).await;
    let primary = find(&after, ResourceRecordSetFailover::Primary);
    let old_primary = find(&before, ResourceRecordSetFailover::Primary);
    assert_eq!(values(primary), [SECONDARY_IP]);
    // Everything else about the PRIMARY record is kept.
    assert_eq!(primary.set_identifier(), Some("primary-us-east-1"));
    assert_eq!(primary.health_check_id(), old_primary.health_check_id());
    assert_eq!(primary.ttl(), old_primary.ttl());
    assert_eq!(
        find(&after, ResourceRecordSetFailover::Secondary),
        find(&before, ResourceRecordSetFailover::Secondary)
    );
    assert_eq!(out.outputs["values"], SECONDARY_IP);
    assert_eq!(out.outputs["record_name"], RECORD);
    let change_id = &out.outputs["change_id"];
    assert_eq!(change_status(change_id).await, ChangeStatus::Insync);
    assert!(count("route53", "GetChange") >= 1);
    // The memo of the original values is there for a later failback.
    assert!(
        after
            .iter()
            .any(|r| r.name().starts_with("_drctl-failover-a.")),
        "{after:?}"
    );

    s.undo(out.undo.as_ref().expect("a drill has an undo"))
        .await
        .unwrap();

    assert_eq!(
        zone_listing(&zone).await,
        before,
        "the zone is back exactly"
    );
    s.assert_calls_declared();
}

#[tokio::test]
async fn a_later_failback_run_restores_the_original_values_from_the_memo() {
    let guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"route53_propagation": 0.2}));
    let zone = zone_id(&guard.seed);
    let before = zone_listing(&zone).await;

    let failover = step("route53.failover", PRIMARY, failover_params("secondary"))
        .run_id("run-failover")
        .build()
        .await;
    failover.run().await.unwrap();
    assert_eq!(
        values(find(
            &zone_listing(&zone).await,
            ResourceRecordSetFailover::Primary
        )),
        [SECONDARY_IP]
    );

    // A different run, with no journal of the first: the zone itself remembers.
    let failback = step("route53.failover", PRIMARY, failover_params("primary"))
        .run_id("run-failback")
        .build()
        .await;
    let out = failback.run().await.unwrap();

    assert_eq!(out.outputs["values"], PRIMARY_IP);
    assert_eq!(
        zone_listing(&zone).await,
        before,
        "original record, memo gone"
    );
    // Failing back again is a no-op.
    let again = step("route53.failover", PRIMARY, failover_params("primary"))
        .run_id("run-failback-2")
        .build()
        .await;
    again.run().await.unwrap();
    assert_eq!(count("route53", "ChangeResourceRecordSets"), 2);
    failback.assert_calls_declared();
}

#[tokio::test]
async fn a_resumed_step_makes_no_second_change_and_accepts_a_prefixed_zone_id() {
    let guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"route53_propagation": 0.2}));
    let zone = format!("/hostedzone/{}", zone_id(&guard.seed));
    let params = json!({"zone": zone, "record": RECORD, "to": "secondary"});

    let first = step("route53.failover", PRIMARY, params.clone())
        .mode(Mode::DrillLive)
        .build()
        .await;
    let out1 = first.run().await.unwrap();
    let second = step("route53.failover", PRIMARY, params)
        .mode(Mode::DrillLive)
        .prior(first.notes())
        .build()
        .await;
    let out2 = second.run().await.unwrap();

    assert_eq!(count("route53", "ChangeResourceRecordSets"), 1);
    assert_eq!(out2.outputs, out1.outputs);
    assert_eq!(
        out2.undo, out1.undo,
        "the resumed step can still undo the first's change"
    );
    assert_eq!(count("route53", "GetHostedZone"), 2);
    assert_eq!(count("route53", "ListHostedZonesByName"), 0);
}

#[tokio::test]
async fn an_isolated_drill_creates_its_own_record_and_undo_deletes_it() {
    let guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"route53_propagation": 0.2}));
    let zone = zone_id(&guard.seed);
    let before = zone_listing(&zone).await;

    let s = step("route53.failover", PRIMARY, failover_params("secondary"))
        .mode(Mode::DrillIsolated)
        .run_id("abcdef0123456789")
        .build()
        .await;
    let out = s.run().await.unwrap();

    let drill_name = "drctl-drill-abcdef0123456789.app.prod-infra.example.com.";
    assert_eq!(out.outputs["record_name"], drill_name);
    // A real change (the drill record), so it counts as the recovery check: not simulated.
    assert!(out.simulated.is_none());
    let after = zone_listing(&zone).await;
    let drill = after
        .iter()
        .find(|r| r.name() == drill_name)
        .expect("the drill record");
    assert_eq!(values(drill), [SECONDARY_IP]);
    assert_eq!(drill.ttl(), Some(60));
    assert_eq!(drill.failover(), None, "simple routing");
    assert_eq!(drill.set_identifier(), None);
    // Production records are untouched.
    let others: Vec<&ResourceRecordSet> = after.iter().filter(|r| r.name() != drill_name).collect();
    assert_eq!(others, before.iter().collect::<Vec<_>>());
    assert_eq!(
        change_status(&out.outputs["change_id"]).await,
        ChangeStatus::Insync
    );

    s.undo(out.undo.as_ref().expect("a drill has an undo"))
        .await
        .unwrap();
    assert_eq!(zone_listing(&zone).await, before);
    s.undo(out.undo.as_ref().unwrap()).await.unwrap();
    assert_eq!(
        count("route53", "ChangeResourceRecordSets"),
        2,
        "second undo changes nothing"
    );
    s.assert_calls_declared();
}

#[tokio::test]
async fn the_health_check_method_inverts_the_primary_check_until_it_reports_unhealthy() {
    let guard = SandboxGuard::seeded().await;
    let zone = zone_id(&guard.seed);
    let before = zone_listing(&zone).await;
    let check = guard.seed["route53"]["health_checks"]["primary"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let inverted = async |id: &str| {
        r53()
            .await
            .get_health_check()
            .health_check_id(id)
            .send()
            .await
            .unwrap()
            .health_check()
            .unwrap()
            .health_check_config()
            .unwrap()
            .inverted()
            .unwrap_or(false)
    };

    let mut params = failover_params("secondary");
    params["method"] = json!("health-check");
    let s = step("route53.failover", PRIMARY, params)
        .mode(Mode::DrillLive)
        .build()
        .await;
    let out = s.run().await.unwrap();

    assert!(inverted(&check).await);
    let status = r53()
        .await
        .get_health_check_status()
        .health_check_id(&check)
        .send()
        .await
        .unwrap();
    assert!(status.health_check_observations().iter().all(|o| {
        o.status_report()
            .unwrap()
            .status()
            .unwrap()
            .starts_with("Failure")
    }));
    assert_eq!(out.outputs["values"], SECONDARY_IP);
    assert_eq!(zone_listing(&zone).await, before, "no record changed");
    assert_eq!(count("route53", "UpdateHealthCheck"), 1);

    s.undo(out.undo.as_ref().expect("a drill has an undo"))
        .await
        .unwrap();
    assert!(!inverted(&check).await);
    s.assert_calls_declared();
}

#[tokio::test]
async fn a_throttled_change_is_absorbed_by_the_sdk_retry() {
    let _guard = SandboxGuard::seeded().await;
    common::set_durations(&json!({"route53_propagation": 0.2}));
    common::inject_fault(&json!({
        "service": "route53", "operation": "ChangeResourceRecordSets", "kind": "throttle", "count": 1
    }));
    let s = step("route53.failover", PRIMARY, failover_params("secondary"))
        .build()
        .await;
    let out = s.run().await.unwrap();

    assert_eq!(outcomes("route53", "ChangeResourceRecordSets"), (1, 1));
    assert_eq!(out.outputs["values"], SECONDARY_IP);
}

#[tokio::test]
async fn access_denied_fails_naming_the_record_zone_and_code() {
    let _guard = SandboxGuard::seeded().await;
    common::inject_fault(&json!({
        "service": "route53", "operation": "ChangeResourceRecordSets", "kind": "access_denied", "count": 1
    }));
    let s = step("route53.failover", PRIMARY, failover_params("secondary"))
        .build()
        .await;
    let err = s.run().await.unwrap_err();

    // Route 53 speaks XML, where the code is AccessDenied (JSON services: AccessDeniedException).
    assert_aws_error(
        &err,
        "record app.prod-infra.example.com. A in hosted zone prod-infra.example.com.",
        "AccessDenied",
    );
    assert!(err.to_string().contains("route53:ChangeResourceRecordSets"));
}
