"""Serves the AWS services moto 5.2.5 lacks, with moto's own response machinery.

moto routes a request to one of its backends by the SigV4 signing name; for services it
does not know (Route 53 ARC's control-config and cluster APIs, ARC zonal shift) it has no
backend at all. The extension modules for those services define a moto `BaseResponse`
subclass with one handler per operation, exactly like moto's own `*Response` classes and
like the handlers the other extension modules add to them: the operation comes from
botocore's model (X-Amz-Target or the REST route), parameters are parsed by botocore's
parser (`common.params`) and every answer is an `ActionResult` serialised by moto's
botocore-model serializer, errors included. This module only picks the class by signing
name and turns its `(status, headers, body)` into a WSGI answer.

`serve` also hands CloudWatch requests in the Smithy RPC v2 CBOR protocol (which the AWS
SDK for Rust speaks and moto does not) to `ext_cloudwatch`, which serves them through
moto's own CloudWatch backend.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from botocore import xform_name
from moto.core.exceptions import ServiceException
from moto.core.request import Request
from moto.core.responses import BaseResponse
from moto.core.utils import get_service_model

# signing name -> the response class that serves it
SERVICES: dict[str, type[BaseResponse]] = {}

CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")


class _Request(Request):
    # A real WSGI server sends its own Date header (moto checks this flag).
    from_wsgi_server = True


def register(signing_name: str, response_class: type[BaseResponse], handlers: list[Callable[..., Any]]) -> None:
    """Serves `signing_name` with `response_class`, whose methods are `handlers`."""
    for handler in handlers:
        setattr(response_class, handler.__name__, handler)
    SERVICES[signing_name] = response_class
    service = response_class().service_name
    assert service is not None
    names = {xform_name(op): op for op in get_service_model(service).operation_names}
    unknown = [h.__name__ for h in handlers if h.__name__ not in names]
    if unknown:
        raise ValueError(f"{service} has no operation(s) {unknown}")
    contract_covers(service, [names[h.__name__] for h in handlers])


def contract_covers(service: str, operations: list[str]) -> None:
    """Declares `operations` to the botocore contract check, when it is present.

    The contract check (`drsandbox.contract`, from the sbx-data branch) discovers handlers
    on moto's own `*Response` classes; classes defined here, and answers re-encoded below
    the handler (CloudWatch CBOR), are declared to it through `affects()`.
    """
    try:
        from . import contract  # type: ignore[attr-defined]
    except ImportError:  # not merged yet: nothing to declare to
        return
    contract.affects(service, *operations)


class AwsError(ServiceException):
    """An error answered in the operation's own error shape (defined here, outside moto's
    packages, so that moto looks the code up in the called service's model only)."""


def error(code: str, message: str, **members: Any) -> ServiceException:
    """An AWS error of the operation's model: the serializer adds the status the model gives
    the shape and every member passed here (e.g. `reason`, `resourceId`)."""
    err = AwsError(code, message)
    for name, value in members.items():
        setattr(err, name, value)
    return err


def signing_name(environ: dict[str, Any]) -> str | None:
    match = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(1) if match else None


def serve(environ: dict[str, Any], start_response: Any, moto_app: Any) -> Iterable[bytes] | None:
    """Answers a request moto cannot serve itself, or returns None to let moto answer it."""
    name = signing_name(environ)
    if name is None:
        return None
    if name == "monitoring" and environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor":
        from . import ext_cloudwatch

        return ext_cloudwatch.serve_cbor(environ, start_response, moto_app)
    response_class = SERVICES.get(name)
    if response_class is None:
        return None
    if name == "route53-recovery-cluster":
        from . import ext_arc

        ext_arc.refuse_if_endpoint_dark(environ)  # a cluster endpoint in a dark region is unreachable
    status, headers, body = response_class.dispatch(_Request(environ))
    return wsgi_answer(start_response, int(status), headers, body)


def wsgi_answer(start_response: Any, status: int, headers: dict[str, Any], body: Any) -> list[bytes]:
    data = body.encode("utf-8") if isinstance(body, str) else bytes(body or b"")
    out = [(str(k), str(v)) for k, v in headers.items() if k.lower() not in ("status", "content-length")]
    out.append(("Content-Length", str(len(data))))
    start_response(f"{status} {'OK' if status < 400 else 'Error'}", out)
    return [data]
