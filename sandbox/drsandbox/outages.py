"""Regional and zonal outages, switched on and off through the control API.

A *region* outage makes every AWS endpoint of that region unreachable (requests are held for
`outage_connect_delay`, then the connection is dropped without an answer, as a client sees an
endpoint that does not answer), or, in mode `error503`, answer at once with a 503
ServiceUnavailable. The control planes AWS hosts in us-east-1 (Route 53, IAM) fail with it
whatever region a client signs for. Inside a dark region nothing moves: no task starts or
stops, no instance registers, no deployment progresses; what a resolver sees of it (Route 53
health checks, alias records to its load balancers) is unhealthy.

A *zone* outage (`{"az": "us-east-1a"}`) leaves the region's endpoints answering but impairs
everything placed in that Availability Zone: its instances' ECS agents disconnect (their tasks
stop), its load-balancer targets fail health checks, its mount targets cannot be mounted, and
nothing new is placed there. Auto Scaling replaces the impaired instances in the other zones.

The state is a list of outage records; everything else in the sandbox asks `region_dark` /
`zone_dark` each time it needs to, so ending an outage undoes its effects without bookkeeping.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from . import state

MODES = ("timeout", "error503")

# Services whose API endpoint lives in us-east-1 whatever region a request is signed for.
CONTROL_PLANE_REGION = {"route53": "us-east-1", "iam": "us-east-1"}

REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
ZONE_RE = re.compile(r"^([a-z]{2}(?:-[a-z]+)+-\d)([a-z])$")

OUTAGES: list[dict[str, Any]] = []


@state.on_reset
def clear() -> None:
    OUTAGES.clear()


def add(spec: dict[str, Any]) -> dict[str, Any]:
    """Starts (or re-moulds) one outage from a control-API body; returns its record."""
    unknown = set(spec) - {"region", "az", "mode"}
    if unknown:
        raise ValueError(f"unknown outage field(s) {sorted(unknown)}; use region or az, and mode")
    region, zone = spec.get("region"), spec.get("az")
    if (region is None) == (zone is None):
        raise ValueError('give exactly one of {"region": "us-east-1"} or {"az": "us-east-1a"}')
    mode = spec.get("mode", "timeout")
    if mode not in MODES:
        raise ValueError(f"outage mode must be one of {MODES}, not {mode!r}")
    if region is not None:
        if not isinstance(region, str) or not REGION_RE.match(region):
            raise ValueError(f"region {region!r} is not a region name such as us-east-1")
        key = ("region", region)
    else:
        match = ZONE_RE.match(zone) if isinstance(zone, str) else None
        if match is None:
            raise ValueError(f"az {zone!r} is not an Availability Zone name such as us-east-1a")
        region = match.group(1)
        key = ("az", zone)
    for outage in OUTAGES:
        if (outage["kind"], outage[key[0]]) == key:
            outage["mode"] = mode  # the same outage again: only its mode can change
            return outage
    outage = {
        "id": str(uuid.uuid4()),
        "kind": key[0],
        "region": region,
        "az": zone,
        "mode": mode,
        "started_at": state.rfc3339(state.now()),
    }
    OUTAGES.append(outage)
    return outage


def to_json() -> dict[str, Any]:
    return {"outages": [dict(o) for o in OUTAGES]}


def region_outage(region: str | None) -> dict[str, Any] | None:
    """The outage that darkens `region`, if any."""
    for outage in OUTAGES:
        if outage["kind"] == "region" and outage["region"] == region:
            return outage
    return None


def region_dark(region: str | None) -> bool:
    return region_outage(region) is not None


def zone_dark(zone: str | None) -> bool:
    """Whether `zone` cannot serve: its own outage, or its region's."""
    if not zone:
        return False
    match = ZONE_RE.match(zone)
    if match and region_dark(match.group(1)):
        return True
    return any(o["kind"] == "az" and o["az"] == zone for o in OUTAGES)


def endpoint_region(service: str, signing_region: str | None) -> str | None:
    """The region whose endpoint serves a request (us-east-1 for the global control planes)."""
    return CONTROL_PLANE_REGION.get(service, signing_region)
