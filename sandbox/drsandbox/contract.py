"""The contract: every answer the extension adds or changes has botocore's output shape.

The extension's operations are enumerated, never listed by hand: every handler a
`drsandbox` module put on one of moto's `*Response` classes is found on the class, and an
extension that changes an answer below the handler (a patched backend or model method)
declares the operations it affects with `affects()`. For those operations every answer
moto's dispatcher returns is checked against the pinned botocore's service model:

* success: no member the output shape lacks, every required member present, each value of
  the shape's type (strings, integers, booleans, timestamps, blobs, lists, maps,
  structures) and of its enum when it has one; JSON, REST-JSON, REST-XML, query and EC2
  protocols, as each puts the members on the wire;
* error: the code is one the operation declares, or one every AWS service can answer.

`SANDBOX_CONTRACT` chooses what a violation does: `warn` (default) logs it on stderr,
`strict` (the test harness) also replaces the answer by a 500 `SandboxContractViolation`
error so the calling test fails, `off` skips the checks. `GET /_sandbox/contract` shows the
enumeration, what was checked and every violation. `python -m drsandbox.contract_check`
exercises every enumerated operation and fails on any violation (tests/sandbox_contract.rs).
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
import xml.etree.ElementTree as ET
from datetime import datetime
from functools import cache
from typing import Any

from botocore import xform_name
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape
from botocore.session import get_session

from . import state

# botocore service name -> operations whose answers a patched backend or model changes
_AFFECTED: dict[str, set[str]] = {}

# Changes made below the handler by modules that predate `affects()` (their handlers are
# discovered like any other): ECS deployments progress (ext_ecs).
_AFFECTED_BY_BACKEND_PATCHES = {
    "ecs": {"CreateService", "UpdateService", "DescribeServices"},
}

# Error codes any AWS service may answer, declared or not (authentication, throttling,
# input validation done before the operation runs, the service being unwell).
COMMON_ERRORS = {
    "AccessDenied",
    "AccessDeniedException",
    "IncompleteSignature",
    "InternalFailure",
    "InvalidAction",
    "InvalidClientTokenId",
    "InvalidParameterCombination",
    "InvalidParameterValue",
    "InvalidQueryParameter",
    "MalformedQueryString",
    "MissingAction",
    "MissingAuthenticationToken",
    "MissingParameter",
    "NotAuthorized",
    "OptInRequired",
    "RequestExpired",
    "SerializationException",
    "ServiceUnavailable",
    "Throttling",
    "ThrottlingException",
    "UnrecognizedClientException",
    "ValidationError",
    "ValidationException",
}

VIOLATIONS: list[dict[str, Any]] = []
CHECKED: dict[str, int] = {}
_LOCK = threading.Lock()


@state.on_reset
def _reset() -> None:
    with _LOCK:
        VIOLATIONS.clear()
        CHECKED.clear()


def mode() -> str:
    value = os.environ.get("SANDBOX_CONTRACT", "warn") or "warn"
    return value if value in ("off", "warn", "strict") else "warn"


def affects(service: str, *operations: str) -> None:
    """Declares operations whose answers an extension changes below the handler."""
    model = service_model(service)
    unknown = [op for op in operations if op not in model.operation_names]
    if unknown:
        raise ValueError(f"{service} has no operation(s) {unknown} in botocore's model")
    _AFFECTED.setdefault(service, set()).update(operations)


@cache
def service_model(service: str) -> ServiceModel:
    return get_session().get_service_model(service)


@cache
def _snake_names(service: str) -> dict[str, str]:
    model = service_model(service)
    return {xform_name(op): op for op in model.operation_names}


def _response_classes() -> list[type]:
    from moto.core.responses import BaseResponse

    found = []
    for name, module in list(sys.modules.items()):
        if not (name.startswith("moto.") and name.endswith(".responses")) or module is None:
            continue
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseResponse) and value is not BaseResponse:
                if value.__module__ == name:
                    found.append(value)
    return found


def _botocore_service(cls: type) -> str | None:
    try:
        name = cls().service_name  # type: ignore[call-arg]
    except Exception:  # noqa: BLE001 - a class that needs arguments serves no protocol we check
        return None
    return {"elasticfilesystem": "efs"}.get(name, name)


def extension_operations() -> dict[str, set[str]]:
    """Every (service, operation) whose answers the extension adds or changes."""
    found: dict[str, set[str]] = {}
    for cls in _response_classes():
        service = _botocore_service(cls)
        if not service:
            continue
        try:
            names = _snake_names(service)
        except Exception:  # noqa: BLE001 - moto serves some services botocore does not model
            continue
        for attr, value in vars(cls).items():
            fn = getattr(value, "__func__", value)
            if callable(fn) and getattr(fn, "__module__", "").startswith("drsandbox") and attr in names:
                found.setdefault(service, set()).add(names[attr])
    for table in (_AFFECTED, _AFFECTED_BY_BACKEND_PATCHES):
        for service, ops in table.items():
            found.setdefault(service, set()).update(ops)
    return found


def conform(service: str, shape_name: str, value: dict[str, Any]) -> dict[str, Any]:
    """`value` without the members the botocore shape lacks and without nulls (AWS sends
    neither), for moto models that describe themselves from their attributes."""
    shape = service_model(service).shape_for(shape_name)
    assert isinstance(shape, StructureShape)
    out = {}
    for key, item in value.items():
        member = shape.members.get(key)
        if member is None or item is None:
            continue
        if isinstance(member, StructureShape) and isinstance(item, dict):
            item = conform(service, member.name, item)
        out[key] = item
    return out


# --- checking one answer ---------------------------------------------------------------


class Checker:
    def __init__(self, protocol: str) -> None:
        self.protocol = protocol
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    # JSON (json and rest-json bodies)

    def json_value(self, shape: Shape, value: Any, path: str) -> None:
        kind = shape.type_name
        if value is None:
            self.problem(path, "null where the shape has a value")
            return
        if isinstance(shape, StructureShape):
            if not isinstance(value, dict):
                self.problem(path, f"a {type(value).__name__} where the shape is a structure")
                return
            self.json_structure(shape, value, path)
        elif isinstance(shape, ListShape):
            if not isinstance(value, list):
                self.problem(path, f"a {type(value).__name__} where the shape is a list")
                return
            for i, item in enumerate(value):
                self.json_value(shape.member, item, f"{path}[{i}]")
        elif isinstance(shape, MapShape):
            if not isinstance(value, dict):
                self.problem(path, f"a {type(value).__name__} where the shape is a map")
                return
            for key, item in value.items():
                self.scalar(shape.key, key, f"{path}.<key {key}>")
                self.json_value(shape.value, item, f"{path}[{key!r}]")
        else:
            self.scalar(shape, value, path, kind)

    def json_structure(self, shape: StructureShape, value: dict[str, Any], path: str, body_only: bool = False) -> None:
        wire_names = {}
        for name, member in shape.members.items():
            if body_only and member.serialization.get("location"):
                continue
            wire = name
            if self.protocol == "rest-json":
                wire = member.serialization.get("name", name)
            elif self.protocol == "json" and member.serialization.get("name"):
                wire = member.serialization["name"]
            wire_names[wire] = (name, member)
        for key, item in value.items():
            if key not in wire_names:
                self.problem(f"{path}.{key}", f"member not in the {shape.name} shape")
                continue
            self.json_value(wire_names[key][1], item, f"{path}.{key}")
        present = set(value)
        for required in shape.required_members:
            member = shape.members[required]
            if body_only and member.serialization.get("location"):
                continue
            wire = member.serialization.get("name", required) if self.protocol == "rest-json" else required
            if wire not in present:
                self.problem(f"{path}.{wire}", f"required member of {shape.name} missing")

    # scalars, from JSON values or XML text

    def scalar(self, shape: Shape, value: Any, path: str, kind: str | None = None) -> None:
        kind = kind or shape.type_name
        text = isinstance(value, str) and self.protocol in ("rest-xml", "query", "ec2")
        if kind == "string":
            if not isinstance(value, str):
                self.problem(path, f"{value!r} is not a string")
                return
            enum = shape.enum
            if enum and value not in enum:
                self.problem(path, f"{value!r} is not one of {shape.name}'s values {sorted(enum)}")
        elif kind in ("integer", "long"):
            if text:
                try:
                    int(value)
                except ValueError:
                    self.problem(path, f"{value!r} is not an integer")
            elif isinstance(value, bool) or not isinstance(value, int):
                self.problem(path, f"{value!r} is not an integer")
        elif kind in ("float", "double"):
            if text:
                try:
                    float(value)
                except ValueError:
                    self.problem(path, f"{value!r} is not a number")
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                self.problem(path, f"{value!r} is not a number")
        elif kind == "boolean":
            if text:
                if value not in ("true", "false"):
                    self.problem(path, f"{value!r} is not true or false")
            elif not isinstance(value, bool):
                self.problem(path, f"{value!r} is not a boolean")
        elif kind == "timestamp":
            self.timestamp(shape, value, path)
        elif kind == "blob":
            if not isinstance(value, str):
                self.problem(path, f"{value!r} is not base64 text")
                return
            try:
                base64.b64decode(value, validate=True)
            except Exception:  # noqa: BLE001
                self.problem(path, f"{value[:40]!r} is not base64")

    def timestamp(self, shape: Shape, value: Any, path: str) -> None:
        fmt = shape.serialization.get("timestampFormat")
        if fmt is None:
            fmt = "unixTimestamp" if self.protocol in ("json", "rest-json") else "iso8601"
        if fmt == "unixTimestamp":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.problem(path, f"{value!r} is not epoch seconds")
            return
        if not isinstance(value, str):
            self.problem(path, f"{value!r} is not {fmt} text")
            return
        if fmt == "iso8601":
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                self.problem(path, f"{value!r} is not an ISO 8601 time")

    # XML (rest-xml, query, ec2)

    def xml_name(self, name: str, member: Shape) -> str:
        if self.protocol == "ec2":
            return member.serialization.get("name") or name[:1].lower() + name[1:]
        return member.serialization.get("name", name)

    def xml_value(self, shape: Shape, element: ET.Element, path: str) -> None:
        if isinstance(shape, StructureShape):
            self.xml_structure(shape, element, path)
        elif isinstance(shape, ListShape):
            self.xml_list_items(shape, list(element), path)
        elif isinstance(shape, MapShape):
            for i, entry in enumerate(element):
                key_name = shape.key.serialization.get("name", "key")
                value_name = shape.value.serialization.get("name", "value")
                for part in entry:
                    tag = _local(part.tag)
                    if tag == key_name:
                        self.scalar(shape.key, part.text or "", f"{path}[{i}].key")
                    elif tag == value_name:
                        self.xml_value(shape.value, part, f"{path}[{i}].value")
                    else:
                        self.problem(f"{path}[{i}].{tag}", "not a key or value of a map entry")
        else:
            self.scalar(shape, element.text or "", path)

    def xml_list_items(self, shape: ListShape, items: list[ET.Element], path: str) -> None:
        expected = shape.member.serialization.get("name", "item" if self.protocol == "ec2" else "member")
        for i, item in enumerate(items):
            if _local(item.tag) != expected:
                self.problem(f"{path}[{i}]", f"element <{_local(item.tag)}> where the list has <{expected}>")
                continue
            self.xml_value(shape.member, item, f"{path}[{i}]")

    def xml_structure(self, shape: StructureShape, element: ET.Element, path: str) -> None:
        by_name: dict[str, tuple[str, Shape]] = {}
        for name, member in shape.members.items():
            if member.serialization.get("location") or member.serialization.get("xmlAttribute"):
                continue
            by_name[self.xml_name(name, member)] = (name, member)
        seen: set[str] = set()
        flattened: dict[str, list[ET.Element]] = {}
        for child in element:
            tag = _local(child.tag)
            if tag not in by_name:
                if not (tag in ("requestId", "RequestId") and path.count(".") == 0):
                    self.problem(f"{path}.{tag}", f"member not in the {shape.name} shape")
                continue
            name, member = by_name[tag]
            seen.add(name)
            if isinstance(member, ListShape) and member.serialization.get("flattened"):
                flattened.setdefault(tag, []).append(child)
                continue
            self.xml_value(member, child, f"{path}.{tag}")
        for tag, items in flattened.items():
            name, member = by_name[tag]
            for i, item in enumerate(items):
                assert isinstance(member, ListShape)
                self.xml_value(member.member, item, f"{path}.{tag}[{i}]")
        for required in shape.required_members:
            member = shape.members[required]
            if member.serialization.get("location") or member.serialization.get("xmlAttribute"):
                continue
            if required not in seen:
                self.problem(f"{path}.{self.xml_name(required, member)}", f"required member of {shape.name} missing")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _error_code(protocol: str, headers: dict[str, Any], body: str) -> str | None:
    header = {k.lower(): v for k, v in headers.items()}.get("x-amzn-errortype")
    if header:
        # `Namespace#Code:extra`: the code is between the last `#` and the first `:`.
        return str(header).split(":", 1)[0].rsplit("#", 1)[-1]
    text = body.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        code = data.get("__type") or data.get("code") or data.get("Code")
        return str(code).rsplit("#", 1)[-1] if code else None
    if text.startswith("<"):
        try:
            root = ET.fromstring(text)
        except ET.ParseError:
            return None
        for element in root.iter():
            if _local(element.tag) == "Code":
                return (element.text or "").strip()
    return None


def declared_errors(op: OperationModel) -> set[str]:
    codes = set()
    for shape in op.error_shapes:
        codes.add(shape.name)
        code = shape.metadata.get("error", {}).get("code")
        if code:
            codes.add(code)
    return codes


# Services whose answers reach this check in another protocol than the model's first one:
# `ext_cloudwatch` hands moto awsJson 1.0 requests and re-encodes moto's JSON answer as CBOR
# from the same output shape, so the answer checked here is JSON.
PROTOCOL_OF_ANSWER = {"cloudwatch": "json"}


def answer_protocol(service: str) -> str:
    return PROTOCOL_OF_ANSWER.get(service) or service_model(service).protocol


def check(service: str, operation: str, status: int, headers: dict[str, Any], body: Any) -> list[str]:
    """Problems of one answer of `operation`, as the client would receive it."""
    model = service_model(service)
    op = model.operation_model(operation)
    protocol = answer_protocol(service)
    if isinstance(body, bytes):
        text = body.decode("utf-8", "replace")
    else:
        text = body if isinstance(body, str) else ""
    if status >= 400:
        code = _error_code(protocol, headers, text)
        if code is None:
            return [f"error answer without an AWS error code: {text[:200]!r}"]
        if code not in declared_errors(op) and code not in COMMON_ERRORS:
            return [f"error code {code} is not one {operation} declares ({sorted(declared_errors(op))})"]
        return []
    output = op.output_shape
    checker = Checker(protocol)
    if output is None:
        if text.strip() and protocol in ("json", "rest-json") and text.strip() not in ("{}",):
            checker.problem(operation, f"a body where the operation has no output: {text[:100]!r}")
        return checker.problems
    payload = output.serialization.get("payload")
    if protocol in ("json", "rest-json"):
        if payload:
            member = output.members[payload]
            if member.type_name in ("blob", "string"):
                return []
            shape: Shape = member
        else:
            shape = output
        if not text.strip():
            data: Any = {}
        else:
            try:
                data = json.loads(text)
            except ValueError:
                return [f"the body is not JSON: {text[:200]!r}"]
        if isinstance(shape, StructureShape) and isinstance(data, dict):
            checker.json_structure(shape, data, output.name, body_only=shape is output)
        else:
            checker.json_value(shape, data, output.name)
        return checker.problems
    if not text.strip():
        return [] if not output.members else [f"an empty body where {output.name} is expected"]
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        return [f"the body is not XML ({err}): {text[:200]!r}"]
    if protocol == "query":
        wrapper = output.serialization.get("resultWrapper") or f"{operation}Result"
        result = next((c for c in root if _local(c.tag) == wrapper), None)
        for child in root:
            if _local(child.tag) not in (wrapper, "ResponseMetadata"):
                checker.problem(f"{_local(root.tag)}.{_local(child.tag)}", "not the result or the response metadata")
        if result is None:
            if output.members:
                checker.problem(_local(root.tag), f"no <{wrapper}> element")
            return checker.problems
        checker.xml_structure(output, result, output.name)
        return checker.problems
    if payload:
        member = output.members[payload]
        if member.type_name in ("blob", "string"):
            return []
        checker.xml_value(member, root, output.name)
        return checker.problems
    checker.xml_structure(output, root, output.name)
    return checker.problems


# --- the hook on moto's dispatcher ------------------------------------------------------


def _violation_answer(protocol: str, message: str) -> tuple[int, dict[str, Any], str]:
    if protocol in ("json", "rest-json"):
        body = json.dumps({"__type": "SandboxContractViolation", "message": message})
        return 500, {"x-amzn-ErrorType": "SandboxContractViolation", "Content-Type": "application/json"}, body
    escaped = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    body = (
        "<ErrorResponse><Error><Type>Receiver</Type><Code>SandboxContractViolation</Code>"
        f"<Message>{escaped}</Message></Error><RequestId>sandbox</RequestId></ErrorResponse>"
    )
    return 500, {"Content-Type": "text/xml"}, body


@cache
def _enumerated() -> frozenset[tuple[str, str]]:
    return frozenset((s, op) for s, ops in extension_operations().items() for op in ops)


def install() -> None:
    """Checks every answer of the extension's operations (after every other module installed)."""
    from moto.core.responses import BaseResponse

    _enumerated.cache_clear()
    original = BaseResponse.call_action

    def call_action(self: BaseResponse) -> Any:
        answer = original(self)
        if mode() == "off":
            return answer
        try:
            service = {"elasticfilesystem": "efs"}.get(self.service_name, self.service_name)
            operation = self._get_action()
        except Exception:  # noqa: BLE001 - not an operation we can name: not ours
            return answer
        if (service, operation) not in _enumerated():
            return answer
        status, headers, body = answer
        problems = check(service, operation, int(status), dict(headers), body)
        key = f"{service}:{operation}"
        with _LOCK:
            CHECKED[key] = CHECKED.get(key, 0) + 1
            if problems:
                VIOLATIONS.append({"service": service, "operation": operation, "status": int(status), "problems": problems})
        if not problems:
            return answer
        message = f"{service} {operation} answer breaks botocore's model: " + "; ".join(problems)
        print(f"sandbox: contract violation: {message}", file=sys.stderr, flush=True)
        if mode() == "strict":
            return _violation_answer(answer_protocol(service), message)
        return answer

    BaseResponse.call_action = call_action  # type: ignore[method-assign]


def report() -> dict[str, Any]:
    with _LOCK:
        return {
            "mode": mode(),
            "operations": {s: sorted(ops) for s, ops in sorted(extension_operations().items())},
            "checked": dict(sorted(CHECKED.items())),
            "violations": list(VIOLATIONS),
        }
