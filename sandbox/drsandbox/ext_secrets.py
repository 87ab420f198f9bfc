"""Secrets Manager: StopReplicationToReplica, replica lag, complete ReplicationStatus, and
real version creation dates.

moto's replica (`ReplicaSecret`) is a view of the primary: it reads the primary's versions.
Promotion therefore builds an independent `FakeSecret` from a deep copy of what the replica
shows. A lagging replica is a replica whose view is frozen at a snapshot of the versions.

Dates: moto stamps versions with whole seconds and ListSecretVersionIds answers the time of
the call for every version. Here every version keeps the moment it was created, to the
millisecond, and a replica's version is dated when it reached the replica: at once for a
replica in sync, at the replica's creation for versions older than the replica, and when the
lag ends for versions the frozen replica did not have.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from moto.core.responses import ActionResult
from moto.secretsmanager.exceptions import InvalidParameterException, SecretNotFoundException
from moto.secretsmanager.models import FakeSecret, ReplicaSecret, SecretsManagerBackend
from moto.secretsmanager.responses import SecretsManagerResponse

from . import contract, state
from .common import backend, paginate, params

# (account, secret ARN in the replica region) -> frozen view {versions, default_version_id, last_changed}
LAGS: dict[tuple[str, str], dict[str, Any]] = {}
# (account, secret ARN in the replica region) -> version id -> when it reached the replica,
# for versions that reached it later than they were created (when a lag ended)
ARRIVALS: dict[tuple[str, str], dict[str, float]] = {}


@state.on_reset
def _reset() -> None:
    LAGS.clear()
    ARRIVALS.clear()


def stamp() -> float:
    """Now, to the millisecond: AWS dates secrets and versions with millisecond precision."""
    return round(state.now(), 3)


def version_date(secret: FakeSecret | ReplicaSecret, version_id: str) -> float:
    """When `version_id` was created where `secret` lives (for a replica: when it arrived)."""
    created = float(secret.versions[version_id]["createdate"])
    if not isinstance(secret, ReplicaSecret):
        return created
    arrived = ARRIVALS.get((secret.source.account_id, secret.arn), {}).get(version_id)
    if arrived is not None:
        return arrived
    return max(created, _replica_created(secret))


def _replica_created(replica: ReplicaSecret) -> float:
    return float(getattr(replica, "_sbx_created", 0.0))


def _replica_last_changed(replica: ReplicaSecret) -> float:
    view = _replica_view(replica)
    changed = view["last_changed"] if view else float(replica.source.last_changed_date or 0)
    dates = [version_date(replica, vid) for vid in replica.versions]
    return max([changed, _replica_created(replica), *dates])


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
    new_version: dict[str, Any] = {}
    if not lagging:
        view = LAGS.pop(key, None)
        if view is not None:
            # What the frozen replica lacked reaches it now.
            arrived = stamp()
            for version_id in replica.source.versions:
                if version_id not in view["versions"]:
                    ARRIVALS.setdefault(key, {})[version_id] = arrived
    else:
        if key not in LAGS:
            LAGS[key] = {
                "versions": copy.deepcopy(replica.source.versions),
                "default_version_id": replica.source.default_version_id,
                "last_changed": _replica_last_changed(replica),
            }
        if new_secret_string is not None:
            primary_backend = backend("secretsmanager", account, replica.source.region)
            put = json.loads(
                primary_backend.put_secret_value(
                    secret_id=replica.source.name,
                    secret_string=new_secret_string,
                    secret_binary=None,
                    client_request_token=None,
                    version_stages=["AWSCURRENT"],
                )
            )
            new_version = {
                "new_version_id": put["VersionId"],
                "new_version_created_date": state.rfc3339(version_date(replica.source, put["VersionId"])),
            }
    view = LAGS.get(key)
    primary_current = replica.source.default_version_id
    return {
        "secret_id": replica.source.name,
        "region": region,
        "lagging": view is not None,
        "replica_current_version_id": view["default_version_id"] if view else primary_current,
        "primary_current_version_id": primary_current,
        "primary_current_version_created_date": (
            state.rfc3339(version_date(replica.source, primary_current)) if primary_current else None
        ),
        **new_version,
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
        last_changed_date=_replica_last_changed(replica),  # type: ignore[arg-type]
        created_date=_replica_created(replica),  # type: ignore[arg-type]
    )
    standalone.arn = replica.arn  # same ARN as the replica: only the region differs from the primary's
    standalone.versions = copy.deepcopy(view["versions"])
    for version_id, version in standalone.versions.items():
        version["createdate"] = version_date(replica, version_id)  # as the replica dated it
    standalone.default_version_id = view["default_version_id"]
    dict.pop(sm.secrets, replica.arn, None)
    dict.pop(sm.secrets, replica.name, None)
    sm.secrets[standalone.name] = standalone
    source.replicas = [r for r in source.replicas if r.region != region]
    LAGS.pop((account, replica.arn), None)
    ARRIVALS.pop((account, replica.arn), None)
    return ActionResult({"ARN": standalone.arn})


def _secret(self: SecretsManagerResponse, secret_id: str) -> FakeSecret | ReplicaSecret:
    sm: SecretsManagerBackend = backend("secretsmanager", self.current_account, self.region)
    if not secret_id or secret_id not in sm.secrets:
        raise SecretNotFoundException()
    return sm.secrets[secret_id]


def list_secret_version_ids(self: SecretsManagerResponse) -> ActionResult:
    """Each version with its own creation date (moto: the time of the call for all)."""
    p = params(self)
    secret = _secret(self, p.get("SecretId", ""))
    versions = [
        (vid, v)
        for vid, v in secret.versions.items()
        if v["version_stages"] or p.get("IncludeDeprecated")  # AWS hides deprecated ones
    ]
    page, token = paginate(versions, p.get("MaxResults"), p.get("NextToken"))
    result: dict[str, Any] = {
        "ARN": secret.arn,
        "Name": secret.name,
        "Versions": [
            {
                "VersionId": vid,
                "VersionStages": list(v["version_stages"]),
                "LastAccessedDate": _midnight_epoch(),
                "CreatedDate": version_date(secret, vid),
            }
            for vid, v in page
        ],
    }
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def describe_secret(self: SecretsManagerResponse) -> ActionResult:
    """moto's answer, through the botocore serialiser (which drops members the shape lacks)."""
    return ActionResult(_secret(self, params(self).get("SecretId", "")).to_dict())


def get_secret_value(self: SecretsManagerResponse) -> ActionResult:
    """moto's answer, with the version's own creation date (a replica's: when it arrived)."""
    answer = json.loads(_ORIGINAL["get_secret_value"](self))
    secret = _secret(self, params(self).get("SecretId", ""))
    answer["CreatedDate"] = version_date(secret, answer["VersionId"])
    answer["ARN"] = secret.arn
    return ActionResult(answer)


def list_secrets(self: SecretsManagerResponse) -> ActionResult:
    """moto's answer, through the botocore serialiser (moto's adds members the shape lacks)."""
    answer = json.loads(_ORIGINAL["list_secrets"](self))
    if not answer.get("NextToken"):
        answer.pop("NextToken", None)
    return ActionResult(answer)


_ORIGINAL: dict[str, Any] = {}


def _stamp_new_versions(secret: FakeSecret, before: set[str], moment: float) -> None:
    for version_id, version in secret.versions.items():
        if version_id not in before:
            version["createdate"] = moment


def _install_dates() -> None:
    """Millisecond creation dates on every new secret and version, and on replicas."""
    original_add = SecretsManagerBackend._add_secret

    def add_secret(self: SecretsManagerBackend, secret_id: str, *args: Any, **kwargs: Any) -> Any:
        existing = self.secrets.get(secret_id)
        before = set(existing.versions) if isinstance(existing, FakeSecret) else set()
        secret, new_version = original_add(self, secret_id, *args, **kwargs)
        moment = stamp()
        _stamp_new_versions(secret, before, moment)
        secret.last_changed_date = moment
        if existing is None:
            secret.created_date = moment
        return secret, new_version

    SecretsManagerBackend._add_secret = add_secret  # type: ignore[method-assign]

    original_rotate = SecretsManagerBackend.rotate_secret

    def rotate_secret(self: SecretsManagerBackend, secret_id: str, *args: Any, **kwargs: Any) -> str:
        existing = self.secrets.get(secret_id)
        before = set(existing.versions) if isinstance(existing, FakeSecret) else set()
        answer = original_rotate(self, secret_id, *args, **kwargs)
        secret = self.secrets[secret_id]
        moment = stamp()
        if isinstance(secret, FakeSecret):
            _stamp_new_versions(secret, before, moment)
            secret.last_rotation_date = moment  # type: ignore[assignment]
            secret.last_changed_date = moment  # type: ignore[assignment]
        return answer

    SecretsManagerBackend.rotate_secret = rotate_secret  # type: ignore[method-assign]

    original_replica_init = ReplicaSecret.__init__

    def replica_init(self: ReplicaSecret, *args: Any, **kwargs: Any) -> None:
        original_replica_init(self, *args, **kwargs)
        self._sbx_created = stamp()  # type: ignore[attr-defined]

    ReplicaSecret.__init__ = replica_init  # type: ignore[method-assign]


def install() -> None:
    _install_dates()
    # ReplicationStatus entries carry the lag and LastAccessedDate (the `config` property below).
    contract.affects("secretsmanager", "ReplicateSecretToRegions", "RemoveRegionsFromReplication")
    SecretsManagerResponse.stop_replication_to_replica = stop_replication_to_replica  # type: ignore[attr-defined]
    for handler in (list_secret_version_ids, describe_secret, get_secret_value, list_secrets):
        _ORIGINAL.setdefault(handler.__name__, getattr(SecretsManagerResponse, handler.__name__))
        setattr(SecretsManagerResponse, handler.__name__, handler)

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
        dct["CreatedDate"] = _replica_created(self)
        dct["LastChangedDate"] = _replica_last_changed(self)
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
