//! `ecr.replicate` itself: ensure the rule, compare each repository across the two regions
//! by digest, copy what is missing (journalling each mutation first), and in a drill undo
//! exactly the images, tags, repositories and rule this step added.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::json;

use aws_sdk_ecr::types::{ImageIdentifier, ReplicationConfiguration, ReplicationRule};

use super::images::{
    ImageRef, create_repository, evidence, inventory, manifest, missing_in, put, repo_at,
    source_repositories,
};
use super::rule::RuleJson;
use super::rule::ensure_rule;
use crate::actions::spec::{ActionSpec, ParamType, RegionUse, dflt, opt, out};
use crate::actions::{ActionError, BoxFuture, Outcome, StepContext, TypedAction, on};
use crate::aws::{AwsError, aws_err};

/// BatchDeleteImage takes at most 100 image ids per call.
const DELETE_BATCH: usize = 100;

/// `ecr.replicate` in the catalogue.
pub(crate) static SPEC: ActionSpec = ActionSpec {
    name: "ecr.replicate",
    summary: "Ensure registry replication to the step's region and copy any image missing there, by digest",
    params: &[
        dflt(
            "source_region",
            ParamType::Region,
            "primary",
            "region the images are pushed to",
        ),
        opt(
            "repositories",
            ParamType::StringList,
            "repositories to check (default: every repository in the source region)",
        ),
        dflt(
            "ensure_rule",
            ParamType::Bool,
            "true",
            "add a registry replication rule to the step's region if missing",
        ),
    ],
    outputs: &[
        out(
            "missing_before",
            "number of images that were missing in the step's region",
        ),
        out("copied", "number of images copied"),
    ],
    iam: &[
        "ecr:DescribeRegistry",
        "ecr:PutReplicationConfiguration",
        "ecr:DescribeRepositories",
        "ecr:CreateRepository",
        "ecr:DescribeImages",
        "ecr:BatchGetImage",
        "ecr:PutImage",
        "ecr:BatchDeleteImage",
        "ecr:DeleteRepository",
        "ecr:TagResource",
    ],
    estimate_secs: 120,
    mutating: true,
    verification: false,
    rpo_evidence: true,
    region: RegionUse::Required,
};

/// `ecr.replicate`.
pub(crate) struct Replicate;

/// A tag this step set in the destination, and the digest it pointed to before (if any).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct TagChange {
    repository: String,
    tag: String,
    previous_digest: Option<String>,
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
pub(crate) struct Done {
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

/// The parameters of `ecr.replicate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    /// A region name of the runbook (or an AWS code).
    source_region: String,
    /// Empty: every repository of the source region.
    #[serde(default)]
    repositories: Vec<String>,
    ensure_rule: bool,
}

impl TypedAction for Replicate {
    const SPEC: &'static ActionSpec = &SPEC;
    type Params = Params;
    type Undo = Done;

    fn describe(&self, ctx: &StepContext, p: &Params) -> Vec<String> {
        let region = ctx.region.clone().unwrap_or_default();
        let source = ctx.region_code(&p.source_region);
        let repos = &p.repositories;
        let which = if repos.is_empty() {
            format!("every repository in {source}")
        } else {
            repos.join(", ")
        };
        let mut calls = Vec::new();
        if p.ensure_rule {
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

    fn run<'a>(
        &'a self,
        ctx: &'a StepContext,
        p: Params,
    ) -> BoxFuture<'a, Result<Outcome<Done>, ActionError>> {
        Box::pin(async move {
            let region = ctx.region()?.to_string();
            let source = ctx.region_code(&p.source_region);
            if source == region {
                return Err(ActionError::fatal(
                    format!("step {}", ctx.step_id),
                    format!("the source region and the step's region are both {region}"),
                ));
            }
            let listed = p.repositories;
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
            if p.ensure_rule
                && let Some(rule) =
                    ensure_rule(ctx, &source, &region, &repositories, !listed.is_empty()).await?
            {
                done.rule = Some(rule);
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

            let mut outcome = Outcome::default();
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
                outcome.undo = Some(done);
            }
            Ok(outcome)
        })
    }

    fn undo<'a>(
        &'a self,
        ctx: &'a StepContext,
        undo: Done,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async move { undo_done(ctx, &undo).await })
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
