"""Elastic Load Balancing v2: targets registered from running tasks, health by zone.

moto 5.2.5 keeps a target group's targets keyed by target id alone, so two tasks on one
instance (bridge networking, dynamic host ports) collapse into one target; every ALB gets the
placeholder hosted zone id `Z2P70J7EXAMPLE`; and target health is `healthy` unless the
instance is stopped. Here targets are keyed by (id, port) as in AWS, an ALB carries its
region's real canonical hosted zone id, and a target in a dark zone (or region) is
`unhealthy` / `Target.Timeout`. ECS registers a service's RUNNING tasks with the target groups
of its `loadBalancers` and deregisters them when they stop (see `ext_ecs`).

For Route 53 (alias records with EvaluateTargetHealth): an ALB is healthy when its region is
not dark and every target group behind its listeners has at least one healthy target.
"""

from __future__ import annotations

import hashlib
from typing import Any

from moto.elbv2.exceptions import InvalidTargetError
from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeLoadBalancer, FakeTargetGroup, elbv2_backends

from . import outages

# The canonical hosted zone ids of Application Load Balancers (Elastic Load Balancing
# endpoints and quotas, AWS General Reference).
CANONICAL_ZONES = {
    "us-east-1": "Z35SXDOTRQ7X7K",
    "us-east-2": "Z3AADJGX6KTTL2",
    "us-west-1": "Z368ELLRRE2KJ0",
    "us-west-2": "Z1H1FL5HABSF5",
    "eu-west-1": "Z32O12XQLNTSW2",
    "eu-central-1": "Z215JYRZR1TBD5",
}


def _key(target_id: str, port: Any) -> str:
    return f"{target_id}:{port}"


def _zone_of(account: str, region: str, target_id: str, tg: FakeTargetGroup) -> str | None:
    zones = getattr(tg, "_sbx_zones", {})
    for key, zone in zones.items():
        if key.split(":")[0] == target_id:
            return zone
    if target_id.startswith("i-"):
        instance = elbv2_backends[account][region].ec2_backend.get_instance_by_id(target_id)
        return instance.placement.zone if instance else None
    return None


def _region_of(tg: FakeTargetGroup) -> str:
    return tg.arn.split(":")[3]


def _account_of(tg: FakeTargetGroup) -> str:
    return tg.arn.split(":")[4]


def register_targets(tg: FakeTargetGroup, targets: list[dict[str, Any]], zone: str | None = None) -> None:
    """Registers targets keyed by (id, port); `zone` records where an IP target lives."""
    for target in targets:
        if instance := tg.ec2_backend.get_instance_by_id(target["Id"]):
            if instance.state != "running":
                from moto.elbv2.exceptions import TargetNotRunning

                raise TargetNotRunning(instance_id=target["Id"])
        port = target.get("Port", tg.port)
        key = _key(target["Id"], port)
        tg.targets[key] = {"Id": target["Id"], "Port": port}
        tg.deregistered_targets.pop(key, None)
        if zone is not None:
            tg.__dict__.setdefault("_sbx_zones", {})[key] = zone


def deregister_targets(tg: FakeTargetGroup, targets: list[dict[str, Any]]) -> None:
    for target in targets:
        keys = [_key(target["Id"], target["Port"])] if "Port" in target else [k for k, t in tg.targets.items() if t["Id"] == target["Id"]]
        keys = [k for k in keys if k in tg.targets]
        if not keys:
            raise InvalidTargetError()
        for key in keys:
            tg.deregistered_targets[key] = tg.targets.pop(key)
            getattr(tg, "_sbx_zones", {}).pop(key, None)


def target_health(tg: FakeTargetGroup, target: dict[str, Any]) -> FakeHealthStatus:
    port = target.get("Port", tg.port)
    key = _key(target["Id"], port)
    registered = tg.targets.get(key)
    if registered is None and "Port" not in target:
        registered = next((t for t in tg.targets.values() if t["Id"] == target["Id"]), None)
    if registered is None:
        if key in tg.terminated_targets:
            state, reason, text = "draining", "Target.DeregistrationInProgress", "Target deregistration is in progress"
        elif key in tg.deregistered_targets or target["Id"].startswith("i-"):
            state, reason, text = "unused", "Target.NotRegistered", "Target is not registered to the target group"
        else:
            state, reason, text = "unavailable", "Target.NotRegistered", "Target is not registered"
        return FakeHealthStatus(target["Id"], port, tg.health_check_port, state, reason, text)
    account, region = _account_of(tg), _region_of(tg)
    zone = _zone_of(account, region, registered["Id"], tg)
    if outages.region_dark(region) or outages.zone_dark(zone):
        return FakeHealthStatus(
            registered["Id"], registered["Port"], tg.health_check_port, "unhealthy", "Target.Timeout", "Request timed out"
        )
    if registered["Id"].startswith("i-"):
        instance = tg.ec2_backend.get_instance_by_id(registered["Id"])
        if instance and instance.state == "stopped":
            return FakeHealthStatus(
                registered["Id"], registered["Port"], tg.health_check_port, "unused", "Target.InvalidState", "Target is in the stopped state"
            )
    return FakeHealthStatus(registered["Id"], registered["Port"], tg.health_check_port, "healthy")


def target_groups_of(elbv2: ELBv2Backend, lb: FakeLoadBalancer) -> list[FakeTargetGroup]:
    return [tg for tg in elbv2.target_groups.values() if lb.arn in tg.load_balancer_arns]


def load_balancer_health(account: str, region: str, lb: FakeLoadBalancer) -> tuple[bool, str]:
    """(healthy, why) as Route 53 evaluates an alias to this load balancer."""
    if outages.region_dark(region):
        return False, f"region {region} is dark"
    elbv2 = elbv2_backends[account][region]
    groups = target_groups_of(elbv2, lb)
    if not groups:
        return False, f"load balancer {lb.name} forwards to no target group"
    for tg in groups:
        healthy = [t for t in tg.targets.values() if tg.health_for(t, elbv2.ec2_backend).status == "healthy"]
        if not healthy:
            return False, f"target group {tg.name} has no healthy target"
    return True, f"every target group of {lb.name} has a healthy target"


def find_load_balancer(dns_name: str) -> tuple[str, str, FakeLoadBalancer] | None:
    """(account, region, load balancer) whose DNS name this is (with or without `dualstack.`)."""
    wanted = dns_name.lower().rstrip(".")
    if wanted.startswith("dualstack."):
        wanted = wanted[len("dualstack.") :]
    for account, regions in list(elbv2_backends.items()):
        for region, elbv2 in list(regions.items()):
            for lb in elbv2.load_balancers.values():
                if lb.dns_name.lower().rstrip(".") == wanted:
                    return account, region, lb
    return None


def addresses(lb: FakeLoadBalancer) -> list[str]:
    """Stand-in public addresses of the load balancer's nodes, one per zone that serves.

    From 198.51.100.0/24 (TEST-NET-2, documentation only), stable per load balancer and zone."""
    out = []
    for zone in sorted({s.availability_zone for s in lb.subnets}):
        if outages.zone_dark(zone):
            continue
        digest = hashlib.sha256(f"{lb.arn}/{zone}".encode()).digest()
        out.append(f"198.51.100.{1 + digest[0] % 254}")
    return out


def install() -> None:
    FakeTargetGroup.register = lambda self, targets: register_targets(self, targets)  # type: ignore[method-assign]
    FakeTargetGroup.deregister = deregister_targets  # type: ignore[method-assign]

    def health_for(self: FakeTargetGroup, target: dict[str, Any], ec2_backend: Any) -> FakeHealthStatus:
        return target_health(self, target)

    FakeTargetGroup.health_for = health_for  # type: ignore[method-assign]

    def deregister_terminated_instances(self: FakeTargetGroup, instance_ids: list[str]) -> None:
        for key, target in list(self.targets.items()):
            if target["Id"] in instance_ids:
                self.terminated_targets[key] = self.targets.pop(key)

    FakeTargetGroup.deregister_terminated_instances = deregister_terminated_instances  # type: ignore[method-assign]

    original_init = FakeLoadBalancer.__init__

    def init(self: FakeLoadBalancer, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        region = self.arn.split(":")[3]
        self.canonical_hosted_zone_id = CANONICAL_ZONES.get(region, self.canonical_hosted_zone_id)

    FakeLoadBalancer.__init__ = init  # type: ignore[method-assign]
