"""The WSGI application: moto's dispatcher behind the control API, faults and the log."""

from __future__ import annotations

import io
import json
import re
import socket
import time
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

from moto.core.request import Request
from moto.core.routing import get_service_router
from moto.core.utils import get_service_model

from . import control, ext_arc, ext_services, faults, outages, reqlog, state

CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")

# botocore's name for a service, from its SigV4 signing name (only where they differ).
BOTOCORE_NAMES = {"elasticfilesystem": "efs", "monitoring": "cloudwatch"}


# The sandbox's application endpoint (control API), which a dark region also takes down.
APP_HEALTH = re.compile(r"^/_sandbox/app/(?P<region>[a-z0-9-]+)/health/?$")


class RequestInfo:
    def __init__(self, service: str, operation: str, region: str, account: str, protocol: str, signing_region: str) -> None:
        self.service = service
        self.operation = operation
        # The region whose endpoint serves the call: us-east-1 for Route 53 and IAM, whose
        # control planes AWS hosts there whatever region the client signed for.
        self.region = region
        self.signing_region = signing_region
        self.account = account
        self.protocol = protocol


def _account_for(environ: dict[str, Any], access_key: str) -> str:
    header = environ.get("HTTP_X_MOTO_ACCOUNT_ID")
    if header:
        return header
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key)


def identify(environ: dict[str, Any]) -> RequestInfo | None:
    """Service, operation, region and account of a signed AWS request, as moto will see it."""
    match = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        return None
    access_key, region, signing_name = match.groups()
    service = BOTOCORE_NAMES.get(signing_name, signing_name)
    target = environ.get("HTTP_X_AMZ_TARGET")
    content_type = environ.get("CONTENT_TYPE", "")
    operation = "Unknown"
    if target:
        protocol = "json"
        operation = target.split(".")[-1]
    elif environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor":  # /service/<name>/operation/<Op>
        protocol, operation = "smithy-rpc-v2-cbor", environ.get("PATH_INFO", "").rstrip("/").rsplit("/", 1)[-1]
    elif content_type.startswith("application/x-www-form-urlencoded"):
        protocol = "query"
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        operation = parse_qs(body.decode("utf-8", "replace")).get("Action", ["Unknown"])[0]
    else:
        try:
            protocol = get_service_model(service).protocol
            op_model, _ = get_service_router(service).match(Request(environ))
            operation = op_model.name
        except Exception:  # noqa: BLE001 - unknown route: moto will answer it
            protocol = "rest-json"
    region = ext_arc.request_region(service, environ.get("PATH_INFO", "")) or region  # where AWS serves ARC
    try:
        account = _account_for(environ, access_key)
    except Exception:  # noqa: BLE001
        account = state.ACCOUNT
    return RequestInfo(service, operation, outages.endpoint_region(service, region) or region, account, protocol, region)


class SandboxApp:
    def __init__(self, moto_app: Any) -> None:
        self.moto_app = moto_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            app = APP_HEALTH.match(path)
            outage = outages.region_outage(app.group("region")) if app else None
            if outage is not None:
                return self._dark(environ, start_response, outage, None)
            return control.handle(environ, start_response)
        if path.startswith("/moto-api"):
            with state.LOCK:
                return list(self.moto_app(environ, start_response))
        info = identify(environ)
        started = time.time()
        outage = outages.region_outage(info.region) if info else None
        rule = faults.pick(info.service, info.operation, info.region) if info and outage is None else None
        entry: dict[str, Any] = {
            "time": state.rfc3339(started),
            "service": info.service if info else "unknown",
            "operation": info.operation if info else "Unknown",
            "region": info.region if info else None,
            "signing_region": info.signing_region if info else None,
            "account": info.account if info else None,
            "method": environ.get("REQUEST_METHOD"),
            "path": path,
            "status": None,
            "fault": rule.kind if rule else ("outage" if outage else None),
            "fault_id": rule.id if rule else (outage["id"] if outage else None),
        }
        if outage is not None:
            try:
                return self._dark(environ, start_response, outage, entry, info)
            finally:
                entry["duration_ms"] = round((time.time() - started) * 1000, 1)
        try:
            if rule is not None and rule.kind == "latency":
                time.sleep(rule.latency_ms / 1000.0)
            if rule is not None and rule.kind == "drop":
                reqlog.append(entry)
                sock = environ.get("werkzeug.socket")
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                # werkzeug treats this as a dropped connection and writes nothing back.
                raise ConnectionResetError("sandbox: injected dropped connection")
            if rule is not None and rule.kind not in ("latency", "drop"):
                assert info is not None
                status, headers, body = faults.error_response(rule, info.service, info.protocol)
                entry["status"] = status
                reqlog.append(entry)
                start_response(f"{status} {_reason(status)}", headers)
                return [body]

            captured: dict[str, Any] = {}

            def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                captured["status"] = int(status.split(" ", 1)[0])
                return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

            with state.LOCK:
                served = ext_services.serve(environ, capture, self.moto_app)  # services and protocols moto lacks
                body_parts = list(self.moto_app(environ, capture) if served is None else served)
            entry["status"] = captured.get("status")
            reqlog.append(entry)
            return body_parts
        finally:
            entry["duration_ms"] = round((time.time() - started) * 1000, 1)

    def _dark(
        self,
        environ: dict[str, Any],
        start_response: Any,
        outage: dict[str, Any],
        entry: dict[str, Any] | None,
        info: RequestInfo | None = None,
    ) -> Iterable[bytes]:
        """Answers a request to a dark region: a dropped connection after a delay, or a 503."""
        if outage["mode"] == "error503":
            if info is None:  # the application endpoint: what a load balancer's 503 page says
                status = 503
                body = json.dumps(
                    {"status": "unreachable", "region": outage["region"], "reason": f"region {outage['region']} is dark (outage {outage['id']})"}
                ).encode()
                headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            else:
                rule = SimpleNamespace(kind="error503", http_status=None)
                status, headers, body = faults.error_response(rule, info.service, info.protocol)  # type: ignore[arg-type]
            if entry is not None:
                entry["status"] = status
                reqlog.append(entry)
            start_response(f"{status} {_reason(status)}", headers)
            return [body]
        # Not under state.LOCK: other requests go on while this one hangs.
        time.sleep(state.DURATIONS["outage_connect_delay"])
        if entry is not None:
            reqlog.append(entry)
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise ConnectionResetError(f"sandbox: {outage['region']} is dark (outage {outage['id']})")


def _reason(status: int) -> str:
    return {
        400: "Bad Request",
        403: "Forbidden",
        429: "Too Many Requests",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }.get(status, "Error")
