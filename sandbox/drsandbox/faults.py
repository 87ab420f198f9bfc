"""Fault injection: rules matched against (service, operation, region), fired by count or
probability, answered in the exact error shape of the service's wire protocol."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

from . import state

KINDS = ("throttle", "error500", "error503", "access_denied", "latency", "drop")

# Signing names that differ from the names used in rules and in the request log.
SERVICE_ALIASES = {"elasticfilesystem": "efs", "monitoring": "cloudwatch"}

# Throttling code and HTTP status per service, as the service sends them.
THROTTLE = {
    "json": ("ThrottlingException", 400),
    "rest-json": ("ThrottlingException", 400),
    "rest-xml": ("Throttling", 400),
    "query": ("Throttling", 400),
    "smithy-rpc-v2-cbor": ("Throttling", 400),  # CloudWatch: awsQuery-compatible codes
}
THROTTLE_BY_SERVICE = {"efs": ("ThrottlingException", 429)}

XML_NAMESPACES = {
    "route53": "https://route53.amazonaws.com/doc/2013-04-01/",
    "sns": "http://sns.amazonaws.com/doc/2010-03-31/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}


class Rule:
    def __init__(self, spec: dict[str, Any]) -> None:
        unknown = set(spec) - {
            "service", "operation", "region", "kind", "count", "probability", "seed", "latency_ms", "http_status",
        }
        if unknown:
            raise ValueError(f"unknown fault field(s) {sorted(unknown)}")
        kind = spec.get("kind")
        if kind not in KINDS:
            raise ValueError(f"fault kind must be one of {KINDS}, not {kind!r}")
        if not spec.get("service"):
            raise ValueError("fault needs a service (e.g. backup, efs, ecr, secretsmanager, route53, ecs, sns, sts)")
        self.id = str(uuid.uuid4())
        self.service = SERVICE_ALIASES.get(spec["service"].lower(), spec["service"].lower())
        self.operation = spec.get("operation") or "*"
        self.region = spec.get("region") or "*"
        self.kind = kind
        self.count = spec.get("count")
        self.probability = spec.get("probability")
        if self.count is None and self.probability is None:
            self.count = 1
        if self.count is not None and (not isinstance(self.count, int) or self.count < 1):
            raise ValueError("count must be a positive integer")
        if self.probability is not None and not (0.0 <= float(self.probability) <= 1.0):
            raise ValueError("probability must be within [0, 1]")
        self.seed = spec.get("seed")
        self.random = random.Random(self.seed)
        self.latency_ms = int(spec.get("latency_ms", 0))
        if kind == "latency" and self.latency_ms <= 0:
            raise ValueError("a latency fault needs latency_ms > 0")
        self.http_status = spec.get("http_status")
        self.fired = 0

    def matches(self, service: str, operation: str, region: str) -> bool:
        return (
            self.service in ("*", service)
            and self.operation in ("*", operation)
            and self.region in ("*", region)
        )

    def fire(self) -> bool:
        """Decides whether this matching call is hit; spends one count if so."""
        if self.probability is not None:
            hit = self.random.random() < float(self.probability)
            if hit and self.count is not None:
                self.count -= 1
        else:
            hit = True
            self.count -= 1
        if hit:
            self.fired += 1
        return hit

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.count <= 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "service": self.service,
            "operation": self.operation,
            "region": self.region,
            "kind": self.kind,
            "count": self.count,
            "probability": self.probability,
            "seed": self.seed,
            "latency_ms": self.latency_ms,
            "http_status": self.http_status,
            "fired": self.fired,
        }


RULES: list[Rule] = []


@state.on_reset
def clear() -> None:
    RULES.clear()


def add(specs: list[dict[str, Any]]) -> list[Rule]:
    rules = [Rule(spec) for spec in specs]  # all or nothing
    RULES.extend(rules)
    return rules


def pick(service: str, operation: str, region: str) -> Rule | None:
    """The first matching rule that fires for this call, if any (exhausted rules go away)."""
    with state.LOCK:
        for rule in list(RULES):
            if rule.matches(service, operation, region) and rule.fire():
                if rule.exhausted:
                    RULES.remove(rule)
                return rule
    return None


def error_response(rule: Rule, service: str, protocol: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """The HTTP answer for a throttle/5xx/access-denied rule in the protocol's exact shape."""
    request_id = str(uuid.uuid4())
    if rule.kind == "throttle":
        code, status = THROTTLE_BY_SERVICE.get(service, THROTTLE.get(protocol, ("ThrottlingException", 400)))
        message, sender = "Rate exceeded", "Sender"
    elif rule.kind == "access_denied":
        xml = protocol in ("rest-xml", "query")
        code = "AccessDenied" if xml else "AccessDeniedException"
        status = 403 if xml or protocol == "rest-json" else 400
        message, sender = "User: arn:aws:iam::123456789012:user/sandbox is not authorized to perform this operation", "Sender"
    elif rule.kind == "error500":
        code, status, message, sender = "InternalFailure", 500, "Internal server error (injected by the sandbox)", "Receiver"
    else:
        code, status, message, sender = "ServiceUnavailable", 503, "Service unavailable (injected by the sandbox)", "Receiver"
        if protocol == "rest-json" and service == "backup":
            code = "ServiceUnavailableException"
    if rule.http_status:
        status = int(rule.http_status)
    if protocol == "smithy-rpc-v2-cbor":
        from .ext_cloudwatch import error_answer

        status, cbor_headers, body = error_answer(code, message, status, sender)
        headers = [*cbor_headers.items(), ("x-amzn-RequestId", request_id), ("Content-Length", str(len(body)))]
        return status, headers, body
    if protocol in ("rest-xml", "query"):
        ns = XML_NAMESPACES.get(service, f"https://{service}.amazonaws.com/doc/")
        body = (
            f'<?xml version="1.0"?>\n<ErrorResponse xmlns="{ns}"><Error><Type>{sender}</Type>'
            f"<Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    else:
        body = json.dumps({"__type": code, "message": message}).encode()
        content_type = "application/x-amz-json-1.1" if protocol == "json" else "application/json"
        headers = [("Content-Type", content_type), ("x-amzn-RequestId", request_id)]
        if protocol == "rest-json":
            headers.append(("x-amzn-ErrorType", code))
    headers.append(("Content-Length", str(len(body))))
    return status, headers, body
