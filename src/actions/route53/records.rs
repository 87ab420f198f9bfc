//! Route 53 record sets as drctl keeps them: complete enough to be written back exactly as
//! they were listed ([`RecordJson`]), the values a record answers with, name and id
//! normalisation, and the TXT memo that keeps a PRIMARY record's original values across
//! runs (`_drctl-failover-<type>.<record>`).

use serde::{Deserialize, Serialize};

use aws_sdk_route53::error::BuildError;
use aws_sdk_route53::types::{
    AliasTarget, CidrRoutingConfig, Coordinates, GeoLocation, GeoProximityLocation, ResourceRecord,
    ResourceRecordSet, ResourceRecordSetFailover, ResourceRecordSetRegion, RrType,
};

/// TXT strings hold at most 255 characters.
const TXT_CHUNK: usize = 250;

/// A resource record set, complete enough to be written back exactly as it was listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RecordJson {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_location: Option<GeoJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_value_answer: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_records: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_target: Option<AliasJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_policy_instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr_routing_config: Option<CidrJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_proximity_location: Option<GeoProximityJson>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AliasJson {
    pub hosted_zone_id: String,
    pub dns_name: String,
    pub evaluate_target_health: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct GeoJson {
    pub continent_code: Option<String>,
    pub country_code: Option<String>,
    pub subdivision_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CidrJson {
    pub collection_id: String,
    pub location_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct GeoProximityJson {
    pub aws_region: Option<String>,
    pub local_zone_group: Option<String>,
    pub coordinates: Option<(String, String)>,
    pub bias: Option<i32>,
}

/// Where traffic can be sent: the values a record answers with.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Values {
    Records(Vec<String>),
    Alias(AliasJson),
}

impl RecordJson {
    pub(super) fn from_sdk(r: &ResourceRecordSet) -> Self {
        RecordJson {
            name: r.name().to_string(),
            rtype: r.r#type().as_str().to_string(),
            set_identifier: r.set_identifier().map(str::to_owned),
            weight: r.weight(),
            region: r.region().map(|x| x.as_str().to_string()),
            geo_location: r.geo_location().map(|g| GeoJson {
                continent_code: g.continent_code().map(str::to_owned),
                country_code: g.country_code().map(str::to_owned),
                subdivision_code: g.subdivision_code().map(str::to_owned),
            }),
            failover: r.failover().map(|f| f.as_str().to_string()),
            multi_value_answer: r.multi_value_answer(),
            ttl: r.ttl(),
            resource_records: r
                .resource_records()
                .iter()
                .map(|v| v.value().to_string())
                .collect(),
            alias_target: r.alias_target().map(|a| AliasJson {
                hosted_zone_id: a.hosted_zone_id().to_string(),
                dns_name: a.dns_name().to_string(),
                evaluate_target_health: a.evaluate_target_health(),
            }),
            health_check_id: r.health_check_id().map(str::to_owned),
            traffic_policy_instance_id: r.traffic_policy_instance_id().map(str::to_owned),
            cidr_routing_config: r.cidr_routing_config().map(|c| CidrJson {
                collection_id: c.collection_id().to_string(),
                location_name: c.location_name().to_string(),
            }),
            geo_proximity_location: r.geo_proximity_location().map(|g| GeoProximityJson {
                aws_region: g.aws_region().map(str::to_owned),
                local_zone_group: g.local_zone_group().map(str::to_owned),
                coordinates: g
                    .coordinates()
                    .map(|c| (c.latitude().to_string(), c.longitude().to_string())),
                bias: g.bias(),
            }),
        }
    }

    pub(super) fn to_sdk(&self) -> Result<ResourceRecordSet, BuildError> {
        let records = if self.resource_records.is_empty() {
            None
        } else {
            Some(
                self.resource_records
                    .iter()
                    .map(|v| ResourceRecord::builder().value(v).build())
                    .collect::<Result<Vec<_>, _>>()?,
            )
        };
        let alias = match &self.alias_target {
            Some(a) => Some(
                AliasTarget::builder()
                    .hosted_zone_id(&a.hosted_zone_id)
                    .dns_name(&a.dns_name)
                    .evaluate_target_health(a.evaluate_target_health)
                    .build()?,
            ),
            None => None,
        };
        let cidr = match &self.cidr_routing_config {
            Some(c) => Some(
                CidrRoutingConfig::builder()
                    .collection_id(&c.collection_id)
                    .location_name(&c.location_name)
                    .build()?,
            ),
            None => None,
        };
        let proximity = match &self.geo_proximity_location {
            Some(g) => Some(
                GeoProximityLocation::builder()
                    .set_aws_region(g.aws_region.clone())
                    .set_local_zone_group(g.local_zone_group.clone())
                    .set_coordinates(match &g.coordinates {
                        Some((lat, lon)) => Some(
                            Coordinates::builder()
                                .latitude(lat)
                                .longitude(lon)
                                .build()?,
                        ),
                        None => None,
                    })
                    .set_bias(g.bias)
                    .build(),
            ),
            None => None,
        };
        ResourceRecordSet::builder()
            .name(&self.name)
            .r#type(RrType::from(self.rtype.as_str()))
            .set_set_identifier(self.set_identifier.clone())
            .set_weight(self.weight)
            .set_region(self.region.as_deref().map(ResourceRecordSetRegion::from))
            .set_geo_location(self.geo_location.as_ref().map(|g| {
                GeoLocation::builder()
                    .set_continent_code(g.continent_code.clone())
                    .set_country_code(g.country_code.clone())
                    .set_subdivision_code(g.subdivision_code.clone())
                    .build()
            }))
            .set_failover(
                self.failover
                    .as_deref()
                    .map(ResourceRecordSetFailover::from),
            )
            .set_multi_value_answer(self.multi_value_answer)
            .set_ttl(self.ttl)
            .set_resource_records(records)
            .set_alias_target(alias)
            .set_health_check_id(self.health_check_id.clone())
            .set_traffic_policy_instance_id(self.traffic_policy_instance_id.clone())
            .set_cidr_routing_config(cidr)
            .set_geo_proximity_location(proximity)
            .build()
    }

    pub(super) fn values(&self) -> Values {
        match &self.alias_target {
            Some(a) => Values::Alias(a.clone()),
            None => Values::Records(self.resource_records.clone()),
        }
    }

    /// This record with `values` (and the TTL that goes with them).
    pub(super) fn with_values(&self, values: &Values, ttl_for_records: Option<i64>) -> RecordJson {
        let mut out = self.clone();
        match values {
            Values::Records(v) => {
                out.resource_records = v.clone();
                out.alias_target = None;
                if out.ttl.is_none() {
                    out.ttl = ttl_for_records.or(Some(60));
                }
            }
            Values::Alias(a) => {
                out.resource_records.clear();
                out.alias_target = Some(a.clone());
                out.ttl = None; // alias records carry no TTL
            }
        }
        out
    }

    /// Name, type and set identifier: what Route 53 keys a record set by.
    pub(super) fn same_key(&self, other: &RecordJson) -> bool {
        same_name(&self.name, &other.name)
            && self.rtype == other.rtype
            && self.set_identifier == other.set_identifier
    }
}

impl Values {
    pub(super) fn describe(&self) -> String {
        match self {
            Values::Records(v) => v.join(","),
            Values::Alias(a) => format!("alias:{}", a.dns_name),
        }
    }
}

pub(super) fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

pub(super) fn same_name(a: &str, b: &str) -> bool {
    fqdn(a).eq_ignore_ascii_case(&fqdn(b))
}

pub(super) fn bare_zone_id(id: &str) -> String {
    id.trim_start_matches("/hostedzone/").to_string()
}

pub(super) fn bare_change_id(id: &str) -> String {
    id.rsplit('/').next().unwrap_or(id).to_string()
}

pub(super) fn memo_name(record: &str, rtype: &str) -> String {
    format!(
        "_drctl-failover-{}.{}",
        rtype.to_ascii_lowercase(),
        fqdn(record)
    )
}

/// The TXT memo holding the PRIMARY record's original set, hex-encoded JSON in quoted chunks.
pub(super) fn memo_record(name: &str, original: &RecordJson) -> RecordJson {
    let hex = hex::encode(serde_json::to_vec(original).unwrap_or_default());
    let chunks: Vec<String> = hex
        .as_bytes()
        .chunks(TXT_CHUNK)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
        .collect();
    RecordJson {
        name: name.to_string(),
        rtype: "TXT".into(),
        set_identifier: None,
        weight: None,
        region: None,
        geo_location: None,
        failover: None,
        multi_value_answer: None,
        ttl: Some(60),
        resource_records: vec![chunks.join(" ")],
        alias_target: None,
        health_check_id: None,
        traffic_policy_instance_id: None,
        cidr_routing_config: None,
        geo_proximity_location: None,
    }
}

pub(super) fn parse_memo(memo: &RecordJson) -> Option<RecordJson> {
    let text: String = memo
        .resource_records
        .iter()
        .flat_map(|v| v.chars())
        .filter(|c| c.is_ascii_hexdigit())
        .collect();
    serde_json::from_slice(&hex::decode(text).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::super::drill::drill_record_name;
    use super::*;

    fn record() -> RecordJson {
        RecordJson {
            name: "app.example.com.".into(),
            rtype: "A".into(),
            set_identifier: Some("primary-us-east-1".into()),
            weight: None,
            region: None,
            geo_location: None,
            failover: Some("PRIMARY".into()),
            multi_value_answer: None,
            ttl: Some(60),
            resource_records: vec!["10.0.1.10".into()],
            alias_target: None,
            health_check_id: Some("hc-1".into()),
            traffic_policy_instance_id: None,
            cidr_routing_config: None,
            geo_proximity_location: None,
        }
    }

    #[test]
    fn records_round_trip_through_the_sdk_type() {
        let r = record();
        assert_eq!(RecordJson::from_sdk(&r.to_sdk().unwrap()), r);
    }

    #[test]
    fn the_memo_round_trips_even_when_longer_than_one_txt_string() {
        let mut r = record();
        r.resource_records = (0..40).map(|i| format!("10.0.1.{i}")).collect();
        let memo = memo_record("_drctl-failover-a.app.example.com.", &r);
        assert!(memo.resource_records[0].len() > 255);
        assert!(
            memo.resource_records[0]
                .split(' ')
                .all(|chunk| chunk.len() <= 255)
        );
        assert_eq!(parse_memo(&memo), Some(r));
    }

    #[test]
    fn switching_to_an_alias_drops_the_ttl_and_back_restores_one() {
        let alias = Values::Alias(AliasJson {
            hosted_zone_id: "Z2".into(),
            dns_name: "lb.us-west-2.elb.amazonaws.com.".into(),
            evaluate_target_health: true,
        });
        let aliased = record().with_values(&alias, None);
        assert_eq!(aliased.ttl, None);
        assert!(aliased.resource_records.is_empty());
        assert_eq!(aliased.set_identifier.as_deref(), Some("primary-us-east-1"));
        assert_eq!(aliased.health_check_id.as_deref(), Some("hc-1"));
        let back = aliased.with_values(&Values::Records(vec!["10.1.1.10".into()]), Some(30));
        assert_eq!(back.ttl, Some(30));
        assert_eq!(back.alias_target, None);
    }

    #[test]
    fn ids_and_names_are_normalised() {
        assert_eq!(bare_zone_id("/hostedzone/Z123"), "Z123");
        assert_eq!(bare_zone_id("Z123"), "Z123");
        assert_eq!(bare_change_id("/change/C1"), "C1");
        assert_eq!(bare_change_id("C1"), "C1");
        assert!(same_name("App.Example.com", "app.example.com."));
        assert_eq!(
            drill_record_name("20260101T000000Z-abc123", "app.example.com."),
            "drctl-drill-20260101t000000z-abc123.app.example.com."
        );
    }
}
