"""Secrets Manager: StopReplicationToReplica, replica lag, and complete ReplicationStatus.

moto's replica (`ReplicaSecret`) is a view of the primary: it reads the primary's versions.
Promotion therefore builds an independent `FakeSecret` from a deep copy of what the replica
shows. A lagging replica is a replica whose view is frozen at a snapshot of the versions.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.core.responses import ActionResult
from moto.secretsmanager.exceptions import InvalidParameterException, SecretNotFoundException
from moto.secretsmanager.models import FakeSecret, ReplicaSecret, SecretsManagerBackend
from moto.secretsmanager.responses import SecretsManagerResponse

from . import state
from .common import backend

# (account, secret ARN in the replica region) -> frozen view {versions, default_version_id}
LAGS: dict[tuple[str, str], dict[str, Any]] = {}


@state.on_reset
def _reset() -> None:
    LAGS.clear()


def _replica_view(replica: ReplicaSecret) -> dict[str, Any] | None:
    return LAGS.get((replica.source.account_id, replica.arn))


def _find_replica(account: str, secret_id: str, region: str) -> ReplicaSecret:
    secrets = backend("secretsmanager", account, region).secrets
    if secret_id not in secrets:
        raise SecretNotFoundException()
    replica = secrets[secret_id]
    if not isinstance(replica, ReplicaSecret):
        raise InvalidParameterException(f"Secret {secret_id} in {region} is not a replica")
    return replica


def set_lag(account: str, secret_id: str, region: str, lagging: bool, new_secret_string: str | None) -> dict[str, Any]:
    """Control API: freeze (or unfreeze) the replica in `region` at the versions it has now.

    With `new_secret_string`, also puts a new version on the primary, so the replica is at
    once one version behind.
    """
    replica = _find_replica(account, secret_id, region)
    key = (account, replica.arn)
    if not lagging:
        LAGS.pop(key, None)
    else:
        if key not in LAGS:
            LAGS[key] = {
                "versions": copy.deepcopy(replica.source.versions),
                "default_version_id": replica.source.default_version_id,
            }
        if new_secret_string is not None:
            primary_backend = backend("secretsmanager", account, replica.source.region)
            primary_backend.put_secret_value(
                secret_id=replica.source.name,
                secret_string=new_secret_string,
                secret_binary=None,
                client_request_token=None,
                version_stages=["AWSCURRENT"],
            )
    view = LAGS.get(key)
    return {
        "secret_id": replica.source.name,
        "region": region,
        "lagging": view is not None,
        "replica_current_version_id": view["default_version_id"] if view else replica.source.default_version_id,
        "primary_current_version_id": replica.source.default_version_id,
    }


def stop_replication_to_replica(self: SecretsManagerResponse) -> ActionResult:
    secret_id = self._get_param("SecretId")
    account, region = self.current_account, self.region
    sm: SecretsManagerBackend = backend("secretsmanager", account, region)
    if secret_id not in sm.secrets:
        raise SecretNotFoundException()
    replica = sm.secrets[secret_id]
    if not isinstance(replica, ReplicaSecret):
        raise InvalidParameterException("StopReplicationToReplica must be called in the region of a replica secret")
    source = replica.source
    view = _replica_view(replica) or {"versions": source.versions, "default_version_id": source.default_version_id}
    standalone = FakeSecret(
        account_id=account,
        region_name=region,
        secret_id=source.name,
        secret_version={},
        version_id="",
        description=source.description,
        tags=copy.deepcopy(source.tags),
        kms_key_id=source.kms_key_id,
        last_changed_date=source.last_changed_date,
        created_date=source.created_date,
    )
    standalone.arn = replica.arn  # same ARN as the replica: only the region differs from the primary's
    standalone.versions = copy.deepcopy(view["versions"])
    standalone.default_version_id = view["default_version_id"]
    dict.pop(sm.secrets, replica.arn, None)
    dict.pop(sm.secrets, replica.name, None)
    sm.secrets[standalone.name] = standalone
    source.replicas = [r for r in source.replicas if r.region != region]
    LAGS.pop((account, replica.arn), None)
    return ActionResult({"ARN": standalone.arn})


def install() -> None:
    SecretsManagerResponse.stop_replication_to_replica = stop_replication_to_replica  # type: ignore[attr-defined]

    # A lagging replica reads its frozen view instead of the primary's versions.
    def versions(self: ReplicaSecret) -> dict[str, dict[str, Any]]:
        view = _replica_view(self)
        return view["versions"] if view else self.source.versions

    def default_version_id(self: ReplicaSecret) -> str | None:
        view = _replica_view(self)
        return view["default_version_id"] if view else self.source.default_version_id

    ReplicaSecret.versions = property(versions)  # type: ignore[assignment,method-assign]
    ReplicaSecret.default_version_id = property(default_version_id)  # type: ignore[assignment,method-assign]

    def replica_to_dict(self: ReplicaSecret) -> dict[str, Any]:
        dct = self.source.to_dict()
        dct.pop("ReplicationStatus", None)  # a replica does not list the other replicas
        view = _replica_view(self)
        if view:
            stages = {vid: v["version_stages"] for vid, v in view["versions"].items()}
            dct["VersionIdsToStages"] = stages
            dct["SecretVersionsToStages"] = stages
        dct["ARN"] = self.arn
        dct["PrimaryRegion"] = self.source.region
        return dct

    ReplicaSecret.to_dict = replica_to_dict  # type: ignore[method-assign]

    # ReplicationStatus entries: Status follows the lag, and LastAccessedDate is present.
    def config(self: ReplicaSecret) -> dict[str, Any]:
        base = dict(self._sbx_config)
        if base.get("Status") == "InSync" and _replica_view(self) is not None:
            base["Status"] = "InProgress"
            base["StatusMessage"] = "Replication in progress"
        base.setdefault("LastAccessedDate", self._sbx_last_accessed)
        return base

    def set_config(self: ReplicaSecret, value: dict[str, Any]) -> None:
        self._sbx_config = value
        self._sbx_last_accessed = _midnight_epoch()

    ReplicaSecret.config = property(config, set_config)  # type: ignore[assignment]

    # The primary's DescribeSecret shows LastAccessedDate too (AWS: date of the last read).
    original_to_dict = FakeSecret.to_dict

    def to_dict(self: FakeSecret) -> dict[str, Any]:
        dct = original_to_dict(self)
        if dct.get("LastAccessedDate") is None:
            dct["LastAccessedDate"] = _midnight_epoch()
        return dct

    FakeSecret.to_dict = to_dict  # type: ignore[method-assign]


def _midnight_epoch() -> int:
    """AWS reports LastAccessedDate rounded down to the day."""
    moment = int(state.now())
    return moment - moment % 86400
