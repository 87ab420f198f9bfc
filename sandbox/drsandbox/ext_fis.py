"""AWS FIS: experiments that progress like AWS's, and ECS actions that act on moto's ECS.

moto 5.2.5 keeps experiment templates and experiments, but an experiment's state moves one
step per read (moto's state manager) and its actions do nothing. Here an experiment is
`initiating` for `fis_experiment_initiating` seconds, then its actions run and it is
`running` for `fis_experiment_run` seconds, then `completed`; `StopExperiment` makes it
`stopping` for `fis_experiment_stop` seconds, then `stopped`. A stop condition on a CloudWatch
alarm (`aws:cloudwatch:alarm`) stops a running experiment as soon as the alarm is in ALARM.
Actions, when the experiment starts running:

* `aws:ecs:stop-task` stops the tasks of its `Tasks` target (by ARN, by tag, or by the
  target's `cluster`/`service` parameters; `selectionMode` ALL, COUNT(n) or PERCENT(n)) with
  ECS's own `StopTask` (moto's backend method, which the sandbox's ECS scheduler follows);
* `aws:ecs:drain-container-instances` sets `drainagePercentage` % of the ACTIVE container
  instances of its `Clusters` target to DRAINING (`UpdateContainerInstancesState`), and back
  to ACTIVE when the experiment ends, however it ends.

Other actions are accepted and recorded but change nothing; the outage switch (an AZ outage)
stands in for what they would do on AWS. A target that resolves to nothing fails the
experiment when its `emptyTargetResolutionMode` is `fail` (the default), as on AWS.
"""

from __future__ import annotations

import math
from typing import Any

from moto.fis.models import Experiment, FISBackend
from moto.moto_api._internal import mock_random

from . import ext_services, state
from .common import backend

# experiment ARN -> the sandbox's timeline of it
TIMELINES: dict[str, dict[str, Any]] = {}

STOP_REASON = "Stopped by AWS FIS experiment {id} (aws:ecs:stop-task)"


@state.on_reset
def _reset() -> None:
    TIMELINES.clear()


def _set(experiment: Experiment, status: str, moment: float, reason: str | None = None) -> None:
    experiment._status = status
    timeline = TIMELINES[experiment.arn]
    timeline["status"] = status
    timeline["since"] = moment
    reasons = dict(Experiment.STATUS_REASONS)
    if reason:
        reasons[status] = reason
    # moto builds the state's reason from this table; an instance table carries our reasons.
    experiment.STATUS_REASONS = reasons  # type: ignore[misc]
    if status in Experiment.TERMINAL_STATUSES:
        experiment.end_time = moment


class ActionFailed(Exception):
    pass


def _selected(items: list[str], mode: str) -> list[str]:
    mode = (mode or "ALL").upper()
    if mode == "ALL":
        return items
    for prefix in ("COUNT(", "PERCENT("):
        if mode.startswith(prefix) and mode.endswith(")"):
            n = int(mode[len(prefix) : -1])
            count = n if prefix == "COUNT(" else math.ceil(len(items) * n / 100)
            chosen = list(items)
            mock_random.shuffle(chosen)
            return sorted(chosen[: max(0, count)])
    raise ActionFailed(f"Unsupported selectionMode {mode}")


def _tags_match(tags: list[dict[str, str]], wanted: dict[str, str]) -> bool:
    have = {t.get("key"): t.get("value") for t in tags or []}
    return all(have.get(k) == v for k, v in wanted.items())


def _target(experiment: Experiment, action: dict[str, Any], key: str) -> dict[str, Any]:
    name = (action.get("targets") or {}).get(key)
    target = experiment.targets.get(name) if name else None
    if target is None:
        raise ActionFailed(f"Action {action.get('actionId')} has no {key} target")
    return target


def _resolve_tasks(experiment: Experiment, target: dict[str, Any]) -> list[tuple[str, str]]:
    """(cluster name, task ARN) of the RUNNING tasks a target names."""
    ecs = backend("ecs", experiment.account_id, experiment.region_name)
    parameters = target.get("parameters") or {}
    wanted_cluster = (parameters.get("cluster") or "").split("/")[-1]
    wanted_service = (parameters.get("service") or "").split("/")[-1]
    arns = set(target.get("resourceArns") or [])
    found = []
    for cluster_name, tasks in ecs.tasks.items():
        if wanted_cluster and cluster_name != wanted_cluster:
            continue
        for arn, task in tasks.items():
            if task.last_status != "RUNNING" or task.desired_status != "RUNNING":
                continue
            if arns and arn not in arns:
                continue
            if target.get("resourceTags") and not _tags_match(task.tags, target["resourceTags"]):
                continue
            if wanted_service and task.group != f"service:{wanted_service}":
                continue
            found.append((cluster_name, arn))
    chosen = set(_selected(sorted(a for _, a in found), target.get("selectionMode", "ALL")))
    return [(c, a) for c, a in found if a in chosen]


def _stop_tasks(experiment: Experiment, action: dict[str, Any]) -> None:
    target = _target(experiment, action, "Tasks")
    tasks = _resolve_tasks(experiment, target)
    if not tasks and experiment.experiment_options.get("emptyTargetResolutionMode", "fail") == "fail":
        raise ActionFailed("Target resolution returned empty set")
    ecs = backend("ecs", experiment.account_id, experiment.region_name)
    for cluster_name, arn in tasks:
        ecs.stop_task(cluster_name, arn, STOP_REASON.format(id=experiment.id))


def _drain(experiment: Experiment, action: dict[str, Any]) -> list[tuple[str, str]]:
    target = _target(experiment, action, "Clusters")
    try:
        percentage = int((action.get("parameters") or {}).get("drainagePercentage", ""))
    except ValueError as err:
        raise ActionFailed("aws:ecs:drain-container-instances needs drainagePercentage (1-100)") from err
    if not 1 <= percentage <= 100:
        raise ActionFailed("drainagePercentage must be within 1-100")
    ecs = backend("ecs", experiment.account_id, experiment.region_name)
    arns = set(target.get("resourceArns") or [])
    drained = []
    for cluster_name, instances in ecs.container_instances.items():
        cluster = ecs.clusters.get(cluster_name)
        if cluster is None or (arns and cluster.arn not in arns):
            continue
        if target.get("resourceTags") and not _tags_match(cluster.tags, target["resourceTags"]):
            continue
        active = sorted(i.container_instance_arn for i in instances.values() if i.status == "ACTIVE")
        count = math.ceil(len(active) * percentage / 100)
        for arn in active[:count]:
            ecs.update_container_instances_state(cluster_name, [arn], "DRAINING")
            drained.append((cluster_name, arn))
    if not drained and experiment.experiment_options.get("emptyTargetResolutionMode", "fail") == "fail":
        raise ActionFailed("Target resolution returned empty set")
    return drained


def _run_actions(experiment: Experiment, timeline: dict[str, Any]) -> None:
    for action in experiment.actions.values():
        action_id = action.get("actionId")
        if action_id == "aws:ecs:stop-task":
            _stop_tasks(experiment, action)
        elif action_id == "aws:ecs:drain-container-instances":
            timeline["drained"].extend(_drain(experiment, action))


def _undo(experiment: Experiment, timeline: dict[str, Any]) -> None:
    """What FIS reverts when an experiment ends: drained instances go back to ACTIVE."""
    ecs = backend("ecs", experiment.account_id, experiment.region_name)
    for cluster_name, arn in timeline["drained"]:
        instance = ecs.container_instances.get(cluster_name, {}).get(arn.split("/")[-1])
        if instance is not None and instance.status == "DRAINING":
            ecs.update_container_instances_state(cluster_name, [arn], "ACTIVE")
    timeline["drained"] = []


def _alarm_in_alarm(experiment: Experiment) -> str | None:
    cloudwatch = backend("cloudwatch", experiment.account_id, experiment.region_name)
    for condition in experiment.stop_conditions or []:
        if condition.get("source") != "aws:cloudwatch:alarm":
            continue
        for alarm in cloudwatch.alarms.values():
            if alarm.alarm_arn == condition.get("value") and alarm.state_value == "ALARM":
                return str(alarm.alarm_arn)
    return None


def _advance(experiment: Experiment, timeline: dict[str, Any], moment: float) -> None:
    durations = timeline["durations"]
    status = timeline["status"]
    if status == "initiating" and moment >= timeline["since"] + durations["initiating"]:
        try:
            _run_actions(experiment, timeline)
        except ActionFailed as err:
            _undo(experiment, timeline)
            _set(experiment, "failed", moment, str(err))
            return
        _set(experiment, "running", moment)
    elif status == "running":
        alarm = _alarm_in_alarm(experiment)
        if alarm:
            _set(experiment, "stopping", moment, f"Stop condition {alarm} activated")
            timeline["stop_reason"] = f"Experiment stopped by stop condition {alarm}"
        elif moment >= timeline["since"] + durations["run"]:
            _undo(experiment, timeline)
            _set(experiment, "completed", moment)
    elif status == "stopping" and moment >= timeline["since"] + durations["stop"]:
        _undo(experiment, timeline)
        _set(experiment, "stopped", moment, timeline.get("stop_reason"))


@state.on_tick
def _tick(moment: float) -> None:
    for arn, timeline in list(TIMELINES.items()):
        fis: FISBackend = backend("fis", timeline["account"], timeline["region"])
        experiment = fis.experiments.get(arn.rsplit("/", 1)[-1])
        if experiment is None:
            del TIMELINES[arn]
            continue
        _advance(experiment, timeline, moment)
        if timeline["status"] in Experiment.TERMINAL_STATUSES:
            del TIMELINES[arn]


def install() -> None:
    ext_services.contract_covers("fis", ["StartExperiment", "GetExperiment", "ListExperiments", "StopExperiment"])
    # The sandbox's ticker moves experiments; moto's state manager must not move them too.
    Experiment.status = property(  # type: ignore[method-assign,assignment]
        lambda self: self._status,
        lambda self, value: setattr(self, "_status", value),
    )

    original_start = FISBackend.start_experiment

    def start_experiment(self: FISBackend, *args: Any, **kwargs: Any) -> dict[str, Any]:
        known = set(self.experiments)
        result = original_start(self, *args, **kwargs)
        experiment = self.experiments[result["id"]]
        if experiment.id not in known:  # not a repeated client token
            TIMELINES[experiment.arn] = {
                "account": self.account_id,
                "region": self.region_name,
                "drained": [],
                "durations": {
                    "initiating": state.DURATIONS["fis_experiment_initiating"],
                    "run": state.DURATIONS["fis_experiment_run"],
                    "stop": state.DURATIONS["fis_experiment_stop"],
                },
            }
            _set(experiment, "initiating", state.now())
        return experiment.to_dict(tags=self.tagger.get_tag_dict_for_resource(experiment.arn))

    FISBackend.start_experiment = start_experiment  # type: ignore[method-assign]

    original_stop = FISBackend.stop_experiment

    def stop_experiment(self: FISBackend, id: str) -> dict[str, Any]:  # noqa: A002 - moto's name
        experiment = self.experiments.get(id)
        timeline = TIMELINES.get(experiment.arn) if experiment is not None else None
        if experiment is not None and timeline is not None and timeline["status"] in ("initiating", "running"):
            timeline["stop_reason"] = "Experiment stopped by user"
            _set(experiment, "stopping", state.now(), "Experiment is stopping")
            return experiment.to_dict(tags=self.tagger.get_tag_dict_for_resource(experiment.arn))
        return original_stop(self, id)

    FISBackend.stop_experiment = stop_experiment  # type: ignore[method-assign]
