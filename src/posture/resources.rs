//! What `drctl check` looks at: the runbooks (or drills) to check with their RPO targets, and
//! the data resources each one recovers, read from its steps' parameters. Only the actions
//! that recover data name resources (those with `rpo_evidence` in the catalogue); every
//! other step is ignored.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::measure::EvidenceKind;
use crate::runbook::{Loaded, Runbook, Step, interpolate};

/// One runbook or drill file to check, with the RPO target to check against (a drill's own
/// target overrides its runbook's).
#[derive(Debug, Clone)]
pub struct Subject {
    /// The file, as given.
    pub file: PathBuf,
    pub drill: Option<String>,
    pub runbook: Runbook,
    pub rpo_target: Option<Duration>,
}

impl Subject {
    /// The subject of a loaded file.
    pub fn new(file: &Path, loaded: Loaded) -> Subject {
        match loaded {
            Loaded::Runbook(runbook) => Subject {
                file: file.to_path_buf(),
                drill: None,
                rpo_target: runbook.targets.rpo,
                runbook,
            },
            Loaded::Drill(drill, runbook) => Subject {
                file: file.to_path_buf(),
                drill: Some(drill.name),
                rpo_target: drill.targets.rpo,
                runbook,
            },
        }
    }

    /// How people name it: `drill quarterly` or `runbook efs-restore`.
    pub fn label(&self) -> String {
        match &self.drill {
            Some(d) => format!("drill `{d}`"),
            None => format!("runbook `{}`", self.runbook.name),
        }
    }
}

/// A recovered data resource: where the copy a recovery would use lives, and where from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Resource {
    /// AWS Backup recovery points in `vault` (in `region`) of the EFS `file_system` in
    /// `fs_region` (of any resource when `None`: a `backup.copy` without a file system).
    RecoveryPoints {
        region: String,
        vault: String,
        file_system: Option<String>,
        fs_region: String,
    },
    /// The EFS replica `file_system` in `region`.
    Replica { region: String, file_system: String },
    /// The images of `repository` (every repository of `source` when `None`) in `region`.
    Images {
        source: String,
        region: String,
        repository: Option<String>,
    },
    /// The replica in `region` of the secret `name` of `source`.
    Secret {
        source: String,
        region: String,
        name: String,
    },
}

impl Resource {
    /// The resource as reports name it.
    pub(crate) fn name(&self) -> String {
        match self {
            Resource::RecoveryPoints {
                region,
                vault,
                file_system: Some(fs),
                fs_region,
            } => format!("efs {fs} ({fs_region}) in vault {vault} ({region})"),
            Resource::RecoveryPoints { region, vault, .. } => {
                format!("recovery points in vault {vault} ({region})")
            }
            Resource::Replica {
                region,
                file_system,
            } => format!("efs replica {file_system} ({region})"),
            Resource::Images {
                source,
                region,
                repository,
            } => format!(
                "ecr repository {} ({source} -> {region})",
                repository.as_deref().unwrap_or("*")
            ),
            Resource::Secret {
                source,
                region,
                name,
            } => format!("secret {name} (replica in {region} of {source})"),
        }
    }

    pub(crate) fn kind(&self) -> EvidenceKind {
        match self {
            Resource::RecoveryPoints { .. } => EvidenceKind::RecoveryPoint,
            Resource::Replica { .. } => EvidenceKind::Replication,
            Resource::Images { .. } => EvidenceKind::EcrImages,
            Resource::Secret { .. } => EvidenceKind::SecretVersion,
        }
    }

    /// The region of the recovered copy.
    pub(crate) fn region(&self) -> &str {
        match self {
            Resource::RecoveryPoints { region, .. }
            | Resource::Replica { region, .. }
            | Resource::Images { region, .. }
            | Resource::Secret { region, .. } => region,
        }
    }
}

/// A resource and the step that recovers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recovered {
    pub(crate) step: String,
    pub(crate) resource: Resource,
}

/// Why a step's resources cannot be checked before it runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum Unchecked {
    #[error("`{name}` depends on another step's output ({template})")]
    NeedsOutput { name: String, template: String },
    #[error("`{0}` is not set")]
    NotSet(String),
}

/// A step parameter as a plain string. `${vars.*}` were substituted when the runbook loaded;
/// a `${steps.*}` reference is only known while the runbook runs, so it cannot be checked.
fn text(step: &Step, name: &str) -> Result<Option<String>, Unchecked> {
    let Some(template) = step.param(name).and_then(|v| v.as_str()) else {
        return Ok(None);
    };
    interpolate(template, &|_| None)
        .map(Some)
        .map_err(|_| Unchecked::NeedsOutput {
            name: name.to_string(),
            template: template.to_string(),
        })
}

fn list(step: &Step, name: &str) -> Result<Vec<String>, Unchecked> {
    step.param(name)
        .and_then(|v| v.as_list())
        .unwrap_or_default()
        .iter()
        .map(|template| {
            interpolate(template, &|_| None).map_err(|_| Unchecked::NeedsOutput {
                name: name.to_string(),
                template: template.to_string(),
            })
        })
        .collect()
}

fn required(step: &Step, name: &str) -> Result<String, Unchecked> {
    text(step, name)?.ok_or_else(|| Unchecked::NotSet(name.to_string()))
}

/// The resources one step recovers (none for actions that recover no data).
fn of_step(runbook: &Runbook, step: &Step) -> Result<Vec<Resource>, Unchecked> {
    let Some(region) = runbook.region_of(step).map(str::to_owned) else {
        return Ok(Vec::new());
    };
    Ok(match step.action.name {
        "backup.restore_efs" => vec![Resource::RecoveryPoints {
            region,
            vault: required(step, "vault")?,
            file_system: Some(required(step, "source_file_system")?),
            fs_region: required(step, "source_region")?,
        }],
        // The copy takes its point from the source vault in the step's region: that point
        // is what a disaster now would get.
        "backup.copy" => vec![Resource::RecoveryPoints {
            vault: required(step, "source_vault")?,
            file_system: text(step, "source_file_system")?,
            fs_region: region.clone(),
            region,
        }],
        "efs.replication_failover" => vec![Resource::Replica {
            region,
            file_system: required(step, "destination_file_system")?,
        }],
        "ecr.replicate" => {
            let source = required(step, "source_region")?;
            let repositories = list(step, "repositories")?;
            if repositories.is_empty() {
                vec![Resource::Images {
                    source,
                    region,
                    repository: None,
                }]
            } else {
                repositories
                    .into_iter()
                    .map(|repository| Resource::Images {
                        source: source.clone(),
                        region: region.clone(),
                        repository: Some(repository),
                    })
                    .collect()
            }
        }
        "secrets.replicate" | "secrets.promote" => {
            let source = required(step, "source_region")?;
            list(step, "secrets")?
                .into_iter()
                .map(|name| Resource::Secret {
                    source: source.clone(),
                    region: region.clone(),
                    name,
                })
                .collect()
        }
        _ => Vec::new(),
    })
}

/// The data resources `runbook` recovers, each once (with the first step that names it), in
/// step order; and, for steps that cannot be checked, why.
pub(crate) fn recovered(runbook: &Runbook) -> (Vec<Recovered>, Vec<String>) {
    let mut found: Vec<Recovered> = Vec::new();
    let mut skipped = Vec::new();
    for step in &runbook.steps {
        match of_step(runbook, step) {
            Ok(resources) => {
                for resource in resources {
                    if !found.iter().any(|r| r.resource == resource) {
                        found.push(Recovered {
                            step: step.id.clone(),
                            resource,
                        });
                    }
                }
            }
            Err(why) => skipped.push(format!(
                "step `{}` ({}) was not checked: {why}",
                step.id, step.action.name
            )),
        }
    }
    (found, skipped)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::runbook::load_runbook_str;

    const RUNBOOK: &str = r#"
name = "t"
[regions]
primary = "us-east-1"
recovery = "us-west-2"
[vars]
fs = "fs-1"
[[steps]]
id = "restore"
action = "backup.restore_efs"
region = "recovery"
[steps.with]
vault = "dr"
source_file_system = "${vars.fs}"
[[steps]]
id = "images"
action = "ecr.replicate"
region = "recovery"
[[steps]]
id = "replicate"
action = "secrets.replicate"
region = "recovery"
[steps.with]
secrets = ["a", "b"]
[[steps]]
id = "promote"
action = "secrets.promote"
region = "recovery"
after = ["replicate"]
[steps.with]
secrets = ["b", "c"]
[[steps]]
id = "replica"
action = "efs.replication_failover"
region = "recovery"
after = ["restore"]
[steps.with]
destination_file_system = "${steps.restore.file_system_id}"
[[steps]]
id = "probe"
action = "http.probe"
[steps.with]
url = "http://127.0.0.1:1/"
"#;

    #[test]
    fn every_recovered_resource_once_and_unknowable_ones_explained() {
        let rb = load_runbook_str("t.toml", RUNBOOK, &BTreeMap::new()).unwrap();
        let (found, skipped) = recovered(&rb);
        let names: Vec<(String, String)> = found
            .iter()
            .map(|r| (r.step.clone(), r.resource.name()))
            .collect();
        assert_eq!(
            names,
            [
                ("restore", "efs fs-1 (us-east-1) in vault dr (us-west-2)"),
                ("images", "ecr repository * (us-east-1 -> us-west-2)"),
                ("replicate", "secret a (replica in us-west-2 of us-east-1)"),
                ("replicate", "secret b (replica in us-west-2 of us-east-1)"),
                ("promote", "secret c (replica in us-west-2 of us-east-1)"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert_eq!(skipped.len(), 1);
        assert!(
            skipped[0].contains("`replica`") && skipped[0].contains("another step's output"),
            "{}",
            skipped[0]
        );
    }
}
