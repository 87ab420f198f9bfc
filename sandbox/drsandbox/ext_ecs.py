"""ECS on EC2: a service scheduler that places real tasks and refuses what ECS refuses.

moto 5.2.5 starts no task for a service (runningCount jumps to desiredCount), never updates
deployments, places RunTask tasks greedily on the first instance (reserving host port 0, so a
second dynamic-port task never fits), lets `DescribeTasks` walk every task to STOPPED, and
ignores `serviceName` in ListTasks. Here, on moto's own Task, Service and ContainerInstance
models:

* **Deployments.** CreateService and every UpdateService that changes the desired count, the
  task definition or forces a deployment start a new PRIMARY deployment. Its tasks are
  launched (or, scaling in, stopped) along a line from the count at the start to the desired
  count over `ecs_rollout`; a launched task is PENDING for `ecs_task_start`, then RUNNING.
  Tasks of an older task definition (or of a forced deployment's predecessor) are stopped
  only as new ones run. The deployment is COMPLETED, with a "reached a steady state" event,
  once exactly the desired number of new tasks run.
* **Placement** (services, RunTask, StartTask): only on an ACTIVE container instance whose
  agent is connected (its EC2 instance runs, in a zone that serves) with enough free CPU and
  memory and the fixed host ports free; spread across Availability Zones, then instances.
  Bridge-mode `hostPort: 0` gets a dynamic port. When nothing fits, the service stays short
  and gets AWS's "(service X) was unable to place a task because no container instance met
  all of its requirements..." event; RunTask returns `RESOURCE:*` failures.
* **Start checks**, when a task leaves PENDING: every container image must be pullable in the
  task's region (`ext_ecr.image_pullable`), every Secrets Manager ARN it references must
  exist in that region, every EFS volume's file system must exist there with a mount target
  in the task's zone. Otherwise the task stops (`TaskFailedToStart`, with AWS's
  `CannotPullContainerError` / `ResourceInitializationError` text as its stoppedReason), the
  deployment's failedTasks grows, the service gets an event, and the scheduler tries again
  after `ecs_task_replacement`.
* **Replacement.** A service task that stops outside a deployment (StopTask, the control
  API's stop-tasks, a lost host) is replaced after `ecs_task_replacement`, with a new task
  id and "has started 1 tasks" event; the deployment stays COMPLETED. Tasks on a DRAINING
  instance are replaced elsewhere first, then stopped.
* RUNNING tasks of a service are registered with the target groups of its `loadBalancers`
  (see `ext_elbv2`) and deregistered when they stop.

Nothing moves in a dark region (see `outages`). The application health endpoint is at the end.
"""

from __future__ import annotations

import re
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.models import (
    Cluster,
    Container,
    ContainerInstance,
    EC2ContainerServiceBackend,
    Service,
    Task,
    TaskDefinition,
    ecs_backends,
)
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_api._internal import mock_random

from . import ext_compute, outages, state
from .common import backend

CLUSTER = "prod-infra-production-cluster"
# The services behind the application endpoint, in the order the body lists them.
APP_SERVICES = ("frontend", "backend", "ai-service", "redis", "qdrant")
QDRANT = "qdrant"
EVENTS_KEPT = 100  # DescribeServices returns the latest 100 events
TROUBLESHOOTING = "For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."
DYNAMIC_PORTS = range(32768, 61000)  # the ECS agent's default ephemeral host port range
STOPPED_KEPT = 200  # per cluster: AWS keeps stopped tasks about an hour; failing retries make many

# (account, region, "cluster:service") -> scheduler state of that service
SCHED: dict[tuple[str, str, str], dict[str, Any]] = {}


@state.on_reset
def _reset() -> None:
    SCHED.clear()


# --- small helpers -------------------------------------------------------------------------


def _key(ecs: EC2ContainerServiceBackend, service: Service) -> tuple[str, str, str]:
    return (ecs.account_id, ecs.region_name, f"{service.cluster_name}:{service.name}")


def _sched(ecs: EC2ContainerServiceBackend, service: Service) -> dict[str, Any]:
    return SCHED.setdefault(
        _key(ecs, service),
        {"rollout": None, "generation": set(), "blocked": [], "placement_msg": None, "start_msg": None, "steady": True},
    )


def _event(service: Service, message: str) -> None:
    service.events.insert(0, {"id": str(mock_random.uuid4()), "createdAt": utcnow(), "message": message})
    del service.events[EVENTS_KEPT:]


def _short_id(task: Task) -> str:
    return task.task_arn.split("/")[-1]


def _task_list(tasks: list[Task]) -> str:
    """As ECS lists tasks in service events: `(task a) (task b).`"""
    return " ".join(f"(task {_short_id(t)})" for t in tasks) + "."


def _tasks_of(ecs: EC2ContainerServiceBackend, service: Service) -> list[Task]:
    group = f"service:{service.name}"
    return [t for t in ecs.tasks.get(service.cluster_name, {}).values() if t.group == group]


def _live(tasks: list[Task]) -> list[Task]:
    return [t for t in tasks if t.desired_status == "RUNNING"]


def _ci_of(ecs: EC2ContainerServiceBackend, task: Task) -> ContainerInstance | None:
    if not task.container_instance_arn:
        return None
    return ecs.container_instances.get(task.cluster_name, {}).get(task.container_instance_arn.split("/")[-1])


def _td(ecs: EC2ContainerServiceBackend, arn: str) -> TaskDefinition:
    return ecs.describe_task_definition(arn)


def _resources(ci: ContainerInstance) -> tuple[int, int, set[str]]:
    cpu = memory = 0
    ports: set[str] = set()
    for resource in ci.remaining_resources:
        if resource["name"] == "CPU":
            cpu = resource["integerValue"]
        elif resource["name"] == "MEMORY":
            memory = resource["integerValue"]
        elif resource["name"] == "PORTS":
            ports = set(resource.get("stringSetValue") or [])
    return cpu, memory, ports


def _units(value: Any, per_unit: int) -> int:
    """"512", 512, "0.5 vCPU", "1 GB" as CPU units or MiB."""
    text = str(value).strip()
    number = re.match(r"^[0-9.]+", text)
    amount = float(number.group(0)) if number else 0.0
    return int(amount * per_unit) if re.search(r"[a-zA-Z]", text) else int(amount)


def requirements(td: TaskDefinition) -> dict[str, Any]:
    """CPU units, MiB and fixed host ports a task of this definition reserves on an instance."""
    defs = td.container_definitions
    cpu = _units(td.cpu, 1024) if td.cpu else sum(int(cd.get("cpu") or 0) for cd in defs)
    memory = _units(td.memory, 1024) if td.memory else sum(int(cd.get("memory") or cd.get("memoryReservation") or 0) for cd in defs)
    ports: list[int] = []
    if td.network_mode != "awsvpc":
        for cd in defs:
            for mapping in cd.get("portMappings") or []:
                host = mapping.get("hostPort")
                if td.network_mode == "host":
                    host = host or mapping.get("containerPort")
                if host:
                    ports.append(int(host))
    return {"CPU": cpu, "MEMORY": memory, "PORTS": ports, "PORTS_UDP": []}


# --- placement -------------------------------------------------------------------------------


def _serving_instances(ecs: EC2ContainerServiceBackend, cluster: str) -> list[ContainerInstance]:
    ec2 = backend("ec2", ecs.account_id, ecs.region_name)
    out = []
    for ci in ecs.container_instances.get(cluster, {}).values():
        if ci.status != "ACTIVE" or not ci.agent_connected:
            continue
        if ext_compute.instance_serves(ec2.get_instance_by_id(ci.ec2_instance_id)):
            out.append(ci)
    return out


def _zone_of_ci(ci: ContainerInstance) -> str:
    return ci.attributes.get("ecs.availability-zone", "")


def choose_instance(
    ecs: EC2ContainerServiceBackend, cluster: str, td: TaskDefinition, group: str, among: list[ContainerInstance] | None = None
) -> tuple[ContainerInstance | None, str | None, str | None]:
    """(instance, None, None), or (None, why in ECS's words, RunTask failure reason)."""
    candidates = _serving_instances(ecs, cluster) if among is None else among
    if not candidates:
        return None, "Reason: No Container Instances were found in your cluster.", "No Container Instances were found in your cluster."
    need = requirements(td)
    fits, shortfalls = [], []
    for ci in candidates:
        cpu, memory, ports = _resources(ci)
        if need["MEMORY"] > memory:
            shortfalls.append((memory, ci, "has insufficient memory available", "RESOURCE:MEMORY"))
        elif need["CPU"] > cpu:
            shortfalls.append((memory, ci, "has insufficient CPU units available", "RESOURCE:CPU"))
        elif any(str(p) in ports for p in need["PORTS"]):
            shortfalls.append((memory, ci, "is already using a port required by your task", "RESOURCE:PORTS"))
        else:
            fits.append(ci)
    if not fits:
        _, closest, what, code = max(shortfalls, key=lambda s: s[0])
        return None, f"The closest matching (container-instance {closest.id}) {what}.", code
    live = [t for t in ecs.tasks.get(cluster, {}).values() if t.desired_status == "RUNNING" and t.group == group]
    per_zone: dict[str, int] = {}
    per_instance: dict[str, int] = {}
    for t in live:
        per_zone[getattr(t, "availability_zone", "")] = per_zone.get(getattr(t, "availability_zone", ""), 0) + 1
        per_instance[t.container_instance_arn or ""] = per_instance.get(t.container_instance_arn or "", 0) + 1
    best = min(
        fits,
        key=lambda ci: (per_zone.get(_zone_of_ci(ci), 0), per_instance.get(ci.container_instance_arn, 0), -_resources(ci)[1], ci.id),
    )
    return best, None, None


def _dynamic_port(ecs: EC2ContainerServiceBackend, ci: ContainerInstance, taken: set[int]) -> int:
    used = set(taken) | {
        b["hostPort"]
        for t in ecs.tasks.get(ci.cluster_name, {}).values()
        if t.desired_status == "RUNNING" and t.container_instance_arn == ci.container_instance_arn
        for c in t.containers
        for b in (getattr(c, "network_bindings", None) or [])
    }
    used |= {int(p) for p in _resources(ci)[2] if str(p).isdigit()}
    return next(p for p in DYNAMIC_PORTS if p not in used)


def launch(
    ecs: EC2ContainerServiceBackend,
    cluster: Cluster,
    td: TaskDefinition,
    ci: ContainerInstance | None,
    *,
    group: str,
    started_by: str = "",
    launch_type: str = "EC2",
    network_configuration: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    tags: list[dict[str, str]] | None = None,
    zone: str | None = None,
) -> Task:
    """Creates a moto Task on `ci` (None: Fargate), PENDING until `ecs_task_start` has passed."""
    need = requirements(td)
    task = Task(
        cluster,
        td,
        ci.container_instance_arn if ci else None,
        need,
        backend=ecs,
        group=group,
        launch_type=launch_type,
        overrides=overrides or {},
        started_by=started_by,
        tags=tags or [],
        networking_configuration=network_configuration,
    )
    now = utcnow()
    task.last_status = "PENDING"
    task.created_at = now
    task.cpu = str(need["CPU"])
    task.memory = str(need["MEMORY"])
    task.platform_family = "Linux" if launch_type == "FARGATE" else None
    task.availability_zone = _zone_of_ci(ci) if ci else zone
    task._sbx_running_at = state.now() + state.DURATIONS["ecs_task_start"]
    task._sbx_targets = []
    task._sbx_instance_id = ci.ec2_instance_id if ci else None
    containers = []
    taken: set[int] = set()
    for cd in td.container_definitions:
        container = Container(td)
        container.task_arn = task.task_arn
        container.name = cd.get("name")
        container.image = cd.get("image")
        container.cpu = str(cd.get("cpu") or 0)
        container.memory = str(cd["memory"]) if cd.get("memory") else None
        container.memory_reservation = str(cd["memoryReservation"]) if cd.get("memoryReservation") else None
        container.last_status = "PENDING"
        container.exitCode = None
        container.health_status = "UNKNOWN"
        bindings = []
        if ci is not None and td.network_mode in (None, "bridge", "host"):
            for mapping in cd.get("portMappings") or []:
                host = mapping.get("hostPort") or (mapping.get("containerPort") if td.network_mode == "host" else 0)
                if not host:
                    host = _dynamic_port(ecs, ci, taken)
                taken.add(int(host))
                bindings.append(
                    {"bindIP": "0.0.0.0", "containerPort": mapping.get("containerPort"), "hostPort": int(host), "protocol": mapping.get("protocol", "tcp")}
                )
        container.network_bindings = bindings
        containers.append(container)
    task.containers = containers
    if ci is not None:
        ecs.update_container_instance_resources(ci, need)
    ecs.tasks.setdefault(cluster.name, {})[task.task_arn] = task
    return task


# --- start checks ------------------------------------------------------------------------------

def image_error(account: str, region: str, image: str) -> str | None:
    from . import ext_ecr

    reason = ext_ecr.image_pullable(account, region, image)
    if reason is None:
        return None
    return reason if reason.startswith("CannotPullContainerError") else f"CannotPullContainerError: {reason}"


def secret_error(account: str, region: str, value_from: str) -> str | None:
    """A Secrets Manager reference must name a secret of the task's own region."""
    if value_from.startswith("arn:"):
        parts = value_from.split(":")
        if len(parts) < 7 or parts[2] != "secretsmanager":
            return None  # SSM parameters and others are not checked
        arn = ":".join(parts[:7])
        owner, secret_region = parts[4], parts[3]
    else:
        arn, owner, secret_region = value_from, account, region
    found = None
    if secret_region == region:
        found = backend("secretsmanager", owner, region).secrets.get(arn)
    if found is not None and not getattr(found, "deleted_date", None):
        return None
    return (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
        "unable to retrieve secret from asm: service call has been retried 1 time(s): "
        f"failed to fetch secret {arn} from secrets manager: ResourceNotFoundException: "
        "Secrets Manager can't find the specified secret."
    )


def mount_target_usable(account: str, region: str, fs_id: str, zone: str | None) -> bool:
    efs = backend("efs", account, region)
    if fs_id not in efs.file_systems_by_id or outages.zone_dark(zone):
        return False
    return any(
        mt.file_system_id == fs_id and mt.availability_zone_name == zone and mt.life_cycle_state == "available"
        for mt in efs.mount_targets_by_id.values()
    )


def efs_error(account: str, region: str, fs_id: str, zone: str | None) -> str | None:
    if mount_target_usable(account, region, fs_id, zone):
        return None
    return (
        "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: "
        f'Failed to resolve "{fs_id}.efs.{region}.amazonaws.com" - check that your file system ID is correct, '
        "and ensure that the VPC has an EFS mount target for this file system ID. "
        "See https://docs.aws.amazon.com/console/efs/mount-dns-name for more detail. "
        ": unsuccessful EFS utils command execution; code: 1"
    )


def efs_volumes(td: TaskDefinition) -> list[str]:
    return [v["efsVolumeConfiguration"]["fileSystemId"] for v in td.volumes or [] if v.get("efsVolumeConfiguration")]


def efs_mounts(td: TaskDefinition) -> list[tuple[str, str | None]]:
    """(file system id, root directory) of every EFS volume of a task definition."""
    return [
        (v["efsVolumeConfiguration"]["fileSystemId"], v["efsVolumeConfiguration"].get("rootDirectory"))
        for v in td.volumes or []
        if v.get("efsVolumeConfiguration")
    ]


def start_error(ecs: EC2ContainerServiceBackend, task: Task) -> str | None:
    """Why this task cannot start now, in the words ECS puts in stoppedReason (None: it can)."""
    account, region = ecs.account_id, ecs.region_name
    td = _td(ecs, task.task_definition_arn)
    for cd in td.container_definitions:
        reason = image_error(account, region, cd.get("image") or "")
        if reason:
            return reason
    for cd in td.container_definitions:
        refs = [s.get("valueFrom", "") for s in cd.get("secrets") or []]
        credentials = (cd.get("repositoryCredentials") or {}).get("credentialsParameter")
        if credentials:
            refs.append(credentials)
        for ref in refs:
            reason = secret_error(account, region, ref)
            if reason:
                return reason
    for fs_id in efs_volumes(td):
        reason = efs_error(account, region, fs_id, task.availability_zone)
        if reason:
            return reason
    return None


# --- task life cycle ---------------------------------------------------------------------------


def _service_of(ecs: EC2ContainerServiceBackend, task: Task) -> Service | None:
    if not task.group.startswith("service:"):
        return None
    return ecs.services.get(f"{task.cluster_name}:{task.group[len('service:'):]}")


def _register_targets(ecs: EC2ContainerServiceBackend, task: Task, service: Service) -> None:
    from . import ext_elbv2

    elbv2 = backend("elbv2", ecs.account_id, ecs.region_name)
    for lb in service.load_balancers or []:
        tg = elbv2.target_groups.get(lb.get("targetGroupArn"))
        if tg is None:
            continue
        if tg.target_type == "ip":
            address = next(
                (d["value"] for a in task.attachments for d in a.get("details", []) if d["name"] == "privateIPv4Address"), None
            )
            if address is None:
                continue
            target = {"Id": address, "Port": int(lb.get("containerPort") or tg.port)}
        else:
            binding = next(
                (
                    b
                    for c in task.containers
                    if c.name == lb.get("containerName")
                    for b in c.network_bindings
                    if b["containerPort"] == lb.get("containerPort")
                ),
                None,
            )
            if binding is None or not task._sbx_instance_id:
                continue
            target = {"Id": task._sbx_instance_id, "Port": binding["hostPort"]}
        ext_elbv2.register_targets(tg, [target], zone=task.availability_zone)
        task._sbx_targets.append((tg.arn, target))


def _deregister_targets(ecs: EC2ContainerServiceBackend, task: Task) -> None:
    from . import ext_elbv2

    elbv2 = backend("elbv2", ecs.account_id, ecs.region_name)
    for tg_arn, target in getattr(task, "_sbx_targets", []):
        tg = elbv2.target_groups.get(tg_arn)
        if tg is not None:
            try:
                ext_elbv2.deregister_targets(tg, [target])
            except Exception:  # noqa: BLE001 - already gone (e.g. the instance terminated)
                pass
    task._sbx_targets = []


def _set_running(ecs: EC2ContainerServiceBackend, task: Task) -> None:
    now = utcnow()
    task.last_status = "RUNNING"
    task.pull_started_at = task.created_at
    task.pull_stopped_at = now
    task.started_at = now
    task.connectivity = "CONNECTED"
    task.connectivity_at = task.created_at
    for c in task.containers:
        c.last_status = "RUNNING"
    service = _service_of(ecs, task)
    if service is not None:
        _register_targets(ecs, task, service)


def stop(ecs: EC2ContainerServiceBackend, task: Task, reason: str, code: str | None, *, replace: bool) -> None:
    """Stops a task: frees its instance resources and targets; `replace` lets its service
    start another after `ecs_task_replacement`."""
    if task.desired_status == "STOPPED" and task.last_status == "STOPPED":
        return
    ci = _ci_of(ecs, task)
    if ci is not None and task.last_status != "STOPPED":
        ecs.update_container_instance_resources(ci, task.resource_requirements, removing=True)
    _deregister_targets(ecs, task)
    now = utcnow()
    was_running = task.last_status == "RUNNING"
    task.desired_status = "STOPPED"
    task.last_status = "STOPPED"
    task.stopped_reason = reason
    task.stop_code = code
    task.stopping_at = now
    task.execution_stopped_at = now
    task.stopped_at = now
    for c in task.containers:
        c.last_status = "STOPPED"
        c.exitCode = 137 if was_running else None
    service = _service_of(ecs, task)
    if service is not None and replace and service.status == "ACTIVE":
        st = _sched(ecs, service)
        st["blocked"].append(state.now() + state.DURATIONS["ecs_task_replacement"])
        st["steady"] = False
    if service is not None and service.status == "ACTIVE":
        _recount(ecs, service)  # a DescribeServices right after the stop sees it
    _recount_clusters(ecs)


def host_lost(ecs: EC2ContainerServiceBackend, cluster: str, ci: ContainerInstance, reason: str) -> None:
    """The agent of `ci` disconnected or its host is gone: its tasks stop."""
    for task in list(ecs.tasks.get(cluster, {}).values()):
        if task.desired_status == "RUNNING" and task.container_instance_arn == ci.container_instance_arn:
            stop(ecs, task, reason, "TaskFailedToStart" if task.last_status == "PENDING" else None, replace=True)


def _advance_pending(ecs: EC2ContainerServiceBackend, moment: float) -> None:
    for tasks in ecs.tasks.values():
        for task in list(tasks.values()):
            if task.desired_status != "RUNNING" or task.last_status != "PENDING":
                continue
            if moment < getattr(task, "_sbx_running_at", 0):
                continue
            reason = start_error(ecs, task)
            if reason is None:
                _set_running(ecs, task)
                continue
            stop(ecs, task, reason, "TaskFailedToStart", replace=True)
            service = _service_of(ecs, task)
            if service is None:
                continue
            for deployment in service.deployments:
                if task.started_by == deployment["id"]:
                    deployment["failedTasks"] = deployment.get("failedTasks", 0) + 1
            st = _sched(ecs, service)
            if st["start_msg"] != reason:
                st["start_msg"] = reason
                _event(
                    service,
                    f"(service {service.name}) is unable to consistently start tasks successfully: "
                    f"(task {_short_id(task)}) stopped: {reason} {TROUBLESHOOTING}",
                )


# --- the service scheduler ---------------------------------------------------------------------


def _deployment(service: Service, running: int, rollout_state: str, deployment_id: str | None = None) -> dict[str, Any]:
    deployment_id = deployment_id or f"ecs-svc/{mock_random.randint(10**18, 10**19 - 1)}"
    now = utcnow()
    reason = "completed" if rollout_state == "COMPLETED" else "in progress"
    return {
        "id": deployment_id,
        "status": "PRIMARY",
        "taskDefinition": service.task_definition,
        "desiredCount": service.desired_count,
        "pendingCount": 0,
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


def _new_tasks(ecs: EC2ContainerServiceBackend, service: Service, tasks: list[Task]) -> list[Task]:
    """Live tasks that count toward the current deployment (not on a DRAINING instance)."""
    generation = _sched(ecs, service)["generation"]
    out = []
    for t in tasks:
        ci = _ci_of(ecs, t)
        if t.started_by in generation and t.task_definition_arn == service.task_definition and not (ci and ci.status == "DRAINING"):
            out.append(t)
    return out


def start_rollout(ecs: EC2ContainerServiceBackend, service: Service, *, replace_tasks: bool) -> None:
    """A new PRIMARY deployment; `replace_tasks` (new task definition or forced): every
    existing task is replaced, else the running ones carry over."""
    st = _sched(ecs, service)
    live = _live(_tasks_of(ecs, service))
    deployment = _deployment(service, 0, "IN_PROGRESS")
    if replace_tasks:
        st["generation"] = {deployment["id"]}
    else:
        st["generation"] = set(st["generation"]) | {deployment["id"]}
    new = _new_tasks(ecs, service, live)
    deployment["runningCount"] = sum(1 for t in new if t.last_status == "RUNNING")
    service.deployments = [deployment]
    st["rollout"] = {
        "start": state.now(),
        "duration": state.DURATIONS["ecs_rollout"],
        "from": len(new),
        "to": service.desired_count,
        "deployment": deployment["id"],
    }
    st["start_msg"] = st["placement_msg"] = None
    _schedule(ecs, service, state.now())


def settle(ecs: EC2ContainerServiceBackend, service: Service) -> None:
    """Puts a service straight into its steady state: tasks placed and RUNNING (the seed)."""
    st = _sched(ecs, service)
    deployment = _deployment(service, 0, "COMPLETED")
    st["generation"] = set(st["generation"]) | {deployment["id"]}
    st["rollout"] = None
    service.deployments = [deployment]
    cluster = ecs._get_cluster(service.cluster_name)
    td = _td(ecs, service.task_definition)
    group = f"service:{service.name}"
    for task in _new_tasks(ecs, service, _live(_tasks_of(ecs, service))):
        if task.last_status == "PENDING":  # launched by a zero-length rollout just before
            _set_running(ecs, task)
    for _ in range(service.desired_count - len(_new_tasks(ecs, service, _live(_tasks_of(ecs, service))))):
        ci, why, _code = choose_instance(ecs, cluster.name, td, group)
        if ci is None:
            raise RuntimeError(f"the seed cannot place service {service.name}: {why}")
        task = launch(ecs, cluster, td, ci, group=group, started_by=deployment["id"])
        _set_running(ecs, task)
    _recount(ecs, service)
    st["steady"] = True


def _stop_order(ecs: EC2ContainerServiceBackend, tasks: list[Task]) -> list[Task]:
    """Which tasks to stop first when scaling in: PENDING ones, then from the fullest zone."""
    per_zone: dict[str, int] = {}
    for t in tasks:
        per_zone[t.availability_zone or ""] = per_zone.get(t.availability_zone or "", 0) + 1
    return sorted(tasks, key=lambda t: (t.last_status != "PENDING", -per_zone.get(t.availability_zone or "", 0), t.created_at))


def _recount(ecs: EC2ContainerServiceBackend, service: Service) -> None:
    live = _live(_tasks_of(ecs, service))
    service.running_count = sum(1 for t in live if t.last_status == "RUNNING")
    service.pending_count = sum(1 for t in live if t.last_status == "PENDING")
    if service.deployments:
        new = _new_tasks(ecs, service, live)
        deployment = service.deployments[0]
        counts = {
            "desiredCount": service.desired_count,
            "runningCount": sum(1 for t in new if t.last_status == "RUNNING"),
            "pendingCount": sum(1 for t in new if t.last_status == "PENDING"),
        }
        if any(deployment.get(k) != v for k, v in counts.items()):
            deployment.update(counts)
            deployment["updatedAt"] = utcnow()


def _schedule(ecs: EC2ContainerServiceBackend, service: Service, moment: float) -> None:
    st = _sched(ecs, service)
    st["blocked"] = [t for t in st["blocked"] if t > moment]
    rollout = st["rollout"]
    deployment_id = service.deployments[0]["id"] if service.deployments else "ecs-svc/0"
    desired = service.desired_count
    fraction = 1.0
    target = desired
    if rollout is not None:
        fraction = state.progress(rollout["start"], rollout["duration"], moment)
        target = round(rollout["from"] + (rollout["to"] - rollout["from"]) * fraction)
    live = _live(_tasks_of(ecs, service))
    new = _new_tasks(ecs, service, live)
    surplus = [t for t in live if t not in new]
    scaling = f"Scaling activity initiated by (deployment {deployment_id})"

    # Scale in along the line (new tasks beyond the target).
    if len(new) > target:
        extra = _stop_order(ecs, new)[: len(new) - target]
        for t in extra:
            stop(ecs, t, scaling, "ServiceSchedulerInitiated", replace=False)
        _event(service, f"(service {service.name}) has stopped {len(extra)} running tasks: " + _task_list(extra))
        new = [t for t in new if t not in extra]

    # Launch along the line, minus the slots still waiting for a replacement.
    need = target - len(new) - len(st["blocked"])
    if need > 0 and service.task_definition:
        cluster = ecs._get_cluster(service.cluster_name)
        td = _td(ecs, service.task_definition)
        group = f"service:{service.name}"
        started = []
        for _ in range(need):
            if service.launch_type == "FARGATE":
                subnets = ((service.network_configuration or {}).get("awsvpcConfiguration") or {}).get("subnets") or []
                zone = backend("ec2", ecs.account_id, ecs.region_name).get_subnet(subnets[0]).availability_zone if subnets else None
                if zone is None or outages.zone_dark(zone):
                    break
                task = launch(
                    ecs, cluster, td, None, group=group, started_by=deployment_id, launch_type="FARGATE",
                    network_configuration=service.network_configuration, zone=zone,
                )
            else:
                ci, why, _code = choose_instance(ecs, cluster.name, td, group)
                if ci is None:
                    message = (
                        f"(service {service.name}) was unable to place a task because no container instance met all of "
                        f"its requirements. {why} {TROUBLESHOOTING}"
                    )
                    if st["placement_msg"] != message:
                        st["placement_msg"] = message
                        _event(service, message)
                    break
                task = launch(
                    ecs, cluster, td, ci, group=group, started_by=deployment_id, launch_type=service.launch_type or "EC2",
                    network_configuration=service.network_configuration or None,
                )
            started.append(task)
        if started:
            st["placement_msg"] = None
            st["steady"] = False
            _event(service, f"(service {service.name}) has started {len(started)} tasks: " + _task_list(started))
            new += started

    # Old tasks (older definition, earlier deployment, DRAINING instance) go as new ones run.
    running_new = sum(1 for t in new if t.last_status == "RUNNING")
    stopped = []
    for t in _stop_order(ecs, surplus):
        if running_new + len(surplus) - len(stopped) <= desired:
            break
        ci = _ci_of(ecs, t)
        reason = "Container instance is being drained" if ci is not None and ci.status == "DRAINING" else scaling
        stop(ecs, t, reason, "ServiceSchedulerInitiated", replace=False)
        stopped.append(t)
    if stopped:
        _event(service, f"(service {service.name}) has stopped {len(stopped)} running tasks: " + _task_list(stopped))
    surplus = [t for t in surplus if t not in stopped]

    _recount(ecs, service)
    settled = running_new == desired == len(new) and not surplus and not st["blocked"]
    if rollout is not None:
        if fraction >= 1.0 and settled and service.deployments:
            deployment = service.deployments[0]
            deployment["rolloutState"] = "COMPLETED"
            deployment["rolloutStateReason"] = f"ECS deployment {deployment['id']} completed."
            deployment["updatedAt"] = utcnow()
            _event(service, f"(service {service.name}) has reached a steady state.")
            st["rollout"] = None
            st["steady"] = True
    elif settled and not st["steady"]:
        st["steady"] = True
        _event(service, f"(service {service.name}) has reached a steady state.")


def _prune(ecs: EC2ContainerServiceBackend) -> None:
    """Forgets the oldest STOPPED tasks of a cluster beyond `STOPPED_KEPT`."""
    for tasks in ecs.tasks.values():
        stopped = [arn for arn, t in tasks.items() if t.last_status == "STOPPED"]
        for arn in stopped[: max(0, len(stopped) - STOPPED_KEPT)]:
            del tasks[arn]


def _recount_clusters(ecs: EC2ContainerServiceBackend) -> None:
    for cluster in ecs.clusters.values():
        tasks = [t for t in ecs.tasks.get(cluster.name, {}).values() if t.desired_status == "RUNNING"]
        cluster.running_tasks_count = sum(1 for t in tasks if t.last_status == "RUNNING")
        cluster.pending_tasks_count = sum(1 for t in tasks if t.last_status == "PENDING")
        cluster.active_services_count = sum(
            1 for s in ecs.services.values() if s.cluster_name == cluster.name and s.status == "ACTIVE"
        )
        cluster.registered_container_instances_count = sum(
            1 for ci in ecs.container_instances.get(cluster.name, {}).values() if ci.status != "INACTIVE"
        )


@state.on_tick
def _tick(moment: float) -> None:
    ext_compute.tick(moment)
    for _account, regions in list(ecs_backends.items()):
        for region, ecs in list(regions.items()):
            if outages.region_dark(region):
                continue  # a dark region is frozen
            _advance_pending(ecs, moment)
            for service in list(ecs.services.values()):
                if service.status == "ACTIVE" and service.deployment_controller.get("type", "ECS") == "ECS":
                    _schedule(ecs, service, moment)
            _recount_clusters(ecs)
            _prune(ecs)


# --- operations --------------------------------------------------------------------------------


def stop_service_tasks(account: str, region: str, cluster: str, service_name: str, count: int, reason: str) -> list[str]:
    """The control API's stop-tasks: `count` RUNNING tasks of a service exit (replaced later)."""
    ecs: EC2ContainerServiceBackend = backend("ecs", account, region)
    service = ecs._get_service(cluster, service_name)
    running = [t for t in _live(_tasks_of(ecs, service)) if t.last_status == "RUNNING"]
    if not running:
        raise ValueError(f"service {service_name} in {cluster} ({region}) has no RUNNING task to stop")
    chosen = _stop_order(ecs, running)[:count]
    for task in chosen:
        stop(ecs, task, reason, "EssentialContainerExited", replace=True)
    return [t.task_arn for t in chosen]


def _find_task(ecs: EC2ContainerServiceBackend, cluster: str, task_str: str) -> Task:
    task_id = task_str.split("/")[-1]
    for arn, task in ecs.tasks.get(cluster, {}).items():
        if arn.split("/")[-1] == task_id:
            return task
    raise InvalidParameterException("The referenced task was not found.")


def run_task(resp: EC2ContainerServiceResponse) -> ActionResult:
    ecs = resp.ecs_backend
    cluster = ecs._get_cluster(resp._get_param("cluster", "default"))
    td = ecs.describe_task_definition(resp._get_param("taskDefinition"))
    count = resp._get_int_param("count", 1)
    launch_type = resp._get_param("launchType") or "EC2"
    network = resp._get_param("networkConfiguration")
    group = resp._get_param("group") or f"family:{td.family}"
    common = {
        "group": group,
        "started_by": resp._get_param("startedBy") or "",
        "overrides": resp._get_param("overrides"),
        "tags": resp._get_param("tags"),
        "network_configuration": network,
    }
    tasks: list[Task] = []
    failures: list[dict[str, str]] = []
    if launch_type == "FARGATE":
        subnets = ((network or {}).get("awsvpcConfiguration") or {}).get("subnets") or []
        if not subnets:
            raise InvalidParameterException("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
        zone = backend("ec2", ecs.account_id, ecs.region_name).get_subnet(subnets[0]).availability_zone
        for _ in range(count):
            tasks.append(launch(ecs, cluster, td, None, launch_type="FARGATE", zone=zone, **common))
        return ActionResult({"tasks": tasks, "failures": []})
    if not _serving_instances(ecs, cluster.name):
        raise InvalidParameterException("No Container Instances were found in your cluster.")
    for _ in range(count):
        ci, _why, code = choose_instance(ecs, cluster.name, td, group)
        if ci is None:
            closest = max(_serving_instances(ecs, cluster.name), key=lambda c: _resources(c)[1])
            failures.append({"arn": closest.container_instance_arn, "reason": code or "RESOURCE:MEMORY"})
            continue
        tasks.append(launch(ecs, cluster, td, ci, launch_type=launch_type, **common))
    return ActionResult({"tasks": tasks, "failures": failures})


def start_task(resp: EC2ContainerServiceResponse) -> ActionResult:
    ecs = resp.ecs_backend
    cluster = ecs._get_cluster(resp._get_param("cluster", "default"))
    td = ecs.describe_task_definition(resp._get_param("taskDefinition"))
    wanted = resp._get_param("containerInstances") or []
    if not wanted:
        raise InvalidParameterException("Container Instances cannot be empty.")
    group = resp._get_param("group") or f"family:{td.family}"
    tasks, failures = [], []
    for ref in wanted:
        ci = ecs.container_instances.get(cluster.name, {}).get(ref.split("/")[-1])
        if ci is None:
            failures.append({"arn": ref, "reason": "MISSING"})
            continue
        serving = [c for c in _serving_instances(ecs, cluster.name) if c is ci]
        if not serving:
            failures.append({"arn": ci.container_instance_arn, "reason": "AGENT" if not ci.agent_connected else "INACTIVE"})
            continue
        chosen, _why, code = choose_instance(ecs, cluster.name, td, group, among=serving)
        if chosen is None:
            failures.append({"arn": ci.container_instance_arn, "reason": code or "RESOURCE:MEMORY"})
            continue
        tasks.append(
            launch(
                ecs, cluster, td, chosen, group=group, started_by=resp._get_param("startedBy") or "",
                overrides=resp._get_param("overrides"), tags=resp._get_param("tags"),
            )
        )
    return ActionResult({"tasks": tasks, "failures": failures})


def install() -> None:
    Task.advance = lambda self: None  # type: ignore[method-assign]  # no walk to STOPPED on describe
    EC2ContainerServiceResponse.run_task = run_task  # type: ignore[method-assign]
    EC2ContainerServiceResponse.start_task = start_task  # type: ignore[method-assign]

    def stop_task(self: EC2ContainerServiceBackend, cluster_str: str, task_str: str, reason: str | None) -> Task:
        cluster = self._get_cluster(cluster_str)
        task = _find_task(self, cluster.name, task_str)
        stop(self, task, reason or "Task stopped by user", "UserInitiated", replace=True)
        return task

    EC2ContainerServiceBackend.stop_task = stop_task  # type: ignore[method-assign]

    original_list_tasks = EC2ContainerServiceBackend.list_tasks

    def list_tasks(self: EC2ContainerServiceBackend, cluster_str: str | None = None, container_instance: str | None = None,
                   family: str | None = None, started_by: str | None = None, service_name: str | None = None,
                   desiredStatus: str | None = None) -> list[Task]:
        # AWS lists RUNNING tasks unless asked otherwise, and filters by service.
        tasks = original_list_tasks(self, cluster_str, container_instance, family, started_by, None, desiredStatus or "RUNNING")
        if service_name:
            tasks = [t for t in tasks if t.group == f"service:{service_name.split('/')[-1]}"]
        return tasks

    EC2ContainerServiceBackend.list_tasks = list_tasks  # type: ignore[method-assign]

    original_list_ci = EC2ContainerServiceBackend.list_container_instances

    def list_container_instances(self: EC2ContainerServiceBackend, cluster_str: str, status: str | None = None) -> list[str]:
        arns = original_list_ci(self, cluster_str, status=status)
        if status is None:  # AWS: every state but INACTIVE unless a status is asked for
            cluster = cluster_str.split("/")[-1]
            inactive = {ci.container_instance_arn for ci in self.container_instances.get(cluster, {}).values() if ci.status == "INACTIVE"}
            arns = [a for a in arns if a not in inactive]
        return arns

    EC2ContainerServiceBackend.list_container_instances = list_container_instances  # type: ignore[method-assign]

    original_create = EC2ContainerServiceBackend.create_service

    def create_service(self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> Service:
        service = original_create(self, *args, **kwargs)
        if service.deployment_controller.get("type", "ECS") == "ECS":
            SCHED.pop(_key(self, service), None)
            start_rollout(self, service, replace_tasks=True)
        return service

    EC2ContainerServiceBackend.create_service = create_service  # type: ignore[method-assign]

    original_update = EC2ContainerServiceBackend.update_service

    def update_service(self: EC2ContainerServiceBackend, service_properties: dict[str, Any]) -> Service:
        cluster = self._get_cluster(service_properties.get("cluster", "default"))
        name = service_properties["service"].split("/")[-1]
        before = self.services.get(f"{cluster.name}:{name}")
        old = (before.desired_count, before.task_definition) if before else None
        force = bool(service_properties.get("force_new_deployment"))
        service = original_update(self, service_properties)
        if old is None or service.deployment_controller.get("type", "ECS") != "ECS":
            return service
        old_desired, old_task_definition = old
        td_changed = service.task_definition != old_task_definition
        if td_changed:  # moto keeps what the caller passed (a family, or family:revision)
            service.task_definition = self.describe_task_definition(service.task_definition).arn
            td_changed = service.task_definition != old_task_definition
        if service.desired_count != old_desired or td_changed or force:
            start_rollout(self, service, replace_tasks=td_changed or force)
        else:
            _recount(self, service)
        return service

    EC2ContainerServiceBackend.update_service = update_service  # type: ignore[method-assign]

    original_delete = EC2ContainerServiceBackend.delete_service

    def delete_service(self: EC2ContainerServiceBackend, cluster_name: str, service_name: str, force: bool) -> Service:
        service = original_delete(self, cluster_name, service_name, force)
        deployment_id = service.deployments[0]["id"] if service.deployments else "ecs-svc/0"
        for task in _live(_tasks_of(self, service)):
            stop(self, task, f"Scaling activity initiated by (deployment {deployment_id})", "ServiceSchedulerInitiated", replace=False)
        service.running_count = service.pending_count = 0
        SCHED.pop(_key(self, service), None)
        return service

    EC2ContainerServiceBackend.delete_service = delete_service  # type: ignore[method-assign]


# --- the application endpoint ----------------------------------------------------------------


def _normal_root(root: str | None) -> str:
    trimmed = (root or "/").rstrip("/")
    return "/" + trimmed.lstrip("/") if trimmed else "/"


def _qdrant_data(account: str, region: str, fs_id: str, root: str | None = "/") -> dict[str, Any]:
    """What a Qdrant task mounting `fs_id` at `root` finds there. AWS Backup restores into
    `aws-backup-restore_<timestamp>/` off the file system's root: a task that mounts the
    root of a restored file system finds that directory, not its data."""
    from . import ext_efs

    marker = ext_efs.restore_marker(account, region, fs_id)
    root = _normal_root(root)
    if marker:
        if root == "/" + marker["restore_directory"]:
            return {"data": "restored", **marker}
        if root == "/" and not ext_efs.holds_data_outside_restores(account, region, fs_id):
            return {"data": "empty", "root_directory": root, "restore_directory": marker["restore_directory"]}
    if root == "/" and ext_efs.holds_data(account, region, fs_id):
        return {"data": "live"}
    return {"data": "empty", "root_directory": root}


def app_health(account: str, region: str) -> tuple[bool, dict[str, Any]]:
    """The application endpoint: healthy when every app service runs as desired, rolled out,
    on tasks that really run, and Qdrant's running task mounts a file system holding data."""
    ecs: EC2ContainerServiceBackend = backend("ecs", account, region)
    services: dict[str, Any] = {}
    reasons: list[str] = []
    for name in APP_SERVICES:
        service = ecs.services.get(f"{CLUSTER}:{name}")
        if service is None or service.status != "ACTIVE":
            reasons.append(f"service {name} does not exist in {CLUSTER} ({region})")
            continue
        rollout = service.deployments[0]["rolloutState"] if service.deployments else None
        running = [t for t in _live(_tasks_of(ecs, service)) if t.last_status == "RUNNING"]
        detail: dict[str, Any] = {
            "desired": service.desired_count,
            "running": len(running),
            "rollout_state": rollout,
            "zones": sorted({t.availability_zone for t in running if t.availability_zone}),
        }
        problem = None
        if service.desired_count <= 0:
            problem = f"service {name} has desired count 0"
        elif len(running) != service.desired_count:
            problem = f"service {name} runs {len(running)} of {service.desired_count} tasks"
        elif rollout != "COMPLETED":
            problem = f"service {name} deployment is {rollout}"
        if name == QDRANT and running:
            mounts = []
            for task in running:
                for fs_id, root in efs_mounts(_td(ecs, task.task_definition_arn)):
                    data = _qdrant_data(account, region, fs_id, root)
                    data["file_system_id"] = fs_id
                    data["mount_target_available"] = mount_target_usable(account, region, fs_id, task.availability_zone)
                    mounts.append(data)
            if mounts:
                detail.update(mounts[0])
            if not mounts:
                problem = problem or "qdrant's task mounts no EFS file system: its index is empty"
            elif mounts[0]["data"] == "empty" and mounts[0].get("restore_directory"):
                problem = problem or (
                    f"qdrant's file system {mounts[0]['file_system_id']} holds no data at its root directory "
                    f"{mounts[0]['root_directory']}: the restore is in /{mounts[0]['restore_directory']}"
                )
            elif mounts[0]["data"] == "empty":
                problem = problem or f"qdrant's file system {mounts[0]['file_system_id']} holds no data"
            elif not mounts[0]["mount_target_available"]:
                problem = problem or f"qdrant cannot reach its file system {mounts[0]['file_system_id']} in {running[0].availability_zone}"
        detail["healthy"] = problem is None
        if problem:
            reasons.append(problem)
        services[name] = detail
    healthy = not reasons
    body: dict[str, Any] = {"status": "healthy" if healthy else "unhealthy", "region": region, "services": services}
    if reasons:
        body["reason"] = "; ".join(reasons)
    return healthy, body
