//! ECR image layers in the sandbox, through the AWS SDK for Rust: the seed's images have
//! real blobs in both regions and registry digests, the layer upload API checks what AWS
//! checks, GetDownloadUrlForLayer serves the bytes, and PutImage refuses a manifest whose
//! blobs are absent (the refusals each have a test).

mod common;

use aws_sdk_ecr::types::{ImageIdentifier, LayerAvailability, LayerFailureCode};
use aws_smithy_types::Blob;
use common::{PRIMARY, RECOVERY, SandboxGuard};
use serde_json::Value;

const REPO: &str = "prod-infra/backend";

async fn ecr(region: &str) -> aws_sdk_ecr::Client {
    aws_sdk_ecr::Client::new(&common::sdk_config(region).await)
}

/// The service error code of a failed call.
fn code<E: aws_sdk_ecr::error::ProvideErrorMetadata>(err: E) -> String {
    err.code().unwrap_or("no code").to_string()
}

fn newest_seed_image(seed: &Value) -> &Value {
    seed["ecr"]["repositories"][REPO]["images"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
}

#[tokio::test]
async fn seeded_images_have_their_blobs_in_both_regions_and_registry_digests() {
    let guard = SandboxGuard::seeded().await;
    let image = newest_seed_image(&guard.seed);
    let mut blobs: Vec<String> = image["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    assert_eq!(blobs.len(), 3);
    blobs.push(image["config"].as_str().unwrap().to_string());
    for region in [PRIMARY, RECOVERY] {
        let client = ecr(region).await;
        // The image digest is the SHA-256 of the manifest bytes, as in a registry.
        let got = client
            .batch_get_image()
            .repository_name(REPO)
            .image_ids(ImageIdentifier::builder().image_tag("v1.2.0").build())
            .send()
            .await
            .unwrap();
        let found = &got.images()[0];
        let manifest = found.image_manifest().unwrap();
        assert_eq!(common::sha256_digest(manifest.as_bytes()), image["digest"]);
        assert_eq!(
            found.image_id().unwrap().image_digest(),
            image["digest"].as_str()
        );
        assert_eq!(
            found.image_manifest_media_type(),
            Some("application/vnd.docker.distribution.manifest.v2+json")
        );
        let doc: Value = serde_json::from_str(manifest).unwrap();
        assert_eq!(doc["config"]["digest"], image["config"]);
        let check = client
            .batch_check_layer_availability()
            .repository_name(REPO)
            .set_layer_digests(Some(blobs.clone()))
            .send()
            .await
            .unwrap();
        assert!(
            check.failures().is_empty(),
            "{region}: {:?}",
            check.failures()
        );
        assert_eq!(check.layers().len(), 4);
        for layer in check.layers() {
            assert_eq!(
                layer.layer_availability(),
                Some(&LayerAvailability::Available)
            );
        }
        // Every blob is served, and is the bytes its digest names (layers are real tar.gz).
        for digest in &blobs {
            let url = client
                .get_download_url_for_layer()
                .repository_name(REPO)
                .layer_digest(digest)
                .send()
                .await
                .unwrap();
            let (status, bytes) = common::http_get(url.download_url().unwrap());
            assert_eq!(status, 200);
            assert_eq!(&common::sha256_digest(&bytes), digest);
            if digest != image["config"].as_str().unwrap() {
                assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");
            }
        }
        // DescribeImages: the size is the layers' total.
        let described = client
            .describe_images()
            .repository_name(REPO)
            .image_ids(ImageIdentifier::builder().image_tag("v1.2.0").build())
            .send()
            .await
            .unwrap();
        let layers_total: i64 = doc["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["size"].as_i64().unwrap())
            .sum();
        assert_eq!(
            described.image_details()[0].image_size_in_bytes(),
            Some(layers_total)
        );
    }
}

#[tokio::test]
async fn a_layerless_put_image_fails_with_layers_not_found() {
    let _guard = SandboxGuard::seeded().await;
    let east = ecr(PRIMARY).await;
    let manifest = common::manifest_of(b"{\"config\": 1}", &[b"a layer nobody uploaded"]);
    let err = east
        .put_image()
        .repository_name(REPO)
        .image_manifest(&manifest)
        .image_tag("layerless")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_layers_not_found_exception(), "{err:?}");
    let message = aws_sdk_ecr::error::ProvideErrorMetadata::message(&err).unwrap();
    assert!(
        message.contains(&common::sha256_digest(b"a layer nobody uploaded")),
        "{message}"
    );
    assert!(message.contains(REPO), "{message}");
    // Nothing was stored.
    let listed = east
        .list_images()
        .repository_name(REPO)
        .send()
        .await
        .unwrap();
    assert!(
        listed
            .image_ids()
            .iter()
            .all(|i| i.image_tag() != Some("layerless"))
    );
}

#[tokio::test]
async fn a_put_image_without_its_config_blob_fails_with_layers_not_found() {
    let _guard = SandboxGuard::seeded().await;
    let east = ecr(PRIMARY).await;
    let layer = b"an uploaded layer".as_slice();
    common::upload_blob(&east, REPO, layer).await;
    let manifest = common::manifest_of(b"{\"config\": \"never uploaded\"}", &[layer]);
    let err = east
        .put_image()
        .repository_name(REPO)
        .image_manifest(&manifest)
        .image_tag("no-config")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_layers_not_found_exception(), "{err:?}");
}

#[tokio::test]
async fn a_manifest_pushed_in_one_region_is_refused_in_the_other_until_its_layers_are_there() {
    let _guard = SandboxGuard::seeded().await;
    let (east, west) = (ecr(PRIMARY).await, ecr(RECOVERY).await);
    let config = b"{\"config\": \"v9\"}".as_slice();
    let layer = b"layer of v9".as_slice();
    let digest = common::push_image(&east, REPO, "v9", config, &[layer]).await;
    let manifest = common::manifest_of(config, &[layer]);
    let refused = west
        .put_image()
        .repository_name(REPO)
        .image_manifest(&manifest)
        .image_tag("v9")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(refused.is_layers_not_found_exception(), "{refused:?}");
    // Once the blobs are uploaded there, the same manifest gives the same digest.
    assert_eq!(
        common::push_image(&west, REPO, "v9", config, &[layer]).await,
        digest
    );
}

#[tokio::test]
async fn put_image_with_a_digest_that_is_not_the_manifests_fails() {
    let _guard = SandboxGuard::seeded().await;
    let east = ecr(PRIMARY).await;
    let config = b"{\"config\": \"digest\"}".as_slice();
    let layer = b"layer for the digest check".as_slice();
    common::upload_blob(&east, REPO, config).await;
    common::upload_blob(&east, REPO, layer).await;
    let manifest = common::manifest_of(config, &[layer]);
    let err = east
        .put_image()
        .repository_name(REPO)
        .image_manifest(&manifest)
        .image_digest(common::sha256_digest(b"something else"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_image_digest_does_not_match_exception(), "{err:?}");
    // With the right digest, an untagged push by digest works.
    let ok = east
        .put_image()
        .repository_name(REPO)
        .image_manifest(&manifest)
        .image_digest(common::sha256_digest(manifest.as_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok.image().unwrap().image_id().unwrap().image_digest(),
        Some(common::sha256_digest(manifest.as_bytes()).as_str())
    );
}

#[tokio::test]
async fn an_upload_whose_bytes_are_not_the_named_digest_fails_with_invalid_layer() {
    let _guard = SandboxGuard::seeded().await;
    let east = ecr(PRIMARY).await;
    let upload = east
        .initiate_layer_upload()
        .repository_name(REPO)
        .send()
        .await
        .unwrap();
    assert!(upload.part_size().unwrap() >= 5 * 1024 * 1024);
    let id = upload.upload_id().unwrap();
    east.upload_layer_part()
        .repository_name(REPO)
        .upload_id(id)
        .part_first_byte(0)
        .part_last_byte(4)
        .layer_part_blob(Blob::new(b"bytes".to_vec()))
        .send()
        .await
        .unwrap();
    let err = east
        .complete_layer_upload()
        .repository_name(REPO)
        .upload_id(id)
        .layer_digests(common::sha256_digest(b"other bytes"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err.into_service_error()), "InvalidLayerException");
    let check = east
        .batch_check_layer_availability()
        .repository_name(REPO)
        .layer_digests(common::sha256_digest(b"bytes"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        check.failures()[0].failure_code(),
        Some(&LayerFailureCode::MissingLayerDigest)
    );
}

#[tokio::test]
async fn a_small_part_before_the_last_fails_with_layer_part_too_small() {
    let _guard = SandboxGuard::seeded().await;
    let east = ecr(PRIMARY).await;
    let id = east
        .initiate_layer_upload()
        .repository_name(REPO)
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_string();
    let parts: [&[u8]; 2] = [b"first part, far below 5 MiB", b"last part"];
    let mut first = 0i64;
    for part in parts {
        let out = east
            .upload_layer_part()
            .repository_name(REPO)
            .upload_id(&id)
            .part_first_byte(first)
            .part_last_byte(first + part.len() as i64 - 1)
            .layer_part_blob(Blob::new(part.to_vec()))
            .send()
            .await
            .unwrap();
        first += part.len() as i64;
        assert_eq!(out.last_byte_received(), Some(first - 1));
    }
    let err = east
        .complete_layer_upload()
        .repository_name(REPO)
        .upload_id(&id)
        .layer_digests(common::sha256_digest(&parts.concat()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err.into_service_error()), "LayerPartTooSmallException");
}

#[tokio::test]
async fn a_part_that_does_not_follow_the_last_byte_fails_with_invalid_layer_part() {
    let _guard = SandboxGuard::seeded().await;
    let east = ecr(PRIMARY).await;
    let id = east
        .initiate_layer_upload()
        .repository_name(REPO)
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_string();
    let err = east
        .upload_layer_part()
        .repository_name(REPO)
        .upload_id(&id)
        .part_first_byte(10)
        .part_last_byte(14)
        .layer_part_blob(Blob::new(b"bytes".to_vec()))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_layer_part_exception(), "{err:?}");
}

#[tokio::test]
async fn completing_an_empty_upload_fails_with_empty_upload() {
    let _guard = SandboxGuard::seeded().await;
    let east = ecr(PRIMARY).await;
    let id = east
        .initiate_layer_upload()
        .repository_name(REPO)
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_string();
    let err = east
        .complete_layer_upload()
        .repository_name(REPO)
        .upload_id(&id)
        .layer_digests(common::sha256_digest(b""))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_empty_upload_exception(), "{err:?}");
}

#[tokio::test]
async fn uploading_a_layer_the_repository_has_fails_with_layer_already_exists() {
    let guard = SandboxGuard::seeded().await;
    let east = ecr(PRIMARY).await;
    // The seed's base layer: any client that checks first (BatchCheckLayerAvailability) skips it.
    let url = east
        .get_download_url_for_layer()
        .repository_name(REPO)
        .layer_digest(
            newest_seed_image(&guard.seed)["layers"][0]
                .as_str()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let (_, bytes) = common::http_get(url.download_url().unwrap());
    let id = east
        .initiate_layer_upload()
        .repository_name(REPO)
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_string();
    east.upload_layer_part()
        .repository_name(REPO)
        .upload_id(&id)
        .part_first_byte(0)
        .part_last_byte(bytes.len() as i64 - 1)
        .layer_part_blob(Blob::new(bytes.clone()))
        .send()
        .await
        .unwrap();
    let err = east
        .complete_layer_upload()
        .repository_name(REPO)
        .upload_id(&id)
        .layer_digests(common::sha256_digest(&bytes))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_layer_already_exists_exception(), "{err:?}");
}

#[tokio::test]
async fn download_urls_are_refused_for_absent_and_unreferenced_layers() {
    let _guard = SandboxGuard::seeded().await;
    let east = ecr(PRIMARY).await;
    let absent = east
        .get_download_url_for_layer()
        .repository_name(REPO)
        .layer_digest(common::sha256_digest(b"never uploaded"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(absent.is_layers_not_found_exception(), "{absent:?}");
    // Uploaded but in no image yet: AWS calls it inaccessible (it may be cleaned up).
    let digest = common::upload_blob(&east, REPO, b"an orphan layer").await;
    let orphan = east
        .get_download_url_for_layer()
        .repository_name(REPO)
        .layer_digest(&digest)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(orphan.is_layer_inaccessible_exception(), "{orphan:?}");
}

#[tokio::test]
async fn batch_get_image_names_the_image_id_it_could_not_find() {
    let _guard = SandboxGuard::seeded().await;
    let east = ecr(PRIMARY).await;
    let missing = common::sha256_digest(b"no such manifest");
    let out = east
        .batch_get_image()
        .repository_name(REPO)
        .image_ids(ImageIdentifier::builder().image_digest(&missing).build())
        .image_ids(ImageIdentifier::builder().image_tag("latest").build())
        .send()
        .await
        .unwrap();
    assert_eq!(out.images().len(), 1);
    assert_eq!(
        out.failures()[0].image_id().unwrap().image_digest(),
        Some(missing.as_str())
    );
}

fn pullable(region: &str, image: &str) -> Value {
    let (status, body) = common::control(
        "GET",
        &format!("/ecr/pullable?region={region}&image={image}"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn an_image_is_pullable_where_its_manifest_and_blobs_are() {
    let _guard = SandboxGuard::seeded().await;
    let west = format!("{}.dkr.ecr.{RECOVERY}.amazonaws.com", common::ACCOUNT);
    let seeded = pullable(RECOVERY, &format!("{west}/{REPO}:v1.2.0"));
    assert_eq!(seeded["pullable"], true, "{seeded}");
    assert!(seeded["reason"].is_null());
    // Public images are always pullable.
    assert_eq!(pullable(RECOVERY, "redis:7")["pullable"], true);
    // An image replication never copied is not in the recovery region: the agent's words.
    common::push_unreplicated_image(REPO, "hotfix");
    let image = format!("{west}/{REPO}:hotfix");
    let missing = pullable(RECOVERY, &image);
    assert_eq!(missing["pullable"], false);
    assert_eq!(
        missing["reason"],
        format!(
            "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref {image}: {image}: not found"
        )
    );
    let east = format!("{}.dkr.ecr.{PRIMARY}.amazonaws.com", common::ACCOUNT);
    assert_eq!(
        pullable(PRIMARY, &format!("{east}/{REPO}:hotfix"))["pullable"],
        true
    );
    assert_eq!(
        pullable(RECOVERY, &format!("{west}/prod-infra/nothing:v1"))["pullable"],
        false
    );
}
