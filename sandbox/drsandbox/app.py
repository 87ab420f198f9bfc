"""The WSGI application: moto's dispatcher behind the control API, faults and the log."""

from __future__ import annotations

import io
import re
import socket
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

from moto.core.request import Request
from moto.core.routing import get_service_router
from moto.core.utils import get_service_model

from . import control, ext_arc, ext_services, faults, reqlog, state

CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")

# botocore's name for a service, from its SigV4 signing name (only where they differ).
BOTOCORE_NAMES = {"elasticfilesystem": "efs", "monitoring": "cloudwatch"}


class RequestInfo:
    def __init__(self, service: str, operation: str, region: str, account: str, protocol: str) -> None:
        self.service = service
        self.operation = operation
        self.region = region
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
    return RequestInfo(service, operation, region, account, protocol)


class SandboxApp:
    def __init__(self, moto_app: Any) -> None:
        self.moto_app = moto_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            return control.handle(environ, start_response)
        if path.startswith("/moto-api"):
            with state.LOCK:
                return list(self.moto_app(environ, start_response))
        info = identify(environ)
        started = time.time()
        rule = faults.pick(info.service, info.operation, info.region) if info else None
        entry: dict[str, Any] = {
            "time": state.rfc3339(started),
            "service": info.service if info else "unknown",
            "operation": info.operation if info else "Unknown",
            "region": info.region if info else None,
            "account": info.account if info else None,
            "method": environ.get("REQUEST_METHOD"),
            "path": path,
            "status": None,
            "fault": rule.kind if rule else None,
            "fault_id": rule.id if rule else None,
        }
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


def _reason(status: int) -> str:
    return {
        400: "Bad Request",
        403: "Forbidden",
        429: "Too Many Requests",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }.get(status, "Error")
