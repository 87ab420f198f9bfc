//! Images by digest across two regions: listing repositories and images, reading a manifest
//! exactly as pushed and putting it in another region (the digest must come back the same),
//! and the RPO evidence of what is missing. `drctl check` lists and compares through here.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use aws_sdk_ecr::types::{ImageIdentifier, ImageScanningConfiguration, Repository, Tag};

use crate::actions::{ActionError, StepContext, on};
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
    pub(super) fn is_index(&self) -> bool {
        self.media_type
            .as_deref()
            .is_some_and(|m| m.contains("manifest.list") || m.contains("image.index"))
    }

    pub(super) fn describe(&self) -> String {
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

pub(super) fn repo_at(repository: &str, region: &str) -> String {
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

/// The exact manifest and media type of an image.
pub(super) async fn manifest(
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
pub(super) async fn put(
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
pub(super) async fn create_repository(
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
pub(super) type Inventory = BTreeMap<String, (Vec<ImageRef>, Option<Vec<ImageRef>>)>;

pub(super) async fn inventory(
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

#[cfg(test)]
mod tests {
    use super::*;

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
