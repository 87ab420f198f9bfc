"""CloudWatch in the Smithy RPC v2 CBOR protocol, which the AWS SDK for Rust speaks.

The Rust CloudWatch client sends `POST /service/GraniteServiceVersion20100801/operation/<Op>`
with a CBOR body and the header `smithy-protocol: rpc-v2-cbor`, and has no switch back to
another protocol; moto 5.2.5 serves CloudWatch in the awsJson 1.0 and awsQuery protocols
only. This module translates, and leaves the serving to moto's own CloudWatch backend:

1. the CBOR body is decoded against the operation's input shape (botocore's CBOR parser);
2. the parameters are re-encoded as the awsJson 1.0 request botocore would send (botocore's
   JSON serializer) and handed to moto's dispatcher, which answers in JSON with moto's
   botocore-model serializer;
3. the answer is decoded against the operation's output shape (botocore's JSON parser) and
   encoded as CBOR from that same output shape (botocore's CBOR serializer: timestamps as
   tag 1 epoch seconds, blobs as byte strings); an error becomes the CBOR error envelope
   (`__type`, `message`) with the `x-amzn-query-error` header CloudWatch sends, since
   CloudWatch's model is awsQuery-compatible.

No CBOR library is needed: botocore (pinned with moto) has both directions.
"""

from __future__ import annotations

import io
import json
from typing import Any

from botocore.model import OperationModel, OperationNotFoundError, Shape
from botocore.parsers import JSONParser, RpcV2CBORParser
from botocore.serialize import JSONSerializer, RpcV2CBORSerializer
from moto.core.utils import get_service_model

from . import ext_services

SERVICE = "cloudwatch"
CBOR_HEADERS = {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}
# The alarm operations drctl needs (an alarm state is a drill's abort condition): declared to
# the contract check, which then validates moto's JSON answer before it is re-encoded.
CHECKED_OPERATIONS = ["PutMetricAlarm", "DescribeAlarms", "SetAlarmState", "DeleteAlarms"]


def decode(body: bytes, shape: Shape | None) -> dict[str, Any]:
    """A CBOR request body as botocore-style parameters (datetimes, bytes, ...)."""
    if not body or shape is None:
        return {}
    parser = RpcV2CBORParser()
    raw = parser._initial_body_parse(body)
    if not isinstance(raw, dict):
        raise ValueError("the CBOR body is not a map")
    parsed = parser._parse_shape(shape, raw)
    return dict(parsed) if parsed else {}


def encode(value: dict[str, Any], shape: Shape | None) -> bytes:
    """CBOR of a botocore-style value for `shape` (an empty map without a shape)."""
    out = bytearray()
    if shape is None:
        out.extend(b"\xa0")
    else:
        RpcV2CBORSerializer()._serialize_data_item(out, value, shape)
    return bytes(out)


def encode_text_map(value: dict[str, str]) -> bytes:
    """CBOR of a map of strings: the error envelope, which has no model shape."""
    serializer = RpcV2CBORSerializer()
    out = bytearray()
    # map header, then each key and value as text strings
    additional, size = serializer._get_additional_info_and_num_bytes(len(value))
    out.extend(serializer._get_initial_byte(serializer.MAP_MAJOR_TYPE, additional))
    if size:
        out.extend(len(value).to_bytes(size, "big"))
    for key, item in value.items():
        serializer._serialize_type_string(out, key, None, None)
        serializer._serialize_type_string(out, item, None, None)
    return bytes(out)


def error_answer(code: str, message: str, status: int, sender: str = "Sender") -> tuple[int, dict[str, str], bytes]:
    headers = dict(CBOR_HEADERS)
    headers["x-amzn-query-error"] = f"{code};{sender}"
    return status, headers, encode_text_map({"__type": code, "message": message})


def _operation(path: str) -> OperationModel | None:
    name = path.rstrip("/").rsplit("/", 1)[-1]
    try:
        return get_service_model(SERVICE).operation_model(name)
    except OperationNotFoundError:
        return None


def serve_cbor(environ: dict[str, Any], start_response: Any, moto_app: Any) -> list[bytes]:
    op = _operation(environ.get("PATH_INFO", ""))
    if op is None:
        status, headers, body = error_answer("UnknownOperationException", f"No operation at {environ.get('PATH_INFO')}", 404)
        return ext_services.wsgi_answer(start_response, status, headers, body)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        parameters = decode(raw, op.input_shape)
    except Exception as err:  # noqa: BLE001 - a body we cannot read is the client's error
        status, headers, body = error_answer("SerializationException", f"Cannot decode the CBOR body: {err}", 400)
        return ext_services.wsgi_answer(start_response, status, headers, body)
    request = JSONSerializer().serialize_to_request(parameters, op)
    inner = dict(environ)
    inner.pop("HTTP_SMITHY_PROTOCOL", None)
    inner.pop("HTTP_ACCEPT", None)
    inner["PATH_INFO"] = "/"
    inner["RAW_URI"] = inner["REQUEST_URI"] = "/"
    inner["QUERY_STRING"] = ""
    inner["CONTENT_TYPE"] = request["headers"]["Content-Type"]
    inner["HTTP_X_AMZ_TARGET"] = request["headers"]["X-Amz-Target"]
    inner["CONTENT_LENGTH"] = str(len(request["body"]))
    inner["wsgi.input"] = io.BytesIO(request["body"])

    captured: dict[str, Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"] = int(status.split(" ", 1)[0])
        captured["headers"] = {k.lower(): v for k, v in headers}
        return lambda data: None

    json_body = b"".join(moto_app(inner, capture))
    status, answer_headers = captured["status"], captured["headers"]
    request_id = answer_headers.get("x-amzn-requestid")
    if status >= 400:
        code, message = _json_error(json_body, answer_headers)
        status, headers, body = error_answer(code, message, status, "Receiver" if status >= 500 else "Sender")
    else:
        parsed = JSONParser().parse({"body": json_body, "headers": answer_headers, "status_code": status}, op.output_shape)
        parsed.pop("ResponseMetadata", None)
        headers, body = dict(CBOR_HEADERS), encode(parsed, op.output_shape)
    if request_id:
        headers["x-amzn-RequestId"] = request_id
    return ext_services.wsgi_answer(start_response, status, headers, body)


def _json_error(body: bytes, headers: dict[str, str]) -> tuple[str, str]:
    query_error = headers.get("x-amzn-query-error")
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        data = {}
    code = query_error.split(";", 1)[0] if query_error else str(data.get("__type") or "InternalFailure")
    code = code.rsplit("#", 1)[-1]
    message = str(data.get("message") or data.get("Message") or body.decode("utf-8", "replace")[:500])
    return code, message


def install() -> None:
    ext_services.contract_covers(SERVICE, CHECKED_OPERATIONS)
