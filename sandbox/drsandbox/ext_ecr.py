"""ECR: image layers and their API, strict PutImage, and replication that copies images.

Blobs (layers and image configs) are real bytes kept per repository, as in ECR, where the
layer API works on one repository. They arrive through InitiateLayerUpload, UploadLayerPart
and CompleteLayerUpload (the digest is the SHA-256 of the bytes, checked against the one the
client names), through replication, or from the seed. An image's digest is the SHA-256 of
its manifest bytes, as in a registry, and PutImage refuses a manifest whose config blob or
layers are not in that repository (LayersNotFoundException), a digest that is not the
manifest's (ImageDigestDoesNotMatchException) and a manifest list naming absent images
(ReferencedImagesNotFoundException). GetDownloadUrlForLayer answers a URL on the sandbox's
own 127.0.0.1 port that serves the blob (`/_sandbox/ecr/blob`); AWS answers a pre-signed S3
URL.

moto stores PutReplicationConfiguration but copies nothing. Here every PutImage that a rule
matches schedules one copy per destination region, done after `ecr_replication_lag`
(creating the repository there if missing): the blobs the manifest references first, then
the manifest, so the copy has the same digest and can be pulled. As in AWS, only pushes made
after the rule exists are replicated.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ecr.exceptions import (
    ImageAlreadyExistsException,
    ImageNotFoundException,
    InvalidLayerPartException,
    InvalidParameterException,
    RepositoryNotFoundException,
    UploadNotFoundException,
)
from moto.ecr.models import ECRBackend, Image, LayerUpload, Repository
from moto.ecr.responses import ECRResponse

from . import contract, state
from .common import backend, params

# (account, source region, repository, digest) -> {dest region: {"status", "failure_code"}}
STATUSES: dict[tuple[str, str, str, str], dict[str, dict[str, Any]]] = {}
# pending copies, each {"due", "account", "source_region", "dest_region", "repository", "digest", "manifest", "media_type", "tags"}
PENDING: list[dict[str, Any]] = []
# dest region -> number of next replications that will fail
FAIL_NEXT: dict[str, int] = {}
_SUPPRESS = {"on": False}

# ECR: every layer part but the last must be at least 5 MiB (LayerPartTooSmallException).
MIN_PART_SIZE = 5 * 1024 * 1024
PART_SIZE = 10 * 1024 * 1024  # what InitiateLayerUpload answers (moto's value)
LAYER_MEDIA_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
MANIFEST_LISTS = (
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)
IMAGE_URI = re.compile(
    r"^(?P<registry>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
    r"(?P<repository>[a-z0-9][a-z0-9._/-]*?)(?::(?P<tag>[A-Za-z0-9_.-]+))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


@state.on_reset
def _reset() -> None:
    STATUSES.clear()
    PENDING.clear()
    FAIL_NEXT.clear()


# --- errors AWS answers that moto lacks -----------------------------------------------------


class LayersNotFoundException(ServiceException):
    code = "LayersNotFoundException"


class LayerInaccessibleException(ServiceException):
    code = "LayerInaccessibleException"


class LayerPartTooSmallException(ServiceException):
    code = "LayerPartTooSmallException"


class InvalidLayerException(ServiceException):
    code = "InvalidLayerException"


class EmptyUploadException(ServiceException):
    code = "EmptyUploadException"


class LayerAlreadyExistsException(ServiceException):
    code = "LayerAlreadyExistsException"


class ImageDigestDoesNotMatchException(ServiceException):
    code = "ImageDigestDoesNotMatchException"


class ReferencedImagesNotFoundException(ServiceException):
    code = "ReferencedImagesNotFoundException"


# --- blobs ---------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blobs(repo: Repository) -> dict[str, bytes]:
    """The blobs of one repository, digest -> bytes (kept on moto's object: gone on reset)."""
    found = getattr(repo, "_sbx_blobs", None)
    if found is None:
        found = repo._sbx_blobs = {}  # type: ignore[attr-defined]
    return found


def store_blob(repo: Repository, data: bytes, media_type: str | None = None) -> str:
    digest = sha256(data)
    blobs(repo)[digest] = data
    repo.layers[digest] = len(data)  # moto's own table, for anything of moto that reads it
    if media_type:
        _media_types(repo)[digest] = media_type
    return digest


def _media_types(repo: Repository) -> dict[str, str]:
    found = getattr(repo, "_sbx_media_types", None)
    if found is None:
        found = repo._sbx_media_types = {}  # type: ignore[attr-defined]
    return found


def _repository(account: str, region: str, name: str, registry_id: str | None = None) -> Repository:
    ecr: ECRBackend = backend("ecr", account, region)
    return ecr._get_repository(name, registry_id)


def referenced(manifest: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """(blobs as {digest, mediaType, size}, digests of referenced images) of a manifest."""
    if manifest.get("mediaType") in MANIFEST_LISTS or "manifests" in manifest:
        return [], [m["digest"] for m in manifest.get("manifests", []) if m.get("digest")]
    found: list[dict[str, Any]] = []
    if isinstance(manifest.get("config"), dict) and manifest["config"].get("digest"):
        found.append(manifest["config"])
    for layer in manifest.get("layers", []) or []:
        if layer.get("digest"):
            found.append(layer)
    for layer in manifest.get("fsLayers", []) or []:  # schema 1
        if layer.get("blobSum"):
            found.append({"digest": layer["blobSum"]})
    return found, []


def _parse_manifest(text: str) -> dict[str, Any]:
    try:
        manifest = json.loads(text)
    except (TypeError, ValueError):
        raise InvalidParameterException(
            "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'"
        ) from None
    if not isinstance(manifest, dict):
        raise InvalidParameterException("Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'")
    return manifest


def check_pushable(repo: Repository, manifest_text: str, digest: str | None) -> str:
    """The digest of `manifest_text`, if ECR would accept it into `repo`; else AWS's error."""
    manifest = _parse_manifest(manifest_text)
    actual = sha256(manifest_text.encode("utf-8"))
    if digest and digest != actual:
        raise ImageDigestDoesNotMatchException(
            f"Invalid parameter at 'imageDigest' failed to satisfy constraint: 'The specified image digest "
            f"'{digest}' does not match the digest that Amazon ECR calculated for the image ('{actual}')'"
        )
    needed, images = referenced(manifest)
    missing = [b["digest"] for b in needed if b["digest"] not in blobs(repo)]
    if missing:
        raise LayersNotFoundException(
            f"Layers with digests '[{', '.join(missing)}]' required for pushing image into repository with name "
            f"'{repo.name}' in the registry with id '{repo.registry_id}' do not exist"
        )
    have = {i.get_image_digest() for i in repo.images}
    absent = [d for d in images if d not in have]
    if absent:
        raise ReferencedImagesNotFoundException(
            f"The manifest list references images {absent} that do not exist in the repository with "
            f"name '{repo.name}' in the registry with id '{repo.registry_id}'"
        )
    return actual


def _referenced_by_an_image(repo: Repository, digest: str) -> bool:
    for image in repo.images:
        try:
            needed, _ = referenced(json.loads(image.image_manifest))
        except ValueError:
            continue
        if any(b["digest"] == digest for b in needed):
            return True
    return False


# --- the layer API -------------------------------------------------------------------------


def initiate_layer_upload(self: ECRResponse) -> ActionResult:
    p = params(self)
    repo = _repository(self.current_account, self.region, p["repositoryName"], p.get("registryId"))
    upload = LayerUpload(repo.name, repo.registry_id)
    upload._sbx_parts = []  # type: ignore[attr-defined]  # sizes of the parts, in order
    repo.uploads[upload.upload_id] = upload
    return ActionResult({"uploadId": upload.upload_id, "partSize": PART_SIZE})


def _upload(repo: Repository, upload_id: str) -> LayerUpload:
    upload = repo.uploads.get(upload_id)
    if upload is None:
        raise UploadNotFoundException(upload_id, repo.name, repo.registry_id)
    return upload


def upload_layer_part(self: ECRResponse) -> ActionResult:
    p = params(self)
    repo = _repository(self.current_account, self.region, p["repositoryName"], p.get("registryId"))
    upload = _upload(repo, p["uploadId"])
    blob = p.get("layerPartBlob") or b""
    if isinstance(blob, str):
        blob = base64.b64decode(blob)
    first, last = int(p["partFirstByte"]), int(p["partLastByte"])
    if first != upload.last_byte_received + 1 or last - first + 1 != len(blob):
        raise InvalidLayerPartException(repo.registry_id, repo.name, upload.upload_id, upload.last_byte_received)
    upload.layer_parts += blob
    upload._sbx_parts.append(len(blob))  # type: ignore[attr-defined]
    return ActionResult(
        {
            "registryId": repo.registry_id,
            "repositoryName": repo.name,
            "uploadId": upload.upload_id,
            "lastByteReceived": upload.last_byte_received,
        }
    )


def complete_layer_upload(self: ECRResponse) -> ActionResult:
    p = params(self)
    repo = _repository(self.current_account, self.region, p["repositoryName"], p.get("registryId"))
    upload = _upload(repo, p["uploadId"])
    named = list(p.get("layerDigests") or [])
    bad = [d for d in named if not DIGEST.match(d)]
    if bad or not named:
        raise InvalidParameterException(f"Invalid parameter at 'layerDigests' failed to satisfy constraint: {bad or named}")
    parts: list[int] = getattr(upload, "_sbx_parts", [])
    if not parts:
        raise EmptyUploadException(
            f"Upload with id '{upload.upload_id}' in the repository with name '{repo.name}' in the "
            f"registry with id '{repo.registry_id}' does not contain any layer parts"
        )
    small = [i for i, size in enumerate(parts[:-1]) if size < MIN_PART_SIZE]
    if small:
        raise LayerPartTooSmallException(
            f"Layer part {small[0]} of upload '{upload.upload_id}' is {parts[small[0]]} bytes: layer parts "
            f"must be at least 5 MiB in size (all but the last)"
        )
    data = bytes(upload.layer_parts)
    del repo.uploads[upload.upload_id]
    actual = sha256(data)
    if actual not in named:
        raise InvalidLayerException(
            f"The layer digest calculation performed by Amazon ECR upon receipt of the image layer "
            f"('{actual}') does not match the digest specified ({named})"
        )
    if actual in blobs(repo):
        raise LayerAlreadyExistsException(
            f"The layer with digest '{actual}' already exists in the repository with name "
            f"'{repo.name}' in the registry with id '{repo.registry_id}'"
        )
    store_blob(repo, data)
    return ActionResult(
        {"registryId": repo.registry_id, "repositoryName": repo.name, "uploadId": upload.upload_id, "layerDigest": actual}
    )


def batch_check_layer_availability(self: ECRResponse) -> ActionResult:
    p = params(self)
    repo = _repository(self.current_account, self.region, p["repositoryName"], p.get("registryId"))
    layers, failures = [], []
    for digest in p.get("layerDigests") or []:
        if not DIGEST.match(digest):
            failures.append({"layerDigest": digest, "failureCode": "InvalidLayerDigest", "failureReason": "Invalid layer digest"})
        elif digest in blobs(repo):
            layers.append(
                {
                    "layerDigest": digest,
                    "layerAvailability": "AVAILABLE",
                    "layerSize": len(blobs(repo)[digest]),
                    "mediaType": _media_types(repo).get(digest, LAYER_MEDIA_TYPE),
                }
            )
        else:
            failures.append({"layerDigest": digest, "failureCode": "MissingLayerDigest", "failureReason": "Unable to find layer"})
    return ActionResult({"layers": layers, "failures": failures})


def _own_port(self: ECRResponse) -> str:
    host = str(self.headers.get("Host") or "")
    if ":" in host:
        return host.rsplit(":", 1)[1]
    return os.environ.get("MOTO_PORT", "80")


def get_download_url_for_layer(self: ECRResponse) -> ActionResult:
    p = params(self)
    repo = _repository(self.current_account, self.region, p["repositoryName"], p.get("registryId"))
    digest = p["layerDigest"]
    if digest not in blobs(repo):
        raise LayersNotFoundException(
            f"Layer with digest '{digest}' does not exist in the repository with name '{repo.name}' "
            f"in the registry with id '{repo.registry_id}'"
        )
    if not _referenced_by_an_image(repo, digest):
        raise LayerInaccessibleException(
            "The specified layer is not available because it is not associated with an image. "
            "Unassociated image layers may be cleaned up at any time."
        )
    query = f"registry={repo.registry_id}&region={self.region}&repository={repo.name}&digest={digest}"
    return ActionResult({"downloadUrl": f"http://127.0.0.1:{_own_port(self)}/_sandbox/ecr/blob?{query}", "layerDigest": digest})


def blob(registry: str, region: str, repository: str, digest: str) -> bytes | None:
    """The bytes GetDownloadUrlForLayer's URL serves (control API)."""
    ecr: ECRBackend = backend("ecr", registry, region)
    repo = ecr.repositories.get(repository)
    return None if repo is None else blobs(repo).get(digest)


def batch_get_image(self: ECRResponse) -> ActionResult:
    """moto's, with each failure naming the image id that was asked for (moto: the tag or "null")."""
    p = params(self)
    repo = _repository(self.current_account, self.region, p["repositoryName"], p.get("registryId"))
    images: list[dict[str, Any]] = []
    failures = []
    for image_id in p.get("imageIds") or []:
        found = [
            i
            for i in repo.images
            if (not image_id.get("imageDigest") or i.get_image_digest() == image_id["imageDigest"])
            and (not image_id.get("imageTag") or image_id["imageTag"] in i.image_tags)
        ]
        if not found:
            failures.append({"imageId": dict(image_id), "failureCode": "ImageNotFound", "failureReason": "Requested image not found"})
            continue
        image = found[0]
        images.append(
            {
                "registryId": repo.registry_id,
                "repositoryName": repo.name,
                "imageId": {"imageDigest": image.get_image_digest(), **({"imageTag": image_id["imageTag"]} if image_id.get("imageTag") else {})},
                "imageManifest": image.image_manifest,
                "imageManifestMediaType": image.image_manifest_media_type or _parse_manifest(image.image_manifest).get("mediaType"),
            }
        )
    return ActionResult({"images": images, "failures": failures})


# --- image_pullable (ECS placement calls it) -----------------------------------------------


def image_pullable(account: str, region: str, image: str) -> str | None:
    """None when ECS could pull `image` (a container definition's `image`), else why not.

    A public name (`redis:7`, `qdrant/qdrant:v1.7.4`) is always pullable. An ECR URI is
    pulled from the registry it names, as ECS does (`region` is the task's region; a URI of
    another region is pulled from that region). The reason is the whole stopped reason, in
    the words of the ECS agent: `CannotPullContainerError: ...`.
    """
    match = IMAGE_URI.match(image.strip())
    if match is None:
        return None
    registry, uri_region, name = match["registry"], match["region"], match["repository"]
    tag, digest = match["tag"], match["digest"]
    if not tag and not digest:
        tag = "latest"
    ref = image.strip() if (match["tag"] or digest) else f"{image.strip()}:latest"
    not_found = f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref {ref}: {ref}: not found"
    ecr: ECRBackend = backend("ecr", registry, uri_region)
    repo = ecr.repositories.get(name)
    if repo is None:
        return not_found
    found = [
        i
        for i in repo.images
        if (not digest or i.get_image_digest() == digest) and (not tag or tag in i.image_tags)
    ]
    if not found:
        return not_found
    try:
        needed, images = referenced(json.loads(found[0].image_manifest))
    except ValueError:
        return not_found
    for wanted in [b["digest"] for b in needed] + images:
        if wanted not in blobs(repo) and wanted not in {i.get_image_digest() for i in repo.images}:
            return (
                "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to copy: "
                f"httpReadSeeker: failed open: content at https://{registry}.dkr.ecr.{uri_region}.amazonaws.com"
                f"/v2/{name}/blobs/{wanted} not found: not found"
            )
    return None  # `account` and `region` unused: the URI names the registry


# --- replication ---------------------------------------------------------------------------


def _destinations(ecr: ECRBackend, repository: str) -> list[dict[str, str]]:
    """Destinations of every replication rule whose filters match the repository."""
    config = getattr(ecr, "replication_config", None) or {}
    found: list[dict[str, str]] = []
    for rule in config.get("rules", []):
        filters = rule.get("repositoryFilters") or []
        if filters and not any(
            f.get("filterType", "PREFIX_MATCH") == "PREFIX_MATCH" and repository.startswith(f["filter"]) for f in filters
        ):
            continue
        for dest in rule.get("destinations", []):
            if (dest["region"], dest["registryId"]) != (ecr.region_name, ecr.account_id):
                found.append(dest)
    return found


def _schedule(ecr: ECRBackend, repository: str, image: Image, tag: str | None) -> None:
    destinations = _destinations(ecr, repository)
    if not destinations:
        return
    key = (ecr.account_id, ecr.region_name, repository, image.get_image_digest())
    statuses = STATUSES.setdefault(key, {})
    due = state.now() + state.DURATIONS["ecr_replication_lag"]
    for dest in destinations:
        statuses[dest["region"]] = {"status": "IN_PROGRESS", "failure_code": None, "registry_id": dest["registryId"]}
        PENDING.append(
            {
                "due": due,
                "account": dest["registryId"],
                "source_account": ecr.account_id,
                "source_region": ecr.region_name,
                "dest_region": dest["region"],
                "repository": repository,
                "digest": image.get_image_digest(),
                "manifest": image.image_manifest,
                "media_type": image.image_manifest_media_type,
                "tag": tag,
            }
        )


def copy_image(
    account: str,
    region: str,
    repository: str,
    manifest: str,
    media_type: str | None,
    tag: str | None,
    source: Repository | None = None,
) -> Image:
    """Puts the same image into a repository of another region, creating it if missing.

    With `source`, first copies the blobs the manifest references from that repository.
    """
    dest: ECRBackend = backend("ecr", account, region)
    if repository not in dest.repositories:
        dest.create_repository(
            repository_name=repository,
            registry_id=None,
            encryption_config=None,
            image_scan_config=None,
            image_tag_mutability=None,
            tags=[],
        )
    repo = dest.repositories[repository]
    if source is not None:
        needed, _ = referenced(_parse_manifest(manifest))
        for item in needed:
            data = blobs(source).get(item["digest"])
            if data is not None and item["digest"] not in blobs(repo):
                store_blob(repo, data, _media_types(source).get(item["digest"]) or item.get("mediaType"))
    _SUPPRESS["on"] = True  # no chaining: a replicated push is not replicated again
    try:
        return dest.put_image(repository, manifest, tag, media_type)  # type: ignore[arg-type]
    except ImageAlreadyExistsException:
        return next(i for i in repo.images if i.image_manifest == manifest)
    finally:
        _SUPPRESS["on"] = False


@state.on_tick
def _tick(moment: float) -> None:
    for item in [p for p in PENDING if p["due"] <= moment]:
        PENDING.remove(item)
        key = (item["source_account"], item["source_region"], item["repository"], item["digest"])
        status = STATUSES.setdefault(key, {}).setdefault(item["dest_region"], {"registry_id": item["account"]})
        if FAIL_NEXT.get(item["dest_region"], 0) > 0:
            FAIL_NEXT[item["dest_region"]] -= 1
            status.update(status="FAILED", failure_code="REPLICATION_FAILED_INJECTED")
            continue
        source = backend("ecr", item["source_account"], item["source_region"]).repositories.get(item["repository"])
        try:
            copy_image(
                item["account"], item["dest_region"], item["repository"], item["manifest"], item["media_type"], item["tag"], source
            )
        except ServiceException:  # the source lost a blob (its repository was deleted)
            status.update(status="FAILED", failure_code="LAYERS_NOT_FOUND")
            continue
        status.update(status="COMPLETE", failure_code=None)


def mark_replicated(account: str, source_region: str, repository: str, digest: str, dest_region: str) -> None:
    """Records a copy made outside the replication path (the seed) as COMPLETE."""
    STATUSES.setdefault((account, source_region, repository, digest), {})[dest_region] = {
        "status": "COMPLETE",
        "failure_code": None,
        "registry_id": account,
    }


def fail_next(region: str, count: int) -> dict[str, Any]:
    FAIL_NEXT[region] = FAIL_NEXT.get(region, 0) + count
    return {"region": region, "failing_next": FAIL_NEXT[region]}


def push_unreplicated(account: str, region: str, repository: str, tag: str, manifest: str | None) -> dict[str, Any]:
    """Control API: push an image in `region` that replication will not copy.

    Without `manifest`, the image is built like the seed's (the repository's base and runtime
    layers, with a new application layer and config that only this region has); with one,
    its blobs must already be in the repository.
    """
    from . import seed

    ecr: ECRBackend = backend("ecr", account, region)
    if repository not in ecr.repositories:
        raise RepositoryNotFoundException(repository_name=repository, registry_id=account)
    repo = ecr.repositories[repository]
    if manifest is None:
        built = seed.image_for(repository, tag)
        for data, media_type in built["blobs"]:
            store_blob(repo, data, media_type)
        manifest = built["manifest"]
    _SUPPRESS["on"] = True
    try:
        image = ecr.put_image(repository, manifest, tag, None)
    finally:
        _SUPPRESS["on"] = False
    return {
        "repository": repository,
        "region": region,
        "tag": tag,
        "digest": image.get_image_digest(),
        "pushed_at": state.rfc3339(image.image_pushed_at),
    }


def describe_image_replication_status(self: ECRResponse) -> ActionResult:
    repository = self._get_param("repositoryName")
    image_id = self._get_param("imageId") or {}
    account, region = self.current_account, self.region
    ecr: ECRBackend = backend("ecr", account, region)
    if repository not in ecr.repositories:
        raise RepositoryNotFoundException(repository_name=repository, registry_id=account)
    image = None
    for candidate in ecr.repositories[repository].images:
        if image_id.get("imageDigest") and candidate.get_image_digest() == image_id["imageDigest"]:
            image = candidate
        elif image_id.get("imageTag") and image_id["imageTag"] in candidate.image_tags:
            image = candidate
        if image is not None:
            break
    if image is None:
        raise ImageNotFoundException(
            image_id=json.dumps(image_id), repository_name=repository, registry_id=account
        )
    digest = image.get_image_digest()
    statuses = STATUSES.get((account, region, repository, digest), {})
    result = {
        "repositoryName": repository,
        "imageId": {"imageDigest": digest, **({"imageTag": image_id["imageTag"]} if image_id.get("imageTag") else {})},
        "replicationStatuses": [
            {
                "region": dest_region,
                "registryId": info.get("registry_id", account),
                "status": info["status"],
                **({"failureCode": info["failure_code"]} if info.get("failure_code") else {}),
            }
            for dest_region, info in sorted(statuses.items())
        ],
    }
    return ActionResult(result)


HANDLERS = [
    describe_image_replication_status,
    initiate_layer_upload,
    upload_layer_part,
    complete_layer_upload,
    batch_check_layer_availability,
    get_download_url_for_layer,
    batch_get_image,
]


def install() -> None:
    for handler in HANDLERS:
        setattr(ECRResponse, handler.__name__, handler)

    # A registry's digest: SHA-256 of the manifest bytes (moto: of the joined layer digests).
    def create_digest(self: Image) -> None:
        self._image_digest = sha256(self.image_manifest.encode("utf-8"))

    Image._create_digest = create_digest  # type: ignore[method-assign]

    # imageSizeInBytes: the sum of the layers' sizes (moto: the config's size).
    def image_size(self: Image) -> int | None:
        try:
            manifest = json.loads(self.image_manifest)
        except ValueError:
            return None
        layers = manifest.get("layers")
        if not isinstance(layers, list):
            return None
        return sum(int(layer.get("size", 0)) for layer in layers)

    Image.get_image_size_in_bytes = image_size  # type: ignore[method-assign]

    original_put_image = ECRBackend.put_image

    def put_image(
        self: ECRBackend,
        repository_name: str,
        image_manifest: str,
        image_tag: str,
        image_manifest_mediatype: str | None = None,
        digest: str | None = None,
    ) -> Image:
        repo = self.repositories.get(repository_name)
        if repo is None:
            raise RepositoryNotFoundException(repository_name=repository_name, registry_id=self.account_id)
        actual = check_pushable(repo, image_manifest, digest)
        image = original_put_image(self, repository_name, image_manifest, image_tag, image_manifest_mediatype, actual)
        if not _SUPPRESS["on"]:
            _schedule(self, repository_name, image, image_tag)
        return image

    ECRBackend.put_image = put_image  # type: ignore[method-assign]
    # Answers changed below the handler: digests and sizes of every image.
    contract.affects("ecr", "PutImage", "DescribeImages", "ListImages", "BatchDeleteImage")
