//! The registry replication rule `ecr.replicate` ensures: one to the step's region covering
//! the repositories, added beside every existing rule, and recognised again for undo.

use serde::{Deserialize, Serialize};
use serde_json::json;

use aws_sdk_ecr::error::BuildError;
use aws_sdk_ecr::types::{
    ReplicationConfiguration, ReplicationDestination, ReplicationRule, RepositoryFilter,
    RepositoryFilterType,
};

use crate::actions::{ActionError, StepContext, on};
use crate::aws::aws_err;

/// A replication rule to one region, with its repository prefix filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct RuleJson {
    region: String,
    registry_id: String,
    filters: Vec<String>,
}

impl RuleJson {
    fn from_sdk(rule: &ReplicationRule) -> Vec<RuleJson> {
        let filters: Vec<String> = rule
            .repository_filters()
            .iter()
            .map(|f| f.filter().to_string())
            .collect();
        rule.destinations()
            .iter()
            .map(|d| RuleJson {
                region: d.region().to_string(),
                registry_id: d.registry_id().to_string(),
                filters: filters.clone(),
            })
            .collect()
    }

    pub(super) fn matches(&self, rule: &ReplicationRule) -> bool {
        rule.destinations().len() == 1 && RuleJson::from_sdk(rule).first() == Some(self)
    }

    fn to_sdk(&self) -> Result<ReplicationRule, BuildError> {
        let mut rule = ReplicationRule::builder().destinations(
            ReplicationDestination::builder()
                .region(&self.region)
                .registry_id(&self.registry_id)
                .build()?,
        );
        for filter in &self.filters {
            rule = rule.repository_filters(
                RepositoryFilter::builder()
                    .filter(filter)
                    .filter_type(RepositoryFilterType::PrefixMatch)
                    .build()?,
            );
        }
        rule.build()
    }
}

/// Whether an existing rule replicates every one of `repositories` to `region`.
pub(super) fn covers(
    rule: &ReplicationRule,
    region: &str,
    registry: &str,
    repositories: &[String],
) -> bool {
    let to_region = rule
        .destinations()
        .iter()
        .any(|d| d.region() == region && d.registry_id() == registry);
    let filters = rule.repository_filters();
    to_region
        && (filters.is_empty()
            || repositories.iter().all(|repo| {
                filters.iter().any(|f| {
                    f.filter_type() == &RepositoryFilterType::PrefixMatch
                        && repo.starts_with(f.filter())
                })
            }))
}

/// Ensure a replication rule from `source` to `region` covering `repositories`.
/// Returns the rule it added, if it added one.
pub(super) async fn ensure_rule(
    ctx: &StepContext,
    source: &str,
    region: &str,
    repositories: &[String],
    explicit: bool,
) -> Result<Option<RuleJson>, ActionError> {
    let client = ctx.aws.ecr(source);
    let resource = format!("registry replication configuration ({source})");
    let registry = client
        .describe_registry()
        .send()
        .await
        .map_err(aws_err("ecr:DescribeRegistry"))
        .map_err(on(resource.clone()))?;
    let registry_id = registry.registry_id().unwrap_or_default().to_string();
    let rules: Vec<ReplicationRule> = registry
        .replication_configuration()
        .map(|c| c.rules().to_vec())
        .unwrap_or_default();
    if rules
        .iter()
        .any(|r| covers(r, region, &registry_id, repositories))
    {
        return Ok(None);
    }
    let rule = RuleJson {
        region: region.into(),
        registry_id: registry_id.clone(),
        // A rule for exactly the listed repositories, or for all when none were listed.
        filters: if explicit {
            repositories.to_vec()
        } else {
            Vec::new()
        },
    };
    let mut config = ReplicationConfiguration::builder().set_rules(Some(rules));
    config = config.rules(
        rule.to_sdk()
            .map_err(|e| ActionError::fatal(resource.clone(), e.to_string()))?,
    );
    let config = config
        .build()
        .map_err(|e| ActionError::fatal(resource.clone(), e.to_string()))?;
    ctx.note(json!({ "ecr_rule_added": rule })).await?;
    ctx.progress(format!(
        "adding a registry replication rule {source} -> {region}"
    ));
    client
        .put_replication_configuration()
        .replication_configuration(config)
        .send()
        .await
        .map_err(aws_err("ecr:PutReplicationConfiguration"))
        .map_err(on(resource))?;
    Ok(Some(rule))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(region: &str, filters: &[&str]) -> ReplicationRule {
        RuleJson {
            region: region.into(),
            registry_id: "123456789012".into(),
            filters: filters.iter().map(|f| f.to_string()).collect(),
        }
        .to_sdk()
        .unwrap()
    }

    #[test]
    fn a_rule_covers_repositories_by_region_and_prefix() {
        let repos = vec!["prod-infra/backend".to_string()];
        assert!(covers(
            &rule("us-west-2", &["prod-infra/"]),
            "us-west-2",
            "123456789012",
            &repos
        ));
        assert!(covers(
            &rule("us-west-2", &[]),
            "us-west-2",
            "123456789012",
            &repos
        ));
        assert!(!covers(
            &rule("eu-west-1", &[]),
            "us-west-2",
            "123456789012",
            &repos
        ));
        assert!(!covers(
            &rule("us-west-2", &["other/"]),
            "us-west-2",
            "123456789012",
            &repos
        ));
        assert!(!covers(
            &rule("us-west-2", &[]),
            "us-west-2",
            "999999999999",
            &repos
        ));
    }

    #[test]
    fn the_added_rule_is_recognised_for_undo() {
        let ours = RuleJson {
            region: "us-west-2".into(),
            registry_id: "123456789012".into(),
            filters: vec!["prod-infra/frontend".into()],
        };
        assert!(ours.matches(&ours.to_sdk().unwrap()));
        assert!(!ours.matches(&rule("us-west-2", &["prod-infra/"])));
    }
}
