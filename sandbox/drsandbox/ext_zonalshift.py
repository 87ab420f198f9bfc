"""ARC zonal shift: move an ALB's traffic away from one Availability Zone for a while.

moto 5.2.5 has no arc-zonal-shift API. Here the managed resources of a region are the
Application Load Balancers of moto's elbv2 backend there (AWS registers them for zonal
shift automatically), each deployed in the AZs of its subnets. As on AWS, AZs are named by
their AZ IDs (`use1-az6`, from moto's EC2 zone table), `expiresIn` is a whole number of
minutes or hours (`30m`, `2h`; 1 minute to 72 hours), a resource has at most one active
customer-started shift, and a shift ends when it expires or is cancelled. One minute of
`expiresIn` lasts `zonal_shift_minute` seconds (60 in the realistic profile), so tests can
watch a shift expire.

`shifted_away(account, region, resource_arn)` gives the AZs (by name, `us-east-1a`) that the
resource's traffic is shifted away from now: the ALB's target health and the application
endpoint use it.
"""

from __future__ import annotations

import re
from typing import Any

from moto.core.responses import ActionResult, BaseResponse
from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend
from moto.moto_api._internal import mock_random

from . import ext_services, state
from .common import backend, paginate, params

EXPIRES_IN = re.compile(r"^([1-9][0-9]*)(m|h)$")
MAX_MINUTES = 72 * 60

# zonal shift id -> record
SHIFTS: dict[str, dict[str, Any]] = {}


@state.on_reset
def _reset() -> None:
    SHIFTS.clear()


def _invalid(message: str, reason: str) -> Exception:
    return ext_services.error("ValidationException", message, reason=reason)


def _not_found(message: str) -> Exception:
    return ext_services.error("ResourceNotFoundException", message)


def _conflict(message: str, reason: str, zonal_shift_id: str | None = None) -> Exception:
    members: dict[str, Any] = {"reason": reason}
    if zonal_shift_id:
        members["zonalShiftId"] = zonal_shift_id
    return ext_services.error("ConflictException", message, **members)


def _zones(region: str) -> list[Any]:
    return RegionsAndZonesBackend.zones.get(region, [])


def _zone_name(region: str, zone_id: str) -> str | None:
    return next((z.name for z in _zones(region) if z.zone_id == zone_id), None)


def managed_resources(account: str, region: str) -> list[Any]:
    elbv2 = backend("elbv2", account, region)
    return [lb for lb in elbv2.load_balancers.values() if lb.type == "application"]


def _resource(account: str, region: str, identifier: str) -> Any:
    for lb in managed_resources(account, region):
        if identifier == lb.arn:
            return lb
    raise _not_found(f"No managed resource {identifier} in {region} (zonal shift manages the Application Load Balancers of the region)")


def _az_ids(lb: Any) -> list[str]:
    ids: list[str] = []
    for subnet in lb.subnets:
        if subnet.availability_zone_id not in ids:
            ids.append(subnet.availability_zone_id)
    return ids


def parse_expires_in(value: str) -> float:
    """Minutes of `expiresIn` (`30m`, `2h`), within AWS's bounds."""
    match = EXPIRES_IN.match(value or "")
    minutes = 0
    if match:
        minutes = int(match[1]) * (60 if match[2] == "h" else 1)
    if not match or not 1 <= minutes <= MAX_MINUTES:
        raise _invalid(
            f"expiresIn {value!r} is invalid: give a whole number of minutes or hours, like 30m or 2h, "
            "up to 72 hours",
            "InvalidExpiresIn",
        )
    return float(minutes)


def _status(shift: dict[str, Any]) -> str:
    if shift["status"] == "ACTIVE" and state.now() >= shift["expiry"]:
        shift["status"] = "EXPIRED"
    return str(shift["status"])


def _shift_json(shift: dict[str, Any]) -> dict[str, Any]:
    return {
        "zonalShiftId": shift["id"],
        "resourceIdentifier": shift["resource"],
        "awayFrom": shift["away_from"],
        "expiryTime": state.to_datetime(shift["expiry"]),
        "startTime": state.to_datetime(shift["start"]),
        "status": _status(shift),
        "comment": shift["comment"],
    }


def _active(account: str, region: str, resource_arn: str) -> list[dict[str, Any]]:
    return [
        s
        for s in SHIFTS.values()
        if (s["account"], s["region"], s["resource"]) == (account, region, resource_arn) and _status(s) == "ACTIVE"
    ]


def shifted_away(account: str, region: str, resource_arn: str) -> set[str]:
    """The AZs (names, e.g. us-east-1a) that the resource's traffic is shifted away from now."""
    names = set()
    for shift in _active(account, region, resource_arn):
        name = _zone_name(region, shift["away_from"])
        if name:
            names.add(name)
    return names


def _resource_json(lb: Any, account: str, region: str, summary: bool) -> dict[str, Any]:
    active = _active(account, region, lb.arn)
    away = {s["away_from"] for s in active}
    zones = _az_ids(lb)
    shifts = [
        {
            "appliedStatus": "APPLIED",
            "zonalShiftId": s["id"],
            "resourceIdentifier": s["resource"],
            "awayFrom": s["away_from"],
            "expiryTime": state.to_datetime(s["expiry"]),
            "startTime": state.to_datetime(s["start"]),
            "comment": s["comment"],
            "shiftType": "ZONAL_SHIFT",
        }
        for s in active
    ]
    out: dict[str, Any] = {
        "arn": lb.arn,
        "name": lb.name,
        "appliedWeights": {z: (0.0 if z in away else 1.0) for z in zones},
        "zonalShifts": shifts,
        "autoshifts": [],
        "zonalAutoshiftStatus": "DISABLED",
    }
    if summary:
        out["availabilityZones"] = zones
        out["practiceRunStatus"] = "DISABLED"
    return out


class ZonalShiftResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name="arc-zonal-shift")


def list_managed_resources(self: ZonalShiftResponse) -> ActionResult:
    p = params(self)
    items = [_resource_json(lb, self.current_account, self.region, summary=True) for lb in managed_resources(self.current_account, self.region)]
    page, token = paginate(items, p.get("maxResults"), p.get("nextToken"))
    result: dict[str, Any] = {"items": page}
    if token:
        result["nextToken"] = token
    return ActionResult(result)


def get_managed_resource(self: ZonalShiftResponse) -> ActionResult:
    lb = _resource(self.current_account, self.region, params(self)["resourceIdentifier"])
    return ActionResult(_resource_json(lb, self.current_account, self.region, summary=False))


def start_zonal_shift(self: ZonalShiftResponse) -> ActionResult:
    p = params(self)
    minutes = parse_expires_in(p["expiresIn"])
    lb = _resource(self.current_account, self.region, p["resourceIdentifier"])
    zones = _az_ids(lb)
    if p["awayFrom"] not in zones:
        raise _invalid(
            f"awayFrom {p['awayFrom']!r} is not an Availability Zone of {lb.arn}: give one of its AZ IDs {zones}",
            "InvalidAz",
        )
    for active in _active(self.current_account, self.region, lb.arn):
        raise _conflict(
            f"Zonal shift {active['id']} is already active for {lb.arn}; update or cancel it",
            "ZonalShiftAlreadyExists",
            active["id"],
        )
    start = state.now()
    shift = {
        "id": str(mock_random.uuid4()),
        "account": self.current_account,
        "region": self.region,
        "resource": lb.arn,
        "away_from": p["awayFrom"],
        "comment": p["comment"],
        "start": start,
        "expiry": start + minutes * state.DURATIONS["zonal_shift_minute"],
        "status": "ACTIVE",
    }
    SHIFTS[shift["id"]] = shift
    return ActionResult(_shift_json(shift))


def list_zonal_shifts(self: ZonalShiftResponse) -> ActionResult:
    p = params(self)
    shifts = [s for s in SHIFTS.values() if (s["account"], s["region"]) == (self.current_account, self.region)]
    if p.get("resourceIdentifier"):
        shifts = [s for s in shifts if s["resource"] == p["resourceIdentifier"]]
    if p.get("status"):
        shifts = [s for s in shifts if _status(s) == p["status"]]
    items = [{**_shift_json(s), "shiftType": "ZONAL_SHIFT"} for s in shifts]
    page, token = paginate(items, p.get("maxResults"), p.get("nextToken"))
    result: dict[str, Any] = {"items": page}
    if token:
        result["nextToken"] = token
    return ActionResult(result)


def _shift(resp: ZonalShiftResponse, shift_id: str) -> dict[str, Any]:
    shift = SHIFTS.get(shift_id)
    if shift is None or (shift["account"], shift["region"]) != (resp.current_account, resp.region):
        raise _not_found(f"Zonal shift {shift_id} does not exist")
    if _status(shift) != "ACTIVE":
        raise _conflict(f"Zonal shift {shift_id} is {shift['status']}, not ACTIVE", "ZonalShiftStatusNotActive", shift_id)
    return shift


def update_zonal_shift(self: ZonalShiftResponse) -> ActionResult:
    p = params(self)
    minutes = parse_expires_in(p["expiresIn"]) if p.get("expiresIn") is not None else None
    shift = _shift(self, p["zonalShiftId"])
    if p.get("comment") is not None:
        shift["comment"] = p["comment"]
    if minutes is not None:
        # The new expiry counts from now, as on AWS.
        shift["expiry"] = state.now() + minutes * state.DURATIONS["zonal_shift_minute"]
    return ActionResult(_shift_json(shift))


def cancel_zonal_shift(self: ZonalShiftResponse) -> ActionResult:
    shift = _shift(self, params(self)["zonalShiftId"])
    shift["status"] = "CANCELED"
    return ActionResult(_shift_json(shift))


HANDLERS = [
    list_managed_resources,
    get_managed_resource,
    start_zonal_shift,
    list_zonal_shifts,
    update_zonal_shift,
    cancel_zonal_shift,
]


def install() -> None:
    ext_services.register("arc-zonal-shift", ZonalShiftResponse, HANDLERS)
