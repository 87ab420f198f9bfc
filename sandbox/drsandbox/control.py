"""The control API under /_sandbox/ (JSON in, JSON out). Documented in docs/sandbox.md."""

from __future__ import annotations

import json
import os
import re
import traceback
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from moto.core.exceptions import ServiceException
from werkzeug.exceptions import HTTPException

from . import faults, reqlog, state

Handler = Callable[[dict[str, Any], dict[str, str], dict[str, str]], tuple[int, Any]]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


class Raw:
    """A control answer that is not JSON (e.g. a blob GetDownloadUrlForLayer points at)."""

    def __init__(self, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.data = data
        self.content_type = content_type


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        ROUTES.append((method, re.compile(f"^/_sandbox{pattern}$"), fn))
        return fn

    return register


def handle(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "").rstrip("/") or "/_sandbox"
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    status, payload = 404, {"error": f"no control endpoint {method} {path}"}
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        body = json.loads(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            raise ControlError(400, "the request body must be a JSON object")
        allowed = []
        for route_method, pattern, fn in ROUTES:
            match = pattern.match(path)
            if match:
                allowed.append(route_method)
                if route_method == method:
                    with state.LOCK:
                        status, payload = fn(body, match.groupdict(), query)
                    break
        else:
            if allowed:
                status, payload = 405, {"error": f"{method} not allowed on {path}; use {allowed}"}
    except ControlError as err:
        status, payload = err.status, {"error": str(err)}
    except (HTTPException, ServiceException) as err:  # a moto or extension error: the caller's fault
        status, payload = 400, {"error": str(getattr(err, "message", None) or err)}
    except (ValueError, KeyError, TypeError) as err:
        status, payload = 400, {"error": f"{type(err).__name__}: {err}"}
    except Exception as err:  # noqa: BLE001 - the control API reports, never crashes the server
        traceback.print_exc()
        status, payload = 500, {"error": f"{type(err).__name__}: {err}"}
    if isinstance(payload, Raw):
        data, content_type = payload.data, payload.content_type
    else:
        data, content_type = json.dumps(payload, default=str).encode(), "application/json"
    start_response(
        f"{status} {'OK' if status < 400 else 'Error'}",
        [("Content-Type", content_type), ("Content-Length", str(len(data)))],
    )
    return [data]


def _account(body: dict[str, Any]) -> str:
    return str(body.get("account") or state.ACCOUNT)


# --- lifecycle -------------------------------------------------------------------------


@route("GET", "")
@route("GET", "/health")
def health(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    return 200, {"status": "ok", "pid": os.getpid(), "moto": _moto_version()}


def _moto_version() -> str:
    import moto

    return moto.__version__


def reset_all() -> None:
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    state.reset_extension_state()
    state.DURATIONS.reset()


@route("POST", "/reset")
def reset(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    reset_all()
    if body.get("seed"):
        from . import seed

        return 200, {"status": "ok", "seed": seed.seed()}
    return 200, {"status": "ok"}


@route("POST", "/seed")
def seed_route(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    from . import seed

    if body.get("reset"):
        reset_all()
    found = seed.already_seeded()
    if found:
        raise ControlError(
            409,
            "the sandbox is already seeded ("
            + ", ".join(found)
            + " exist): seeding again needs a reset first: `sandbox/sandbox seed --reset` "
            '(POST /_sandbox/seed {"reset": true}) or `sandbox/sandbox reset` then `seed`',
        )
    return 200, seed.seed()


# --- durations, faults, request log --------------------------------------------------------


@route("GET", "/durations")
def get_durations(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    return 200, state.DURATIONS.to_json()


@route("POST", "/durations")
def set_durations(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    if body.get("reset"):
        state.DURATIONS.reset()
        body = {k: v for k, v in body.items() if k != "reset"}
    state.DURATIONS.update(body)
    return 200, state.DURATIONS.to_json()


@route("GET", "/faults")
def list_faults(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    return 200, {"faults": [r.to_json() for r in faults.RULES]}


@route("POST", "/faults")
def add_faults(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    specs = body["faults"] if "faults" in body else [body]
    if not isinstance(specs, list):
        raise ControlError(400, "faults must be a list")
    return 200, {"faults": [r.to_json() for r in faults.add(specs)]}


@route("DELETE", "/faults")
def clear_faults(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    faults.clear()
    return 200, {"faults": []}


@route("GET", "/requests")
def get_requests(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    entries = reqlog.query(query)
    return 200, {"count": len(entries), "requests": entries}


@route("DELETE", "/requests")
def clear_requests(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    reqlog.clear()
    return 200, {"count": 0, "requests": []}


@route("GET", "/contract")
def get_contract(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    from . import contract

    return 200, contract.report()


# --- state shortcuts ---------------------------------------------------------------------


@route("POST", "/recovery-points")
def create_recovery_point(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    from . import ext_backup, seed

    account = _account(body)
    region = body.get("region", seed.PRIMARY)
    if "vault" not in body:
        raise ControlError(400, "vault is required")
    if "creation_time" in body and "age_seconds" in body:
        raise ControlError(400, "give creation_time or age_seconds, not both")
    if "creation_time" in body:
        creation = state.parse_rfc3339(str(body["creation_time"]))
    else:
        creation = state.now() - float(body.get("age_seconds", 0))
    resource_arn = body.get("resource_arn") or seed.qdrant_arn(account)
    rp = ext_backup.create_recovery_point(
        account,
        region,
        body["vault"],
        resource_arn,
        creation,
        int(body.get("size_bytes", ext_backup.DEFAULT_BACKUP_SIZE)),
        tags=body.get("tags"),
    )
    return 200, ext_backup.rp_summary(rp)


@route("POST", "/route53/health-checks/(?P<health_check_id>[^/]+)/endpoint")
def set_endpoint_health(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    from . import ext_route53

    if not isinstance(body.get("healthy"), bool):
        raise ControlError(400, 'body must be {"healthy": true|false}')
    ext_route53.set_endpoint_health(args["health_check_id"], body["healthy"])
    return 200, {"health_check_id": args["health_check_id"], "endpoint_healthy": body["healthy"]}


@route("POST", "/secrets/lag")
def secrets_lag(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    from . import ext_secrets

    return 200, ext_secrets.set_lag(
        _account(body),
        body["secret_id"],
        body["region"],
        lagging=bool(body.get("lagging", True)),
        new_secret_string=body.get("new_secret_string"),
    )


@route("POST", "/ecr/unreplicated")
def ecr_unreplicated(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    from . import ext_ecr, seed

    return 200, ext_ecr.push_unreplicated(
        _account(body),
        body.get("region", seed.PRIMARY),
        body["repository"],
        body["tag"],
        body.get("manifest"),
    )


@route("GET", "/ecr/blob")
def ecr_blob(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    """What GetDownloadUrlForLayer's URL serves: the blob's bytes."""
    from . import ext_ecr

    missing = [k for k in ("registry", "region", "repository", "digest") if not query.get(k)]
    if missing:
        raise ControlError(400, f"query parameters {missing} are required")
    data = ext_ecr.blob(query["registry"], query["region"], query["repository"], query["digest"])
    if data is None:
        raise ControlError(404, f"no blob {query['digest']} in {query['repository']} ({query['region']})")
    return 200, Raw(data)


@route("GET", "/ecr/pullable")
def ecr_pullable(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    """Whether ECS could pull an image in a region (what task placement asks)."""
    from . import ext_ecr, seed

    if not query.get("image"):
        raise ControlError(400, "query parameter image is required")
    region = query.get("region", seed.PRIMARY)
    reason = ext_ecr.image_pullable(_account(query), region, query["image"])
    return 200, {"image": query["image"], "region": region, "pullable": reason is None, "reason": reason}


@route("POST", "/ecr/fail-replication")
def ecr_fail_replication(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    from . import ext_ecr

    return 200, ext_ecr.fail_next(body["region"], int(body.get("count", 1)))


@route("POST", "/efs/(?P<fs_id>[^/]+)/size")
def efs_size(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    from . import ext_efs, seed

    return 200, ext_efs.set_size(_account(body), body.get("region", seed.PRIMARY), args["fs_id"], int(body["size_bytes"]))


@route("GET", "/efs/(?P<fs_id>[^/]+)/contents")
def efs_contents(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    from . import ext_efs, seed

    return 200, ext_efs.contents(_account(query), query.get("region", seed.PRIMARY), args["fs_id"])


@route("POST", "/backup/next-job-outcome")
def backup_next_job_outcome(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    from . import ext_backup

    for key in ("job", "state"):
        if key not in body:
            raise ControlError(400, 'body must be {"job": "backup"|"copy"|"restore", "state": "PARTIAL"|"FAILED", ...}')
    return 200, ext_backup.next_outcome(
        str(body["job"]), str(body["state"]), body.get("region"), int(body.get("count", 1)), body.get("message")
    )


@route("GET", "/app/(?P<region>[a-z0-9-]+)/health")
def app_health(body: dict[str, Any], args: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
    from . import ext_ecs

    healthy, detail = ext_ecs.app_health(_account(query), args["region"])
    return (200 if healthy else 503), detail
