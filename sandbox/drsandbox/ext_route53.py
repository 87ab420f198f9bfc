"""Route 53: changes that stay PENDING for a while, health checks that mean something, and
the answer a resolver gets.

moto answers every change with one constant, INSYNC change id and echoes any id on GetChange.
Here each change gets its own id, PENDING until `route53_propagation` has passed, and an
unknown id is NoSuchChange.

Health checks keep evaluating whatever happens to the Route 53 API (they are data plane): an
endpoint is unhealthy when the control API says so, when its region is dark (the region comes
from the control API, the seed, an ALB DNS name or a region name inside the FQDN), or when its
FQDN is an ALB with a target group that has no healthy target. GetHealthCheckStatus applies
Inverted, and reports Disabled checks healthy (as AWS considers them).

`answer()` is what a resolver gets now for a name and type: the zone as of its last INSYNC
change (a PENDING change is not yet visible), failover records following health (PRIMARY while
healthy, else a healthy SECONDARY, else PRIMARY, as Route 53 does when both are unhealthy),
weighted records among the healthy ones, alias records resolved to their load balancer's
addresses and region, with EvaluateTargetHealth following its target health.
"""

from __future__ import annotations

import copy
import random
import string
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.moto_api._internal import mock_random
from moto.route53.responses import Route53

from . import outages, state
from .common import backend

CHANGES: dict[str, dict[str, Any]] = {}
# health check id -> endpoint healthy? (the control API's switch)
ENDPOINT_HEALTH: dict[str, bool] = {}
# health check id -> region its endpoint lives in (the control API, or the seed)
ENDPOINT_REGION: dict[str, str] = {}
# hosted zone id -> [{"at": epoch when visible to resolvers, "rrsets": [record views]}]
ZONE_VERSIONS: dict[str, list[dict[str, Any]]] = {}

CHECKER_REGIONS = [("us-east-1", "15.177.2.1"), ("us-west-2", "15.177.18.1"), ("eu-west-1", "15.177.62.1")]
ALIAS_TTL = 60  # alias records to load balancers answer with a fixed 60 s TTL


@state.on_reset
def _reset() -> None:
    CHANGES.clear()
    ENDPOINT_HEALTH.clear()
    ENDPOINT_REGION.clear()
    ZONE_VERSIONS.clear()


class NoSuchChange(ServiceException):
    code = "NoSuchChange"


class AnswerError(ValueError):
    """A query the resolver cannot answer: `status` is the HTTP status for the control API."""

    def __init__(self, status: int, message: str, rcode: str) -> None:
        super().__init__(message)
        self.status = status
        self.rcode = rcode


def new_change(moment: float | None = None, propagation: float | None = None) -> dict[str, Any]:
    moment = state.now() if moment is None else moment
    alphabet = string.ascii_uppercase + string.digits
    change_id = "C" + "".join(mock_random.choice(alphabet) for _ in range(13))
    delay = state.DURATIONS["route53_propagation"] if propagation is None else propagation
    change = {"id": change_id, "submitted": moment, "insync_at": moment + delay}
    CHANGES[change_id] = change
    return change


def change_info(change: dict[str, Any]) -> dict[str, Any]:
    status = "INSYNC" if state.now() >= change["insync_at"] else "PENDING"
    return {"Id": f"/change/{change['id']}", "Status": status, "SubmittedAt": state.to_datetime(change["submitted"])}


# --- health ------------------------------------------------------------------------------------


def set_endpoint(health_check_id: str, healthy: bool | None = None, region: str | None = None) -> None:
    backend("route53", state.ACCOUNT, "aws").get_health_check(health_check_id)  # NoSuchHealthCheck if unknown
    if healthy is not None:
        ENDPOINT_HEALTH[health_check_id] = healthy
    if region is not None:
        ENDPOINT_REGION[health_check_id] = region


def set_endpoint_health(health_check_id: str, healthy: bool) -> None:
    set_endpoint(health_check_id, healthy=healthy)


def _region_in(name: str | None) -> str | None:
    if not name:
        return None
    for label in name.lower().split("."):
        if outages.REGION_RE.match(label):
            return label
    return None


def endpoint_health(check: Any) -> tuple[bool, str]:
    """(healthy, why) of the endpoint behind a health check, before Inverted and Disabled."""
    from . import ext_elbv2

    if ENDPOINT_HEALTH.get(check.id) is False:
        return False, "the endpoint was switched unhealthy (control API)"
    fqdn = (check.fqdn or "").rstrip(".")
    alb = ext_elbv2.find_load_balancer(fqdn) if fqdn else None
    region = ENDPOINT_REGION.get(check.id) or (alb[1] if alb else None) or _region_in(fqdn)
    if region and outages.region_dark(region):
        return False, f"the endpoint's region {region} is dark"
    if alb:
        healthy, why = ext_elbv2.load_balancer_health(*alb)
        if not healthy:
            return False, why
    return True, "the endpoint answers"


def effective_health(check: Any) -> bool:
    if check.disabled:
        return True
    from .ext_arc import routing_control_is_on  # RECOVERY_CONTROL checks: healthy when the control is On

    control_on = routing_control_is_on(getattr(check, "routing_control_arn", None))
    healthy = endpoint_health(check)[0] if control_on is None else control_on
    return healthy != bool(check.inverted)


# --- answers -----------------------------------------------------------------------------------


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _view(record: Any) -> dict[str, Any]:
    """A record set as plain data, frozen at the moment of a change."""
    alias = record.alias_target
    return {
        "name": record.name,
        "type": record.type,
        "ttl": record.ttl,
        "values": list(record.records or []),
        "set_identifier": record.set_identifier,
        "weight": record.weight,
        "region": record.region,
        "failover": record.failover,
        "health_check_id": record.health_check_id,
        "multi_value_answer": record.multi_value_answer,
        "geo_location": record.geo_location,
        "alias_target": copy.deepcopy(alias) if alias else None,
    }


def _visible_rrsets(zone: Any) -> list[dict[str, Any]]:
    versions = ZONE_VERSIONS.get(zone.id)
    if not versions:
        return [_view(r) for r in zone.rrsets]
    moment = state.now()
    visible = [v for v in versions if v["at"] <= moment]
    return visible[-1]["rrsets"]


def _fqdn(name: str) -> str:
    return name.lower().rstrip(".") + "."


def _zone_for(account: str, name: str) -> Any | None:
    r53 = backend("route53", account, "aws")
    wanted = _fqdn(name)
    best = None
    for zone in r53.zones.values():
        if zone.private_zone:
            continue
        suffix = _fqdn(zone.name)
        if (wanted == suffix or wanted.endswith("." + suffix)) and (best is None or len(suffix) > len(_fqdn(best.name))):
            best = zone
    return best


def _record_health(account: str, record: dict[str, Any], depth: int) -> tuple[bool, str]:
    r53 = backend("route53", account, "aws")
    if record["health_check_id"]:
        check = r53.health_checks.get(record["health_check_id"])
        if check is None:
            return False, f"health check {record['health_check_id']} does not exist"
        if not effective_health(check):
            return False, f"health check {check.id} is unhealthy ({endpoint_health(check)[1]})"
    alias = record["alias_target"]
    if alias and _truthy(alias.get("EvaluateTargetHealth")):
        resolved = _resolve_alias(account, alias, record["type"], depth)
        if not resolved["healthy"]:
            return False, f"alias target {alias.get('DNSName')} is unhealthy ({resolved['why']})"
    return True, "healthy"


def _resolve_alias(account: str, alias: dict[str, Any], rtype: str, depth: int) -> dict[str, Any]:
    from . import ext_elbv2

    dns = str(alias.get("DNSName") or "")
    found = ext_elbv2.find_load_balancer(dns)
    if found is not None:
        lb_account, region, lb = found
        healthy, why = ext_elbv2.load_balancer_health(lb_account, region, lb)
        values = ext_elbv2.addresses(lb) if not outages.region_dark(region) else []
        return {
            "values": values,
            "healthy": healthy,
            "why": why,
            "target": {"kind": "load-balancer", "dns_name": lb.dns_name, "region": region, "load_balancer_arn": lb.arn},
        }
    if depth < 4 and _zone_for(account, dns) is not None:  # another record of a hosted zone
        try:
            inner = answer(account, dns, rtype, depth=depth + 1)
        except AnswerError as err:
            return {"values": [], "healthy": False, "why": str(err), "target": {"kind": "record", "name": _fqdn(dns)}}
        return {
            "values": inner["values"],
            "healthy": inner["healthy"],
            "why": "the target record answers",
            "target": {"kind": "record", "name": _fqdn(dns), "region": inner.get("region")},
        }
    return {"values": [], "healthy": False, "why": f"{dns} is not a resource the sandbox knows", "target": {"kind": "unknown", "dns_name": dns}}


def _describe(account: str, record: dict[str, Any], depth: int) -> dict[str, Any]:
    healthy, why = _record_health(account, record, depth)
    out: dict[str, Any] = {
        "set_identifier": record["set_identifier"],
        "failover": record["failover"],
        "weight": record["weight"],
        "health_check_id": record["health_check_id"],
        "healthy": healthy,
        "why": why,
        "values": record["values"],
        "ttl": record["ttl"],
        "region": None,
    }
    if record["alias_target"]:
        resolved = _resolve_alias(account, record["alias_target"], record["type"], depth)
        out["values"] = resolved["values"]
        out["ttl"] = ALIAS_TTL
        out["alias"] = resolved["target"]
        out["region"] = resolved["target"].get("region")
    return out


def answer(account: str, name: str, rtype: str, seed: int | None = None, depth: int = 0) -> dict[str, Any]:
    """What a resolver gets now for `name`/`rtype` (raises AnswerError for NXDOMAIN/NODATA)."""
    zone = _zone_for(account, name)
    if zone is None:
        raise AnswerError(404, f"no public hosted zone answers for {_fqdn(name)}", "NXDOMAIN")
    rrsets = [r for r in _visible_rrsets(zone) if _fqdn(r["name"]) == _fqdn(name)]
    if not rrsets:
        raise AnswerError(404, f"{_fqdn(name)} does not exist in zone {zone.name}", "NXDOMAIN")
    records = [r for r in rrsets if r["type"] == rtype]
    if not records:
        cname = [r for r in rrsets if r["type"] == "CNAME"]
        if not cname:
            raise AnswerError(404, f"{_fqdn(name)} has no {rtype} record", "NOERROR")
        records = cname
    described = [_describe(account, r, depth) for r in records]
    if any(r["geo_location"] or (r["region"] and not r["failover"]) for r in records):
        raise AnswerError(400, "latency and geolocation routing are not simulated by the sandbox", "NOTIMP")
    body: dict[str, Any] = {"name": _fqdn(name), "type": records[0]["type"], "zone": zone.name}
    if len(records) == 1 and not records[0]["set_identifier"]:
        chosen, routing = described[0], "simple"
    elif all(r["failover"] for r in records):
        routing = "failover"
        by_role = {d["failover"]: d for d in described}
        primary, secondary = by_role.get("PRIMARY"), by_role.get("SECONDARY")
        if primary is not None and primary["healthy"]:
            chosen = primary
        elif secondary is not None and secondary["healthy"]:
            chosen = secondary
        else:  # both unhealthy: Route 53 answers with the primary
            chosen = primary or secondary
        body["candidates"] = described
    elif all(r["weight"] is not None for r in records):
        routing = "weighted"
        healthy = [d for d in described if d["healthy"]] or described  # none healthy: all count
        weights = [int(d["weight"]) for d in healthy]
        total = sum(weights)
        pool = [(d, w) for d, w in zip(healthy, weights) if w > 0] if total > 0 else [(d, 1) for d in healthy]
        pick = random.Random(seed).uniform(0, sum(w for _, w in pool))
        chosen = pool[-1][0]
        for d, w in pool:
            pick -= w
            if pick <= 0:
                chosen = d
                break
        share = sum(w for _, w in pool)
        for d in described:
            d["probability"] = next((w / share for dd, w in pool if dd is d), 0.0)
        body["candidates"] = described
    elif all(r["multi_value_answer"] for r in records):
        routing = "multivalue"
        healthy = [d for d in described if d["healthy"]] or described
        chosen = {"values": [v for d in healthy for v in d["values"]][:8], "healthy": bool(healthy), "ttl": healthy[0]["ttl"], "region": None}
        body["candidates"] = described
    else:
        raise AnswerError(400, f"{_fqdn(name)} mixes routing policies", "SERVFAIL")
    body.update(
        routing=routing,
        values=chosen["values"],
        ttl=chosen["ttl"],
        healthy=chosen["healthy"],
        region=chosen.get("region"),
        record={k: chosen.get(k) for k in ("set_identifier", "failover", "weight", "health_check_id", "why", "alias")},
    )
    return body


# --- handlers ----------------------------------------------------------------------------------


def install() -> None:
    def with_new_change(original: Any) -> Any:
        def handler(self: Route53) -> ActionResult:
            zone = None
            before = None
            if original.__name__ == "change_resource_record_sets":
                zone = self.backend.get_hosted_zone(str(self._get_param("HostedZoneId")))
                before = [_view(r) for r in zone.rrsets]
            result = original(self)
            if isinstance(result, ActionResult) and isinstance(result.result, dict) and "ChangeInfo" in result.result:
                change = new_change()
                result.result["ChangeInfo"] = change_info(change)
                if zone is not None:
                    versions = ZONE_VERSIONS.setdefault(zone.id, [{"at": float("-inf"), "rrsets": before}])
                    versions.append({"at": change["insync_at"], "rrsets": [_view(r) for r in zone.rrsets]})
            return result

        handler.__name__ = original.__name__
        return handler

    for name in ("change_resource_record_sets", "create_hosted_zone", "delete_hosted_zone"):
        setattr(Route53, name, with_new_change(getattr(Route53, name)))

    def get_change(self: Route53) -> ActionResult:
        change_id = str(self._get_param("Id")).split("/")[-1]
        change = CHANGES.get(change_id)
        if change is None:
            raise NoSuchChange(f"A change with the specified change ID does not exist: {change_id}")
        return ActionResult({"ChangeInfo": change_info(change)})

    Route53.get_change = get_change  # type: ignore[method-assign]

    def get_health_check_status(self: Route53) -> ActionResult:
        check = self.backend.get_health_check(self._get_param("HealthCheckId"))
        healthy = effective_health(check)
        if healthy:
            text = "Success: HTTP Status Code 200, OK"
        else:
            text = "Failure: HTTP Status Code 503, Service Unavailable"
        observations = [
            {
                "Region": region,
                "IPAddress": ip,
                "StatusReport": {"Status": text, "CheckedTime": state.to_datetime(state.now())},
            }
            for region, ip in CHECKER_REGIONS
        ]
        return ActionResult({"HealthCheckObservations": observations})

    Route53.get_health_check_status = get_health_check_status  # type: ignore[method-assign]
