"""Route 53 ARC routing controls: the control-config API, the cluster data plane, and
Route 53 health checks of type RECOVERY_CONTROL.

moto 5.2.5 has neither API. Here, as on AWS:

* `route53-recovery-control-config` (REST-JSON, served from us-west-2) creates clusters,
  control panels (each cluster gets a default one), routing controls and safety rules.
  A cluster is PENDING for `arc_cluster_deploy` seconds, then DEPLOYED with five regional
  `ClusterEndpoints`.
* `route53-recovery-cluster` (JSON 1.0) gets and sets routing control states, but only
  through one of the cluster's endpoints. In the sandbox an endpoint is a URL on the
  sandbox's own port that names its region and its cluster,
  `http://127.0.0.1:PORT/_arc/<region>/<cluster-id>/v1`; the AWS SDKs send their requests to
  that path when it is their `endpoint_url`. An endpoint whose region is dark (the outage
  switch) does not answer, so a client must try the next one, as AWS tells it to.
* Every state change is checked against the control panel's safety rules: an assertion rule
  over the controls being changed, or a gating rule whose targets are being changed, that
  would not hold afterwards refuses the whole request with `ConflictException` naming the
  rule, unless its ARN is in `SafetyRulesToOverride`.
* A Route 53 health check of type RECOVERY_CONTROL (`RoutingControlArn`) is healthy exactly
  when its routing control is On (`routing_control_is_on`, used by ext_route53).

Every answer is an `ActionResult` serialised by moto's botocore-model serializer.
"""

from __future__ import annotations

import os
import re
from typing import Any

from moto.core.responses import ActionResult, BaseResponse, EmptyResult
from moto.moto_api._internal import mock_random
from moto.route53.models import HealthCheck
from moto.route53.responses import Route53

from . import ext_services, state
from .common import backend, paginate, params

# The five regions of every ARC cluster's endpoints (as AWS deploys them).
ENDPOINT_REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1", "ap-southeast-2"]
ENDPOINT_PATH = re.compile(r"^/_arc/(?P<region>[a-z0-9-]+)/(?P<cluster>[A-Za-z0-9-]+)(/.*)?$")
DEFAULT_PANEL_NAME = "DefaultControlPanel"
CONTROL_CONFIG_REGION = "us-west-2"

# ARN -> record; every record keeps its account.
CLUSTERS: dict[str, dict[str, Any]] = {}
PANELS: dict[str, dict[str, Any]] = {}
CONTROLS: dict[str, dict[str, Any]] = {}
RULES: dict[str, dict[str, Any]] = {}
TAGS: dict[str, dict[str, str]] = {}


@state.on_reset
def _reset() -> None:
    for table in (CLUSTERS, PANELS, CONTROLS, RULES, TAGS):
        table.clear()


# --- errors -----------------------------------------------------------------------------


def _not_found(message: str, resource_id: str = "", resource_type: str = "") -> Exception:
    # The cluster API's ResourceNotFoundException also requires resourceId and resourceType;
    # the control-config one has only a message (the serializer drops what a shape lacks).
    return ext_services.error("ResourceNotFoundException", message, resourceId=resource_id, resourceType=resource_type)


def _invalid(message: str) -> Exception:
    return ext_services.error("ValidationException", message)


def _conflict(message: str, resource_id: str = "", resource_type: str = "") -> Exception:
    return ext_services.error("ConflictException", message, resourceId=resource_id, resourceType=resource_type)


# --- model ------------------------------------------------------------------------------


def _hex(n: int) -> str:
    return "".join(mock_random.choice("0123456789abcdef") for _ in range(n))


def _arn(account: str, resource: str) -> str:
    return f"arn:aws:route53-recovery-control::{account}:{resource}"


def cluster_status(cluster: dict[str, Any]) -> str:
    return "DEPLOYED" if state.now() >= cluster["deployed_at"] else "PENDING"


def endpoint_url(cluster: dict[str, Any], region: str, host: str | None = None) -> str:
    host = host or f"127.0.0.1:{os.environ.get('MOTO_PORT', '4566')}"
    return f"http://{host}/_arc/{region}/{cluster['id']}/v1"


def create_cluster(account: str, name: str, network_type: str = "IPV4", deployed: bool = False) -> dict[str, Any]:
    cluster_id = str(mock_random.uuid4())
    arn = _arn(account, f"cluster/{cluster_id}")
    created = state.now()
    cluster = {
        "arn": arn,
        "id": cluster_id,
        "account": account,
        "name": name,
        "network_type": network_type,
        "deployed_at": created if deployed else created + state.DURATIONS["arc_cluster_deploy"],
    }
    CLUSTERS[arn] = cluster
    create_control_panel(account, arn, DEFAULT_PANEL_NAME, default=True)
    return cluster


def create_control_panel(account: str, cluster_arn: str, name: str, default: bool = False) -> dict[str, Any]:
    _cluster(cluster_arn)
    arn = _arn(account, f"controlpanel/{_hex(32)}")
    panel = {"arn": arn, "account": account, "cluster_arn": cluster_arn, "name": name, "default": default}
    PANELS[arn] = panel
    return panel


def create_routing_control(account: str, cluster_arn: str, panel_arn: str | None, name: str) -> dict[str, Any]:
    cluster = _cluster(cluster_arn)
    if panel_arn is None:
        panel_arn = next(p["arn"] for p in PANELS.values() if p["cluster_arn"] == cluster["arn"] and p["default"])
    panel = _panel(panel_arn)
    if panel["cluster_arn"] != cluster_arn:
        raise _invalid(f"Control panel {panel_arn} does not belong to cluster {cluster_arn}")
    if any(c["panel_arn"] == panel_arn and c["name"] == name for c in CONTROLS.values()):
        raise _conflict(f"A routing control named {name} already exists in control panel {panel_arn}")
    arn = f"{panel_arn}/routingcontrol/{_hex(14)}"
    # A new routing control is Off, as on AWS.
    control = {"arn": arn, "account": account, "panel_arn": panel_arn, "cluster_arn": cluster_arn, "name": name, "state": "Off"}
    CONTROLS[arn] = control
    return control


def create_assertion_rule(account: str, panel_arn: str, name: str, asserted: list[str], config: dict[str, Any], wait_ms: int) -> dict[str, Any]:
    return _create_rule(account, panel_arn, name, "ASSERTION", config, wait_ms, asserted=asserted)


def _create_rule(account: str, panel_arn: str, name: str, kind: str, config: dict[str, Any], wait_ms: int, **controls: list[str]) -> dict[str, Any]:
    _panel(panel_arn)
    for role, arns in controls.items():
        if not arns:
            raise _invalid(f"{role} controls of safety rule {name} must not be empty")
        for arn in arns:
            control = CONTROLS.get(arn)
            if control is None or control["panel_arn"] != panel_arn:
                raise _invalid(f"Routing control {arn} is not in control panel {panel_arn}")
    rule_type = config.get("Type")
    if rule_type not in ("ATLEAST", "AND", "OR"):
        raise _invalid(f"RuleConfig Type must be ATLEAST, AND or OR, not {rule_type!r}")
    threshold = int(config.get("Threshold", 0))
    if rule_type == "ATLEAST" and threshold < 1:
        raise _invalid("RuleConfig Threshold must be at least 1 for an ATLEAST rule")
    arn = f"{panel_arn}/safetyrule/{_hex(14)}"
    rule = {
        "arn": arn,
        "account": account,
        "panel_arn": panel_arn,
        "name": name,
        "kind": kind,
        "config": {"Type": rule_type, "Threshold": threshold, "Inverted": bool(config.get("Inverted", False))},
        "wait_ms": int(wait_ms),
        **{role: list(arns) for role, arns in controls.items()},
    }
    RULES[arn] = rule
    return rule


def _cluster(arn: str) -> dict[str, Any]:
    cluster = CLUSTERS.get(arn)
    if cluster is None:
        raise _not_found(f"Cluster {arn} does not exist", arn, "Cluster")
    return cluster


def _panel(arn: str) -> dict[str, Any]:
    panel = PANELS.get(arn)
    if panel is None:
        raise _not_found(f"Control panel {arn} does not exist", arn, "ControlPanel")
    return panel


def _control(arn: str) -> dict[str, Any]:
    control = CONTROLS.get(arn)
    if control is None:
        raise _not_found(f"Routing control {arn} does not exist", arn, "RoutingControl")
    return control


def _rule(arn: str) -> dict[str, Any]:
    rule = RULES.get(arn)
    if rule is None:
        raise _not_found(f"Safety rule {arn} does not exist", arn, "SafetyRule")
    return rule


def routing_control_is_on(arn: str | None) -> bool | None:
    """On or Off for a routing control ARN; None when there is no such routing control."""
    control = CONTROLS.get(arn) if arn else None
    return None if control is None else control["state"] == "On"


def _rule_holds(rule: dict[str, Any], states: dict[str, str], controls: list[str]) -> bool:
    on = sum(1 for arn in controls if states.get(arn) == "On")
    config = rule["config"]
    if config["Type"] == "ATLEAST":
        holds = on >= config["Threshold"]
    elif config["Type"] == "AND":
        holds = on == len(controls)
    else:
        holds = on >= 1
    return holds != config["Inverted"]


def update_states(cluster_id: str | None, entries: list[tuple[str, str]], overrides: list[str]) -> None:
    """Applies every entry or none: the safety rules decide on the states after the change."""
    changed: dict[str, str] = {}
    for arn, value in entries:
        if value not in ("On", "Off"):
            raise _invalid(f"RoutingControlState must be On or Off, not {value!r}")
        control = _control(arn)
        if cluster_id is not None and CLUSTERS[control["cluster_arn"]]["id"] != cluster_id:
            raise _not_found(f"Routing control {arn} is not in this cluster", arn, "RoutingControl")
        changed[arn] = value
    after = {arn: c["state"] for arn, c in CONTROLS.items()}
    after.update(changed)
    panels = {CONTROLS[arn]["panel_arn"] for arn in changed}
    for rule in RULES.values():
        if rule["panel_arn"] not in panels or rule["arn"] in overrides:
            continue
        if rule["kind"] == "ASSERTION":
            involved, evaluated = rule["asserted"], rule["asserted"]
        else:
            involved, evaluated = rule["targets"], rule["gating"]
        if not any(arn in changed for arn in involved):
            continue
        if not _rule_holds(rule, after, evaluated):
            raise _conflict(
                f"Cannot update routing control state(s): the change would violate safety rule {rule['name']} "
                f"({rule['arn']}); to override it, pass its ARN in SafetyRulesToOverride",
                rule["arn"],
                "SafetyRule",
            )
    for arn, value in changed.items():
        CONTROLS[arn]["state"] = value


# --- control-config API (route53-recovery-control-config) ----------------------------------


class ArcControlConfigResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name="route53-recovery-control-config")


def _host(resp: BaseResponse) -> str | None:
    return resp.headers.get("Host")


def _cluster_json(cluster: dict[str, Any], host: str | None) -> dict[str, Any]:
    status = cluster_status(cluster)
    out: dict[str, Any] = {
        "ClusterArn": cluster["arn"],
        "Name": cluster["name"],
        "Status": status,
        "Owner": cluster["account"],
        "NetworkType": cluster["network_type"],
        "ClusterEndpoints": [],
    }
    if status == "DEPLOYED":
        out["ClusterEndpoints"] = [{"Region": r, "Endpoint": endpoint_url(cluster, r, host)} for r in ENDPOINT_REGIONS]
    return out


def _panel_json(panel: dict[str, Any]) -> dict[str, Any]:
    return {
        "ClusterArn": panel["cluster_arn"],
        "ControlPanelArn": panel["arn"],
        "DefaultControlPanel": panel["default"],
        "Name": panel["name"],
        "RoutingControlCount": sum(1 for c in CONTROLS.values() if c["panel_arn"] == panel["arn"]),
        "Status": "DEPLOYED",
        "Owner": panel["account"],
    }


def _control_json(control: dict[str, Any]) -> dict[str, Any]:
    return {
        "ControlPanelArn": control["panel_arn"],
        "Name": control["name"],
        "RoutingControlArn": control["arn"],
        "Status": "DEPLOYED",
        "Owner": control["account"],
    }


def _rule_json(rule: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    out: dict[str, Any] = {
        "ControlPanelArn": rule["panel_arn"],
        "Name": rule["name"],
        "RuleConfig": dict(rule["config"]),
        "SafetyRuleArn": rule["arn"],
        "Status": "DEPLOYED",
        "WaitPeriodMs": rule["wait_ms"],
        "Owner": rule["account"],
    }
    if rule["kind"] == "ASSERTION":
        out["AssertedControls"] = list(rule["asserted"])
        return "AssertionRule", out
    out["GatingControls"] = list(rule["gating"])
    out["TargetControls"] = list(rule["targets"])
    return "GatingRule", out


def _page(resp: BaseResponse, items: list[Any], key: str) -> ActionResult:
    p = params(resp)
    page, token = paginate(items, p.get("MaxResults"), p.get("NextToken"))
    result: dict[str, Any] = {key: page}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def _tag(arn: str, tags: dict[str, str] | None) -> None:
    if tags:
        TAGS.setdefault(arn, {}).update(tags)


def create_cluster_handler(self: ArcControlConfigResponse) -> ActionResult:
    p = params(self)
    name = p["ClusterName"]
    if any(c["name"] == name and c["account"] == self.current_account for c in CLUSTERS.values()):
        raise _conflict(f"A cluster named {name} already exists")
    cluster = create_cluster(self.current_account, name, p.get("NetworkType", "IPV4"))
    _tag(cluster["arn"], p.get("Tags"))
    return ActionResult({"Cluster": _cluster_json(cluster, _host(self))})


def describe_cluster(self: ArcControlConfigResponse) -> ActionResult:
    return ActionResult({"Cluster": _cluster_json(_cluster(params(self)["ClusterArn"]), _host(self))})


def list_clusters(self: ArcControlConfigResponse) -> ActionResult:
    clusters = [c for c in CLUSTERS.values() if c["account"] == self.current_account]
    return _page(self, [_cluster_json(c, _host(self)) for c in clusters], "Clusters")


def delete_cluster(self: ArcControlConfigResponse) -> ActionResult:
    arn = params(self)["ClusterArn"]
    _cluster(arn)
    panels = [p for p in PANELS.values() if p["cluster_arn"] == arn]
    if any(not p["default"] for p in panels) or any(c["cluster_arn"] == arn for c in CONTROLS.values()):
        raise _conflict(f"Cluster {arn} still has control panels or routing controls; delete them first")
    for panel in panels:
        del PANELS[panel["arn"]]
    del CLUSTERS[arn]
    return EmptyResult()


def create_control_panel_handler(self: ArcControlConfigResponse) -> ActionResult:
    p = params(self)
    panel = create_control_panel(self.current_account, p["ClusterArn"], p["ControlPanelName"])
    _tag(panel["arn"], p.get("Tags"))
    return ActionResult({"ControlPanel": _panel_json(panel)})


def describe_control_panel(self: ArcControlConfigResponse) -> ActionResult:
    return ActionResult({"ControlPanel": _panel_json(_panel(params(self)["ControlPanelArn"]))})


def list_control_panels(self: ArcControlConfigResponse) -> ActionResult:
    cluster_arn = params(self).get("ClusterArn")
    panels = [
        p for p in PANELS.values() if p["account"] == self.current_account and cluster_arn in (None, p["cluster_arn"])
    ]
    return _page(self, [_panel_json(p) for p in panels], "ControlPanels")


def delete_control_panel(self: ArcControlConfigResponse) -> ActionResult:
    arn = params(self)["ControlPanelArn"]
    panel = _panel(arn)
    if panel["default"]:
        raise _invalid("The default control panel of a cluster cannot be deleted")
    if any(c["panel_arn"] == arn for c in CONTROLS.values()):
        raise _conflict(f"Control panel {arn} still has routing controls; delete them first")
    for rule_arn in [r["arn"] for r in RULES.values() if r["panel_arn"] == arn]:
        del RULES[rule_arn]
    del PANELS[arn]
    return EmptyResult()


def create_routing_control_handler(self: ArcControlConfigResponse) -> ActionResult:
    p = params(self)
    control = create_routing_control(self.current_account, p["ClusterArn"], p.get("ControlPanelArn"), p["RoutingControlName"])
    return ActionResult({"RoutingControl": _control_json(control)})


def describe_routing_control(self: ArcControlConfigResponse) -> ActionResult:
    return ActionResult({"RoutingControl": _control_json(_control(params(self)["RoutingControlArn"]))})


def list_routing_controls(self: ArcControlConfigResponse) -> ActionResult:
    panel_arn = params(self)["ControlPanelArn"]
    _panel(panel_arn)
    controls = [c for c in CONTROLS.values() if c["panel_arn"] == panel_arn]
    return _page(self, [_control_json(c) for c in controls], "RoutingControls")


def delete_routing_control(self: ArcControlConfigResponse) -> ActionResult:
    arn = params(self)["RoutingControlArn"]
    _control(arn)
    for rule in RULES.values():
        if arn in rule.get("asserted", []) + rule.get("gating", []) + rule.get("targets", []):
            raise _conflict(f"Routing control {arn} is used by safety rule {rule['arn']}; delete the rule first")
    del CONTROLS[arn]
    return EmptyResult()


def create_safety_rule(self: ArcControlConfigResponse) -> ActionResult:
    p = params(self)
    assertion, gating = p.get("AssertionRule"), p.get("GatingRule")
    if (assertion is None) == (gating is None):
        raise _invalid("Give exactly one of AssertionRule and GatingRule")
    if assertion is not None:
        rule = create_assertion_rule(
            self.current_account,
            assertion["ControlPanelArn"],
            assertion["Name"],
            assertion["AssertedControls"],
            assertion["RuleConfig"],
            assertion["WaitPeriodMs"],
        )
    else:
        rule = _create_rule(
            self.current_account,
            gating["ControlPanelArn"],
            gating["Name"],
            "GATING",
            gating["RuleConfig"],
            gating["WaitPeriodMs"],
            gating=gating["GatingControls"],
            targets=gating["TargetControls"],
        )
    _tag(rule["arn"], p.get("Tags"))
    key, body = _rule_json(rule)
    return ActionResult({key: body})


def describe_safety_rule(self: ArcControlConfigResponse) -> ActionResult:
    key, body = _rule_json(_rule(params(self)["SafetyRuleArn"]))
    return ActionResult({key: body})


def list_safety_rules(self: ArcControlConfigResponse) -> ActionResult:
    panel_arn = params(self)["ControlPanelArn"]
    _panel(panel_arn)
    items = []
    for rule in RULES.values():
        if rule["panel_arn"] == panel_arn:
            key, body = _rule_json(rule)
            items.append({"ASSERTION" if key == "AssertionRule" else "GATING": body})
    return _page(self, items, "SafetyRules")


def delete_safety_rule(self: ArcControlConfigResponse) -> ActionResult:
    arn = params(self)["SafetyRuleArn"]
    _rule(arn)
    del RULES[arn]
    return EmptyResult()


def list_associated_route53_health_checks(self: ArcControlConfigResponse) -> ActionResult:
    arn = params(self)["RoutingControlArn"]
    _control(arn)
    checks = backend("route53", self.current_account, "aws").health_checks.values()
    ids = [c.id for c in checks if getattr(c, "routing_control_arn", None) == arn]
    return _page(self, ids, "HealthCheckIds")


def _known(arn: str) -> None:
    if not any(arn in table for table in (CLUSTERS, PANELS, CONTROLS, RULES)):
        raise _not_found(f"Resource {arn} does not exist")


def list_tags_for_resource(self: ArcControlConfigResponse) -> ActionResult:
    arn = params(self)["ResourceArn"]
    _known(arn)
    return ActionResult({"Tags": dict(TAGS.get(arn, {}))})


def tag_resource(self: ArcControlConfigResponse) -> ActionResult:
    p = params(self)
    _known(p["ResourceArn"])
    _tag(p["ResourceArn"], p["Tags"])
    return EmptyResult()


def untag_resource(self: ArcControlConfigResponse) -> ActionResult:
    p = params(self)
    _known(p["ResourceArn"])
    for key in p.get("TagKeys") or []:
        TAGS.get(p["ResourceArn"], {}).pop(key, None)
    return EmptyResult()


# Handler names are the operations' snake_case names; the model-level helpers above that
# share a name get a `_handler` suffix and are renamed here.
create_cluster_handler.__name__ = "create_cluster"
create_control_panel_handler.__name__ = "create_control_panel"
create_routing_control_handler.__name__ = "create_routing_control"

CONTROL_CONFIG_HANDLERS = [
    create_cluster_handler,
    describe_cluster,
    list_clusters,
    delete_cluster,
    create_control_panel_handler,
    describe_control_panel,
    list_control_panels,
    delete_control_panel,
    create_routing_control_handler,
    describe_routing_control,
    list_routing_controls,
    delete_routing_control,
    create_safety_rule,
    describe_safety_rule,
    list_safety_rules,
    delete_safety_rule,
    list_associated_route53_health_checks,
    list_tags_for_resource,
    tag_resource,
    untag_resource,
]


# --- cluster data plane (route53-recovery-cluster) -------------------------------------------


class ArcClusterResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name="route53-recovery-cluster")

    def _endpoint_cluster(self) -> str:
        """The cluster whose endpoint was called (the path names it)."""
        match = ENDPOINT_PATH.match(self.path)
        if match is None or not any(c["id"] == match["cluster"] for c in CLUSTERS.values()):
            raise _not_found(f"No ARC cluster endpoint at {self.path}", self.path, "ClusterEndpoint")
        return match["cluster"]


def endpoint_region(path: str) -> str | None:
    """The region a cluster endpoint path names."""
    match = ENDPOINT_PATH.match(path)
    return match["region"] if match else None


def request_region(service: str, path: str) -> str | None:
    """Where AWS serves an ARC request, whatever region the client signed for: a cluster
    endpoint's own region, and us-west-2 for the control-config API (AWS hosts it there
    only). The request log, fault rules and the outage switch use this region."""
    if service == "route53-recovery-control-config":
        return CONTROL_CONFIG_REGION
    return endpoint_region(path)


def endpoint_region_is_dark(region: str) -> bool:
    """The outage switch's answer for a cluster endpoint's region (S1's `outages` module,
    branch sbx-compute; until it is merged no region is ever dark)."""
    try:
        from . import outages  # type: ignore[attr-defined]
    except ImportError:
        return False
    return bool(outages.region_is_dark(region))


def refuse_if_endpoint_dark(environ: dict[str, Any]) -> None:
    """A cluster endpoint in a dark region drops the connection without an answer."""
    region = endpoint_region(environ.get("PATH_INFO", ""))
    if region is None or not endpoint_region_is_dark(region):
        return
    import socket

    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionResetError(f"sandbox: ARC cluster endpoint in dark region {region}")


def _state_json(control: dict[str, Any]) -> dict[str, Any]:
    return {"RoutingControlArn": control["arn"], "RoutingControlState": control["state"], "RoutingControlName": control["name"]}


def get_routing_control_state(self: ArcClusterResponse) -> ActionResult:
    cluster_id = self._endpoint_cluster()
    arn = params(self)["RoutingControlArn"]
    control = _control(arn)
    if CLUSTERS[control["cluster_arn"]]["id"] != cluster_id:
        raise _not_found(f"Routing control {arn} is not in this cluster", arn, "RoutingControl")
    return ActionResult(_state_json(control))


def cluster_list_routing_controls(self: ArcClusterResponse) -> ActionResult:
    cluster_id = self._endpoint_cluster()
    p = params(self)
    panel_arn = p.get("ControlPanelArn")
    if panel_arn is not None:
        _panel(panel_arn)
    items = []
    for control in CONTROLS.values():
        if CLUSTERS[control["cluster_arn"]]["id"] != cluster_id or panel_arn not in (None, control["panel_arn"]):
            continue
        items.append(
            {
                "ControlPanelArn": control["panel_arn"],
                "ControlPanelName": PANELS[control["panel_arn"]]["name"],
                "RoutingControlArn": control["arn"],
                "RoutingControlName": control["name"],
                "RoutingControlState": control["state"],
                "Owner": control["account"],
            }
        )
    page, token = paginate(items, p.get("MaxResults"), p.get("NextToken"))
    result: dict[str, Any] = {"RoutingControls": page}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def update_routing_control_state(self: ArcClusterResponse) -> ActionResult:
    cluster_id = self._endpoint_cluster()
    p = params(self)
    update_states(cluster_id, [(p["RoutingControlArn"], p["RoutingControlState"])], p.get("SafetyRulesToOverride") or [])
    return EmptyResult()


def update_routing_control_states(self: ArcClusterResponse) -> ActionResult:
    cluster_id = self._endpoint_cluster()
    p = params(self)
    entries = [(e["RoutingControlArn"], e["RoutingControlState"]) for e in p["UpdateRoutingControlStateEntries"]]
    update_states(cluster_id, entries, p.get("SafetyRulesToOverride") or [])
    return EmptyResult()


cluster_list_routing_controls.__name__ = "list_routing_controls"

CLUSTER_HANDLERS = [
    get_routing_control_state,
    cluster_list_routing_controls,
    update_routing_control_state,
    update_routing_control_states,
]


# --- Route 53 health checks of type RECOVERY_CONTROL -------------------------------------------


def _install_recovery_control_checks() -> None:
    original_create = Route53.create_health_check

    def create_health_check(self: Route53) -> Any:
        config = self._get_param("HealthCheckConfig") or {}
        arn = config.get("RoutingControlArn")
        if config.get("Type") == "RECOVERY_CONTROL":
            from moto.route53.exceptions import InvalidInput as Route53InvalidInput

            if not arn:
                raise Route53InvalidInput("A RECOVERY_CONTROL health check needs a RoutingControlArn")
            if arn not in CONTROLS:
                raise Route53InvalidInput(f"Routing control {arn} does not exist")
        result = original_create(self)
        if config.get("Type") == "RECOVERY_CONTROL":
            result.result["HealthCheck"].routing_control_arn = arn
        return result

    create_health_check.__name__ = "create_health_check"
    Route53.create_health_check = create_health_check  # type: ignore[method-assign]

    original_config = HealthCheck.health_check_config

    def health_check_config(self: HealthCheck) -> dict[str, Any]:
        if self.type_ != "RECOVERY_CONTROL":
            return original_config.fget(self)  # type: ignore[misc]
        return {
            "Type": self.type_,
            "RoutingControlArn": getattr(self, "routing_control_arn", None),
            "Inverted": self.inverted,
            "Disabled": self.disabled,
        }

    HealthCheck.health_check_config = property(health_check_config)  # type: ignore[method-assign,assignment]


def create_recovery_control_check(account: str, caller_reference: str, routing_control_arn: str) -> Any:
    """A RECOVERY_CONTROL health check made through moto's backend (used by the seed)."""
    check = backend("route53", account, "aws").create_health_check(caller_reference, {"type": "RECOVERY_CONTROL"})
    check.routing_control_arn = routing_control_arn
    return check


# --- seed ---------------------------------------------------------------------------------

SEED_CLUSTER = "prod-infra-arc"
SEED_PANEL = "prod-infra"
SEED_REGIONS = (("prod-infra-us-east-1", "us-east-1", "On"), ("prod-infra-us-west-2", "us-west-2", "Off"))
SEED_RULE = "at-least-one-region-on"


def seed_arc(account: str = state.ACCOUNT) -> dict[str, Any]:
    """The seed's routing controls: one per region (us-east-1 On), "at least one On", and a
    RECOVERY_CONTROL health check per routing control."""
    cluster = create_cluster(account, SEED_CLUSTER, deployed=True)
    panel = create_control_panel(account, cluster["arn"], SEED_PANEL)
    controls: dict[str, Any] = {}
    for name, region, value in SEED_REGIONS:
        control = create_routing_control(account, cluster["arn"], panel["arn"], name)
        control["state"] = value
        check = create_recovery_control_check(account, f"{name}-check", control["arn"])
        controls[name] = {"arn": control["arn"], "region": region, "state": value, "health_check_id": check.id}
    rule = create_assertion_rule(
        account,
        panel["arn"],
        SEED_RULE,
        [c["arn"] for c in controls.values()],
        {"Type": "ATLEAST", "Threshold": 1, "Inverted": False},
        5000,
    )
    return {
        "cluster_arn": cluster["arn"],
        "cluster_endpoints": [{"region": r, "endpoint": endpoint_url(cluster, r)} for r in ENDPOINT_REGIONS],
        "control_panel_arn": panel["arn"],
        "routing_controls": controls,
        "safety_rules": {SEED_RULE: rule["arn"]},
        "health_checks": {c["region"]: c["health_check_id"] for c in controls.values()},
    }


def install() -> None:
    ext_services.register("route53-recovery-control-config", ArcControlConfigResponse, CONTROL_CONFIG_HANDLERS)
    ext_services.register("route53-recovery-cluster", ArcClusterResponse, CLUSTER_HANDLERS)
    _install_recovery_control_checks()
