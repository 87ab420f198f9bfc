//! `ecs.use_file_system`: point a service's EFS volume at another file system (a restored
//! one) and roll the service onto it. AWS Backup never restores EFS in place: a restore lands
//! in `aws-backup-restore_<timestamp>/` on a new file system that no task definition names.
//! This registers a new revision of the service's task definition, identical but for that
//! volume's `fileSystemId` and `rootDirectory`, updates the service to it and waits until the
//! service is steady on the new revision alone.
//!
//! The service's task definition before the change is journalled before anything is
//! registered, and the new revision right after, so a resumed step registers nothing twice.
//! A service already on a revision whose volume names the wanted file system and directory is
//! left as it is. A drill's undo puts the service back on its previous revision, waits until
//! it is steady there, and deregisters the new one. Every call goes to the step's region.

use serde::{Deserialize, Serialize};
use serde_json::json;

use aws_sdk_ecs::types::{EfsVolumeConfiguration, TaskDefinition, Volume};

use super::services::{Pending, Want, describe, short_td, steady, still_active, where_};
use crate::actions::spec::{ActionSpec, ParamType, RegionUse, dflt, opt, out, req};
use crate::actions::{
    ActionError, BoxFuture, Outcome, Poll, StepContext, TypedAction, on, poll_until,
};
use crate::aws::aws_err;

/// `ecs.use_file_system` in the catalogue.
pub(crate) static SPEC: ActionSpec = ActionSpec {
    name: "ecs.use_file_system",
    summary: "Point an ECS service's EFS volume at another (restored) file system and directory, and wait until it is steady on the new task definition",
    params: &[
        req("cluster", ParamType::String, "cluster name"),
        req("service", ParamType::String, "service name"),
        req(
            "file_system_id",
            ParamType::String,
            "the file system the volume must name, e.g. `${steps.restore.file_system_id}`",
        ),
        dflt(
            "root_directory",
            ParamType::String,
            "/",
            "directory of that file system to mount as the volume's root, e.g. `${steps.restore.restore_directory}`",
        ),
        opt(
            "volume",
            ParamType::String,
            "name of the task definition's EFS volume to change (default: its only EFS volume)",
        ),
        dflt(
            "wait",
            ParamType::Bool,
            "true",
            "wait until the service runs its desired count on the new revision alone, rollout COMPLETED",
        ),
        dflt(
            "fail_fast",
            ParamType::Bool,
            "true",
            "fail at once, naming the service event, when ECS says the new tasks cannot be placed or keep failing to start (e.g. the file system has no mount target in a task's zone)",
        ),
    ],
    outputs: &[
        out(
            "task_definition",
            "ARN of the task definition the service runs now (the new revision)",
        ),
        out(
            "previous_task_definition",
            "ARN of the task definition the service ran before",
        ),
    ],
    iam: &[
        "ecs:DescribeServices",
        "ecs:DescribeTaskDefinition",
        "ecs:RegisterTaskDefinition",
        "ecs:TagResource",
        "ecs:UpdateService",
        "ecs:DeregisterTaskDefinition",
        "iam:PassRole",
    ],
    // A pilot-light service at 0 tasks moves at once; a running one rolls its tasks.
    estimate_secs: 60,
    mutating: true,
    verification: false,
    rpo_evidence: false,
    region: RegionUse::Required,
};

/// `ecs.use_file_system`.
pub(crate) struct UseFileSystem;

/// The parameters of `ecs.use_file_system`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    cluster: String,
    service: String,
    file_system_id: String,
    root_directory: String,
    volume: Option<String>,
    wait: bool,
    fail_fast: bool,
}

/// What a drill's undo puts back: the service's previous task definition; the new revision
/// is deregistered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Undo {
    region: String,
    cluster: String,
    service: String,
    previous_task_definition: String,
    task_definition: String,
    wait: bool,
}

fn service_name(service: &str, cluster: &str, region: &str) -> String {
    format!("service {service} in {}", where_(cluster, region))
}

async fn task_definition(
    ctx: &StepContext,
    region: &str,
    arn: &str,
) -> Result<TaskDefinition, ActionError> {
    ctx.aws
        .ecs(region)
        .describe_task_definition()
        .task_definition(arn)
        .send()
        .await
        .map_err(aws_err("ecs:DescribeTaskDefinition"))
        .map_err(on(format!("task definition {} ({region})", short_td(arn))))?
        .task_definition()
        .cloned()
        .ok_or_else(|| {
            ActionError::fatal(
                format!("task definition {} ({region})", short_td(arn)),
                "was described without a body",
            )
        })
}

/// The index of the EFS volume to change: the one named, or the only one.
fn efs_volume(td: &TaskDefinition, name: Option<&str>, what: &str) -> Result<usize, ActionError> {
    let efs: Vec<(usize, &Volume)> = td
        .volumes()
        .iter()
        .enumerate()
        .filter(|(_, v)| v.efs_volume_configuration().is_some())
        .collect();
    let names = || {
        efs.iter()
            .map(|(_, v)| v.name().unwrap_or("?").to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        Some(name) => efs
            .iter()
            .find(|(_, v)| v.name() == Some(name))
            .map(|(i, _)| *i)
            .ok_or_else(|| {
                ActionError::fatal(
                    what,
                    format!(
                        "has no EFS volume `{name}` (its EFS volumes: {})",
                        if efs.is_empty() {
                            "none".into()
                        } else {
                            names()
                        }
                    ),
                )
            }),
        None => match efs.as_slice() {
            [(i, _)] => Ok(*i),
            [] => Err(ActionError::fatal(
                what,
                "has no EFS volume to point elsewhere",
            )),
            _ => Err(ActionError::fatal(
                what,
                format!(
                    "has several EFS volumes ({}): name one with `volume`",
                    names()
                ),
            )),
        },
    }
}

/// `/` for an empty root; no trailing slash otherwise (as ECS shows it).
fn normal_root(root: &str) -> String {
    let trimmed = root.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".into()
    } else if trimmed.starts_with('/') {
        trimmed.into()
    } else {
        format!("/{trimmed}")
    }
}

/// Whether the volume already names the file system and directory.
fn already(td: &TaskDefinition, index: usize, fs: &str, root: &str) -> bool {
    td.volumes()[index]
        .efs_volume_configuration()
        .is_some_and(|c| {
            c.file_system_id() == fs
                && normal_root(c.root_directory().unwrap_or("/")) == normal_root(root)
        })
}

/// The same volume on `fs`/`root`. An access point belongs to the old file system, so it is
/// dropped (ECS requires the root directory to be `/` with one); IAM authorization stays.
fn repointed(config: &EfsVolumeConfiguration, fs: &str, root: &str) -> EfsVolumeConfiguration {
    let mut config = config.clone();
    config.file_system_id = fs.to_string();
    config.root_directory = Some(normal_root(root));
    if let Some(auth) = config.authorization_config.as_mut() {
        auth.access_point_id = None;
    }
    config
}

/// Register `td` again with volume `index` on `fs`/`root`; the new revision's ARN.
async fn register(
    ctx: &StepContext,
    region: &str,
    td: &TaskDefinition,
    index: usize,
    fs: &str,
    root: &str,
) -> Result<String, ActionError> {
    let mut volumes = td.volumes().to_vec();
    if let Some(config) = volumes[index].efs_volume_configuration() {
        let new = repointed(config, fs, root);
        if config
            .authorization_config()
            .and_then(|a| a.access_point_id())
            .is_some()
        {
            ctx.progress(format!(
                "volume {}: dropping its access point, which belongs to {}",
                volumes[index].name().unwrap_or("?"),
                config.file_system_id()
            ));
        }
        volumes[index].efs_volume_configuration = Some(new);
    }
    let tags = ctx
        .tags()
        .into_iter()
        .map(|(k, v)| aws_sdk_ecs::types::Tag::builder().key(k).value(v).build())
        .collect();
    let family = td.family().unwrap_or_default();
    let out = ctx
        .aws
        .ecs(region)
        .register_task_definition()
        .family(family)
        .set_task_role_arn(td.task_role_arn().map(str::to_owned))
        .set_execution_role_arn(td.execution_role_arn().map(str::to_owned))
        .set_network_mode(td.network_mode().cloned())
        .set_container_definitions(Some(td.container_definitions().to_vec()))
        .set_volumes(Some(volumes))
        .set_placement_constraints(
            (!td.placement_constraints().is_empty()).then(|| td.placement_constraints().to_vec()),
        )
        .set_requires_compatibilities(
            (!td.requires_compatibilities().is_empty())
                .then(|| td.requires_compatibilities().to_vec()),
        )
        .set_cpu(td.cpu().map(str::to_owned))
        .set_memory(td.memory().map(str::to_owned))
        .set_pid_mode(td.pid_mode().cloned())
        .set_ipc_mode(td.ipc_mode().cloned())
        .set_proxy_configuration(td.proxy_configuration().cloned())
        .set_ephemeral_storage(td.ephemeral_storage().cloned())
        .set_runtime_platform(td.runtime_platform().cloned())
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(aws_err("ecs:RegisterTaskDefinition"))
        .map_err(on(format!("task definition family {family} ({region})")))?;
    out.task_definition()
        .and_then(|t| t.task_definition_arn())
        .map(str::to_owned)
        .ok_or_else(|| {
            ActionError::fatal(
                format!("task definition family {family} ({region})"),
                "was registered without an ARN",
            )
        })
}

/// Put the service on `td`, then (optionally) wait until it is steady there alone.
async fn roll(
    ctx: &StepContext,
    region: &str,
    cluster: &str,
    service: &str,
    td: &str,
    (wait, fail_fast): (bool, bool),
) -> Result<(), ActionError> {
    let names = vec![service.to_string()];
    let current = describe(ctx, region, cluster, &names).await?;
    if current[service].task_definition() != Some(td) {
        ctx.progress(format!("updating {service} to {}", short_td(td)));
        ctx.aws
            .ecs(region)
            .update_service()
            .cluster(cluster)
            .service(service)
            .task_definition(td)
            .send()
            .await
            .map_err(aws_err("ecs:UpdateService"))
            .map_err(on(service_name(service, cluster, region)))?;
    }
    if !wait {
        return Ok(());
    }
    poll_until(ctx, || async {
        let now = describe(ctx, region, cluster, &names).await?;
        let svc = &now[service];
        let want = Want {
            desired: svc.desired_count(),
            task_definition: Some(td),
            fail_fast,
        };
        match steady(svc, want, cluster, region)? {
            Ok(()) => Ok(Poll::Ready(())),
            Err(Pending(what)) => Ok(Poll::Pending(format!("waiting for {what}"))),
        }
    })
    .await
}

impl TypedAction for UseFileSystem {
    const SPEC: &'static ActionSpec = &SPEC;
    type Params = Params;
    type Undo = Undo;

    fn describe(&self, ctx: &StepContext, p: &Params) -> Vec<String> {
        let region = ctx.region.clone().unwrap_or_default();
        let volume = p
            .volume
            .as_deref()
            .map(|v| format!("volume {v}"))
            .unwrap_or_else(|| "its EFS volume".into());
        vec![
            format!(
                "ecs:RegisterTaskDefinition: a new revision of {}'s task definition ({region}) with {volume} on {}:{}",
                p.service,
                p.file_system_id,
                normal_root(&p.root_directory)
            ),
            format!(
                "ecs:UpdateService {} in cluster {} ({region}) to the new revision",
                p.service, p.cluster
            ),
        ]
    }

    fn run<'a>(
        &'a self,
        ctx: &'a StepContext,
        p: Params,
    ) -> BoxFuture<'a, Result<Outcome<Undo>, ActionError>> {
        Box::pin(async move {
            let region = ctx.region()?.to_string();
            let (cluster, service) = (p.cluster.clone(), p.service.clone());
            let what = service_name(&service, &cluster, &region);
            let prior_str = |key: &str| ctx.prior(key).and_then(|v| v.as_str()).map(str::to_owned);

            // Resume: the journalled revisions are the ones from before this step.
            let previous = match prior_str("previous_task_definition") {
                Some(previous) => previous,
                None => {
                    let now =
                        describe(ctx, &region, &cluster, std::slice::from_ref(&service)).await?;
                    let previous = now[&service]
                        .task_definition()
                        .ok_or_else(|| ActionError::fatal(&what, "names no task definition"))?
                        .to_string();
                    ctx.note(json!({ "previous_task_definition": previous }))
                        .await?;
                    previous
                }
            };
            let new = match prior_str("task_definition") {
                Some(new) => Some(new),
                None => {
                    let td = task_definition(ctx, &region, &previous).await?;
                    let index = efs_volume(
                        &td,
                        p.volume.as_deref(),
                        &format!("task definition {} of {what}", short_td(&previous)),
                    )?;
                    if already(&td, index, &p.file_system_id, &p.root_directory) {
                        ctx.progress(format!(
                            "{service} already mounts {}:{}",
                            p.file_system_id,
                            normal_root(&p.root_directory)
                        ));
                        None
                    } else {
                        let new = register(
                            ctx,
                            &region,
                            &td,
                            index,
                            &p.file_system_id,
                            &p.root_directory,
                        )
                        .await?;
                        ctx.note(json!({ "task_definition": new })).await?;
                        Some(new)
                    }
                }
            };
            let running = new.clone().unwrap_or_else(|| previous.clone());
            roll(
                ctx,
                &region,
                &cluster,
                &service,
                &running,
                (p.wait, p.fail_fast),
            )
            .await?;

            let mut outcome = Outcome::default();
            outcome
                .outputs
                .insert("task_definition".into(), running.clone());
            outcome
                .outputs
                .insert("previous_task_definition".into(), previous.clone());
            if let Some(new) = new {
                outcome.created.push(new.clone());
                if ctx.mode.is_drill() {
                    outcome.undo = Some(Undo {
                        region,
                        cluster,
                        service,
                        previous_task_definition: previous,
                        task_definition: new,
                        wait: p.wait,
                    });
                }
            }
            Ok(outcome)
        })
    }

    fn undo<'a>(
        &'a self,
        ctx: &'a StepContext,
        undo: Undo,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async move {
            let (region, cluster, service) = (
                undo.region.as_str(),
                undo.cluster.as_str(),
                undo.service.as_str(),
            );
            let active = still_active(ctx, region, cluster, &[service.to_string()]).await?;
            if !active.is_empty() {
                roll(
                    ctx,
                    region,
                    cluster,
                    service,
                    &undo.previous_task_definition,
                    (undo.wait, true),
                )
                .await?;
            }
            match ctx
                .aws
                .ecs(region)
                .deregister_task_definition()
                .task_definition(&undo.task_definition)
                .send()
                .await
                .map_err(aws_err("ecs:DeregisterTaskDefinition"))
            {
                Ok(_) => Ok(()),
                Err(e) if e.is_not_found() => Ok(()),
                Err(e) => Err(on(format!(
                    "task definition {} ({region})",
                    short_td(&undo.task_definition)
                ))(e)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_normalised_as_ecs_shows_them() {
        assert_eq!(normal_root(""), "/");
        assert_eq!(normal_root("/"), "/");
        assert_eq!(
            normal_root("/aws-backup-restore_2026-01-01T00-00-00-000Z/"),
            "/aws-backup-restore_2026-01-01T00-00-00-000Z"
        );
        assert_eq!(normal_root("data"), "/data");
    }

    fn td(volumes: Vec<Volume>) -> TaskDefinition {
        TaskDefinition::builder().set_volumes(Some(volumes)).build()
    }

    fn efs(name: &str, fs: &str) -> Volume {
        Volume::builder()
            .name(name)
            .efs_volume_configuration(
                EfsVolumeConfiguration::builder()
                    .file_system_id(fs)
                    .root_directory("/")
                    .authorization_config(
                        aws_sdk_ecs::types::EfsAuthorizationConfig::builder()
                            .access_point_id("fsap-1")
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .build()
    }

    #[test]
    fn the_volume_is_the_only_efs_one_or_the_named_one() {
        let host = Volume::builder().name("host").build();
        let one = td(vec![host.clone(), efs("data", "fs-1")]);
        assert_eq!(efs_volume(&one, None, "td").unwrap(), 1);
        let two = td(vec![efs("a", "fs-1"), efs("b", "fs-2")]);
        let err = efs_volume(&two, None, "td").unwrap_err().to_string();
        assert!(err.contains("several EFS volumes (a, b)"), "{err}");
        assert_eq!(efs_volume(&two, Some("b"), "td").unwrap(), 1);
        let err = efs_volume(&two, Some("c"), "td").unwrap_err().to_string();
        assert!(err.contains("no EFS volume `c`"), "{err}");
        assert!(efs_volume(&td(vec![host]), None, "td").is_err());
    }

    #[test]
    fn repointing_changes_file_system_and_root_and_drops_the_access_point() {
        let v = efs("data", "fs-1");
        let config = v.efs_volume_configuration().unwrap();
        let new = repointed(config, "fs-2", "/aws-backup-restore_x/");
        assert_eq!(new.file_system_id(), "fs-2");
        assert_eq!(new.root_directory(), Some("/aws-backup-restore_x"));
        assert!(
            new.authorization_config()
                .unwrap()
                .access_point_id()
                .is_none()
        );
        let t = td(vec![v.clone()]);
        assert!(already(&t, 0, "fs-1", ""));
        assert!(!already(&t, 0, "fs-2", "/"));
    }
}
