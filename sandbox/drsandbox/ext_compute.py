"""EC2 capacity for ECS: Auto Scaling groups whose instances join a cluster, and lose it.

moto 5.2.5 runs Auto Scaling groups (desired/min/max, launch templates, instances that are
`running` at once) but launches every instance of a group into the first subnet, and nothing
ever registers an instance with ECS. Here:

* a group launches each instance into the subnet of the zone that has the fewest of its
  instances (AWS's balancing across Availability Zones), never into a dark zone, and tops
  itself up to its desired capacity when it is short (after an instance was replaced, or when
  every zone was dark at launch time);
* an instance whose user data says `ECS_CLUSTER=<name>` (as the ECS-optimised AMI reads it from
  /etc/ecs/ecs.config) registers as a container instance of that cluster
  `ecs_instance_registration` seconds after it was first seen running;
* an instance that stops, terminates or sits in a dark zone loses its agent connection
  (`agentConnected` false): its tasks stop (see `ext_ecs.host_lost`); a terminated one is
  deregistered (INACTIVE). A group treats an instance that has not served for
  `asg_instance_replacement` seconds as unhealthy: it terminates it and launches a replacement
  in a zone that still serves.

Nothing moves in a dark region.
"""

from __future__ import annotations

import re
from typing import Any

from moto.autoscaling.models import ASG_NAME_TAG, FakeAutoScalingGroup, InstanceState
from moto.ec2.models import ec2_backends

from . import outages, state
from .common import backend

ECS_CLUSTER = re.compile(r"ECS_CLUSTER=([A-Za-z0-9_-]+)")

# (account, region, instance id) -> when the instance was first seen running
FIRST_SEEN: dict[tuple[str, str, str], float] = {}
# (account, region, instance id) -> since when a group's instance has not served
IMPAIRED_SINCE: dict[tuple[str, str, str], float] = {}


@state.on_reset
def _reset() -> None:
    FIRST_SEEN.clear()
    IMPAIRED_SINCE.clear()


def cluster_of(instance: Any) -> str | None:
    """The ECS cluster an instance's user data joins, if any."""
    data = getattr(instance, "user_data", None)
    if data is None:
        return None
    if isinstance(data, list):  # older moto kept a list of raw strings
        data = data[0] if data else None
    try:
        text = data.decode() if hasattr(data, "decode") else str(data)
    except Exception:  # noqa: BLE001 - user data that is not text joins no cluster
        return None
    match = ECS_CLUSTER.search(text)
    return match.group(1) if match else None


def instance_zone(instance: Any) -> str:
    return instance.placement.zone


def instance_serves(instance: Any) -> bool:
    """Whether an EC2 instance can run containers now: running, in a zone that serves."""
    return instance is not None and instance.is_running() and not outages.zone_dark(instance_zone(instance))


def _instances(ec2: Any) -> list[Any]:
    return [i for reservation in ec2.reservations.values() for i in reservation.instances]


def _launch(group: FakeAutoScalingGroup, count: int, propagated_tags: dict[str, str]) -> int:
    """Launches up to `count` instances, each in the emptiest zone that serves; returns how many."""
    propagated_tags = dict(propagated_tags)
    propagated_tags[ASG_NAME_TAG] = group.name
    propagated_tags.update(group.instance_tags)
    ec2 = group.autoscaling_backend.ec2_backend
    if group.vpc_zone_identifier:
        subnets = [s for s in group.vpc_zone_identifier.split(",") if s]
        zones = [(ec2.get_subnet(s).availability_zone, s) for s in subnets]
    else:
        zones = [(z, None) for z in group.availability_zones]
    launch_template = None
    if group.ec2_launch_template:
        launch_template = (
            {"LaunchTemplateId": group.ec2_launch_template.id}
            if group.ec2_launch_template.id
            else {"LaunchTemplateName": group.ec2_launch_template.name}
        )
    associate_public_ip = group.launch_config.associate_public_ip_address if group.launch_config else None
    launched = 0
    for _ in range(count):
        serving = [(z, s) for z, s in zones if not outages.zone_dark(z)]
        if not serving:
            break  # AWS: the launch fails; the group tries again later (see `_top_up`)
        in_zone = {z: 0 for z, _ in zones}
        for st in group.active_instances():
            in_zone[st.availability_zone] = in_zone.get(st.availability_zone, 0) + 1
        zone, subnet = min(serving, key=lambda zs: in_zone.get(zs[0], 0))
        reservation = ec2.run_instances(
            group.image_id,
            1,
            group.user_data,
            group.security_groups,
            instance_type=group.instance_type,
            tags={"instance": propagated_tags},
            placement=zone,
            launch_config=group.launch_config,
            launch_template=launch_template,
            is_instance_type_default=False,
            associate_public_ip=associate_public_ip,
            subnet_id=subnet,
        )
        for instance in reservation.instances:
            instance.autoscaling_group = group  # type: ignore[attr-defined]
            group.instance_states.append(
                InstanceState(instance, protected_from_scale_in=group.new_instances_protected_from_scale_in)
            )
            launched += 1
    return launched


def _replace_unhealthy(account: str, region: str, group: FakeAutoScalingGroup, moment: float) -> None:
    """EC2 health checks: an instance that stopped, or sits in a dark zone, for
    `asg_instance_replacement` seconds is replaced."""
    unhealthy = []
    for st in group.instance_states:
        key = (account, region, st.instance.id)
        if st.lifecycle_state != "InService" or instance_serves(st.instance):
            IMPAIRED_SINCE.pop(key, None)
            continue
        since = IMPAIRED_SINCE.setdefault(key, moment)
        if moment - since >= state.DURATIONS["asg_instance_replacement"]:
            unhealthy.append(st)
            IMPAIRED_SINCE.pop(key, None)
    if not unhealthy:
        return
    ids = [st.instance.id for st in unhealthy]
    group.instance_states = [st for st in group.instance_states if st.instance.id not in ids]
    group.autoscaling_backend.ec2_backend.terminate_instances(ids)
    backend("elbv2", account, region).notify_terminate_instances(ids)


def _top_up(group: FakeAutoScalingGroup) -> None:
    short = (group.desired_capacity or 0) - len(group.active_instances())
    if short > 0:
        _launch(group, short, group.get_propagated_tags())


def _register(account: str, region: str, instance: Any, cluster: str) -> Any | None:
    ecs = backend("ecs", account, region)
    if cluster not in ecs.clusters:
        return None  # the agent keeps retrying until the cluster exists
    return ecs.register_container_instance(cluster, instance.id)


def container_instances(account: str, region: str) -> list[tuple[str, Any]]:
    """(cluster name, container instance) for every registered instance of a region."""
    ecs = backend("ecs", account, region)
    return [(cluster, ci) for cluster, by_id in ecs.container_instances.items() if cluster != "orphaned" for ci in by_id.values()]


def registered_ids(account: str, region: str) -> set[str]:
    return {ci.ec2_instance_id for _, ci in container_instances(account, region) if ci.status != "INACTIVE"}


def register_now(account: str, region: str) -> None:
    """Registers every running ECS instance of a region at once (the seed's settled state)."""
    ec2 = backend("ec2", account, region)
    known = registered_ids(account, region)
    for instance in _instances(ec2):
        cluster = cluster_of(instance)
        if cluster and instance.is_running() and instance.id not in known:
            _register(account, region, instance, cluster)


def tick(moment: float) -> None:
    from . import ext_ecs

    for account, regions in list(ec2_backends.items()):
        for region, ec2 in list(regions.items()):
            if outages.region_dark(region):
                continue  # a dark region is frozen
            if _has("autoscaling", account, region):
                for group in list(backend("autoscaling", account, region).autoscaling_groups.values()):
                    _replace_unhealthy(account, region, group, moment)
                    _top_up(group)
            known = registered_ids(account, region) if _has("ecs", account, region) else set()
            delay = state.DURATIONS["ecs_instance_registration"]
            for instance in _instances(ec2):
                key = (account, region, instance.id)
                cluster = cluster_of(instance)
                if not cluster or instance.id in known or not instance_serves(instance):
                    continue
                first = FIRST_SEEN.setdefault(key, moment)
                if moment - first >= delay:
                    _register(account, region, instance, cluster)
            if not _has("ecs", account, region):
                continue
            ecs = backend("ecs", account, region)
            for cluster, ci in container_instances(account, region):
                if ci.status == "INACTIVE":
                    continue
                instance = ec2.get_instance_by_id(ci.ec2_instance_id)
                serves = instance_serves(instance)
                if serves and not ci.agent_connected:
                    ci.agent_connected = True  # the zone is back: the agent reconnects
                elif not serves and ci.agent_connected:
                    ci.agent_connected = False
                    ext_ecs.host_lost(ecs, cluster, ci, _lost_reason(instance, ci))
                if instance is None or instance.state == "terminated":
                    ext_ecs.host_lost(ecs, cluster, ci, _lost_reason(instance, ci))
                    ci.status = "INACTIVE"  # ECS deregisters the instances of terminated hosts
                    ci.agent_connected = False


def _lost_reason(instance: Any, ci: Any) -> str:
    if instance is None or instance.state == "terminated":
        return f"Host EC2 (instance {ci.ec2_instance_id}) terminated."
    if not instance.is_running():
        return f"Host EC2 (instance {ci.ec2_instance_id}) stopped."
    return f"Host EC2 (instance {ci.ec2_instance_id}) is unreachable: Availability Zone {instance_zone(instance)} is unavailable."


def _has(service: str, account: str, region: str) -> bool:
    """Whether moto already made this backend (never create one just to look at it)."""
    from moto.backends import get_backend

    regions = get_backend(service).get(account)  # type: ignore[attr-defined]
    return regions is not None and region in regions


def install() -> None:
    def replace_autoscaling_group_instances(self: FakeAutoScalingGroup, count_needed: int, propagated_tags: dict[str, str]) -> None:
        _launch(self, count_needed, propagated_tags)

    FakeAutoScalingGroup.replace_autoscaling_group_instances = replace_autoscaling_group_instances  # type: ignore[method-assign]
