"""Exercises every operation the extension adds or changes and checks each answer against
botocore's output shapes (`drsandbox.contract`): `python -m drsandbox.contract_check`.

1. A self-test proves the checker catches what it must: an invented member, a missing
   required member, a wrong type, a value outside an enum, an undeclared error code (JSON
   and XML), and lets a right answer through.
2. A sandbox is started in this process on 127.0.0.1 (a free port) in strict mode, reset
   and seeded, and driven with boto3 (the pinned botocore parses every answer too):
   `SCENARIO` makes the calls that need arguments, refusals included (an error answer must
   carry a code the operation declares); every enumerated operation whose input has no
   required member and is not one `SCENARIO` calls is then called with no arguments in
   both seed regions.
3. It fails (exit 1) on any violation, and on any enumerated operation that no call
   reached: a new extension operation needs a call in `SCENARIO` (or a read-only form
   without arguments), it cannot be left unchecked.

The last line of stdout is a JSON summary; tests/sandbox_contract.rs runs this module.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

os.environ["SANDBOX_CONTRACT"] = "strict"
os.environ.setdefault("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "contract-check")

PRIMARY, RECOVERY = "us-east-1", "us-west-2"
ROLE = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"
QDRANT_ARN = "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0"


# --- 1. the checker's own test -----------------------------------------------------------


def selftest() -> list[str]:
    """Failures of the checker (empty: it catches every kind of violation it claims to)."""
    from . import contract

    failures = []

    def expect(what: str, problems: list[str], needle: str | None) -> None:
        if needle is None and problems:
            failures.append(f"{what}: a right answer was flagged: {problems}")
        elif needle is not None and not any(needle in p for p in problems):
            failures.append(f"{what}: expected a problem mentioning {needle!r}, got {problems}")

    good = {
        "repositoryName": "r",
        "imageId": {"imageDigest": "sha256:" + "0" * 64},
        "replicationStatuses": [{"region": "us-west-2", "registryId": "123456789012", "status": "COMPLETE"}],
    }
    check = contract.check
    expect("right JSON answer", check("ecr", "DescribeImageReplicationStatus", 200, {}, json.dumps(good)), None)
    expect(
        "invented member",
        check("ecr", "BatchCheckLayerAvailability", 200, {}, json.dumps({"layers": [{"layerDigest": "d", "color": 1}]})),
        "member not in the Layer shape",
    )
    expect("wrong type", check("ecr", "BatchCheckLayerAvailability", 200, {}, json.dumps({"layers": "none"})), "where the shape is a list")
    bad_enum = dict(good, replicationStatuses=[{"region": "us-west-2", "status": "DONE"}])
    expect("enum", check("ecr", "DescribeImageReplicationStatus", 200, {}, json.dumps(bad_enum)), "is not one of")
    expect(
        "timestamp type",
        check("backup", "StartBackupJob", 200, {}, json.dumps({"BackupJobId": "j", "CreationDate": "yesterday"})),
        "is not epoch seconds",
    )
    expect(
        "required member (rest-json)",
        check("efs", "DescribeReplicationConfigurations", 200, {}, json.dumps({"Replications": [{"SourceFileSystemId": "fs-1"}]})),
        "required member of ReplicationConfigurationDescription missing",
    )
    xml_ok = (
        '<GetChangeResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeInfo><Id>/change/C1</Id>'
        "<Status>INSYNC</Status><SubmittedAt>2024-01-01T00:00:00.000Z</SubmittedAt></ChangeInfo></GetChangeResponse>"
    )
    expect("right XML answer", check("route53", "GetChange", 200, {}, xml_ok), None)
    expect("XML enum", check("route53", "GetChange", 200, {}, xml_ok.replace("INSYNC", "DONE")), "is not one of")
    expect(
        "XML invented member",
        check("route53", "GetChange", 200, {}, xml_ok.replace("<Status>", "<Color>red</Color><Status>")),
        "member not in the ChangeInfo shape",
    )
    expect(
        "XML required member",
        check("route53", "GetChange", 200, {}, xml_ok.replace("<Id>/change/C1</Id>", "")),
        "required member of ChangeInfo missing",
    )
    expect("undeclared error", check("ecr", "PutImage", 400, {}, json.dumps({"__type": "LayersMissing"})), "is not one PutImage declares")
    expect("declared error", check("ecr", "PutImage", 400, {}, json.dumps({"__type": "LayersNotFoundException"})), None)
    expect(
        "undeclared error (rest-json header)",
        check("backup", "StartRestoreJob", 400, {"x-amzn-ErrorType": "BadMetadata"}, "{}"),
        "is not one StartRestoreJob declares",
    )
    return failures


# --- 2. a sandbox in this process -----------------------------------------------------------


class Sandbox:
    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        from . import patches, state
        from .app import SandboxApp

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        patches.install()
        app = SandboxApp(DomainDispatcherApplication(create_backend_app))
        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
        self.port = self.server.server_address[1]
        os.environ["MOTO_PORT"] = str(self.port)
        threading.Thread(target=self.server.serve_forever, name="contract-sandbox", daemon=True).start()
        state.start_ticker()

    def client(self, service: str, region: str = PRIMARY) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            service,
            region_name=region,
            endpoint_url=f"http://127.0.0.1:{self.port}",
            config=Config(retries={"total_max_attempts": 1}),
        )

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/_sandbox{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
            return json.loads(raw) if response.headers.get("Content-Type") == "application/json" else raw


def refused(call: Callable[[], Any], code: str) -> None:
    """The call must fail with `code` (the checker has checked the error answer itself)."""
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as err:
        got = err.response.get("Error", {}).get("Code")
        if got != code:
            raise AssertionError(f"expected {code}, got {got}: {err}") from None
        return
    raise AssertionError(f"expected {code}, the call succeeded")


def wait_for(what: str, check: Callable[[], Any], within: float = 20.0) -> Any:
    deadline = time.time() + within
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# --- the scenario: calls that need arguments ----------------------------------------------


def scenario_backup(sb: Sandbox, seed: dict[str, Any]) -> None:
    east, west = sb.client("backup", PRIMARY), sb.client("backup", RECOVERY)
    sb.control("POST", "/durations", {"backup_job": 0.2, "copy_job": 0.2, "restore_base": 0.2, "restore_per_gib": 0.0})
    east.list_backup_vaults()
    east.describe_backup_vault(BackupVaultName="prod-infra-backup")
    points = east.list_recovery_points_by_backup_vault(BackupVaultName="prod-infra-backup", MaxResults=2)["RecoveryPoints"]
    east.list_recovery_points_by_resource(ResourceArn=QDRANT_ARN)
    east.describe_recovery_point(BackupVaultName="prod-infra-backup", RecoveryPointArn=points[0]["RecoveryPointArn"])
    east.list_tags(ResourceArn=points[0]["RecoveryPointArn"])
    dr_point = seed["backup"]["recovery_points"]["prod-infra-dr"][0]["recovery_point_arn"]
    metadata = west.get_recovery_point_restore_metadata(BackupVaultName="prod-infra-dr", RecoveryPointArn=dr_point)[
        "RestoreMetadata"
    ]
    plan_id = seed["backup"]["plan"]["id"]
    selection = east.create_backup_selection(
        BackupPlanId=plan_id, BackupSelection={"SelectionName": "contract", "IamRoleArn": ROLE, "Resources": [QDRANT_ARN]}
    )
    east.get_backup_selection(BackupPlanId=plan_id, SelectionId=selection["SelectionId"])
    east.list_backup_selections(BackupPlanId=plan_id)
    east.delete_backup_selection(BackupPlanId=plan_id, SelectionId=selection["SelectionId"])

    # Backup, copy and restore jobs: plain, then PARTIAL and FAILED as the control API asks.
    sb.control("POST", "/backup/next-job-outcome", {"job": "backup", "state": "PARTIAL"})
    jobs = [
        east.start_backup_job(BackupVaultName="prod-infra-backup", ResourceArn=QDRANT_ARN, IamRoleArn=ROLE)["BackupJobId"]
        for _ in range(2)
    ]
    for job in jobs:
        wait_for("the backup job", lambda job=job: east.describe_backup_job(BackupJobId=job)["State"] in ("COMPLETED", "PARTIAL"))
    east.list_backup_jobs()
    copy_args = {
        "SourceBackupVaultName": "prod-infra-backup",
        "DestinationBackupVaultArn": seed["backup"]["vaults"][RECOVERY]["arn"],
        "IamRoleArn": ROLE,
    }
    sb.control("POST", "/backup/next-job-outcome", {"job": "copy", "state": "FAILED"})
    copies = [east.start_copy_job(RecoveryPointArn=points[0]["RecoveryPointArn"], **copy_args)["CopyJobId"] for _ in range(2)]
    for job in copies:
        wait_for("the copy job", lambda job=job: east.describe_copy_job(CopyJobId=job)["CopyJob"]["State"] in ("COMPLETED", "FAILED"))
    east.list_copy_jobs()
    good = dict(metadata, newFileSystem="true", CreationToken="contract-restore")
    restore = west.start_restore_job(RecoveryPointArn=dr_point, Metadata=good, IamRoleArn=ROLE, ResourceType="EFS")
    wait_for("the restore job", lambda: west.describe_restore_job(RestoreJobId=restore["RestoreJobId"])["Status"] == "COMPLETED")
    west.list_restore_jobs()
    refused(lambda: west.start_restore_job(RecoveryPointArn=dr_point, Metadata=dict(good, CreationToken="x" * 65), IamRoleArn=ROLE),
            "InvalidParameterValueException")
    refused(lambda: west.start_restore_job(RecoveryPointArn=dr_point, Metadata={"file-system-id": "fs-0123456789abcdef0"}, IamRoleArn=ROLE),
            "MissingParameterValueException")
    east.delete_recovery_point(BackupVaultName="prod-infra-backup", RecoveryPointArn=points[-1]["RecoveryPointArn"])


def scenario_efs(sb: Sandbox, seed: dict[str, Any]) -> None:
    east, west = sb.client("efs", PRIMARY), sb.client("efs", RECOVERY)
    sb.control("POST", "/durations", {"efs_replication_enable": 0.1, "efs_replication_delete": 0.1})
    fs_id = seed["efs"]["qdrant"]["file_system_id"]
    created = west.create_file_system(CreationToken="contract-empty", Encrypted=True)
    east.describe_file_systems()
    east.describe_backup_policy(FileSystemId=fs_id)
    east.put_backup_policy(FileSystemId=fs_id, BackupPolicy={"Status": "ENABLED"})
    west.update_file_system_protection(FileSystemId=created["FileSystemId"], ReplicationOverwriteProtection="DISABLED")
    east.create_replication_configuration(
        SourceFileSystemId=fs_id, Destinations=[{"Region": RECOVERY, "FileSystemId": created["FileSystemId"]}]
    )
    east.describe_replication_configurations(FileSystemId=fs_id)
    east.delete_replication_configuration(SourceFileSystemId=fs_id)


def scenario_secrets(sb: Sandbox, seed: dict[str, Any]) -> None:
    east, west = sb.client("secretsmanager", PRIMARY), sb.client("secretsmanager", RECOVERY)
    sb.control("POST", "/secrets/lag", {"secret_id": "prod-infra/backend", "region": RECOVERY, "new_secret_string": "{}"})
    for client in (east, west):
        client.describe_secret(SecretId="prod-infra/backend")
        client.list_secret_version_ids(SecretId="prod-infra/backend", IncludeDeprecated=True, MaxResults=1)
        client.get_secret_value(SecretId="prod-infra/backend")
        client.list_secrets()
    east.create_secret(Name="contract/replicated", SecretString="{}")
    east.replicate_secret_to_regions(SecretId="contract/replicated", AddReplicaRegions=[{"Region": RECOVERY}])
    east.remove_regions_from_replication(SecretId="contract/replicated", RemoveReplicaRegions=[RECOVERY])
    west.stop_replication_to_replica(SecretId="prod-infra/ai-service")


def scenario_ecr(sb: Sandbox, seed: dict[str, Any]) -> None:
    east, west = sb.client("ecr", PRIMARY), sb.client("ecr", RECOVERY)
    repo = "prod-infra/backend"
    image = seed["ecr"]["repositories"][repo]["images"][-1]
    east.describe_images(repositoryName=repo)
    east.list_images(repositoryName=repo)
    east.describe_image_replication_status(repositoryName=repo, imageId={"imageDigest": image["digest"]})
    got = east.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1.2.0"}, {"imageTag": "missing"}])
    manifest = got["images"][0]["imageManifest"]
    west.batch_check_layer_availability(repositoryName=repo, layerDigests=image["layers"] + ["sha256:" + "0" * 64])
    url = west.get_download_url_for_layer(repositoryName=repo, layerDigest=image["layers"][0])["downloadUrl"]
    with urllib.request.urlopen(url) as response:
        if "sha256:" + hashlib.sha256(response.read()).hexdigest() != image["layers"][0]:
            raise AssertionError("the download URL serves other bytes than the layer")
    blob = b"contract layer"
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    upload = east.initiate_layer_upload(repositoryName=repo)["uploadId"]
    east.upload_layer_part(repositoryName=repo, uploadId=upload, partFirstByte=0, partLastByte=len(blob) - 1, layerPartBlob=blob)
    east.complete_layer_upload(repositoryName=repo, uploadId=upload, layerDigests=[digest])
    refused(lambda: west.get_download_url_for_layer(repositoryName=repo, layerDigest=digest), "LayersNotFoundException")
    refused(lambda: east.get_download_url_for_layer(repositoryName=repo, layerDigest=digest), "LayerInaccessibleException")
    changed = json.loads(manifest)
    changed["layers"].append({"mediaType": changed["layers"][0]["mediaType"], "size": len(blob), "digest": digest})
    text = json.dumps(changed, indent=3)
    refused(lambda: west.put_image(repositoryName=repo, imageManifest=text, imageTag="contract"), "LayersNotFoundException")
    east.put_image(repositoryName=repo, imageManifest=text, imageTag="contract")
    east.batch_delete_image(repositoryName=repo, imageIds=[{"imageTag": "contract"}])


def scenario_route53(sb: Sandbox, seed: dict[str, Any]) -> None:
    r53 = sb.client("route53", PRIMARY)
    zone = seed["route53"]["hosted_zone_id"]
    change = r53.change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {"Name": "contract.prod-infra.example.com.", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "10.9.9.9"}]},
                }
            ]
        },
    )
    r53.get_change(Id=change["ChangeInfo"]["Id"])
    r53.get_health_check_status(HealthCheckId=seed["route53"]["health_checks"]["primary"]["id"])
    created = r53.create_hosted_zone(Name="contract.example.", CallerReference=f"contract-{time.time()}")
    r53.delete_hosted_zone(Id=created["HostedZone"]["Id"])


def scenario_ecs(sb: Sandbox, seed: dict[str, Any]) -> None:
    west = sb.client("ecs", RECOVERY)
    cluster = seed["ecs"]["cluster"]
    backend_service = seed["ecs"][RECOVERY]["services"]["backend"]
    west.update_service(cluster=cluster, service="backend", desiredCount=1)
    west.describe_services(cluster=cluster, services=["backend"])
    west.create_service(cluster=cluster, serviceName="contract", taskDefinition=backend_service["task_definition"], desiredCount=0)


def scenario_arc(sb: Sandbox, seed: dict[str, Any]) -> None:
    cfg = sb.client("route53-recovery-control-config", RECOVERY)
    arc = seed["arc"]
    cluster_arn, panel_arn = arc["cluster_arn"], arc["control_panel_arn"]
    control_arn = next(iter(arc["routing_controls"].values()))["arn"]
    rule_arn = next(iter(arc["safety_rules"].values()))
    cfg.describe_cluster(ClusterArn=cluster_arn)
    cfg.describe_control_panel(ControlPanelArn=panel_arn)
    cfg.describe_routing_control(RoutingControlArn=control_arn)
    cfg.describe_safety_rule(SafetyRuleArn=rule_arn)
    cfg.list_routing_controls(ControlPanelArn=panel_arn)
    cfg.list_safety_rules(ControlPanelArn=panel_arn)
    cfg.list_associated_route53_health_checks(RoutingControlArn=control_arn)
    cfg.tag_resource(ResourceArn=cluster_arn, Tags={"team": "dr"})
    cfg.list_tags_for_resource(ResourceArn=cluster_arn)
    cfg.untag_resource(ResourceArn=cluster_arn, TagKeys=["team"])
    refused(lambda: cfg.describe_cluster(ClusterArn=cluster_arn + "-missing"), "ResourceNotFoundException")
    # A second cluster, built and torn down: every create and delete answers in shape.
    made = cfg.create_cluster(ClusterName="contract", ClientToken="contract-cluster")["Cluster"]
    panel = cfg.create_control_panel(ClusterArn=made["ClusterArn"], ControlPanelName="contract")["ControlPanel"]
    control = cfg.create_routing_control(
        ClusterArn=made["ClusterArn"], ControlPanelArn=panel["ControlPanelArn"], RoutingControlName="contract"
    )["RoutingControl"]
    rule = cfg.create_safety_rule(
        AssertionRule={
            "AssertedControls": [control["RoutingControlArn"]],
            "ControlPanelArn": panel["ControlPanelArn"],
            "Name": "contract",
            "RuleConfig": {"Type": "ATLEAST", "Threshold": 1, "Inverted": False},
            "WaitPeriodMs": 5000,
        }
    )["AssertionRule"]
    cfg.delete_safety_rule(SafetyRuleArn=rule["SafetyRuleArn"])
    cfg.delete_routing_control(RoutingControlArn=control["RoutingControlArn"])
    cfg.delete_control_panel(ControlPanelArn=panel["ControlPanelArn"])
    cfg.delete_cluster(ClusterArn=made["ClusterArn"])

    # The data plane answers only on the cluster's own regional endpoints.
    import boto3
    from botocore.config import Config

    endpoint = arc["cluster_endpoints"][0]
    data = boto3.session.Session().client(
        "route53-recovery-cluster",
        region_name=endpoint["region"],
        endpoint_url=endpoint["endpoint"],
        config=Config(retries={"total_max_attempts": 1}),
    )
    controls = {c["region"]: c["arn"] for c in arc["routing_controls"].values()}
    data.get_routing_control_state(RoutingControlArn=controls[RECOVERY])
    data.list_routing_controls()
    data.update_routing_control_state(RoutingControlArn=controls[RECOVERY], RoutingControlState="On")
    data.update_routing_control_states(
        UpdateRoutingControlStateEntries=[
            {"RoutingControlArn": controls[PRIMARY], "RoutingControlState": "Off"},
            {"RoutingControlArn": controls[RECOVERY], "RoutingControlState": "On"},
        ]
    )
    refused(
        lambda: data.update_routing_control_state(RoutingControlArn=controls[RECOVERY], RoutingControlState="Off"),
        "ConflictException",
    )
    r53 = sb.client("route53", PRIMARY)
    r53.create_health_check(
        CallerReference=f"contract-{time.time()}",
        HealthCheckConfig={"Type": "RECOVERY_CONTROL", "RoutingControlArn": controls[PRIMARY]},
    )


def _contract_alb(sb: Sandbox) -> str:
    """The region's ALB (the seed's, or one made here on the seed's subnets)."""
    elbv2, ec2 = sb.client("elbv2", PRIMARY), sb.client("ec2", PRIMARY)
    existing = elbv2.describe_load_balancers()["LoadBalancers"]
    if existing:
        return existing[0]["LoadBalancerArn"]
    vpc = ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": ["vpc-0e10000000000000a"]}])["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]]
    return elbv2.create_load_balancer(Name="contract-alb", Subnets=subnets[:2], Type="application")["LoadBalancers"][0][
        "LoadBalancerArn"
    ]


def scenario_zonal_shift(sb: Sandbox, seed: dict[str, Any]) -> None:
    zs = sb.client("arc-zonal-shift", PRIMARY)
    alb = _contract_alb(sb)
    resource = zs.get_managed_resource(resourceIdentifier=alb)
    away = sorted(resource["appliedWeights"])[0]
    shift = zs.start_zonal_shift(resourceIdentifier=alb, awayFrom=away, expiresIn="30m", comment="contract")
    refused(
        lambda: zs.start_zonal_shift(resourceIdentifier=alb, awayFrom=away, expiresIn="30m", comment="again"),
        "ConflictException",
    )
    zs.update_zonal_shift(zonalShiftId=shift["zonalShiftId"], expiresIn="1h")
    zs.cancel_zonal_shift(zonalShiftId=shift["zonalShiftId"])
    refused(lambda: zs.start_zonal_shift(resourceIdentifier=alb, awayFrom=away, expiresIn="5d", comment="x"), "ValidationException")


def scenario_fis(sb: Sandbox, seed: dict[str, Any]) -> None:
    fis = sb.client("fis", PRIMARY)
    sb.control("POST", "/durations", {"fis_experiment_initiating": 0.1, "fis_experiment_run": 0.5})
    template = fis.create_experiment_template(
        clientToken="contract",
        description="contract",
        roleArn="arn:aws:iam::123456789012:role/fis-drill",
        stopConditions=[{"source": "none"}],
        actions={"wait": {"actionId": "aws:fis:wait", "parameters": {"duration": "PT1M"}}},
    )["experimentTemplate"]
    first = fis.start_experiment(clientToken="contract-1", experimentTemplateId=template["id"])["experiment"]
    fis.get_experiment(id=first["id"])
    fis.stop_experiment(id=first["id"])
    second = fis.start_experiment(clientToken="contract-2", experimentTemplateId=template["id"])["experiment"]
    wait_for("the experiment", lambda: fis.get_experiment(id=second["id"])["experiment"]["state"]["status"] == "completed")
    refused(lambda: fis.get_experiment(id="EXPmissing"), "ResourceNotFoundException")


def scenario_cloudwatch(sb: Sandbox, seed: dict[str, Any]) -> None:
    # boto3 speaks CBOR to CloudWatch too (the model's first protocol), like the Rust SDK.
    cw = sb.client("cloudwatch", RECOVERY)
    cw.put_metric_alarm(
        AlarmName="contract",
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=5.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    cw.set_alarm_state(AlarmName="contract", StateValue="ALARM", StateReason="contract")
    cw.describe_alarms(AlarmNames=["contract"])
    refused(lambda: cw.set_alarm_state(AlarmName="missing", StateValue="OK", StateReason="x"), "ResourceNotFound")
    cw.delete_alarms(AlarmNames=["contract"])


def scenario_iam(sb: Sandbox, seed: dict[str, Any]) -> None:
    iam = sb.client("iam", PRIMARY)
    iam.create_user(UserName="contract")
    iam.put_user_policy(
        UserName="contract",
        PolicyName="read",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"}]}),
    )
    arn = iam.get_user(UserName="contract")["User"]["Arn"]
    iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["ecs:DescribeServices", "ecs:UpdateService"])
    refused(
        lambda: iam.simulate_principal_policy(PolicySourceArn=arn.replace("contract", "missing"), ActionNames=["ecs:DescribeServices"]),
        "NoSuchEntity",
    )


SCENARIO: list[tuple[str, Callable[[Sandbox, dict[str, Any]], None]]] = [
    ("backup", scenario_backup),
    ("efs", scenario_efs),
    ("secretsmanager", scenario_secrets),
    ("ecr", scenario_ecr),
    ("route53", scenario_route53),
    ("ecs", scenario_ecs),
    ("arc", scenario_arc),
    ("arc-zonal-shift", scenario_zonal_shift),
    ("fis", scenario_fis),
    ("cloudwatch", scenario_cloudwatch),
    ("iam", scenario_iam),
]


def call_without_arguments(sb: Sandbox, service: str, operation: str) -> str | None:
    """Calls a read-only operation that needs no argument in both regions; why not, if not."""
    from botocore import xform_name
    from botocore.exceptions import ClientError

    from . import contract

    op = contract.service_model(service).operation_model(operation)
    if op.input_shape is not None and op.input_shape.required_members:
        return "needs arguments: add a call to SCENARIO in drsandbox/contract_check.py"
    if not operation.startswith(("List", "Describe", "Get")):
        return "changes state: add a call to SCENARIO in drsandbox/contract_check.py"
    for region in (PRIMARY, RECOVERY):
        try:
            getattr(sb.client(service, region), xform_name(operation))()
        except ClientError:
            pass  # the error answer has been checked like any other
    return None


def main() -> int:
    from . import contract

    summary: dict[str, Any] = {"selftest_failures": selftest()}
    sb = Sandbox()
    seed = sb.control("POST", "/reset", {"seed": True})["seed"]
    errors = []
    for name, step in SCENARIO:
        try:
            step(sb, seed)
        except Exception as err:  # noqa: BLE001 - report every failing step, not the first
            errors.append(f"{name}: {type(err).__name__}: {err}")
    report = contract.report()
    not_called = {}
    for service, operations in report["operations"].items():
        for operation in operations:
            if f"{service}:{operation}" not in contract.CHECKED:
                why = call_without_arguments(sb, service, operation)
                if why:
                    not_called[f"{service}:{operation}"] = why
    report = contract.report()
    unchecked = sorted(
        f"{s}:{op}" for s, ops in report["operations"].items() for op in ops if f"{s}:{op}" not in report["checked"]
    )
    summary.update(
        operations=sum(len(ops) for ops in report["operations"].values()),
        checked=report["checked"],
        violations=report["violations"],
        scenario_errors=errors,
        unchecked={op: not_called.get(op, "no answer reached the checker") for op in unchecked},
    )
    ok = not (summary["selftest_failures"] or summary["violations"] or errors or unchecked)
    for line in summary["selftest_failures"]:
        print(f"selftest: {line}")
    for violation in summary["violations"]:
        print(f"violation: {violation['service']} {violation['operation']} ({violation['status']}): {violation['problems']}")
    for line in errors:
        print(f"scenario: {line}")
    for op, why in summary["unchecked"].items():
        print(f"unchecked: {op}: {why}")
    print(f"{summary['operations']} extension operations, {len(summary['checked'])} checked, {sum(summary['checked'].values())} answers")
    print(json.dumps(summary, sort_keys=True))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
