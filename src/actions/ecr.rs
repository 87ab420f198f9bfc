//! `ecr.replicate`: make sure the images the recovery region will run are there.
//!
//! ECR replication copies only what is pushed after a rule exists, "the majority in less than
//! 30 minutes", so right after a push, or for images older than the rule, the recovery region
//! can lack an image the services need. This action ensures a registry replication rule to
//! the step's region (keeping every existing rule), then compares each repository across the
//! two regions by digest and copies what is missing: BatchGetImage in the source gives the
//! exact manifest and media type, and PutImage of those bytes in the destination yields the
//! same digest. Digests are only ever compared as the API returns them; drctl never computes
//! one (registries and emulators differ in how they do).
//!
//! PutImage only writes the manifest: the layers must already be in the destination region
//! (true when ECR replication or an earlier push brought them). When they are not, ECR answers
//! LayersNotFoundException and the step fails saying so; copying layer blobs is the job of
//! replication (or `docker pull` + `docker push`), not of this action.
//!
//! Every mutation is journalled before it is made, so a resumed step sees what it already did
//! (and the RPO evidence of the state it found at first), and a drill's undo removes exactly
//! the images, tags, repositories and rule this step added.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use aws_sdk_ecr::types::{
    ImageIdentifier, ImageScanningConfiguration, ReplicationConfiguration, ReplicationDestination,
    ReplicationRule, Repository, RepositoryFilter, RepositoryFilterType, Tag,
};

use super::spec::{self, ActionSpec};
use super::{Action, ActionError, BoxFuture, StepContext, StepOutcome, on};
use crate::aws::{AwsClients, AwsError, all_pages, aws_err, to_chrono};
use crate::measure::{Evidence, EvidenceKind};

/// Media types BatchGetImage may return: every kind, so the manifest comes back exactly as
/// pushed (asking for fewer can make ECR convert it, which changes the digest).
const MEDIA_TYPES: &[&str] = &[
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
];

/// BatchDeleteImage takes at most 100 image ids per call.
const DELETE_BATCH: usize = 100;

/// `ecr.replicate`.
pub(crate) struct Replicate;

/// One image of a repository, as DescribeImages reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ImageRef {
    pub(crate) repository: String,
    pub(crate) digest: String,
    pub(crate) tags: Vec<String>,
    pub(crate) pushed_at: Option<DateTime<Utc>>,
    pub(crate) media_type: Option<String>,
}

impl ImageRef {
    fn is_index(&self) -> bool {
        self.media_type
            .as_deref()
            .is_some_and(|m| m.contains("manifest.list") || m.contains("image.index"))
    }

    fn describe(&self) -> String {
        let tags = if self.tags.is_empty() {
            "untagged".to_string()
        } else {
            self.tags.join(", ")
        };
        format!(
            "{}@{} ({tags}) pushed {}",
            self.repository,
            self.digest,
            self.pushed_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_else(|| "at an unknown time".into())
        )
    }
}

/// A tag this step set in the destination, and the digest it pointed to before (if any).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TagChange {
    repository: String,
    tag: String,
    previous_digest: Option<String>,
}

/// A replication rule to one region, with its repository prefix filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RuleJson {
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

    fn matches(&self, rule: &ReplicationRule) -> bool {
        rule.destinations().len() == 1 && RuleJson::from_sdk(rule).first() == Some(self)
    }

    fn to_sdk(&self) -> Result<ReplicationRule, String> {
        let mut rule = ReplicationRule::builder().destinations(
            ReplicationDestination::builder()
                .region(&self.region)
                .registry_id(&self.registry_id)
                .build()
                .map_err(|e| e.to_string())?,
        );
        for filter in &self.filters {
            rule = rule.repository_filters(
                RepositoryFilter::builder()
                    .filter(filter)
                    .filter_type(RepositoryFilterType::PrefixMatch)
                    .build()
                    .map_err(|e| e.to_string())?,
            );
        }
        rule.build().map_err(|e| e.to_string())
    }
}

/// Whether an existing rule replicates every one of `repositories` to `region`.
fn covers(rule: &ReplicationRule, region: &str, registry: &str, repositories: &[String]) -> bool {
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

fn repo_at(repository: &str, region: &str) -> String {
    format!("repository {repository} ({region})")
}

/// Every image of `repository` in `region`; `None` when the repository does not exist there.
pub(crate) async fn list_images(
    aws: &AwsClients,
    region: &str,
    repository: &str,
) -> Result<Option<Vec<ImageRef>>, ActionError> {
    let client = aws.ecr(region);
    let details: Result<Vec<_>, AwsError> = all_pages(|token| {
        let req = client
            .describe_images()
            .repository_name(repository)
            .set_next_token(token);
        async move {
            let out = req.send().await.map_err(aws_err("ecr:DescribeImages"))?;
            let next = out.next_token().map(str::to_owned);
            Ok((out.image_details.unwrap_or_default(), next))
        }
    })
    .await;
    let details = match details {
        Ok(details) => details,
        Err(e) if e.code.as_deref() == Some("RepositoryNotFoundException") => return Ok(None),
        Err(e) => return Err(on(repo_at(repository, region))(e)),
    };
    Ok(Some(
        details
            .iter()
            .filter_map(|detail| {
                Some(ImageRef {
                    repository: repository.to_string(),
                    digest: detail.image_digest()?.to_string(),
                    tags: detail.image_tags().to_vec(),
                    pushed_at: detail.image_pushed_at().map(to_chrono),
                    media_type: detail.image_manifest_media_type().map(str::to_owned),
                })
            })
            .collect(),
    ))
}

/// The source repositories to check (all of them when `names` is empty), with their
/// settings (for creating them elsewhere).
pub(crate) async fn source_repositories(
    aws: &AwsClients,
    source: &str,
    names: &[String],
) -> Result<Vec<Repository>, ActionError> {
    let client = aws.ecr(source);
    let resource = if names.is_empty() {
        format!("repositories in {source}")
    } else {
        format!("repositories {} ({source})", names.join(", "))
    };
    all_pages(|token| {
        let mut req = client.describe_repositories().set_next_token(token);
        if !names.is_empty() {
            req = req.set_repository_names(Some(names.to_vec()));
        }
        async move {
            let out = req
                .send()
                .await
                .map_err(aws_err("ecr:DescribeRepositories"))?;
            let next = out.next_token().map(str::to_owned);
            Ok((out.repositories.unwrap_or_default(), next))
        }
    })
    .await
    .map_err(on(resource))
}

/// Everything earlier attempts journalled under `key`.
fn prior_all<T: serde::de::DeserializeOwned>(ctx: &StepContext, key: &str) -> Vec<T> {
    ctx.prior_notes
        .iter()
        .filter_map(|n| n.get(key))
        .filter_map(|v| serde_json::from_value(v.clone()).ok())
        .collect()
}

/// What the step did, accumulated over attempts: the drill undo.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Done {
    source_region: String,
    region: String,
    rule: Option<RuleJson>,
    created_repositories: Vec<String>,
    copied: Vec<ImageRef>,
    tag_changes: Vec<TagChange>,
}

impl Done {
    fn from_prior(ctx: &StepContext, source: &str, region: &str) -> Self {
        let mut done = Done {
            source_region: source.into(),
            region: region.into(),
            rule: prior_all::<RuleJson>(ctx, "ecr_rule_added").pop(),
            ..Default::default()
        };
        for repo in prior_all::<String>(ctx, "ecr_repository_created") {
            done.add_repository(repo);
        }
        for image in prior_all::<ImageRef>(ctx, "ecr_copied") {
            done.add_copy(image);
        }
        for change in prior_all::<TagChange>(ctx, "ecr_tag_set") {
            done.add_tag_change(change);
        }
        done
    }

    fn add_repository(&mut self, repo: String) {
        if !self.created_repositories.contains(&repo) {
            self.created_repositories.push(repo);
        }
    }

    fn add_copy(&mut self, image: ImageRef) {
        if !self
            .copied
            .iter()
            .any(|c| c.repository == image.repository && c.digest == image.digest)
        {
            self.copied.push(image);
        }
    }

    fn add_tag_change(&mut self, change: TagChange) {
        // The first change of a tag knows what it pointed to before the step.
        if !self
            .tag_changes
            .iter()
            .any(|c| c.repository == change.repository && c.tag == change.tag)
        {
            self.tag_changes.push(change);
        }
    }
}

/// Ensure a replication rule from `source` to `region` covering `repositories`.
async fn ensure_rule(
    ctx: &StepContext,
    source: &str,
    region: &str,
    repositories: &[String],
    explicit: bool,
    done: &mut Done,
) -> Result<String, ActionError> {
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
        return Ok(registry_id);
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
            .map_err(|m| ActionError::fatal(resource.clone(), m))?,
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
    done.rule = Some(rule);
    Ok(registry_id)
}

/// The exact manifest and media type of an image.
async fn manifest(
    ctx: &StepContext,
    region: &str,
    repository: &str,
    digest: &str,
) -> Result<Option<(String, Option<String>)>, ActionError> {
    let out = ctx
        .aws
        .ecr(region)
        .batch_get_image()
        .repository_name(repository)
        .image_ids(ImageIdentifier::builder().image_digest(digest).build())
        .set_accepted_media_types(Some(MEDIA_TYPES.iter().map(|s| s.to_string()).collect()))
        .send()
        .await
        .map_err(aws_err("ecr:BatchGetImage"))
        .map_err(on(format!(
            "image {digest} in {}",
            repo_at(repository, region)
        )))?;
    Ok(out.images().first().and_then(|image| {
        Some((
            image.image_manifest()?.to_string(),
            image.image_manifest_media_type().map(str::to_owned),
        ))
    }))
}

/// PutImage of `manifest` with `tag` (or untagged, by digest); checks the digest ECR returns.
async fn put(
    ctx: &StepContext,
    region: &str,
    repository: &str,
    digest: &str,
    manifest: &(String, Option<String>),
    tag: Option<&str>,
) -> Result<(), ActionError> {
    let resource = format!(
        "image {repository}@{digest}{} in {}",
        tag.map(|t| format!(" tag {t}")).unwrap_or_default(),
        repo_at(repository, region)
    );
    let mut req = ctx
        .aws
        .ecr(region)
        .put_image()
        .repository_name(repository)
        .image_manifest(&manifest.0)
        .set_image_manifest_media_type(manifest.1.clone());
    req = match tag {
        Some(tag) => req.image_tag(tag),
        None => req.image_digest(digest),
    };
    match req.send().await.map_err(aws_err("ecr:PutImage")) {
        Ok(out) => {
            let got = out
                .image()
                .and_then(|i| i.image_id())
                .and_then(|i| i.image_digest())
                .unwrap_or_default();
            if got != digest {
                return Err(ActionError::fatal(
                    resource,
                    format!(
                        "ECR stored the manifest under digest {got}, not the source's {digest}"
                    ),
                ));
            }
            Ok(())
        }
        // Already there with this tag: an earlier attempt (or replication) got it in.
        Err(e) if e.code.as_deref() == Some("ImageAlreadyExistsException") => Ok(()),
        Err(e) if e.code.as_deref() == Some("LayersNotFoundException") => Err(ActionError::fatal(
            resource,
            format!(
                "its layers are not in {region}: PutImage copies manifests only; let ECR replication bring the image (or pull and push it) ({e})"
            ),
        )),
        Err(e) => Err(on(resource)(e)),
    }
}

/// Create `repository` in `region` with the source's settings (tag mutability, scanning).
async fn create_repository(
    ctx: &StepContext,
    region: &str,
    source_repo: Option<&Repository>,
    repository: &str,
) -> Result<(), ActionError> {
    let tags: Vec<Tag> = ctx
        .tags()
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<_, _>>()
        .map_err(|e| ActionError::fatal(repo_at(repository, region), e.to_string()))?;
    let mut req = ctx
        .aws
        .ecr(region)
        .create_repository()
        .repository_name(repository)
        .set_tags(Some(tags));
    if let Some(src) = source_repo {
        req = req.set_image_tag_mutability(src.image_tag_mutability().cloned());
        if let Some(scan) = src.image_scanning_configuration() {
            req = req.image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(scan.scan_on_push())
                    .build(),
            );
        }
    }
    match req.send().await.map_err(aws_err("ecr:CreateRepository")) {
        Ok(_) => Ok(()),
        Err(e) if e.code.as_deref() == Some("RepositoryAlreadyExistsException") => Ok(()),
        Err(e) => Err(on(repo_at(repository, region))(e)),
    }
}

/// RPO evidence of one repository: consistent up to the push of the oldest image missing in
/// `region` (`t0` when that time is unknown), current when nothing is missing.
pub(crate) fn evidence(
    step: &str,
    t0: DateTime<Utc>,
    source: &str,
    region: &str,
    repo: &str,
    missing: &[&ImageRef],
) -> Evidence {
    let resource = format!("ecr repository {repo} ({source} -> {region})");
    if missing.is_empty() {
        return Evidence {
            step: step.to_string(),
            resource,
            kind: EvidenceKind::EcrImages,
            consistent_at: None,
            detail: format!("every image digest of {source} was present in {region}"),
            source: "ecr:DescribeImages".into(),
        };
    }
    let oldest = missing.iter().filter_map(|i| i.pushed_at).min();
    Evidence {
        step: step.to_string(),
        resource,
        kind: EvidenceKind::EcrImages,
        consistent_at: Some(oldest.unwrap_or(t0)),
        detail: format!(
            "{} image(s) missing in {region}: {}",
            missing.len(),
            missing
                .iter()
                .map(|i| i.describe())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        source: "ecr:DescribeImages".into(),
    }
}

/// Per repository: the source's images, and the destination's (None: no repository there).
type Inventory = BTreeMap<String, (Vec<ImageRef>, Option<Vec<ImageRef>>)>;

async fn inventory(
    ctx: &StepContext,
    source: &str,
    region: &str,
    repositories: &[String],
) -> Result<Inventory, ActionError> {
    let mut inv = BTreeMap::new();
    for repo in repositories {
        let src = list_images(&ctx.aws, source, repo).await?.ok_or_else(|| {
            ActionError::fatal(repo_at(repo, source), "does not exist in the source region")
        })?;
        let dst = list_images(&ctx.aws, region, repo).await?;
        inv.insert(repo.clone(), (src, dst));
    }
    Ok(inv)
}

/// The images of `src` whose digest is not in `dst` (all of them when `dst` has no repository).
pub(crate) fn missing_in<'a>(src: &'a [ImageRef], dst: Option<&[ImageRef]>) -> Vec<&'a ImageRef> {
    let have: BTreeSet<&str> = dst
        .unwrap_or_default()
        .iter()
        .map(|i| i.digest.as_str())
        .collect();
    src.iter()
        .filter(|i| !have.contains(i.digest.as_str()))
        .collect()
}

impl Action for Replicate {
    fn spec(&self) -> &'static ActionSpec {
        spec::lookup("ecr.replicate").expect("catalogue entry")
    }

    fn describe(&self, ctx: &StepContext) -> Vec<String> {
        let region = ctx.region.clone().unwrap_or_default();
        let source = ctx.region_param("source_region").unwrap_or_default();
        let repos = ctx.list("repositories");
        let which = if repos.is_empty() {
            format!("every repository in {source}")
        } else {
            repos.join(", ")
        };
        let mut calls = Vec::new();
        if ctx.bool("ensure_rule").unwrap_or(true) {
            calls.push(format!(
                "ecr:PutReplicationConfiguration in {source}: add a rule replicating to {region}, if none covers {which} (existing rules kept)"
            ));
        }
        calls.push(format!(
            "ecr:CreateRepository in {region} for each of {which} missing there"
        ));
        calls.push(format!(
            "ecr:PutImage in {region} of each image of {which} whose digest is missing there (same manifest and tags)"
        ));
        calls
    }

    fn run<'a>(&'a self, ctx: &'a StepContext) -> BoxFuture<'a, Result<StepOutcome, ActionError>> {
        Box::pin(async move {
            let region = ctx.region()?.to_string();
            let source = ctx.region_param("source_region")?;
            if source == region {
                return Err(ActionError::fatal(
                    format!("step {}", ctx.step_id),
                    format!("the source region and the step's region are both {region}"),
                ));
            }
            let listed = ctx.list("repositories");
            let mut done = Done::from_prior(ctx, &source, &region);

            let source_repos = source_repositories(&ctx.aws, &source, &listed).await?;
            let repositories: Vec<String> = if listed.is_empty() {
                source_repos
                    .iter()
                    .filter_map(|r| r.repository_name().map(str::to_owned))
                    .collect()
            } else {
                listed.clone()
            };
            if ctx.bool("ensure_rule")? {
                ensure_rule(
                    ctx,
                    &source,
                    &region,
                    &repositories,
                    !listed.is_empty(),
                    &mut done,
                )
                .await?;
            }

            let inv = inventory(ctx, &source, &region, &repositories).await?;
            // What was missing when the step first looked: the RPO evidence, kept across
            // attempts (a resumed step finds the copies it already made).
            let first_missing: Vec<ImageRef> = match ctx.prior("ecr_missing") {
                Some(v) => serde_json::from_value(v.clone()).unwrap_or_default(),
                None => {
                    let missing: Vec<ImageRef> = inv
                        .values()
                        .flat_map(|(src, dst)| missing_in(src, dst.as_deref()))
                        .cloned()
                        .collect();
                    ctx.note(json!({ "ecr_missing": missing })).await?;
                    missing
                }
            };

            for (repo, (src, dst)) in &inv {
                let source_repo = source_repos
                    .iter()
                    .find(|r| r.repository_name() == Some(repo.as_str()));
                let mut dst_exists = dst.is_some();
                // tag -> digest in the destination, kept current as tags are set.
                let mut dst_tags: BTreeMap<String, String> = dst
                    .iter()
                    .flatten()
                    .flat_map(|i| i.tags.iter().map(|t| (t.clone(), i.digest.clone())))
                    .collect();
                let dst_digests: BTreeSet<String> =
                    dst.iter().flatten().map(|i| i.digest.clone()).collect();
                // Single-image manifests first: an index may only reference what exists.
                let mut todo: Vec<&ImageRef> = src.iter().collect();
                todo.sort_by_key(|i| i.is_index());
                for image in todo {
                    let copy = !dst_digests.contains(&image.digest);
                    let tags_to_set: Vec<&String> = image
                        .tags
                        .iter()
                        .filter(|t| dst_tags.get(*t) != Some(&image.digest))
                        .collect();
                    if !copy && tags_to_set.is_empty() {
                        continue;
                    }
                    let Some(bytes) = manifest(ctx, &source, repo, &image.digest).await? else {
                        // Deleted from the source since it was listed: nothing to copy.
                        continue;
                    };
                    if !dst_exists {
                        ctx.note(json!({ "ecr_repository_created": repo })).await?;
                        ctx.progress(format!("creating {}", repo_at(repo, &region)));
                        create_repository(ctx, &region, source_repo, repo).await?;
                        done.add_repository(repo.clone());
                        dst_exists = true;
                    }
                    if copy {
                        ctx.note(json!({ "ecr_copied": image })).await?;
                        done.add_copy(image.clone());
                        ctx.progress(format!("copying {}", image.describe()));
                    }
                    for tag in &tags_to_set {
                        let change = TagChange {
                            repository: repo.clone(),
                            tag: (*tag).clone(),
                            previous_digest: dst_tags.get(*tag).cloned(),
                        };
                        // A tag that came with a copied image goes away with it; any other
                        // (a new tag on a present image, or one moved) is undone on its own.
                        if !copy || change.previous_digest.is_some() {
                            ctx.note(json!({ "ecr_tag_set": change })).await?;
                            done.add_tag_change(change);
                        }
                        put(ctx, &region, repo, &image.digest, &bytes, Some(tag)).await?;
                        dst_tags.insert((*tag).clone(), image.digest.clone());
                    }
                    if copy && image.tags.is_empty() {
                        put(ctx, &region, repo, &image.digest, &bytes, None).await?;
                    }
                }
            }

            let mut outcome = StepOutcome::default();
            outcome
                .outputs
                .insert("missing_before".into(), first_missing.len().to_string());
            outcome
                .outputs
                .insert("copied".into(), done.copied.len().to_string());
            for repo in &repositories {
                let missing: Vec<&ImageRef> = first_missing
                    .iter()
                    .filter(|i| &i.repository == repo)
                    .collect();
                outcome.evidence.push(evidence(
                    &ctx.step_id,
                    ctx.t0,
                    &source,
                    &region,
                    repo,
                    &missing,
                ));
            }
            outcome.created = done
                .created_repositories
                .iter()
                .map(|r| format!("ecr repository {r} ({region})"))
                .collect();
            if ctx.mode.is_drill() {
                outcome.undo = serde_json::to_value(&done).ok();
            }
            Ok(outcome)
        })
    }

    fn undo<'a>(
        &'a self,
        ctx: &'a StepContext,
        undo: &'a Value,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async move {
            let done: Done = serde_json::from_value(undo.clone()).map_err(|e| {
                ActionError::fatal(
                    format!("undo of step {}", ctx.step_id),
                    format!("unreadable undo record: {e}"),
                )
            })?;
            undo_done(ctx, &done).await
        })
    }
}

fn gone(e: &AwsError) -> bool {
    e.is_not_found()
}

async fn undo_done(ctx: &StepContext, done: &Done) -> Result<(), ActionError> {
    let region = &done.region;
    let client = ctx.aws.ecr(region);

    // 1. The images this step copied, by digest.
    let mut by_repo: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for image in &done.copied {
        by_repo
            .entry(&image.repository)
            .or_default()
            .push(&image.digest);
    }
    for (repo, digests) in &by_repo {
        for chunk in digests.chunks(DELETE_BATCH) {
            let ids = chunk
                .iter()
                .map(|d| ImageIdentifier::builder().image_digest(*d).build())
                .collect();
            match client
                .batch_delete_image()
                .repository_name(*repo)
                .set_image_ids(Some(ids))
                .send()
                .await
                .map_err(aws_err("ecr:BatchDeleteImage"))
            {
                Ok(out) => {
                    // ImageNotFound per image: already gone, which is what undo wants.
                    if let Some(f) = out
                        .failures()
                        .iter()
                        .find(|f| f.failure_code().map(|c| c.as_str()) != Some("ImageNotFound"))
                    {
                        return Err(ActionError::fatal(
                            repo_at(repo, region),
                            format!(
                                "BatchDeleteImage failed: {} {}",
                                f.failure_code().map(|c| c.as_str()).unwrap_or("?"),
                                f.failure_reason().unwrap_or_default()
                            ),
                        ));
                    }
                }
                Err(e) if gone(&e) => {}
                Err(e) => return Err(on(repo_at(repo, region))(e)),
            }
        }
    }

    // 2. Tags this step set on images that stay: point them back, or remove them.
    for change in &done.tag_changes {
        let repo = &change.repository;
        match &change.previous_digest {
            Some(previous) => {
                let Some(bytes) = manifest(ctx, region, repo, previous).await.or_else(|e| {
                    if e.aws_code().is_some_and(|c| c.contains("NotFound")) {
                        Ok(None)
                    } else {
                        Err(e)
                    }
                })?
                else {
                    ctx.progress(format!(
                        "cannot point tag {} back to {previous} in {}: that image is gone",
                        change.tag,
                        repo_at(repo, region)
                    ));
                    continue;
                };
                put(ctx, region, repo, previous, &bytes, Some(&change.tag)).await?;
            }
            None => {
                match client
                    .batch_delete_image()
                    .repository_name(repo)
                    .image_ids(ImageIdentifier::builder().image_tag(&change.tag).build())
                    .send()
                    .await
                    .map_err(aws_err("ecr:BatchDeleteImage"))
                {
                    Ok(_) => {}
                    Err(e) if gone(&e) => {}
                    Err(e) => return Err(on(repo_at(repo, region))(e)),
                }
            }
        }
    }

    // 3. Repositories this step created, if they hold nothing else now.
    for repo in &done.created_repositories {
        match client
            .delete_repository()
            .repository_name(repo)
            .send()
            .await
            .map_err(aws_err("ecr:DeleteRepository"))
        {
            Ok(_) => {}
            Err(e) if gone(&e) => {}
            Err(e) if e.code.as_deref() == Some("RepositoryNotEmptyException") => {
                ctx.progress(format!(
                    "left {} in place: it holds images this step did not copy",
                    repo_at(repo, region)
                ));
            }
            Err(e) => return Err(on(repo_at(repo, region))(e)),
        }
    }

    // 4. The replication rule this step added; every other rule stays.
    if let Some(rule) = &done.rule {
        let source = &done.source_region;
        let resource = format!("registry replication configuration ({source})");
        let src = ctx.aws.ecr(source);
        let registry = src
            .describe_registry()
            .send()
            .await
            .map_err(aws_err("ecr:DescribeRegistry"))
            .map_err(on(resource.clone()))?;
        let rules: Vec<ReplicationRule> = registry
            .replication_configuration()
            .map(|c| c.rules().to_vec())
            .unwrap_or_default();
        let Some(position) = rules.iter().position(|r| rule.matches(r)) else {
            return Ok(());
        };
        let mut kept = rules;
        kept.remove(position);
        let config = ReplicationConfiguration::builder()
            .set_rules(Some(kept))
            .build()
            .map_err(|e| ActionError::fatal(resource.clone(), e.to_string()))?;
        src.put_replication_configuration()
            .replication_configuration(config)
            .send()
            .await
            .map_err(aws_err("ecr:PutReplicationConfiguration"))
            .map_err(on(resource))?;
    }
    Ok(())
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

    #[test]
    fn missing_is_by_digest_and_indexes_sort_last() {
        let img = |d: &str, media: &str| ImageRef {
            repository: "r".into(),
            digest: d.into(),
            tags: vec![],
            pushed_at: None,
            media_type: Some(media.into()),
        };
        let src = vec![
            img("sha256:a", "application/vnd.oci.image.index.v1+json"),
            img(
                "sha256:b",
                "application/vnd.docker.distribution.manifest.v2+json",
            ),
        ];
        let dst = vec![img("sha256:b", "x")];
        let missing = missing_in(&src, Some(&dst));
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].digest, "sha256:a");
        assert_eq!(missing_in(&src, None).len(), 2);
        let mut order: Vec<&ImageRef> = src.iter().collect();
        order.sort_by_key(|i| i.is_index());
        assert_eq!(order[0].digest, "sha256:b");
    }
}
