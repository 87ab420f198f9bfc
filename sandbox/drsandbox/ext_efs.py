"""EFS: replication configurations, file-system protection, backup policies, and what a
file system holds.

A replication creates a real moto file system in the destination region. While it
replicates, the destination's ReplicationOverwriteProtection is REPLICATING (read-only);
deleting the configuration goes through DELETING for the configured time, after which the
destination is writable (ENABLED) and the configuration is gone.

The data plane is a record, not bytes: the seed's production file systems hold live data;
a restore job writes the recovery point into an `aws-backup-restore_<timestamp>` directory
off the root of the file system it creates (or of the existing one it targets), as AWS
Backup does, and leaves a marker of the recovery point it came from (`restore_marker`); a
replication destination holds data once its first sync is done. A new, empty file system
holds nothing.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.efs import urls as efs_urls
from moto.efs.exceptions import FileSystemNotFound
from moto.efs.models import EFSBackend, FileSystem
from moto.efs.responses import EFSResponse
from moto.moto_api._internal import mock_random

from . import contract, state
from .common import backend, json_error, params

# (account, source region, source fs id) -> replication record
REPLICATIONS: dict[tuple[str, str, str], dict[str, Any]] = {}
# (account, region, fs id) -> restores written into it, oldest first
RESTORES: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
# (account, region, fs id) of file systems holding live data (the seed's production ones)
LIVE: set[tuple[str, str, str]] = set()
# (account, region, fs id) of replication destinations whose first sync is done
REPLICATED: set[tuple[str, str, str]] = set()


@state.on_reset
def _reset() -> None:
    REPLICATIONS.clear()
    RESTORES.clear()
    LIVE.clear()
    REPLICATED.clear()


# --- what a file system holds ------------------------------------------------------------


def _exists(account: str, region: str, fs_id: str) -> bool:
    return fs_id in backend("efs", account, region).file_systems_by_id


def restore_directory(moment: float) -> str:
    """AWS Backup's directory name, e.g. aws-backup-restore_2022-01-17T08-53-32-695Z."""
    stamp = state.rfc3339(moment)  # 2022-01-17T08:53:32.695Z
    return "aws-backup-restore_" + stamp.replace(":", "-").replace(".", "-")


def record_restore(
    account: str,
    region: str,
    fs_id: str,
    *,
    recovery_point_arn: str,
    source_file_system_id: str,
    restore_job_id: str,
    started: float,
    restored_at: float,
    items: list[str] | None = None,
) -> dict[str, Any]:
    """Called by a restore job when it completes into `fs_id`."""
    marker = {
        "recovery_point_arn": recovery_point_arn,
        "restore_directory": restore_directory(started),
        "restored_at": restored_at,
        "source_file_system_id": source_file_system_id,
        "restore_job_id": restore_job_id,
        "items": list(items) if items else None,
    }
    RESTORES.setdefault((account, region, fs_id), []).append(marker)
    return marker


def restore_marker(account: str, region: str, file_system_id: str) -> dict[str, Any] | None:
    """The newest restore written into a file system: {recovery_point_arn, restore_directory
    ("aws-backup-restore_<timestamp>"), restored_at (epoch seconds), source_file_system_id,
    restore_job_id, items (None: a full restore)}; None if no restore wrote into it (or it is gone).
    """
    if not _exists(account, region, file_system_id):
        return None
    restores = RESTORES.get((account, region, file_system_id))
    return dict(restores[-1]) if restores else None


def mark_live(account: str, region: str, file_system_id: str) -> None:
    """The seed: this production file system holds the application's live data."""
    LIVE.add((account, region, file_system_id))


def holds_data(account: str, region: str, file_system_id: str) -> bool:
    """Whether the file system holds application data: live production data, a restore, or
    what replication copied into it. False for a new, empty one (or one that is gone)."""
    key = (account, region, file_system_id)
    if not _exists(account, region, file_system_id):
        return False
    return key in LIVE or key in REPLICATED or bool(RESTORES.get(key))


def holds_data_outside_restores(account: str, region: str, file_system_id: str) -> bool:
    """Whether the file system holds application data at its root: live or replicated data
    (a restore's data sits in its own directory)."""
    key = (account, region, file_system_id)
    return _exists(account, region, file_system_id) and (key in LIVE or key in REPLICATED)


def contents(account: str, region: str, file_system_id: str) -> dict[str, Any]:
    """Control API: what the file system holds, as a client mounting it would find it."""
    _fs(account, region, file_system_id)
    key = (account, region, file_system_id)
    restores = RESTORES.get(key, [])
    directories = [f"/{r['restore_directory']}" for r in restores]
    marker = restore_marker(account, region, file_system_id)
    return {
        "file_system_id": file_system_id,
        "region": region,
        "holds_data": holds_data(account, region, file_system_id),
        "live_data": key in LIVE,
        "replicated_data": key in REPLICATED,
        "directories": directories,
        "restores": [dict(r, restored_at=state.rfc3339(r["restored_at"])) for r in restores],
        "restore_marker": dict(marker, restored_at=state.rfc3339(marker["restored_at"])) if marker else None,
    }


def _fs(account: str, region: str, fs_id: str) -> FileSystem:
    fs = backend("efs", account, region).file_systems_by_id.get(fs_id)
    if fs is None:
        raise FileSystemNotFound(fs_id)
    return fs


def set_size(account: str, region: str, fs_id: str, size: int) -> dict[str, Any]:
    """Control API: the size a backup of this file system will have."""
    fs = _fs(account, region, fs_id)
    fs._size_value = size
    return {"file_system_id": fs_id, "region": region, "size_bytes": size}


def _protection(fs: FileSystem) -> str:
    return fs.file_system_protection["ReplicationOverwriteProtection"]  # type: ignore[attr-defined]


def _set_protection(fs: FileSystem, value: str) -> None:
    fs.file_system_protection = {"ReplicationOverwriteProtection": value}  # type: ignore[attr-defined]


def _replication_for(account: str, region: str, fs_id: str) -> dict[str, Any] | None:
    """The configuration in which this file system is the source or the destination."""
    for rep in REPLICATIONS.values():
        if rep["account"] != account:
            continue
        if (rep["source_region"], rep["source_fs_id"]) == (region, fs_id):
            return rep
        if (rep["dest_region"], rep["dest_fs_id"]) == (region, fs_id):
            return rep
    return None


def _replication_not_found(fs_id: str) -> Exception:
    return json_error("ReplicationNotFound", f"No replication configuration found for file system {fs_id}", 404)


def create_replication_configuration(self: EFSResponse) -> ActionResult:
    p = params(self)
    account, region = self.current_account, self.region
    source = _fs(account, region, p["SourceFileSystemId"])
    destinations = p.get("Destinations") or []
    if len(destinations) != 1:
        raise json_error("ValidationException", "Exactly one destination is supported", 400)
    dest_spec = destinations[0]
    dest_region = dest_spec["Region"]
    if _replication_for(account, region, source.file_system_id):
        raise json_error("ReplicationAlreadyExists", f"File system {source.file_system_id} already has a replication configuration", 409)
    dest_efs: EFSBackend = backend("efs", account, dest_region)
    if dest_spec.get("FileSystemId"):
        dest = _fs(account, dest_region, dest_spec["FileSystemId"])
        if _protection(dest) != "DISABLED":
            raise json_error(
                "ConflictException",
                f"Destination {dest.file_system_id} must have replication overwrite protection DISABLED",
                409,
            )
    else:
        kms = dest_spec.get("KmsKeyId")
        dest = dest_efs.create_file_system(
            creation_token=str(mock_random.uuid4()),
            performance_mode=source.performance_mode,
            encrypted=bool(kms) or source.encrypted,
            kms_key_id=kms,
            throughput_mode=source.throughput_mode,
            provisioned_throughput_in_mibps=source.provisioned_throughput_in_mibps,
            availability_zone_name=dest_spec.get("AvailabilityZoneName"),
            backup=False,
            tags=[],
        )
    _set_protection(dest, "REPLICATING")
    now = state.now()
    rep = {
        "account": account,
        "source_region": region,
        "source_fs_id": source.file_system_id,
        "source_arn": source.file_system_arn,
        "dest_region": dest_region,
        "dest_fs_id": dest.file_system_id,
        "role_arn": dest_spec.get("RoleArn"),
        "creation": now,
        "enabled_at": now + state.DURATIONS["efs_replication_enable"],
        "status": "ENABLING",
        "deleting_since": None,
        "delete_done_at": None,
        "frozen_last_replicated": None,
    }
    REPLICATIONS[(account, region, source.file_system_id)] = rep
    return ActionResult(_replication_json(rep, now))


def _last_replicated(rep: dict[str, Any], moment: float) -> float | None:
    if rep["frozen_last_replicated"] is not None:
        return rep["frozen_last_replicated"]
    if moment < rep["enabled_at"]:
        return None
    return max(rep["enabled_at"], moment - state.DURATIONS["efs_replication_lag"])


def _replication_json(rep: dict[str, Any], moment: float) -> dict[str, Any]:
    dest: dict[str, Any] = {
        "Status": rep["status"],
        "FileSystemId": rep["dest_fs_id"],
        "Region": rep["dest_region"],
        "OwnerId": rep["account"],
    }
    last = _last_replicated(rep, moment)
    if last is not None:
        dest["LastReplicatedTimestamp"] = state.to_datetime(last)
    if rep["role_arn"]:
        dest["RoleArn"] = rep["role_arn"]
    return {
        "SourceFileSystemId": rep["source_fs_id"],
        "SourceFileSystemRegion": rep["source_region"],
        "SourceFileSystemArn": rep["source_arn"],
        "OriginalSourceFileSystemArn": rep["source_arn"],
        "CreationTime": state.to_datetime(rep["creation"]),
        "Destinations": [dest],
        "SourceFileSystemOwnerId": rep["account"],
    }


def describe_replication_configurations(self: EFSResponse) -> ActionResult:
    p = params(self)
    account, region = self.current_account, self.region
    moment = state.now()
    fs_id = p.get("FileSystemId")
    if fs_id:
        _fs(account, region, fs_id)
        rep = _replication_for(account, region, fs_id)
        if rep is None:
            raise _replication_not_found(fs_id)
        reps = [rep]
    else:
        reps = [
            r
            for r in REPLICATIONS.values()
            if r["account"] == account and region in (r["source_region"], r["dest_region"])
        ]
    return ActionResult({"Replications": [_replication_json(r, moment) for r in reps]})


def delete_replication_configuration(self: EFSResponse) -> EmptyResult:
    p = params(self)
    account, region = self.current_account, self.region
    fs_id = p["SourceFileSystemId"]
    _fs(account, region, fs_id)
    rep = _replication_for(account, region, fs_id)
    if rep is None:
        raise _replication_not_found(fs_id)
    if rep["status"] != "DELETING":
        moment = state.now()
        rep["frozen_last_replicated"] = _last_replicated(rep, moment)
        rep["status"] = "DELETING"
        rep["deleting_since"] = moment
        rep["delete_done_at"] = moment + state.DURATIONS["efs_replication_delete"]
    return EmptyResult()


def update_file_system_protection(self: EFSResponse) -> ActionResult:
    p = params(self)
    fs = _fs(self.current_account, self.region, p["FileSystemId"])
    value = p.get("ReplicationOverwriteProtection")
    if value not in ("ENABLED", "DISABLED"):
        raise json_error("BadRequest", "ReplicationOverwriteProtection must be ENABLED or DISABLED", 400)
    if _protection(fs) == "REPLICATING":
        raise json_error(
            "ReplicationAlreadyExists",
            f"File system {fs.file_system_id} is a replication destination; delete the replication first",
            409,
        )
    _set_protection(fs, value)
    return ActionResult({"ReplicationOverwriteProtection": value})


def put_backup_policy(self: EFSResponse) -> ActionResult:
    p = params(self)
    fs = _fs(self.current_account, self.region, p["FileSystemId"])
    status = p["BackupPolicy"]["Status"]
    if status not in ("ENABLED", "DISABLED"):
        raise json_error("ValidationException", "BackupPolicy.Status must be ENABLED or DISABLED", 400)
    fs._backup = status == "ENABLED"
    fs._sbx_backup_policy_set = True  # type: ignore[attr-defined]
    return ActionResult({"BackupPolicy": {"Status": status}})


@state.on_tick
def _tick(moment: float) -> None:
    for key, rep in list(REPLICATIONS.items()):
        if rep["status"] == "ENABLING" and moment >= rep["enabled_at"]:
            rep["status"] = "ENABLED"
            REPLICATED.add((rep["account"], rep["dest_region"], rep["dest_fs_id"]))
        elif rep["status"] == "DELETING" and moment >= rep["delete_done_at"]:
            dest = backend("efs", rep["account"], rep["dest_region"]).file_systems_by_id.get(rep["dest_fs_id"])
            if dest is not None:
                _set_protection(dest, "ENABLED")
            del REPLICATIONS[key]


def install() -> None:
    # FileSystemProtection in every description, and DescribeBackupPolicy after a DISABLED put.
    contract.affects("efs", "DescribeFileSystems", "CreateFileSystem", "DescribeBackupPolicy")
    for handler in (
        create_replication_configuration,
        describe_replication_configurations,
        delete_replication_configuration,
        update_file_system_protection,
        put_backup_policy,
    ):
        setattr(EFSResponse, handler.__name__, handler)
    # moto's own catch-all ("{0}/.*?$") never becomes a Flask path; "/.*" does (<path:route>).
    efs_urls.url_paths["{0}/.*$"] = efs_urls.response.dispatch

    # Every file system shows FileSystemProtection (moto's info_json lists public attributes).
    original_init = FileSystem.__init__

    def init(self: FileSystem, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        _set_protection(self, "ENABLED")

    FileSystem.__init__ = init  # type: ignore[method-assign]

    # moto describes a file system from its attributes: nulls and members AWS does not have
    # (LifecyclePolicies, FileSystemPolicy) go, as they never reach an AWS client.
    original_info = FileSystem.info_json

    def info_json(self: FileSystem) -> dict[str, Any]:
        return contract.conform("efs", "FileSystemDescription", original_info(self))

    FileSystem.info_json = info_json  # type: ignore[method-assign]

    # After PutBackupPolicy DISABLED, AWS describes the policy as DISABLED (moto: PolicyNotFound).
    original_describe = EFSBackend.describe_backup_policy

    def describe_backup_policy(self: EFSBackend, file_system_id: str) -> dict[str, str]:
        fs = self.file_systems_by_id.get(file_system_id)
        if fs is None:
            raise FileSystemNotFound(file_system_id)
        if getattr(fs, "_sbx_backup_policy_set", False) and not fs._backup:
            return {"Status": "DISABLED"}
        return original_describe(self, file_system_id)

    EFSBackend.describe_backup_policy = describe_backup_policy  # type: ignore[method-assign]
