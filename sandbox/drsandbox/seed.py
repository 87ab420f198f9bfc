"""The seed stack: the production stack of the seed document, in two regions.

Created in-process through moto's backends, with the exact ids and names that runbooks use.
Where moto would draw a random id that the runbooks name (subnets, security groups, the
Qdrant file system), the id is set directly; moto's random generator is seeded first so that
every other id is the same from one seed to the next.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from typing import Any

from moto.ec2.models import security_groups as ec2_security_groups
from moto.ec2.models import subnets as ec2_subnets
from moto.ec2.models import vpcs as ec2_vpcs
from moto.backends import get_backend
from moto.moto_api._internal import mock_random

from . import ext_arc, ext_backup, ext_ecr, ext_ecs, ext_efs, state
from .common import backend

ACCOUNT = state.ACCOUNT
PRIMARY = "us-east-1"
RECOVERY = "us-west-2"
RANDOM_SEED = 20240601

NETWORK = {
    PRIMARY: {
        "vpc_id": "vpc-0e10000000000000a",
        "subnets": [
            ("subnet-0e1a0000000000001", "us-east-1a", "10.0.3.0/24"),
            ("subnet-0e1b0000000000002", "us-east-1b", "10.0.4.0/24"),
        ],
        "efs_security_group": "sg-0e1e0000000000ef5",
    },
    RECOVERY: {
        "vpc_id": "vpc-0f20000000000000a",
        "subnets": [
            ("subnet-0f2a0000000000001", "us-west-2a", "10.0.3.0/24"),
            ("subnet-0f2b0000000000002", "us-west-2b", "10.0.4.0/24"),
        ],
        "efs_security_group": "sg-0f2e0000000000ef5",
    },
}

CLUSTER = ext_ecs.CLUSTER
# name, container port, cpu, memory, desired count in the primary region, image
SERVICES = [
    ("frontend", 3000, 512, 1024, 2, "ecr:prod-infra/frontend"),
    ("backend", 5001, 512, 1024, 2, "ecr:prod-infra/backend"),
    ("ai-service", 8000, 1024, 2048, 1, "ecr:prod-infra/ai-service"),
    ("redis", 6379, 256, 512, 1, "redis:7"),
    ("qdrant", 6333, 512, 1024, 1, "qdrant/qdrant:v1.7.4"),
]

QDRANT_FS_ID = "fs-0123456789abcdef0"
QDRANT_TOKEN = "prod-infra-qdrant"
QDRANT_SIZE = 2 * 1024**3

PRIMARY_VAULT = "prod-infra-backup"
DR_VAULT = "prod-infra-dr"
PLAN_NAME = "prod-infra-efs-hourly"
SELECTION_NAME = "prod-infra-qdrant"
BACKUP_ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole"
HISTORY_HOURS = 24
NEWEST_AGE_SECONDS = 17 * 60

REPOSITORIES = ["prod-infra/frontend", "prod-infra/backend", "prod-infra/ai-service"]
# tag, age in days of the push; "latest" goes on the newest image
IMAGE_TAGS = [("v1.0.0", 9), ("v1.1.0", 4), ("v1.2.0", 1)]

SECRETS = {
    "prod-infra/backend": {
        "MONGODB_URI": "mongodb+srv://sandbox:not-a-real-password@cluster0.example.invalid/prod",
        "API_KEY": "sandbox-fake-api-key-0000",
        "JWT_SECRET": "sandbox-fake-jwt-secret",
        "REDIS_URL": "redis://redis.prod-infra-production.local:6379",
    },
    "prod-infra/ai-service": {
        "GEMINI_API_KEY": "sandbox-fake-gemini-key",
        "ANTHROPIC_API_KEY": "sandbox-fake-anthropic-key",
        "WEBHOOK_SECRET": "sandbox-fake-webhook-secret",
        "QDRANT_URL": "http://qdrant.prod-infra-production.local:6333",
    },
}

ZONE_NAME = "prod-infra.example.com."
RECORD_NAME = "app.prod-infra.example.com."
TOPIC = "prod-infra-dr-alerts"


def qdrant_arn(account: str = ACCOUNT) -> str:
    return f"arn:aws:elasticfilesystem:{PRIMARY}:{account}:file-system/{QDRANT_FS_ID}"


@contextlib.contextmanager
def fixed_id(module: Any, name: str, value: str) -> Iterator[None]:
    """Makes moto's id generator `module.name` return `value` once, for one create call."""
    original = getattr(module, name)
    setattr(module, name, lambda: value)
    try:
        yield
    finally:
        setattr(module, name, original)


LAYER_MEDIA_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"
CONFIG_MEDIA_TYPE = "application/vnd.docker.container.image.v1+json"
MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def _layer(files: dict[str, str]) -> tuple[bytes, str]:
    """A real, small, reproducible layer: (tar.gz bytes, diff id = SHA-256 of the tar)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0) as gz:
        gz.write(tar_bytes)
    return packed.getvalue(), "sha256:" + hashlib.sha256(tar_bytes).hexdigest()


def image_for(repository: str, tag: str) -> dict[str, Any]:
    """A Docker schema-2 image of `repository` at `tag`: its blobs and its manifest.

    Three layers, as a build would make them: a base layer every image shares, a runtime
    layer per repository, an application layer per tag; and a config naming their diff ids.
    The same repository and tag always give the same bytes, hence the same digests.
    """
    service = repository.split("/")[-1]
    layers = [
        _layer({"etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'}),
        _layer({f"opt/{service}/runtime.txt": f"runtime of {repository}\n"}),
        _layer({f"opt/{service}/VERSION": f"{repository} {tag}\n"}),
    ]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": [f"SERVICE={service}", f"VERSION={tag}"], "Cmd": [f"/opt/{service}/start"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id for _, diff_id in layers]},
            "history": [{"created_by": f"sandbox seed: {repository}:{tag} layer {i}"} for i in range(len(layers))],
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()

    def ref(data: bytes, media_type: str) -> dict[str, Any]:
        return {"mediaType": media_type, "size": len(data), "digest": "sha256:" + hashlib.sha256(data).hexdigest()}

    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": ref(config, CONFIG_MEDIA_TYPE),
        "layers": [ref(data, LAYER_MEDIA_TYPE) for data, _ in layers],
    }
    return {
        "manifest": json.dumps(manifest, indent=3),
        "blobs": [(config, CONFIG_MEDIA_TYPE)] + [(data, LAYER_MEDIA_TYPE) for data, _ in layers],
    }


def _network(region: str) -> dict[str, Any]:
    spec = NETWORK[region]
    ec2 = backend("ec2", ACCOUNT, region)
    with fixed_id(ec2_vpcs, "random_vpc_id", spec["vpc_id"]):
        vpc = ec2.create_vpc("10.0.0.0/16", tags=[{"Key": "Name", "Value": f"prod-infra-{region}"}])
    subnets = []
    for subnet_id, zone, cidr in spec["subnets"]:
        with fixed_id(ec2_subnets, "random_subnet_id", subnet_id):
            ec2.create_subnet(vpc.id, cidr, availability_zone=zone)
        subnets.append({"subnet_id": subnet_id, "availability_zone": zone, "cidr": cidr})
    with fixed_id(ec2_security_groups, "random_security_group_id", spec["efs_security_group"]):
        ec2.create_security_group("prod-infra-efs-sg", "EFS: NFS 2049 from the ECS security group", vpc_id=vpc.id)
    return {"vpc_id": vpc.id, "cidr": "10.0.0.0/16", "private_subnets": subnets, "efs_security_group": spec["efs_security_group"]}


def _ecs(region: str) -> dict[str, Any]:
    ecs = backend("ecs", ACCOUNT, region)
    cluster = ecs.create_cluster(CLUSTER)
    services = {}
    for name, port, cpu, memory, desired, image in SERVICES:
        if image.startswith("ecr:"):
            image = f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{image[4:]}:v1.2.0"
        task_definition = ecs.register_task_definition(
            family=f"prod-infra-{name}",
            container_definitions=[
                {
                    "name": name,
                    "image": image,
                    "cpu": cpu,
                    "memory": memory,
                    "essential": True,
                    "portMappings": [{"containerPort": port, "hostPort": 0, "protocol": "tcp"}],
                }
            ],
            network_mode="bridge",
            requires_compatibilities=["EC2"],
        )
        service = ecs.create_service(
            CLUSTER,
            name,
            desired if region == PRIMARY else 0,
            task_definition_str=task_definition.arn,
            launch_type="EC2",
        )
        ext_ecs.settle(ecs, service)
        services[name] = {
            "service_arn": service.arn,
            "task_definition": task_definition.arn,
            "port": port,
            "desired_count": service.desired_count,
        }
    return {"cluster_arn": cluster.arn, "services": services}


def _efs() -> dict[str, Any]:
    efs = backend("efs", ACCOUNT, PRIMARY)
    fs = efs.create_file_system(
        creation_token=QDRANT_TOKEN,
        performance_mode="generalPurpose",
        encrypted=True,
        kms_key_id=None,
        throughput_mode="bursting",
        provisioned_throughput_in_mibps=None,
        availability_zone_name=None,
        backup=True,
        tags=[],
    )
    # Give it the id the runbooks use (moto draws a random one).
    del efs.file_systems_by_id[fs.file_system_id]
    fs.file_system_id = QDRANT_FS_ID
    fs.file_system_arn = qdrant_arn()
    fs._size_value = QDRANT_SIZE
    efs.file_systems_by_id[QDRANT_FS_ID] = fs
    efs.tagging_service.tag_resource(QDRANT_FS_ID, [{"Key": "Name", "Value": QDRANT_TOKEN}])
    ext_efs.mark_live(ACCOUNT, PRIMARY, QDRANT_FS_ID)  # production: the live Qdrant index
    mount_targets = []
    for subnet_id, _zone, _cidr in NETWORK[PRIMARY]["subnets"]:
        mt = efs.create_mount_target(QDRANT_FS_ID, subnet_id, security_groups=[NETWORK[PRIMARY]["efs_security_group"]])
        mount_targets.append({"mount_target_id": mt.mount_target_id, "subnet_id": subnet_id, "ip_address": mt.ip_address})
    return {
        "file_system_id": QDRANT_FS_ID,
        "file_system_arn": fs.file_system_arn,
        "creation_token": QDRANT_TOKEN,
        "region": PRIMARY,
        "size_bytes": QDRANT_SIZE,
        "mount_targets": mount_targets,
    }


def _backup() -> dict[str, Any]:
    primary = backend("backup", ACCOUNT, PRIMARY)
    dr = backend("backup", ACCOUNT, RECOVERY)
    primary_vault = primary.create_backup_vault(PRIMARY_VAULT, {}, None, None)
    dr_vault = dr.create_backup_vault(DR_VAULT, {}, None, None)
    plan = primary.create_backup_plan(
        backup_plan={
            "BackupPlanName": PLAN_NAME,
            "Rules": [
                {
                    "RuleName": "hourly",
                    "TargetBackupVaultName": PRIMARY_VAULT,
                    "ScheduleExpression": "cron(0 * ? * * *)",
                    "StartWindowMinutes": 60,
                    "CompletionWindowMinutes": 120,
                    "Lifecycle": {"DeleteAfterDays": 35},
                    "CopyActions": [
                        {"DestinationBackupVaultArn": dr_vault.backup_vault_arn, "Lifecycle": {"DeleteAfterDays": 35}}
                    ],
                }
            ],
        },
        backup_plan_tags={},
        creator_request_id=None,
    )
    rule = plan.backup_plan["Rules"][0]
    selection = ext_backup._store_selection(
        ACCOUNT,
        PRIMARY,
        plan.backup_plan_id,
        {"SelectionName": SELECTION_NAME, "IamRoleArn": BACKUP_ROLE, "Resources": [qdrant_arn()]},
        None,
    )
    created_by = {
        "BackupPlanId": plan.backup_plan_id,
        "BackupPlanArn": plan.backup_plan_arn,
        "BackupPlanVersion": plan.version_id,
        "BackupRuleId": rule["RuleId"],
        "BackupRuleName": "hourly",
        "BackupRuleCron": rule["ScheduleExpression"],
        "BackupRuleTimezone": "Etc/UTC",
    }
    fs = backend("efs", ACCOUNT, PRIMARY).file_systems_by_id[QDRANT_FS_ID]
    metadata = ext_backup.efs_restore_metadata(fs)
    source_tags = [{"Key": "Name", "Value": QDRANT_TOKEN}]
    now = state.now()
    primary_points, dr_points = [], []
    for hour in range(HISTORY_HOURS):
        creation = now - NEWEST_AGE_SECONDS - hour * 3600
        size = QDRANT_SIZE - hour * 7 * 1024**2  # the index grows a little every hour
        rp = ext_backup.create_recovery_point(
            ACCOUNT,
            PRIMARY,
            PRIMARY_VAULT,
            qdrant_arn(),
            creation,
            size,
            metadata=metadata,
            created_by=created_by,
            completion=creation + 240,
            iam_role_arn=BACKUP_ROLE,
            lifecycle={"DeleteAfterDays": 35},
            source_tags=source_tags,
        )
        copy = ext_backup.copy_recovery_point(rp, ACCOUNT, RECOVERY, DR_VAULT, min(creation + 900, now - 60))
        primary_points.append(ext_backup.rp_summary(rp))
        dr_points.append(dict(ext_backup.rp_summary(copy), source_recovery_point_arn=rp["arn"]))
    return {
        "vaults": {
            PRIMARY: {"name": PRIMARY_VAULT, "arn": primary_vault.backup_vault_arn},
            RECOVERY: {"name": DR_VAULT, "arn": dr_vault.backup_vault_arn},
        },
        "plan": {"name": PLAN_NAME, "id": plan.backup_plan_id, "arn": plan.backup_plan_arn, "rule_id": rule["RuleId"]},
        "selection": {"name": SELECTION_NAME, "id": selection["SelectionId"]},
        "recovery_points": {PRIMARY_VAULT: primary_points, DR_VAULT: dr_points},
    }


def seed_images() -> dict[str, Any]:
    """ECR: the repositories in both regions, each image pushed with its blobs, replicated."""
    now = state.now()
    source = backend("ecr", ACCOUNT, PRIMARY)
    backend("ecr", ACCOUNT, RECOVERY)
    repos: dict[str, Any] = {}
    for repository in REPOSITORIES:
        repo = source.create_repository(repository, None, None, None, None, [])
        images = []
        for index, (tag, age_days) in enumerate(IMAGE_TAGS):
            built = image_for(repository, tag)
            for data, media_type in built["blobs"]:
                ext_ecr.store_blob(repo, data, media_type)
            manifest = built["manifest"]
            image = source.put_image(repository, manifest, tag, None)
            image.image_pushed_at = int(now - age_days * 86400)
            tags = [tag]
            if index == len(IMAGE_TAGS) - 1:
                source.put_image(repository, manifest, "latest", None)
                tags.append("latest")
            copy = None
            for copy_tag in tags:  # as replication copies it: blobs, then the manifest
                copy = ext_ecr.copy_image(ACCOUNT, RECOVERY, repository, manifest, None, copy_tag, source=repo)
            assert copy is not None
            copy.image_pushed_at = image.image_pushed_at + 60
            ext_ecr.mark_replicated(ACCOUNT, PRIMARY, repository, image.get_image_digest(), RECOVERY)
            images.append(
                {
                    "tags": tags,
                    "digest": image.get_image_digest(),
                    "pushed_at": state.rfc3339(image.image_pushed_at),
                    "layers": [layer["digest"] for layer in json.loads(manifest)["layers"]],
                    "config": json.loads(manifest)["config"]["digest"],
                }
            )
        repos[repository] = {"uri": repo.uri, "images": images}
    source.put_replication_configuration(
        {
            "rules": [
                {
                    "destinations": [{"region": RECOVERY, "registryId": ACCOUNT}],
                    "repositoryFilters": [{"filter": "prod-infra/", "filterType": "PREFIX_MATCH"}],
                }
            ]
        }
    )
    return {"region": PRIMARY, "replicated_to": RECOVERY, "repositories": repos}


def _secrets() -> dict[str, Any]:
    sm = backend("secretsmanager", ACCOUNT, PRIMARY)
    out = {}
    for name, value in SECRETS.items():
        sm.create_secret(
            name=name,
            secret_string=json.dumps(value),
            secret_binary=None,
            description=f"{name} runtime configuration (fake values)",
            tags=[{"Key": "Project", "Value": "prod-infra"}],
            kms_key_id=None,
            client_request_token=None,
            replica_regions=[{"Region": RECOVERY}],
            force_overwrite=False,
        )
        secret = sm.secrets[name]
        replica = backend("secretsmanager", ACCOUNT, RECOVERY).secrets[name]
        out[name] = {
            "arn": secret.arn,
            "replica_arn": replica.arn,
            "version_id": secret.default_version_id,
            "keys": sorted(value),
        }
    return out


def _route53() -> dict[str, Any]:
    r53 = backend("route53", ACCOUNT, "aws")
    zone = r53.create_hosted_zone(ZONE_NAME, private_zone=False, caller_reference="prod-infra-zone", comment="prod-infra public zone")
    checks = {}
    for role, region, fqdn in (
        ("primary", PRIMARY, "primary.prod-infra.example.com"),
        ("secondary", RECOVERY, "secondary.prod-infra.example.com"),
    ):
        check = r53.create_health_check(
            f"prod-infra-{role}",
            {
                "type": "HTTPS",
                "fqdn": fqdn,
                "port": 443,
                "resource_path": "/health",
                "request_interval": 30,
                "failure_threshold": 3,
                "enable_sni": True,
            },
        )
        checks[role] = {"id": check.id, "fqdn": fqdn, "region": region}
    records = [
        ("PRIMARY", "primary-us-east-1", "10.0.1.10", checks["primary"]["id"]),
        ("SECONDARY", "secondary-us-west-2", "10.1.1.10", checks["secondary"]["id"]),
    ]
    r53.change_resource_record_sets(
        zone.id,
        [
            {
                "Action": "CREATE",
                "ResourceRecordSet": {
                    "Name": RECORD_NAME,
                    "Type": "A",
                    "TTL": 60,
                    "SetIdentifier": set_id,
                    "Failover": failover,
                    "HealthCheckId": check_id,
                    "ResourceRecords": [{"Value": ip}],
                },
            }
            for failover, set_id, ip, check_id in records
        ],
    )
    return {
        "hosted_zone_id": zone.id.split("/")[-1],
        "zone_name": ZONE_NAME,
        "record": RECORD_NAME,
        "records": [
            {"failover": f, "set_identifier": s, "value": ip, "ttl": 60, "health_check_id": c} for f, s, ip, c in records
        ],
        "health_checks": checks,
    }


def _sns() -> dict[str, Any]:
    return {region: backend("sns", ACCOUNT, region).create_topic(TOPIC).arn for region in (PRIMARY, RECOVERY)}


def _existing(service: str, region: str) -> Any:
    """moto's backend if it exists, without creating it: creating one draws from moto's
    random generator, and the seed's ids depend on what it draws after it is seeded."""
    accounts = dict.get(get_backend(service), ACCOUNT)  # type: ignore[call-overload]
    return None if accounts is None else dict.get(accounts, region)


def already_seeded() -> list[str]:
    """What of the seed stack exists already (empty: seeding is safe). Seeding twice would
    collide on the fixed ids (the VPCs' subnets first), so the control API refuses it."""
    found = []
    for region, spec in NETWORK.items():
        ec2 = _existing("ec2", region)
        if ec2 is not None and spec["vpc_id"] in ec2.vpcs:
            found.append(f"VPC {spec['vpc_id']} ({region})")
    efs = _existing("efs", PRIMARY)
    if efs is not None and QDRANT_FS_ID in efs.file_systems_by_id:
        found.append(f"file system {QDRANT_FS_ID}")
    ecr = _existing("ecr", PRIMARY)
    found += [f"repository {r}" for r in REPOSITORIES if ecr is not None and r in ecr.repositories]
    sm = _existing("secretsmanager", PRIMARY)
    found += [f"secret {name}" for name in SECRETS if sm is not None and name in sm.secrets]
    vaults = _existing("backup", PRIMARY)
    if vaults is not None and PRIMARY_VAULT in vaults.vaults:
        found.append(f"vault {PRIMARY_VAULT}")
    return found


def seed() -> dict[str, Any]:
    """Creates the whole stack (call after a reset) and returns what it created."""
    mock_random.seed(RANDOM_SEED)
    network = {region: _network(region) for region in (PRIMARY, RECOVERY)}
    efs = _efs()
    summary = {
        "account": ACCOUNT,
        "primary_region": PRIMARY,
        "recovery_region": RECOVERY,
        "network": network,
        "efs": {"qdrant": efs},
        "ecs": {"cluster": CLUSTER, PRIMARY: _ecs(PRIMARY), RECOVERY: _ecs(RECOVERY)},
        "backup": _backup(),
        "ecr": seed_images(),
        "secrets": _secrets(),
        "route53": _route53(),
        "sns": {"topic": TOPIC, "arns": _sns()},
        "arc": ext_arc.seed_arc(),
        "seeded_at": state.rfc3339(state.now()),
    }
    return summary
