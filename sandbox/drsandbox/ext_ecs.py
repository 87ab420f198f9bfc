"""ECS: deployments that progress, and the application health endpoint.

moto sets runningCount = desiredCount at once and never updates deployments[]. Here
CreateService and every UpdateService that changes the desired count, the task definition
or forces a deployment start a new PRIMARY deployment: runningCount moves linearly toward
the desired count over `ecs_rollout`, then rolloutState becomes COMPLETED and a
"reached a steady state" event is added.
"""

from __future__ import annotations

from typing import Any

from moto.core.utils import utcnow
from moto.ecs.models import EC2ContainerServiceBackend, Service
from moto.moto_api._internal import mock_random

from . import state
from .common import backend

CLUSTER = "prod-infra-production-cluster"
APP_SERVICES = ("frontend", "backend")

# (account, region, "cluster:service") -> rollout
ROLLOUTS: dict[tuple[str, str, str], dict[str, Any]] = {}


@state.on_reset
def _reset() -> None:
    ROLLOUTS.clear()


def _deployment(service: Service, running: int, rollout_state: str, deployment_id: str | None = None) -> dict[str, Any]:
    deployment_id = deployment_id or f"ecs-svc/{mock_random.randint(10**18, 10**19 - 1)}"
    now = utcnow()
    reason = "completed" if rollout_state == "COMPLETED" else "in progress"
    return {
        "id": deployment_id,
        "status": "PRIMARY",
        "taskDefinition": service.task_definition,
        "desiredCount": service.desired_count,
        "pendingCount": max(0, service.desired_count - running),
        "runningCount": running,
        "failedTasks": 0,
        "createdAt": now,
        "updatedAt": now,
        "launchType": service.launch_type,
        "platformFamily": "EC2" if service.launch_type == "EC2" else "FARGATE",
        "networkConfiguration": service.network_configuration or None,
        "rolloutState": rollout_state,
        "rolloutStateReason": f"ECS deployment {deployment_id} {reason}.",
    }


def _set_running(ecs: EC2ContainerServiceBackend, service: Service, running: int) -> None:
    """Sets the counts of a service and keeps the cluster's task counts consistent."""
    cluster = ecs._get_cluster(service.cluster_name)
    pending = max(0, service.desired_count - running)
    ecs.update_cluster_resources(cluster, running - service.running_count, task_state="RUNNING")
    ecs.update_cluster_resources(cluster, pending - service.pending_count, task_state="PENDING")
    service.running_count = running
    service.pending_count = pending


def start_rollout(ecs: EC2ContainerServiceBackend, service: Service, from_running: int) -> None:
    _set_running(ecs, service, from_running)
    key = (ecs.account_id, ecs.region_name, f"{service.cluster_name}:{service.name}")
    if from_running == service.desired_count:
        service.deployments = [_deployment(service, from_running, "COMPLETED")]
        ROLLOUTS.pop(key, None)
        return
    service.deployments = [_deployment(service, from_running, "IN_PROGRESS")]
    ROLLOUTS[key] = {
        "start": state.now(),
        "duration": state.DURATIONS["ecs_rollout"],
        "from": from_running,
        "to": service.desired_count,
    }


def settle(ecs: EC2ContainerServiceBackend, service: Service) -> None:
    """Puts a service straight into its steady state (used by the seed)."""
    _set_running(ecs, service, service.desired_count)
    service.deployments = [_deployment(service, service.desired_count, "COMPLETED")]
    ROLLOUTS.pop((ecs.account_id, ecs.region_name, f"{service.cluster_name}:{service.name}"), None)


@state.on_tick
def _tick(moment: float) -> None:
    for key, rollout in list(ROLLOUTS.items()):
        account, region, pair = key
        ecs: EC2ContainerServiceBackend = backend("ecs", account, region)
        service = ecs.services.get(pair)
        if service is None or service.status != "ACTIVE" or not service.deployments:
            del ROLLOUTS[key]
            continue
        fraction = state.progress(rollout["start"], rollout["duration"], moment)
        running = round(rollout["from"] + (rollout["to"] - rollout["from"]) * fraction)
        deployment = service.deployments[0]
        if running != service.running_count:
            _set_running(ecs, service, running)
            deployment["runningCount"] = running
            deployment["pendingCount"] = service.pending_count
            deployment["updatedAt"] = utcnow()
        if fraction >= 1.0:
            deployment["rolloutState"] = "COMPLETED"
            deployment["rolloutStateReason"] = f"ECS deployment {deployment['id']} completed."
            deployment["updatedAt"] = utcnow()
            service.events.insert(
                0,
                {
                    "id": str(mock_random.uuid4()),
                    "createdAt": utcnow(),
                    "message": f"(service {service.name}) has reached a steady state.",
                },
            )
            del ROLLOUTS[key]


def app_health(account: str, region: str) -> tuple[bool, dict[str, Any]]:
    """The application endpoint: healthy when frontend and backend run as desired, rolled out."""
    ecs: EC2ContainerServiceBackend = backend("ecs", account, region)
    services: dict[str, Any] = {}
    reasons: list[str] = []
    for name in APP_SERVICES:
        service = ecs.services.get(f"{CLUSTER}:{name}")
        if service is None or service.status != "ACTIVE":
            reasons.append(f"service {name} does not exist in {CLUSTER} ({region})")
            continue
        rollout = service.deployments[0]["rolloutState"] if service.deployments else None
        services[name] = {
            "desired": service.desired_count,
            "running": service.running_count,
            "rollout_state": rollout,
        }
        if service.desired_count <= 0:
            reasons.append(f"service {name} has desired count 0")
        elif service.running_count != service.desired_count:
            reasons.append(f"service {name} runs {service.running_count} of {service.desired_count} tasks")
        elif rollout != "COMPLETED":
            reasons.append(f"service {name} deployment is {rollout}")
    healthy = not reasons
    detail: dict[str, Any] = {"status": "healthy" if healthy else "unhealthy", "region": region, "services": services}
    if reasons:
        detail["reason"] = "; ".join(reasons)
    return healthy, detail


def install() -> None:
    original_create = EC2ContainerServiceBackend.create_service

    def create_service(self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> Service:
        service = original_create(self, *args, **kwargs)
        if service.deployment_controller.get("type", "ECS") == "ECS":
            start_rollout(self, service, service.running_count)
        return service

    EC2ContainerServiceBackend.create_service = create_service  # type: ignore[method-assign]

    original_update = EC2ContainerServiceBackend.update_service

    def update_service(self: EC2ContainerServiceBackend, service_properties: dict[str, Any]) -> Service:
        cluster = self._get_cluster(service_properties.get("cluster", "default"))
        name = service_properties["service"].split("/")[-1]
        before = self.services.get(f"{cluster.name}:{name}")
        old = (before.running_count, before.desired_count, before.task_definition) if before else None
        force = bool(service_properties.get("force_new_deployment"))
        service = original_update(self, service_properties)
        if old is None or service.deployment_controller.get("type", "ECS") != "ECS":
            return service
        old_running, old_desired, old_task_definition = old
        # moto jumped running to desired; put it back and let the rollout move it.
        service.running_count, service.pending_count = service.desired_count, 0
        changed = service.desired_count != old_desired or service.task_definition != old_task_definition
        if changed or force:
            start_rollout(self, service, old_running)
        else:
            _set_running(self, service, old_running)
        return service

    EC2ContainerServiceBackend.update_service = update_service  # type: ignore[method-assign]
