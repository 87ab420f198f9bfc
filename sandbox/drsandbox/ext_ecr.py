"""ECR: registry replication that copies images, and DescribeImageReplicationStatus.

moto stores PutReplicationConfiguration but copies nothing. Here every PutImage that a rule
matches schedules one copy per destination region, done after `ecr_replication_lag`
(creating the repository there if missing). The same manifest gives the same moto digest,
so digests compare equal across regions. As in AWS, only pushes made after the rule exists
are replicated.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.responses import ActionResult
from moto.ecr.exceptions import ImageAlreadyExistsException, ImageNotFoundException, RepositoryNotFoundException
from moto.ecr.models import ECRBackend, Image
from moto.ecr.responses import ECRResponse

from . import state
from .common import backend

# (account, source region, repository, digest) -> {dest region: {"status", "failure_code"}}
STATUSES: dict[tuple[str, str, str, str], dict[str, dict[str, Any]]] = {}
# pending copies, each {"due", "account", "source_region", "dest_region", "repository", "digest", "manifest", "media_type", "tags"}
PENDING: list[dict[str, Any]] = []
# dest region -> number of next replications that will fail
FAIL_NEXT: dict[str, int] = {}
_SUPPRESS = {"on": False}


@state.on_reset
def _reset() -> None:
    STATUSES.clear()
    PENDING.clear()
    FAIL_NEXT.clear()


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


def copy_image(account: str, region: str, repository: str, manifest: str, media_type: str | None, tag: str | None) -> Image:
    """Puts the same manifest into a repository of another region, creating it if missing."""
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
    _SUPPRESS["on"] = True  # no chaining: a replicated push is not replicated again
    try:
        return dest.put_image(repository, manifest, tag, media_type)  # type: ignore[arg-type]
    except ImageAlreadyExistsException:
        return next(i for i in dest.repositories[repository].images if i.image_manifest == manifest)
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
        copy_image(item["account"], item["dest_region"], item["repository"], item["manifest"], item["media_type"], item["tag"])
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
    """Control API: push an image in `region` that replication will not copy."""
    from . import seed

    ecr: ECRBackend = backend("ecr", account, region)
    if repository not in ecr.repositories:
        raise RepositoryNotFoundException(repository_name=repository, registry_id=account)
    manifest = manifest or seed.manifest_for(repository, tag)
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


def install() -> None:
    ECRResponse.describe_image_replication_status = describe_image_replication_status  # type: ignore[attr-defined]
    original_put_image = ECRBackend.put_image

    def put_image(self: ECRBackend, repository_name: str, image_manifest: str, image_tag: str, *args: Any, **kwargs: Any) -> Image:
        image = original_put_image(self, repository_name, image_manifest, image_tag, *args, **kwargs)
        if not _SUPPRESS["on"]:
            _schedule(self, repository_name, image, image_tag)
        return image

    ECRBackend.put_image = put_image  # type: ignore[method-assign]
