//! Asking AWS, read-only, where each recovered resource stands now: the consistency point a
//! recovery started now would get (DESIGN.md section 2), with the facts that show it. The
//! look-ups are the actions' own (`crate::actions`), so `check` and a drill measure alike.
//!
//! Each resource is probed once per check even when several runbooks name it; backup plans
//! and repository listings are read once per region.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::model::Fact;
use super::plans::{PlanBook, Rule};
use super::resources::Resource;
use crate::actions::{
    ActionError, PointSelector, describe_secret, ecr_evidence, efs_arn, list_images, missing_in,
    newest_point, on, replica_state, replica_status, source_repositories, version_evidence,
};
use crate::aws::AwsClients;

/// A timestamp for people: to the second, in UTC.
fn secs(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// How current the recovered copy of a resource is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Seen {
    /// Nothing is missing: the exposure is zero.
    Current,
    /// Every change made before this time is in the copy.
    ConsistentAt(DateTime<Utc>),
    /// There is no copy to recover from; the reason says why.
    Nothing(String),
    /// Not measured: see the probe's error.
    Unknown,
}

/// What one probe found.
#[derive(Debug, Clone)]
pub(crate) struct Probe {
    pub(crate) seen: Seen,
    pub(crate) evidence: Vec<Fact>,
    /// Recovery points only: the backup rules that protect the file system (`None` when they
    /// could not be read, or no file system is named).
    pub(crate) rules: Option<Vec<Rule>>,
    pub(crate) error: Option<ActionError>,
}

impl Probe {
    fn new(seen: Seen) -> Probe {
        Probe {
            seen,
            evidence: Vec::new(),
            rules: None,
            error: None,
        }
    }

    fn failed(error: ActionError) -> Probe {
        Probe {
            error: Some(error),
            ..Probe::new(Seen::Unknown)
        }
    }

    fn fact(mut self, detail: impl Into<String>, source: &str) -> Probe {
        self.evidence.push(Fact {
            detail: detail.into(),
            source: source.into(),
        });
        self
    }
}

/// Probes resources against one set of AWS clients at one instant.
pub(crate) struct Prober<'a> {
    aws: &'a AwsClients,
    now: DateTime<Utc>,
    plans: PlanBook,
    repositories: BTreeMap<String, Result<Vec<String>, ActionError>>,
}

impl<'a> Prober<'a> {
    pub(crate) fn new(aws: &'a AwsClients, now: DateTime<Utc>) -> Self {
        Prober {
            aws,
            now,
            plans: PlanBook::default(),
            repositories: BTreeMap::new(),
        }
    }

    /// "Every repository of the source region" as one resource per repository.
    pub(crate) async fn expand(
        &mut self,
        resource: Resource,
    ) -> Result<Vec<Resource>, ActionError> {
        let Resource::Images {
            source,
            region,
            repository: None,
        } = resource
        else {
            return Ok(vec![resource]);
        };
        if !self.repositories.contains_key(&source) {
            let names = source_repositories(self.aws, &source, &[])
                .await
                .map(|repos| {
                    repos
                        .iter()
                        .filter_map(|r| r.repository_name().map(str::to_owned))
                        .collect()
                });
            self.repositories.insert(source.clone(), names);
        }
        let names = self.repositories[&source].clone()?;
        Ok(names
            .into_iter()
            .map(|repository| Resource::Images {
                source: source.clone(),
                region: region.clone(),
                repository: Some(repository),
            })
            .collect())
    }

    pub(crate) async fn probe(&mut self, resource: &Resource) -> Probe {
        let result = match resource {
            Resource::RecoveryPoints {
                region,
                vault,
                file_system,
                fs_region,
            } => {
                self.recovery_points(region, vault, file_system.as_deref(), fs_region)
                    .await
            }
            Resource::Replica {
                region,
                file_system,
            } => self.replica(region, file_system).await,
            Resource::Images {
                source,
                region,
                repository: Some(repository),
            } => self.images(source, region, repository).await,
            // Only left unexpanded when listing the source's repositories failed.
            Resource::Images {
                source,
                repository: None,
                ..
            } => Err(match self.repositories.get(source) {
                Some(Err(e)) => e.clone(),
                _ => ActionError::fatal(format!("repositories in {source}"), "were not listed"),
            }),
            Resource::Secret {
                source,
                region,
                name,
            } => self.secret(source, region, name).await,
        };
        result.unwrap_or_else(Probe::failed)
    }

    async fn recovery_points(
        &mut self,
        region: &str,
        vault: &str,
        file_system: Option<&str>,
        fs_region: &str,
    ) -> Result<Probe, ActionError> {
        let fs_arn = match file_system {
            Some(fs) => {
                let account = self
                    .aws
                    .account_id(region)
                    .await
                    .map_err(on("the caller's account"))?;
                Some(efs_arn(fs_region, &account, fs))
            }
            None => None,
        };
        let point = newest_point(
            self.aws,
            region,
            vault,
            fs_arn.as_deref(),
            &PointSelector::Latest,
        )
        .await?;
        let of = file_system
            .map(|fs| format!(" of {fs}"))
            .unwrap_or_default();
        let mut probe = match point {
            Some(p) => Probe::new(Seen::ConsistentAt(p.created_at)).fact(
                format!(
                    "newest COMPLETED recovery point{of} in vault {vault} ({region}): {}, created {}",
                    p.arn,
                    secs(p.created_at)
                ),
                "backup:ListRecoveryPointsByBackupVault",
            ),
            None => Probe::new(Seen::Nothing(format!(
                "vault {vault} ({region}) holds no COMPLETED recovery point{of}"
            )))
            .fact(
                format!("no COMPLETED recovery point{of} in vault {vault} ({region})"),
                "backup:ListRecoveryPointsByBackupVault",
            ),
        };
        let Some(fs_arn) = fs_arn else {
            return Ok(probe);
        };
        let regions: Vec<&str> = if fs_region == region {
            vec![region]
        } else {
            vec![fs_region, region]
        };
        match self.plans.rules_for(self.aws, &regions, &fs_arn).await {
            Ok(rules) => {
                for rule in &rules {
                    probe = probe.fact(
                        rule.describe(),
                        "backup:ListBackupPlans, backup:GetBackupPlan, backup:GetBackupSelection",
                    );
                }
                if rules.is_empty() {
                    probe = probe.fact(
                        format!(
                            "no backup plan in {} selects {fs_arn}",
                            regions.join(" or ")
                        ),
                        "backup:ListBackupPlans, backup:ListBackupSelections",
                    );
                }
                probe.rules = Some(rules);
            }
            // The recovery point's age stands; only the schedule is unknown.
            Err(e) => probe.error = Some(e),
        }
        Ok(probe)
    }

    async fn replica(&mut self, region: &str, file_system: &str) -> Result<Probe, ActionError> {
        const SOURCE: &str = "elasticfilesystem:DescribeReplicationConfigurations";
        let Some(state) = replica_state(self.aws, region, file_system).await? else {
            return Ok(Probe::new(Seen::Nothing(format!(
                "{file_system} ({region}) is not a replication destination: nothing replicates into it"
            )))
            .fact(
                format!("no replication configuration has {file_system} ({region}) as its destination"),
                SOURCE,
            ));
        };
        let feed = format!(
            "replication {} ({}) -> {file_system} ({region}), status {}",
            state.source, state.source_region, state.status
        );
        Ok(match state.last_replicated {
            Some(at) => Probe::new(Seen::ConsistentAt(at))
                .fact(format!("{feed}, last replicated {}", secs(at)), SOURCE),
            None => Probe::new(Seen::Nothing(format!(
                "replication into {file_system} ({region}) has not completed a first sync"
            )))
            .fact(format!("{feed}, no last replicated timestamp yet"), SOURCE),
        })
    }

    async fn images(
        &mut self,
        source: &str,
        region: &str,
        repository: &str,
    ) -> Result<Probe, ActionError> {
        let src = list_images(self.aws, source, repository)
            .await?
            .ok_or_else(|| {
                ActionError::fatal(
                    format!("repository {repository} ({source})"),
                    "does not exist in the source region",
                )
            })?;
        let dst = list_images(self.aws, region, repository).await?;
        let missing = missing_in(&src, dst.as_deref());
        let evidence = ecr_evidence("", self.now, source, region, repository, &missing);
        let mut probe = Probe::new(match evidence.consistent_at {
            None => Seen::Current,
            Some(at) => Seen::ConsistentAt(at),
        })
        .fact(evidence.detail, &evidence.source);
        if dst.is_none() {
            probe = probe.fact(
                format!("repository {repository} does not exist in {region}"),
                "ecr:DescribeImages",
            );
        }
        Ok(probe)
    }

    async fn secret(
        &mut self,
        source: &str,
        region: &str,
        name: &str,
    ) -> Result<Probe, ActionError> {
        let primary = describe_secret(self.aws, source, name)
            .await
            .map_err(on(format!("secret {name} ({source})")))?;
        let replica = match describe_secret(self.aws, region, name).await {
            Ok(replica) => replica,
            Err(e) if e.is_not_found() => {
                return Ok(Probe::new(Seen::Nothing(format!(
                    "secret {name} has no replica in {region}"
                )))
                .fact(
                    format!(
                        "DescribeSecret of {name} in {region}: {}",
                        e.code.unwrap_or_default()
                    ),
                    "secretsmanager:DescribeSecret",
                ));
            }
            Err(e) => return Err(on(format!("secret {name} ({region})"))(e)),
        };
        let evidence = version_evidence(
            self.aws, "", self.now, name, source, region, &primary, &replica,
        )
        .await?;
        let mut probe = Probe::new(match evidence.consistent_at {
            None => Seen::Current,
            Some(at) => Seen::ConsistentAt(at),
        })
        .fact(evidence.detail, &evidence.source);
        if let Some((status, message)) = replica_status(&primary, region) {
            probe = probe.fact(
                format!(
                    "the primary reports its replica in {region} as {}{}",
                    status.as_str(),
                    if message.is_empty() {
                        String::new()
                    } else {
                        format!(" ({message})")
                    }
                ),
                "secretsmanager:DescribeSecret",
            );
        }
        Ok(probe)
    }
}
