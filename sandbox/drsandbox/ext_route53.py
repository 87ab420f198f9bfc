"""Route 53: changes that stay PENDING for a while, and health-check status that means something.

moto answers every change with one constant, INSYNC change id and echoes any id on GetChange.
Here each change gets its own id, PENDING until `route53_propagation` has passed, and an
unknown id is NoSuchChange. GetHealthCheckStatus reports the endpoint's health (healthy
unless the control API says otherwise), inverted when the check is Inverted, and healthy
when the check is Disabled (AWS considers disabled checks healthy).
"""

from __future__ import annotations

import string
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.moto_api._internal import mock_random
from moto.route53.responses import Route53

from . import state
from .common import backend

CHANGES: dict[str, dict[str, Any]] = {}
# health check id -> endpoint healthy?
ENDPOINT_HEALTH: dict[str, bool] = {}

CHECKER_REGIONS = [("us-east-1", "15.177.2.1"), ("us-west-2", "15.177.18.1"), ("eu-west-1", "15.177.62.1")]


@state.on_reset
def _reset() -> None:
    CHANGES.clear()
    ENDPOINT_HEALTH.clear()


class NoSuchChange(ServiceException):
    code = "NoSuchChange"


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


def set_endpoint_health(health_check_id: str, healthy: bool) -> None:
    backend("route53", state.ACCOUNT, "aws").get_health_check(health_check_id)  # NoSuchHealthCheck if unknown
    ENDPOINT_HEALTH[health_check_id] = healthy


def effective_health(check: Any) -> bool:
    if check.disabled:
        return True
    from .ext_arc import routing_control_is_on  # RECOVERY_CONTROL checks: healthy when the control is On

    control_on = routing_control_is_on(getattr(check, "routing_control_arn", None))
    return (ENDPOINT_HEALTH.get(check.id, True) if control_on is None else control_on) != bool(check.inverted)


def install() -> None:
    def with_new_change(original: Any) -> Any:
        def handler(self: Route53) -> ActionResult:
            result = original(self)
            if isinstance(result, ActionResult) and isinstance(result.result, dict) and "ChangeInfo" in result.result:
                result.result["ChangeInfo"] = change_info(new_change())
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
