//! Secrets Manager version dates in the sandbox, through the AWS SDK for Rust: every version
//! keeps the moment it was created (to the millisecond) whenever it is listed, a replica's
//! version is dated when it reached the replica, and the lag control returns the new
//! version's creation date. Dates are compared with each other, never with the wall clock.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_secretsmanager::Client;
use aws_smithy_types::DateTime;
use common::{PRIMARY, RECOVERY, SandboxGuard};
use serde_json::json;

const SECRET: &str = "prod-infra/backend";

async fn secrets(region: &str) -> Client {
    Client::new(&common::sdk_config(region).await)
}

/// Version id -> creation date, as ListSecretVersionIds answers them.
async fn version_dates(client: &Client, secret: &str) -> BTreeMap<String, DateTime> {
    client
        .list_secret_version_ids()
        .secret_id(secret)
        .include_deprecated(true)
        .send()
        .await
        .unwrap()
        .versions()
        .iter()
        .map(|v| {
            (
                v.version_id().unwrap().to_string(),
                *v.created_date().unwrap(),
            )
        })
        .collect()
}

/// Milliseconds since the epoch, to the nearest: the SDK reads JSON's epoch seconds as a
/// float, so 1796216272.685 may arrive as …272.684999990.
fn millis(date: &DateTime) -> i128 {
    (date.as_nanos() + 500_000).div_euclid(1_000_000)
}

/// A date as the control API writes it (RFC 3339, milliseconds).
fn rfc3339(date: &DateTime) -> String {
    let ms = millis(date) as i64;
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[tokio::test]
async fn version_dates_are_when_each_version_was_created_not_when_they_are_listed() {
    let _guard = SandboxGuard::seeded().await;
    let east = secrets(PRIMARY).await;
    let first = version_dates(&east, SECRET).await;
    assert_eq!(first.len(), 1);
    // Listed again later, the dates are the same (moto answered the time of each call).
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(version_dates(&east, SECRET).await, first);
    // The secret was created with its first version.
    let described = east
        .describe_secret()
        .secret_id(SECRET)
        .send()
        .await
        .unwrap();
    let created = *first.values().next().unwrap();
    assert_eq!(described.created_date(), Some(&created));
    assert_eq!(described.last_changed_date(), Some(&created));
    // Dates have millisecond precision and nothing finer (up to the float the SDK parses).
    assert!((created.as_nanos() - millis(&created) * 1_000_000).abs() < 1_000);
    let value = east
        .get_secret_value()
        .secret_id(SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(value.created_date(), Some(&created));
    let arn = described.arn().unwrap();
    let listed = east
        .list_secret_version_ids()
        .secret_id(SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.arn(), Some(arn), "the ARN, not the name");
    assert_eq!(listed.next_token(), None);
}

#[tokio::test]
async fn the_lag_control_returns_the_new_versions_creation_date() {
    let _guard = SandboxGuard::seeded().await;
    let east = secrets(PRIMARY).await;
    let west = secrets(RECOVERY).await;
    let old = version_dates(&east, SECRET).await;
    tokio::time::sleep(Duration::from_millis(20)).await; // distinct dates for old and new
    let lag = common::lag_secret(SECRET, RECOVERY, Some("{\"rotated\": true}"));
    let new_id = lag["new_version_id"].as_str().unwrap();
    assert_eq!(lag["primary_current_version_id"], new_id);
    let dates = version_dates(&east, SECRET).await;
    assert_eq!(dates.len(), 2);
    assert_eq!(lag["new_version_created_date"], rfc3339(&dates[new_id]));
    assert_eq!(
        lag["primary_current_version_created_date"],
        rfc3339(&dates[new_id])
    );
    // The old version kept its date; the new one is younger.
    let (old_id, old_date) = old.iter().next().unwrap();
    assert_eq!(dates[old_id.as_str()], *old_date);
    assert!(dates[new_id].as_nanos() > old_date.as_nanos());
    let described = east
        .describe_secret()
        .secret_id(SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(described.last_changed_date(), Some(&dates[new_id]));
    // The frozen replica does not have it yet.
    assert!(!version_dates(&west, SECRET).await.contains_key(new_id));
}

#[tokio::test]
async fn a_replica_version_is_dated_when_it_reached_the_replica() {
    let _guard = SandboxGuard::seeded().await;
    let east = secrets(PRIMARY).await;
    let west = secrets(RECOVERY).await;
    // A replica in sync has each version when the primary does.
    let old = version_dates(&east, SECRET).await;
    assert_eq!(version_dates(&west, SECRET).await, old);

    let lag = common::lag_secret(SECRET, RECOVERY, Some("{\"rotated\": true}"));
    let new_id = lag["new_version_id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(20)).await; // the lag lasts: distinct dates
    common::control(
        "POST",
        "/secrets/lag",
        Some(&json!({"secret_id": SECRET, "region": RECOVERY, "lagging": false})),
    );
    let primary = version_dates(&east, SECRET).await;
    let replica = version_dates(&west, SECRET).await;
    assert_eq!(replica.len(), 2);
    assert_eq!(
        replica[old.keys().next().unwrap()],
        primary[old.keys().next().unwrap()]
    );
    assert!(
        replica[&new_id].as_nanos() > primary[&new_id].as_nanos(),
        "reached the replica when the lag ended, after it was created"
    );
    let described = west
        .describe_secret()
        .secret_id(SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(described.last_changed_date(), Some(&replica[&new_id]));
    let value = west
        .get_secret_value()
        .secret_id(SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(value.created_date(), Some(&replica[&new_id]));

    // Promotion keeps the dates the replica had.
    west.stop_replication_to_replica()
        .secret_id(SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(version_dates(&west, SECRET).await, replica);
}

#[tokio::test]
async fn a_replica_added_later_dates_older_versions_at_its_creation() {
    let _guard = SandboxGuard::seeded().await;
    let east = secrets(PRIMARY).await;
    let west = secrets(RECOVERY).await;
    east.create_secret()
        .name("prod-infra/late")
        .secret_string("{}")
        .send()
        .await
        .unwrap();
    let primary = version_dates(&east, "prod-infra/late").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    east.replicate_secret_to_regions()
        .secret_id("prod-infra/late")
        .add_replica_regions(
            aws_sdk_secretsmanager::types::ReplicaRegionType::builder()
                .region(RECOVERY)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let replica = version_dates(&west, "prod-infra/late").await;
    let id = primary.keys().next().unwrap();
    assert!(replica[id].as_nanos() > primary[id].as_nanos());
    let described = west
        .describe_secret()
        .secret_id("prod-infra/late")
        .send()
        .await
        .unwrap();
    assert_eq!(described.created_date(), Some(&replica[id]));
    assert_eq!(described.primary_region(), Some(PRIMARY));
}
