"""AWS Backup: selections, recovery points, and backup, restore and copy jobs.

moto 5.2.5 keeps vaults and plans (`moto.backup`); this module adds the rest on top of
them. Jobs are plain records that the ticker moves forward; their side effects (a recovery
point in a vault, a new EFS file system, a recovery point in another region's vault) happen
in the same locked step that marks them COMPLETED (or PARTIAL).

StartRestoreJob checks an EFS restore as AWS documents it (botocore's StartRestoreJob
Metadata, EFS's CreateFileSystem limits) and answers AWS's exceptions: a missing key is
MissingParameterValueException, a bad value InvalidParameterValueException, a recovery
point that is not COMPLETED InvalidRequestException. A completed restore writes the
recovery point into an `aws-backup-restore_<timestamp>` directory of the file system and
marks it with the point it came from (`ext_efs.restore_marker`).

The control API can make the next backup, copy or restore job end PARTIAL (backup and copy
jobs: AWS has the state for them, not for restores) or FAILED (`next_outcome`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

from moto.backup import urls as backup_urls
from moto.backup.models import Vault
from moto.backup.responses import BackupResponse
from moto.core.responses import ActionResult, EmptyResult
from moto.moto_api._internal import mock_random

from . import contract, ext_efs, state
from .common import backend, json_error, paginate, params, parse_arn

GIB = 1024**3
DEFAULT_BACKUP_SIZE = 2 * GIB

# (account, region) -> id -> record
RECOVERY_POINTS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
BACKUP_JOBS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
RESTORE_JOBS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
COPY_JOBS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
SELECTIONS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
# (account, region, operation, token) -> (fingerprint of the parameters, job id)
IDEMPOTENCY: dict[tuple[str, str, str, str], tuple[str, str]] = {}
# outcomes asked for through the control API, taken by the next jobs started, oldest first:
# {"job": "backup"|"copy"|"restore", "state": "PARTIAL"|"FAILED", "region": str|None, "message": str}
OUTCOMES: list[dict[str, Any]] = []

# The end states a job can be made to reach, per kind (botocore: BackupJobState, CopyJobState,
# RestoreJobStatus; restores have no PARTIAL).
INJECTABLE = {"backup": ("PARTIAL", "FAILED"), "copy": ("PARTIAL", "FAILED"), "restore": ("FAILED",)}


@state.on_reset
def _reset() -> None:
    for table in (RECOVERY_POINTS, BACKUP_JOBS, RESTORE_JOBS, COPY_JOBS, SELECTIONS):
        table.clear()
    IDEMPOTENCY.clear()
    OUTCOMES.clear()


def next_outcome(job: str, end_state: str, region: str | None, count: int, message: str | None) -> dict[str, Any]:
    """Control API: the next `count` jobs of kind `job` (in `region`, or any) end `end_state`."""
    if job not in INJECTABLE:
        raise ValueError(f"job must be one of {sorted(INJECTABLE)}, not {job!r}")
    if end_state not in INJECTABLE[job]:
        raise ValueError(
            f"a {job} job cannot end {end_state!r}: AWS Backup's {job} jobs end in {list(INJECTABLE[job])}"
            + (" (RestoreJobStatus has no PARTIAL)" if job == "restore" else "")
        )
    if count < 1:
        raise ValueError("count must be at least 1")
    default = {
        "PARTIAL": f"The {job} job completed with issues: some items were not {'copied' if job == 'copy' else 'backed up'}",
        "FAILED": f"The {job} job failed",
    }[end_state]
    for _ in range(count):
        OUTCOMES.append({"job": job, "state": end_state, "region": region, "message": message or default})
    return {"pending": [dict(o) for o in OUTCOMES]}


def _take_outcome(job: str, region: str) -> dict[str, Any] | None:
    for outcome in OUTCOMES:
        if outcome["job"] == job and outcome["region"] in (None, region):
            OUTCOMES.remove(outcome)
            return outcome
    return None


def _table(table: dict[tuple[str, str], dict[str, Any]], account: str, region: str) -> dict[str, Any]:
    return table.setdefault((account, region), {})


def _not_found(message: str) -> Exception:
    return json_error("ResourceNotFoundException", message)


def _invalid(message: str) -> Exception:
    return json_error("InvalidParameterValueException", message)


def _job_id() -> str:
    return str(mock_random.uuid4()).upper()


def _vault(account: str, region: str, name: str) -> Vault:
    vaults = backend("backup", account, region).vaults
    if name not in vaults:
        raise _not_found(f"Backup vault {name} not found in {region}")
    return vaults[name]


def _fingerprint(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def _check_idempotency(account: str, region: str, op: str, token: str | None, request: dict[str, Any]) -> str | None:
    """Returns the job id of an earlier identical call with the same token, if any."""
    if not token:
        return None
    key = (account, region, op, token)
    if key in IDEMPOTENCY:
        earlier_fp, job_id = IDEMPOTENCY[key]
        if earlier_fp != _fingerprint(request):
            raise json_error(
                "InvalidRequestException",
                f"IdempotencyToken {token} was already used with different parameters",
            )
        return job_id
    return None


def _remember_token(account: str, region: str, op: str, token: str | None, request: dict[str, Any], job_id: str) -> None:
    if token:
        IDEMPOTENCY[(account, region, op, token)] = (_fingerprint(request), job_id)


# --- recovery points ---------------------------------------------------------------------


def efs_restore_metadata(fs: Any) -> dict[str, str]:
    """The metadata AWS Backup records for an EFS recovery point (GetRecoveryPointRestoreMetadata)."""
    return {
        "file-system-id": fs.file_system_id,
        "Encrypted": "true" if fs.encrypted else "false",
        "KmsKeyId": fs.kms_key_id or "",
        "PerformanceMode": fs.performance_mode,
        "CreationToken": fs.creation_token,
        "newFileSystem": "false",
    }


def create_recovery_point(
    account: str,
    region: str,
    vault_name: str,
    resource_arn: str,
    creation: float,
    size: int,
    *,
    metadata: dict[str, str] | None = None,
    created_by: dict[str, str] | None = None,
    source_vault_arn: str | None = None,
    completion: float | None = None,
    iam_role_arn: str | None = None,
    lifecycle: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
    source_tags: list[dict[str, str]] | None = None,
    arn: str | None = None,
    status: str = "COMPLETED",
) -> dict[str, Any]:
    """Stores a recovery point (COMPLETED unless told) in a vault; used by jobs, the seed and
    the control API."""
    vault = _vault(account, region, vault_name)
    if metadata is None:
        metadata = _metadata_for_resource(account, resource_arn)
    if arn is None:
        arn = f"arn:aws:backup:{region}:{account}:recovery-point:{mock_random.uuid4()}"
    rp = {
        "arn": arn,
        "account": account,
        "region": region,
        "vault_name": vault_name,
        "vault_arn": vault.backup_vault_arn,
        "source_vault_arn": source_vault_arn,
        "resource_arn": resource_arn,
        "resource_type": "EFS",
        "resource_name": metadata.get("CreationToken", ""),
        "creation": creation,
        "completion": completion if completion is not None else creation,
        "size": int(size),
        "status": status,
        "metadata": dict(metadata),
        "created_by": created_by,
        "iam_role_arn": iam_role_arn or f"arn:aws:iam::{account}:role/service-role/AWSBackupDefaultServiceRole",
        "encryption_key_arn": f"arn:aws:kms:{region}:{account}:key/00000000-0000-0000-0000-0000000000aa",
        "lifecycle": lifecycle,
        "source_tags": list(source_tags or []),
    }
    _table(RECOVERY_POINTS, account, region)[arn] = rp
    vault.num_of_recovery_points += 1
    if tags:
        backend("backup", account, region).tag_resource(arn, tags)
    return rp


def _metadata_for_resource(account: str, resource_arn: str) -> dict[str, str]:
    arn = parse_arn(resource_arn)
    fs_id = arn["resource"].split("/")[-1]
    fs = backend("efs", account, arn["region"]).file_systems_by_id.get(fs_id)
    if fs is not None:
        return efs_restore_metadata(fs)
    return {
        "file-system-id": fs_id,
        "Encrypted": "false",
        "KmsKeyId": "",
        "PerformanceMode": "generalPurpose",
        "CreationToken": fs_id,
        "newFileSystem": "false",
    }


def _find_rp(account: str, region: str, vault_name: str | None, arn: str) -> dict[str, Any]:
    rp = _table(RECOVERY_POINTS, account, region).get(arn)
    if rp is None or (vault_name is not None and rp["vault_name"] != vault_name):
        raise _not_found(f"Recovery point {arn} not found")
    return rp


def _rp_common(rp: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "RecoveryPointArn": rp["arn"],
        "BackupVaultName": rp["vault_name"],
        "BackupVaultArn": rp["vault_arn"],
        "ResourceArn": rp["resource_arn"],
        "ResourceType": rp["resource_type"],
        "IamRoleArn": rp["iam_role_arn"],
        "Status": rp["status"],
        "CreationDate": state.to_datetime(rp["creation"]),
        "InitiationDate": state.to_datetime(rp["creation"]),
        "CompletionDate": state.to_datetime(rp["completion"]),
        "BackupSizeInBytes": rp["size"],
        "EncryptionKeyArn": rp["encryption_key_arn"],
        "IsEncrypted": True,
        "IsParent": False,
        "ResourceName": rp["resource_name"],
        "VaultType": "BACKUP_VAULT",
    }
    if rp["source_vault_arn"]:
        out["SourceBackupVaultArn"] = rp["source_vault_arn"]
    if rp["created_by"]:
        out["CreatedBy"] = rp["created_by"]
    if rp["lifecycle"]:
        out["Lifecycle"] = rp["lifecycle"]
    if rp.get("last_restore"):
        out["LastRestoreTime"] = state.to_datetime(rp["last_restore"])
    return out


def rp_summary(rp: dict[str, Any]) -> dict[str, Any]:
    """JSON for the control API and the seed summary."""
    return {
        "recovery_point_arn": rp["arn"],
        "vault": rp["vault_name"],
        "region": rp["region"],
        "resource_arn": rp["resource_arn"],
        "creation_time": state.rfc3339(rp["creation"]),
        "size_bytes": rp["size"],
        "source_vault_arn": rp["source_vault_arn"],
    }


def list_recovery_points_by_backup_vault(self: BackupResponse) -> ActionResult:
    p = params(self)
    vault_name = p["BackupVaultName"]
    _vault(self.current_account, self.region, vault_name)
    rps = [r for r in _table(RECOVERY_POINTS, self.current_account, self.region).values() if r["vault_name"] == vault_name]
    if p.get("ByResourceArn"):
        rps = [r for r in rps if r["resource_arn"] == p["ByResourceArn"]]
    if p.get("ByResourceType"):
        rps = [r for r in rps if r["resource_type"] == p["ByResourceType"]]
    if p.get("ByBackupPlanId"):
        rps = [r for r in rps if (r["created_by"] or {}).get("BackupPlanId") == p["ByBackupPlanId"]]
    if p.get("ByCreatedAfter"):
        rps = [r for r in rps if r["creation"] >= p["ByCreatedAfter"].timestamp()]
    if p.get("ByCreatedBefore"):
        rps = [r for r in rps if r["creation"] <= p["ByCreatedBefore"].timestamp()]
    rps.sort(key=lambda r: r["creation"], reverse=True)
    page, token = paginate(rps, p.get("MaxResults"), p.get("NextToken"))
    result: dict[str, Any] = {"RecoveryPoints": [_rp_common(r) for r in page]}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def list_recovery_points_by_resource(self: BackupResponse) -> ActionResult:
    p = params(self)
    resource_arn = p["ResourceArn"]
    rps = [r for r in _table(RECOVERY_POINTS, self.current_account, self.region).values() if r["resource_arn"] == resource_arn]
    rps.sort(key=lambda r: r["creation"], reverse=True)
    page, token = paginate(rps, p.get("MaxResults"), p.get("NextToken"))
    result: dict[str, Any] = {
        "RecoveryPoints": [
            {
                "RecoveryPointArn": r["arn"],
                "CreationDate": state.to_datetime(r["creation"]),
                "Status": r["status"],
                "EncryptionKeyArn": r["encryption_key_arn"],
                "BackupSizeBytes": r["size"],
                "BackupVaultName": r["vault_name"],
                "IsParent": False,
                "ResourceName": r["resource_name"],
                "VaultType": "BACKUP_VAULT",
            }
            for r in page
        ]
    }
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def describe_recovery_point(self: BackupResponse) -> ActionResult:
    p = params(self)
    _vault(self.current_account, self.region, p["BackupVaultName"])
    rp = _find_rp(self.current_account, self.region, p["BackupVaultName"], p["RecoveryPointArn"])
    out = _rp_common(rp)
    out["StorageClass"] = "WARM"
    return ActionResult(out)


def get_recovery_point_restore_metadata(self: BackupResponse) -> ActionResult:
    p = params(self)
    vault = _vault(self.current_account, self.region, p["BackupVaultName"])
    rp = _find_rp(self.current_account, self.region, p["BackupVaultName"], p["RecoveryPointArn"])
    return ActionResult(
        {
            "BackupVaultArn": vault.backup_vault_arn,
            "RecoveryPointArn": rp["arn"],
            "RestoreMetadata": dict(rp["metadata"]),
            "ResourceType": rp["resource_type"],
        }
    )


def delete_recovery_point(self: BackupResponse) -> EmptyResult:
    p = params(self)
    vault = _vault(self.current_account, self.region, p["BackupVaultName"])
    rp = _find_rp(self.current_account, self.region, p["BackupVaultName"], p["RecoveryPointArn"])
    del _table(RECOVERY_POINTS, self.current_account, self.region)[rp["arn"]]
    vault.num_of_recovery_points = max(0, vault.num_of_recovery_points - 1)
    return EmptyResult()


# --- backup selections -------------------------------------------------------------------


def _plan(account: str, region: str, plan_id: str) -> Any:
    plans = backend("backup", account, region).plans
    if plan_id not in plans or plans[plan_id].deletion_date is not None:
        raise _not_found(f"Backup plan {plan_id} not found")
    return plans[plan_id]


def create_backup_selection(self: BackupResponse) -> ActionResult:
    p = params(self)
    plan = _plan(self.current_account, self.region, p["BackupPlanId"])
    selection = p["BackupSelection"]
    return ActionResult(
        _store_selection(self.current_account, self.region, plan.backup_plan_id, selection, p.get("CreatorRequestId"))
    )


def _store_selection(account: str, region: str, plan_id: str, selection: dict[str, Any], creator_request_id: str | None) -> dict[str, Any]:
    selections = _table(SELECTIONS, account, region)
    for existing in selections.values():
        if existing["plan_id"] == plan_id and existing["selection"]["SelectionName"] == selection["SelectionName"]:
            raise json_error("AlreadyExistsException", f"Selection {selection['SelectionName']} already exists")
    selection_id = str(mock_random.uuid4())
    record = {
        "id": selection_id,
        "plan_id": plan_id,
        "selection": selection,
        "creation": state.now(),
        "creator_request_id": creator_request_id,
    }
    selections[selection_id] = record
    return {"SelectionId": selection_id, "BackupPlanId": plan_id, "CreationDate": state.to_datetime(record["creation"])}


def _find_selection(account: str, region: str, plan_id: str, selection_id: str) -> dict[str, Any]:
    record = _table(SELECTIONS, account, region).get(selection_id)
    if record is None or record["plan_id"] != plan_id:
        raise _not_found(f"Backup selection {selection_id} not found")
    return record


def get_backup_selection(self: BackupResponse) -> ActionResult:
    p = params(self)
    record = _find_selection(self.current_account, self.region, p["BackupPlanId"], p["SelectionId"])
    result = {
        "BackupSelection": record["selection"],
        "SelectionId": record["id"],
        "BackupPlanId": record["plan_id"],
        "CreationDate": state.to_datetime(record["creation"]),
    }
    if record["creator_request_id"]:
        result["CreatorRequestId"] = record["creator_request_id"]
    return ActionResult(result)


def list_backup_selections(self: BackupResponse) -> ActionResult:
    p = params(self)
    plan_id = p["BackupPlanId"]
    _plan(self.current_account, self.region, plan_id)
    records = [r for r in _table(SELECTIONS, self.current_account, self.region).values() if r["plan_id"] == plan_id]
    page, token = paginate(records, p.get("MaxResults"), p.get("NextToken"))
    result: dict[str, Any] = {
        "BackupSelectionsList": [
            {
                "SelectionId": r["id"],
                "SelectionName": r["selection"]["SelectionName"],
                "BackupPlanId": r["plan_id"],
                "CreationDate": state.to_datetime(r["creation"]),
                "IamRoleArn": r["selection"].get("IamRoleArn"),
                **({"CreatorRequestId": r["creator_request_id"]} if r["creator_request_id"] else {}),
            }
            for r in page
        ]
    }
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def delete_backup_selection(self: BackupResponse) -> EmptyResult:
    p = params(self)
    record = _find_selection(self.current_account, self.region, p["BackupPlanId"], p["SelectionId"])
    del _table(SELECTIONS, self.current_account, self.region)[record["id"]]
    return EmptyResult()


# --- backup jobs ---------------------------------------------------------------------------


def _efs_from_arn(account: str, region: str, resource_arn: str) -> Any:
    arn = parse_arn(resource_arn)
    if arn["service"] != "elasticfilesystem" or not arn["resource"].startswith("file-system/"):
        raise _invalid(f"The sandbox backs up EFS file systems only, not {resource_arn}")
    if arn["region"] != region:
        raise _invalid(f"Resource {resource_arn} is not in {region}")
    fs_id = arn["resource"].split("/", 1)[1]
    fs = backend("efs", account, region).file_systems_by_id.get(fs_id)
    if fs is None:
        raise _not_found(f"Resource {resource_arn} not found")
    return fs


def start_backup_job(self: BackupResponse) -> ActionResult:
    p = params(self)
    account, region = self.current_account, self.region
    token = p.get("IdempotencyToken")
    request = {k: v for k, v in p.items() if k != "IdempotencyToken"}
    earlier = _check_idempotency(account, region, "StartBackupJob", token, request)
    if earlier:
        job = _table(BACKUP_JOBS, account, region)[earlier]
        return ActionResult(_start_backup_result(job))
    vault = _vault(account, region, p["BackupVaultName"])
    fs = _efs_from_arn(account, region, p["ResourceArn"])
    job_id = _job_id()
    rp_id = str(mock_random.uuid4())
    start = state.now()
    job = {
        "id": job_id,
        "account": account,
        "region": region,
        "vault_name": vault.backup_vault_name,
        "vault_arn": vault.backup_vault_arn,
        "rp_arn": f"arn:aws:backup:{region}:{account}:recovery-point:{rp_id}",
        "resource_arn": p["ResourceArn"],
        "resource_name": fs.creation_token,
        "iam_role_arn": p.get("IamRoleArn"),
        "creation": start,
        "duration": state.DURATIONS["backup_job"],
        "size": fs._size_value or DEFAULT_BACKUP_SIZE,
        "state": "CREATED",
        "completion": None,
        "lifecycle": p.get("Lifecycle"),
        "tags": p.get("RecoveryPointTags") or {},
        "metadata": efs_restore_metadata(fs),
        "source_tags": backend("efs", account, region).list_tags_for_resource(fs.file_system_id),
        "outcome": _take_outcome("backup", region),
        "status_message": None,
    }
    _table(BACKUP_JOBS, account, region)[job_id] = job
    _remember_token(account, region, "StartBackupJob", token, request, job_id)
    return ActionResult(_start_backup_result(job))


def _start_backup_result(job: dict[str, Any]) -> dict[str, Any]:
    return {
        "BackupJobId": job["id"],
        "RecoveryPointArn": job["rp_arn"],
        "CreationDate": state.to_datetime(job["creation"]),
        "IsParent": False,
    }


FINAL = ("COMPLETED", "FAILED", "ABORTED", "PARTIAL", "EXPIRED")


def _advance_backup_job(job: dict[str, Any], moment: float) -> None:
    if job["state"] in FINAL:
        return
    fraction = state.progress(job["creation"], job["duration"], moment)
    if fraction >= 1.0 and job.get("outcome") and job["outcome"]["state"] == "FAILED":
        job["state"] = "FAILED"
        job["status_message"] = job["outcome"]["message"]
        job["completion"] = moment
    elif fraction >= 1.0:
        partial = bool(job.get("outcome"))
        create_recovery_point(
            job["account"],
            job["region"],
            job["vault_name"],
            job["resource_arn"],
            job["creation"],
            job["size"],
            metadata=job["metadata"],
            completion=moment,
            iam_role_arn=job["iam_role_arn"],
            lifecycle=job["lifecycle"],
            tags=job["tags"],
            source_tags=job["source_tags"],
            arn=job["rp_arn"],  # promised by StartBackupJob
            status="PARTIAL" if partial else "COMPLETED",
        )
        job["state"] = "PARTIAL" if partial else "COMPLETED"
        if partial:
            job["status_message"] = job["outcome"]["message"]
        job["completion"] = moment
    elif fraction >= 0.1:
        job["state"] = "RUNNING"


def _backup_job_json(job: dict[str, Any]) -> dict[str, Any]:
    fraction = 1.0 if job["state"] in FINAL else state.progress(job["creation"], job["duration"], state.now())
    out: dict[str, Any] = {
        "AccountId": job["account"],
        "BackupJobId": job["id"],
        "BackupVaultName": job["vault_name"],
        "BackupVaultArn": job["vault_arn"],
        "RecoveryPointArn": job["rp_arn"],
        "ResourceArn": job["resource_arn"],
        "CreationDate": state.to_datetime(job["creation"]),
        "State": job["state"],
        "PercentDone": f"{fraction * 100:.1f}",
        "BackupSizeInBytes": job["size"],
        "BytesTransferred": int(job["size"] * fraction),
        "ResourceType": "EFS",
        "ResourceName": job["resource_name"],
        "IsParent": False,
        "InitiationDate": state.to_datetime(job["creation"]),
        "ExpectedCompletionDate": state.to_datetime(job["creation"] + job["duration"]),
        "VaultType": "BACKUP_VAULT",
    }
    if job["iam_role_arn"]:
        out["IamRoleArn"] = job["iam_role_arn"]
    if job["completion"] is not None:
        out["CompletionDate"] = state.to_datetime(job["completion"])
    if job["lifecycle"]:
        out["RecoveryPointLifecycle"] = job["lifecycle"]
    if job.get("status_message"):
        out["StatusMessage"] = job["status_message"]
    if job["state"] == "FAILED":
        out.pop("RecoveryPointArn", None)  # no point was made
    return out


def describe_backup_job(self: BackupResponse) -> ActionResult:
    p = params(self)
    job = _table(BACKUP_JOBS, self.current_account, self.region).get(p["BackupJobId"])
    if job is None:
        raise _not_found(f"Backup job {p['BackupJobId']} not found")
    return ActionResult(_backup_job_json(job))


def _filter_jobs(jobs: list[dict[str, Any]], p: dict[str, Any], state_key: str, state_param: str) -> list[dict[str, Any]]:
    if p.get(state_param):
        jobs = [j for j in jobs if j[state_key] == p[state_param]]
    if p.get("ByResourceArn"):
        jobs = [j for j in jobs if j["resource_arn"] == p["ByResourceArn"]]
    if p.get("ByCreatedAfter"):
        jobs = [j for j in jobs if j["creation"] >= p["ByCreatedAfter"].timestamp()]
    if p.get("ByCreatedBefore"):
        jobs = [j for j in jobs if j["creation"] <= p["ByCreatedBefore"].timestamp()]
    jobs.sort(key=lambda j: j["creation"], reverse=True)
    return jobs


def list_backup_jobs(self: BackupResponse) -> ActionResult:
    p = params(self)
    jobs = list(_table(BACKUP_JOBS, self.current_account, self.region).values())
    if p.get("ByBackupVaultName"):
        jobs = [j for j in jobs if j["vault_name"] == p["ByBackupVaultName"]]
    jobs = _filter_jobs(jobs, p, "state", "ByState")
    page, token = paginate(jobs, p.get("MaxResults"), p.get("NextToken"))
    result: dict[str, Any] = {"BackupJobs": [_backup_job_json(j) for j in page]}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


# --- restore jobs --------------------------------------------------------------------------


ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
RECOVERY_POINT_ARN = re.compile(r"^arn:aws[a-z-]*:backup:[a-z0-9-]+:\d{12}:recovery-point:[\w-]+$")
FS_ID = re.compile(r"^fs-[0-9a-f]{8,40}$")
# EFS CreateFileSystem's KmsKeyId (botocore's efs model)
KMS_KEY_ID = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|alias/[a-zA-Z0-9/_-]+|"
    r"(arn:aws[-a-z]*:kms:[a-z0-9-]+:\d{12}:((key/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})|"
    r"(key/mrk-[0-9a-f]{32})|(alias/[a-zA-Z0-9/_-]+))))$"
)
PERFORMANCE_MODES = ("generalPurpose", "maxIO")  # EFS PerformanceMode
MAX_METADATA_BYTES = 200 * 1024  # AWS Backup guide: "a 200 KB limit on the length of the restore metadata"


def _missing(message: str) -> Exception:
    return json_error("MissingParameterValueException", message)


def _boolean(metadata: dict[str, str], key: str) -> bool:
    value = str(metadata[key])
    if value.lower() not in ("true", "false"):
        raise _invalid(f"Metadata {key} must be true or false, not {value!r}")
    return value.lower() == "true"


def validate_efs_restore(p: dict[str, Any], rp: dict[str, Any]) -> dict[str, Any]:
    """Checks StartRestoreJob for an EFS recovery point as AWS does; returns the restore plan."""
    resource_type = p.get("ResourceType")
    if resource_type is not None and resource_type != rp["resource_type"]:
        raise _invalid(f"ResourceType {resource_type} does not match the recovery point's resource type {rp['resource_type']}")
    role = p.get("IamRoleArn")
    if not role:
        raise _missing("IamRoleArn is required: the role AWS Backup uses to create the restored file system")
    if not ROLE_ARN.match(str(role)):
        raise _invalid(f"IamRoleArn {role} is not the ARN of an IAM role (arn:aws:iam::<account>:role/<name>)")
    metadata = {str(k): str(v) for k, v in (p.get("Metadata") or {}).items()}
    if len(json.dumps(metadata).encode()) > MAX_METADATA_BYTES:
        raise _invalid("Restore metadata is longer than 200 KB")
    for key in ("file-system-id", "newFileSystem"):
        if key not in metadata:
            raise _missing(f"Metadata {key} is required to restore an Amazon EFS recovery point")
    if not FS_ID.match(metadata["file-system-id"]):
        raise _invalid(f"Metadata file-system-id {metadata['file-system-id']!r} is not an EFS file system id")
    new_file_system = _boolean(metadata, "newFileSystem")
    plan: dict[str, Any] = {"new_file_system": new_file_system, "file_system_id": metadata["file-system-id"]}
    if new_file_system:
        for key in ("CreationToken", "Encrypted", "PerformanceMode"):
            if key not in metadata:
                raise _missing(f"Metadata {key} is required to restore to a new Amazon EFS file system")
        token = metadata["CreationToken"]
        if not 1 <= len(token) <= 64:
            raise _invalid(f"Metadata CreationToken must be 1 to 64 characters long, not {len(token)}")
        if metadata["PerformanceMode"] not in PERFORMANCE_MODES:
            raise _invalid(
                f"Metadata PerformanceMode must be one of {list(PERFORMANCE_MODES)}, not {metadata['PerformanceMode']!r}"
            )
        encrypted = _boolean(metadata, "Encrypted")
        kms = metadata.get("KmsKeyId") or ""
        if kms and not encrypted:
            raise _invalid("Metadata KmsKeyId is specified, so Encrypted must be set to true")
        if kms and not KMS_KEY_ID.match(kms):
            raise _invalid(f"Metadata KmsKeyId {kms!r} is not a KMS key id, alias or ARN")
        plan.update(creation_token=token, encrypted=encrypted, kms_key_id=kms or None, performance_mode=metadata["PerformanceMode"])
    if "ItemsToRestore" in metadata:
        try:
            items = json.loads(metadata["ItemsToRestore"])
        except ValueError:
            items = None
        if (
            not isinstance(items, list)
            or not 1 <= len(items) <= 5
            or not all(isinstance(i, str) and i.startswith("/") for i in items)
        ):
            raise _invalid('Metadata ItemsToRestore must be a JSON array of one to five paths, e.g. ["/my.test"]')
        plan["items"] = items
    return plan


def start_restore_job(self: BackupResponse) -> ActionResult:
    p = params(self)
    account, region = self.current_account, self.region
    token = p.get("IdempotencyToken")
    request = {k: v for k, v in p.items() if k != "IdempotencyToken"}
    earlier = _check_idempotency(account, region, "StartRestoreJob", token, request)
    if earlier:
        return ActionResult({"RestoreJobId": earlier})
    rp_arn = p["RecoveryPointArn"]
    if not RECOVERY_POINT_ARN.match(str(rp_arn)):
        raise _invalid(f"RecoveryPointArn {rp_arn} is not a recovery point ARN")
    rp = _table(RECOVERY_POINTS, account, region).get(rp_arn)
    if rp is None:
        raise _not_found(f"Recovery point {rp_arn} not found in {region}")
    if rp["status"] != "COMPLETED":
        raise json_error(
            "InvalidRequestException", f"Recovery point {rp_arn} is {rp['status']}: only a COMPLETED recovery point can be restored"
        )
    plan = validate_efs_restore(p, rp)
    metadata = dict(p.get("Metadata") or {})
    size_gib = rp["size"] / GIB
    duration = state.DURATIONS["restore_base"] + state.DURATIONS["restore_per_gib"] * size_gib
    job_id = _job_id()
    job = {
        "id": job_id,
        "account": account,
        "region": region,
        "rp_arn": rp_arn,
        "rp_creation": rp["creation"],
        "source_resource_arn": rp["resource_arn"],
        "vault_arn": rp["vault_arn"],
        "iam_role_arn": p.get("IamRoleArn"),
        "metadata": metadata,
        "plan": plan,
        "copy_tags": bool(p.get("CopySourceTagsToRestoredResource")),
        "source_tags": rp["source_tags"],
        "size": rp["size"],
        "creation": state.now(),
        "duration": duration,
        "status": "PENDING",
        "status_message": None,
        "completion": None,
        "created_resource_arn": None,
        "outcome": _take_outcome("restore", region),
    }
    _table(RESTORE_JOBS, account, region)[job_id] = job
    _remember_token(account, region, "StartRestoreJob", token, request, job_id)
    return ActionResult({"RestoreJobId": job_id})


def _finish_restore(job: dict[str, Any], moment: float) -> None:
    """Creates (or checks) the EFS file system the restore targets, writes the restore
    directory into it, and sets the job's outcome."""
    account, region, plan = job["account"], job["region"], job["plan"]
    if job.get("outcome"):
        job["status"] = "FAILED"
        job["status_message"] = job["outcome"]["message"]
        return
    efs = backend("efs", account, region)
    if plan["new_file_system"]:
        token = plan["creation_token"]
        if token in efs.creation_tokens:
            token = f"{token[:55]}-{job['id'][:8].lower()}"
        tags = list(job["source_tags"]) if job["copy_tags"] else []
        fs = efs.create_file_system(
            creation_token=token,
            performance_mode=plan["performance_mode"],
            encrypted=plan["encrypted"],
            kms_key_id=plan["kms_key_id"] if plan["encrypted"] else None,
            throughput_mode=None,
            provisioned_throughput_in_mibps=None,
            availability_zone_name=None,
            backup=False,
            tags=tags,
        )
        fs._size_value = job["size"]
    else:
        fs = efs.file_systems_by_id.get(plan["file_system_id"])
        if fs is None:
            job["status"] = "FAILED"
            job["status_message"] = f"File system {plan['file_system_id']} does not exist in {region}"
            return
    ext_efs.record_restore(
        account,
        region,
        fs.file_system_id,
        recovery_point_arn=job["rp_arn"],
        source_file_system_id=job["source_resource_arn"].rsplit("/", 1)[-1],
        restore_job_id=job["id"],
        started=job["creation"],
        restored_at=moment,
        items=plan.get("items"),
    )
    job["created_resource_arn"] = fs.file_system_arn
    job["status"] = "COMPLETED"


def _advance_restore_job(job: dict[str, Any], moment: float) -> None:
    if job["status"] in ("COMPLETED", "FAILED", "ABORTED"):
        return
    fraction = state.progress(job["creation"], job["duration"], moment)
    if fraction >= 1.0:
        _finish_restore(job, moment)
        job["completion"] = moment
        rp = _table(RECOVERY_POINTS, job["account"], job["region"]).get(job["rp_arn"])
        if rp is not None and job["status"] == "COMPLETED":
            rp["last_restore"] = moment
    elif fraction >= 0.1:
        job["status"] = "RUNNING"


def _restore_job_json(job: dict[str, Any]) -> dict[str, Any]:
    done = job["status"] in ("COMPLETED", "FAILED")
    fraction = 1.0 if done else state.progress(job["creation"], job["duration"], state.now())
    out: dict[str, Any] = {
        "AccountId": job["account"],
        "RestoreJobId": job["id"],
        "RecoveryPointArn": job["rp_arn"],
        "SourceResourceArn": job["source_resource_arn"],
        "BackupVaultArn": job["vault_arn"],
        "CreationDate": state.to_datetime(job["creation"]),
        "Status": job["status"],
        "PercentDone": f"{fraction * 100:.1f}%",
        "BackupSizeInBytes": job["size"],
        "ExpectedCompletionTimeMinutes": max(1, math.ceil(job["duration"] / 60)),
        "ResourceType": "EFS",
        "RecoveryPointCreationDate": state.to_datetime(job["rp_creation"]),
        "IsParent": False,
    }
    if job["iam_role_arn"]:
        out["IamRoleArn"] = job["iam_role_arn"]
    if job["status_message"]:
        out["StatusMessage"] = job["status_message"]
    if job["completion"] is not None:
        out["CompletionDate"] = state.to_datetime(job["completion"])
    if job["created_resource_arn"]:
        out["CreatedResourceArn"] = job["created_resource_arn"]
    return out


def describe_restore_job(self: BackupResponse) -> ActionResult:
    p = params(self)
    job = _table(RESTORE_JOBS, self.current_account, self.region).get(p["RestoreJobId"])
    if job is None:
        raise _not_found(f"Restore job {p['RestoreJobId']} not found")
    return ActionResult(_restore_job_json(job))


def list_restore_jobs(self: BackupResponse) -> ActionResult:
    p = params(self)
    jobs = list(_table(RESTORE_JOBS, self.current_account, self.region).values())
    if p.get("ByResourceType"):
        jobs = [j for j in jobs if p["ByResourceType"] == "EFS"]
    jobs = _filter_jobs([dict(j, resource_arn=j["source_resource_arn"]) for j in jobs], p, "status", "ByStatus")
    page, token = paginate(jobs, p.get("MaxResults"), p.get("NextToken"))
    result: dict[str, Any] = {"RestoreJobs": [_restore_job_json(j) for j in page]}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


# --- copy jobs -----------------------------------------------------------------------------


def start_copy_job(self: BackupResponse) -> ActionResult:
    p = params(self)
    account, region = self.current_account, self.region
    token = p.get("IdempotencyToken")
    request = {k: v for k, v in p.items() if k != "IdempotencyToken"}
    earlier = _check_idempotency(account, region, "StartCopyJob", token, request)
    if earlier:
        job = _table(COPY_JOBS, account, region)[earlier]
        return ActionResult({"CopyJobId": job["id"], "CreationDate": state.to_datetime(job["creation"]), "IsParent": False})
    source_vault = _vault(account, region, p["SourceBackupVaultName"])
    rp = _find_rp(account, region, p["SourceBackupVaultName"], p["RecoveryPointArn"])
    if rp["status"] != "COMPLETED":
        raise json_error(
            "InvalidRequestException", f"Recovery point {rp['arn']} is {rp['status']}: only a COMPLETED recovery point can be copied"
        )
    dest_arn = p["DestinationBackupVaultArn"]
    dest = parse_arn(dest_arn)
    if dest["service"] != "backup" or not dest["resource"].startswith("backup-vault:"):
        raise _invalid(f"Invalid destination backup vault ARN {dest_arn}")
    dest_name = dest["resource"].split(":", 1)[1]
    _vault(dest["account"], dest["region"], dest_name)
    job_id = _job_id()
    job = {
        "id": job_id,
        "account": account,
        "region": region,
        "source_vault_arn": source_vault.backup_vault_arn,
        "source_rp_arn": rp["arn"],
        "dest_vault_arn": dest_arn,
        "dest_account": dest["account"],
        "dest_region": dest["region"],
        "dest_vault_name": dest_name,
        "dest_rp_arn": None,
        "resource_arn": rp["resource_arn"],
        "resource_name": rp["resource_name"],
        "size": rp["size"],
        "iam_role_arn": p.get("IamRoleArn"),
        "lifecycle": p.get("Lifecycle"),
        "creation": state.now(),
        "duration": state.DURATIONS["copy_job"],
        "state": "CREATED",
        "status_message": None,
        "completion": None,
        "outcome": _take_outcome("copy", region),
    }
    _table(COPY_JOBS, account, region)[job_id] = job
    _remember_token(account, region, "StartCopyJob", token, request, job_id)
    return ActionResult({"CopyJobId": job_id, "CreationDate": state.to_datetime(job["creation"]), "IsParent": False})


def copy_recovery_point(
    rp: dict[str, Any],
    dest_account: str,
    dest_region: str,
    dest_vault: str,
    completion: float,
    lifecycle: Any = None,
    status: str = "COMPLETED",
) -> dict[str, Any]:
    """The copy keeps the source's CreationDate (our assumption; see docs/sandbox.md)."""
    tags = backend("backup", rp["account"], rp["region"]).list_tags(rp["arn"])
    return create_recovery_point(
        dest_account,
        dest_region,
        dest_vault,
        rp["resource_arn"],
        rp["creation"],
        rp["size"],
        metadata=rp["metadata"],
        created_by=rp["created_by"],
        source_vault_arn=rp["vault_arn"],
        completion=completion,
        iam_role_arn=rp["iam_role_arn"],
        lifecycle=lifecycle or rp["lifecycle"],
        tags=tags,
        source_tags=rp["source_tags"],
        status=status,
    )


def _advance_copy_job(job: dict[str, Any], moment: float) -> None:
    if job["state"] in FINAL:
        return
    fraction = state.progress(job["creation"], job["duration"], moment)
    if fraction >= 1.0:
        rp = _table(RECOVERY_POINTS, job["account"], job["region"]).get(job["source_rp_arn"])
        if rp is None:
            job["state"] = "FAILED"
            job["status_message"] = "Source recovery point was deleted before the copy completed"
        elif job["dest_vault_name"] not in backend("backup", job["dest_account"], job["dest_region"]).vaults:
            job["state"] = "FAILED"
            job["status_message"] = f"Destination vault {job['dest_vault_arn']} does not exist"
        elif job.get("outcome") and job["outcome"]["state"] == "FAILED":
            job["state"] = "FAILED"
            job["status_message"] = job["outcome"]["message"]
        else:
            partial = bool(job.get("outcome"))
            copy = copy_recovery_point(
                rp,
                job["dest_account"],
                job["dest_region"],
                job["dest_vault_name"],
                moment,
                job["lifecycle"],
                status="PARTIAL" if partial else "COMPLETED",
            )
            job["dest_rp_arn"] = copy["arn"]
            job["state"] = "PARTIAL" if partial else "COMPLETED"
            if partial:
                job["status_message"] = job["outcome"]["message"]
        job["completion"] = moment
    elif fraction >= 0.1:
        job["state"] = "RUNNING"


def _copy_job_json(job: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "AccountId": job["account"],
        "CopyJobId": job["id"],
        "SourceBackupVaultArn": job["source_vault_arn"],
        "SourceRecoveryPointArn": job["source_rp_arn"],
        "DestinationBackupVaultArn": job["dest_vault_arn"],
        "ResourceArn": job["resource_arn"],
        "CreationDate": state.to_datetime(job["creation"]),
        "State": job["state"],
        "BackupSizeInBytes": job["size"],
        "ResourceType": "EFS",
        "ResourceName": job["resource_name"],
        "IsParent": False,
        "DestinationVaultType": "BACKUP_VAULT",
    }
    if job["iam_role_arn"]:
        out["IamRoleArn"] = job["iam_role_arn"]
    if job["dest_rp_arn"]:
        out["DestinationRecoveryPointArn"] = job["dest_rp_arn"]
    if job["status_message"]:
        out["StatusMessage"] = job["status_message"]
    if job["completion"] is not None:
        out["CompletionDate"] = state.to_datetime(job["completion"])
    return out


def describe_copy_job(self: BackupResponse) -> ActionResult:
    p = params(self)
    job = _table(COPY_JOBS, self.current_account, self.region).get(p["CopyJobId"])
    if job is None:
        raise _not_found(f"Copy job {p['CopyJobId']} not found")
    return ActionResult({"CopyJob": _copy_job_json(job)})


def list_copy_jobs(self: BackupResponse) -> ActionResult:
    p = params(self)
    jobs = list(_table(COPY_JOBS, self.current_account, self.region).values())
    if p.get("ByDestinationVaultArn"):
        jobs = [j for j in jobs if j["dest_vault_arn"] == p["ByDestinationVaultArn"]]
    if p.get("BySourceRecoveryPointArn"):
        jobs = [j for j in jobs if j["source_rp_arn"] == p["BySourceRecoveryPointArn"]]
    jobs = _filter_jobs(jobs, p, "state", "ByState")
    page, token = paginate(jobs, p.get("MaxResults"), p.get("NextToken"))
    result: dict[str, Any] = {"CopyJobs": [_copy_job_json(j) for j in page]}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def list_tags(self: BackupResponse) -> ActionResult:
    """Replaces moto's, which reads the ARN from the path and misses it without a trailing slash
    (the Rust SDK sends none); any ARN works, recovery points included."""
    p = params(self)
    return ActionResult({"Tags": self.backup_backend.list_tags(p["ResourceArn"])})


@state.on_tick
def _tick(moment: float) -> None:
    for jobs in list(BACKUP_JOBS.values()):
        for job in list(jobs.values()):
            _advance_backup_job(job, moment)
    for jobs in list(RESTORE_JOBS.values()):
        for job in list(jobs.values()):
            _advance_restore_job(job, moment)
    for jobs in list(COPY_JOBS.values()):
        for job in list(jobs.values()):
            _advance_copy_job(job, moment)


HANDLERS = [
    list_recovery_points_by_backup_vault,
    list_recovery_points_by_resource,
    describe_recovery_point,
    get_recovery_point_restore_metadata,
    delete_recovery_point,
    create_backup_selection,
    get_backup_selection,
    list_backup_selections,
    delete_backup_selection,
    start_backup_job,
    describe_backup_job,
    list_backup_jobs,
    start_restore_job,
    describe_restore_job,
    list_restore_jobs,
    start_copy_job,
    describe_copy_job,
    list_copy_jobs,
    list_tags,
]


def install() -> None:
    for handler in HANDLERS:
        setattr(BackupResponse, handler.__name__, handler)
    # NumberOfRecoveryPoints follows the points the extension keeps.
    contract.affects("backup", "DescribeBackupVault", "ListBackupVaults")
    # Every Backup path reaches moto's dispatcher, which picks the operation from botocore's
    # model; the catch-all keeps trailing slashes (`/recovery-points/`) and encoded ARNs.
    backup_urls.url_paths["{0}/.*$"] = backup_urls.response.dispatch
