"""Small helpers shared by the service extensions."""

from __future__ import annotations

import base64
import json
from typing import Any

from moto.backends import get_backend
from moto.core.exceptions import JsonRESTError
from moto.core.responses import BaseResponse


def backend(service: str, account: str, region: str) -> Any:
    """moto's backend for one service, account and region (created on first use)."""
    return get_backend(service)[account][region]  # type: ignore[index]


def params(resp: BaseResponse) -> dict[str, Any]:
    """Parses the request with botocore's model (body, URI and query string members).

    moto does this itself for services that opted in; the handlers added here call it
    explicitly so they can read any member by its model name whatever the protocol.
    """
    cached = getattr(resp, "_sbx_params", None)
    if cached is not None:
        return cached
    # For REST protocols this also fills resp.uri_match, which the parser reads.
    resp._get_action_from_method_and_request_uri(resp.normalized_request)
    resp.parse_parameters(resp.normalized_request)
    parsed = dict(resp.params)
    resp._sbx_params = parsed  # type: ignore[attr-defined]
    return parsed


def json_error(code: str, message: str, status: int = 400) -> JsonRESTError:
    """An AWS JSON error (`__type` + message, and the X-Amzn-ErrorType header)."""
    err = JsonRESTError(code, message)
    err.code = status
    return err


def paginate(items: list[Any], max_results: Any, next_token: Any) -> tuple[list[Any], str | None]:
    """Offset pagination with an opaque token, enough for List* operations."""
    start = 0
    if next_token:
        try:
            start = int(json.loads(base64.b64decode(next_token))["o"])
        except Exception as exc:  # noqa: BLE001 - any bad token is the caller's error
            raise json_error("InvalidParameterValueException", "Invalid NextToken") from exc
    limit = int(max_results) if max_results else 1000
    page = items[start : start + limit]
    end = start + len(page)
    token = None
    if end < len(items):
        token = base64.b64encode(json.dumps({"o": end}).encode()).decode()
    return page, token


def parse_arn(arn: str) -> dict[str, str]:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise json_error("InvalidParameterValueException", f"Invalid ARN: {arn}")
    return {
        "partition": parts[1],
        "service": parts[2],
        "region": parts[3],
        "account": parts[4],
        "resource": parts[5],
    }
