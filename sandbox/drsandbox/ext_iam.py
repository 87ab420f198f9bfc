"""IAM SimulatePrincipalPolicy over moto's users, groups, roles and policies.

moto 5.2.5 stores identity policies but cannot simulate them. Here the identity-based
policies of the principal named by `PolicySourceArn` are evaluated: for a user its inline
policies, its attached managed policies and those of every group it belongs to; for a role
or a group, its own. `PolicyInputList` adds policies. For each action (and each resource
of `ResourceArns`, `*` when none) the decision is AWS's: an applicable `Deny` wins
(`explicitDeny`), else an applicable `Allow` (`allowed`), else `implicitDeny`. A statement
applies when its `Action`/`NotAction` and `Resource`/`NotResource` match (wildcards `*` and
`?`; actions case-insensitive) and its conditions hold for the `ContextEntries` given.
`MatchedStatements` names the deciding statements (policy, type, and their start and end
line and column in the policy document, counted from 1).

Not evaluated (see docs/sandbox.md): resource policies (`ResourcePolicy`) and permissions
boundaries (refused with InvalidInput rather than ignored), SCPs, session policies, and
condition keys that the request context would hold on AWS (`aws:SourceIp`,
`aws:CurrentTime`, `aws:PrincipalTag/...`, ...): a condition is evaluated only from
`ContextEntries`, and a key missing there is reported in `MissingContextValues`.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from moto.core.responses import ActionResult
from moto.iam.exceptions import InvalidInput, NoSuchEntity
from moto.iam.responses import IamResponse

from .common import backend, params

STRING_OPS = {"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike"}
ARN_OPS = {"ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike"}


class Policy:
    """One policy document with where each of its statements is in the text."""

    def __init__(self, source_id: str, source_type: str | None, text: str) -> None:
        self.source_id = source_id
        self.source_type = source_type
        self.text = text
        self.statements = _statements_with_spans(text)


def _document(raw: Any) -> str:
    text = raw if isinstance(raw, str) else json.dumps(raw)
    try:
        json.loads(text)
    except ValueError:
        text = unquote(text)
    return text


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _statements_with_spans(text: str) -> list[tuple[dict[str, Any], int, int]]:
    """Each statement of a policy with its start and end offsets in `text`."""
    decoder = json.JSONDecoder()
    i = _skip_ws(text, 0)
    if not text.startswith("{", i):
        raise InvalidInput("The policy document is not a JSON object")
    i += 1
    spans: list[tuple[dict[str, Any], int, int]] = []
    while True:
        i = _skip_ws(text, i)
        if text.startswith("}", i):
            return spans
        key, i = decoder.raw_decode(text, i)
        i = _skip_ws(text, i)
        i = _skip_ws(text, i + 1)  # the colon
        if key == "Statement" and text.startswith("[", i):
            i += 1
            while True:
                i = _skip_ws(text, i)
                if text.startswith("]", i):
                    i += 1
                    break
                start = i
                value, i = decoder.raw_decode(text, i)
                spans.append((value, start, i - 1))
                i = _skip_ws(text, i)
                if text.startswith(",", i):
                    i += 1
        elif key == "Statement":
            start = i
            value, i = decoder.raw_decode(text, i)
            spans.append((value, start, i - 1))
        else:
            _, i = decoder.raw_decode(text, i)
        i = _skip_ws(text, i)
        if text.startswith(",", i):
            i += 1


def _position(text: str, offset: int) -> dict[str, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return {"Line": line, "Column": column}


def _glob(pattern: str, value: str, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _matches(statement: dict[str, Any], positive: str, negative: str, value: str, ignore_case: bool) -> bool:
    if positive in statement:
        return any(_glob(p, value, ignore_case) for p in _as_list(statement[positive]))
    if negative in statement:
        return not any(_glob(p, value, ignore_case) for p in _as_list(statement[negative]))
    return False


def _condition_holds(conditions: dict[str, Any], context: dict[str, list[str]], missing: set[str]) -> bool:
    for operator, pairs in conditions.items():
        base = operator.split(":")[-1]
        if_exists = base.endswith("IfExists")
        base = base.removesuffix("IfExists")
        for key, expected in pairs.items():
            wanted = _as_list(expected)
            have = context.get(key.lower())
            if base == "Null":
                is_null = have is None
                if is_null != (wanted[0].lower() == "true"):
                    return False
                continue
            if have is None:
                if if_exists:
                    continue
                missing.add(key)
                return False
            if not _operator_holds(base, wanted, have):
                return False
    return True


def _operator_holds(base: str, wanted: list[str], have: list[str]) -> bool:
    negated = "Not" in base
    if base in STRING_OPS or base in ARN_OPS:
        like = base.endswith("Like") or base in ARN_OPS
        ignore_case = base.endswith("IgnoreCase")
        hit = any(
            (_glob(w, h, ignore_case) if like else (w.lower() == h.lower() if ignore_case else w == h))
            for w in wanted
            for h in have
        )
        return hit != negated
    if base == "Bool":
        return any(w.lower() == h.lower() for w in wanted for h in have)
    # Numeric, Date, IpAddress and Binary operators are not simulated: the statement does
    # not apply (documented in docs/sandbox.md).
    return False


def _policies_of(account: str, arn: str) -> list[Policy]:
    iam = backend("iam", account, "aws")
    kind, _, name = arn.split(":", 5)[-1].partition("/")
    name = name.rsplit("/", 1)[-1]
    policies: list[Policy] = []

    def managed(attached: dict[str, Any]) -> None:
        for policy in attached.values():
            version = next(v for v in policy.versions if v.version_id == policy.default_version_id)
            source_type = "aws-managed" if policy.arn.startswith("arn:aws:iam::aws:") else "user-managed"
            policies.append(Policy(policy.name, source_type, _document(version.document)))

    if kind == "user":
        try:
            user = iam.get_user(name)
        except Exception as err:  # noqa: BLE001 - moto's NotFound: AWS answers NoSuchEntity
            raise NoSuchEntity(f"The user with name {name} cannot be found.") from err
        policies += [Policy(n, "user", _document(d)) for n, d in user.policies.items()]
        managed(user.managed_policies)
        for group in iam.get_groups_for_user(name):
            policies += [Policy(n, "group", _document(d)) for n, d in group.policies.items()]
            managed(group.managed_policies)
    elif kind == "role":
        try:
            role = iam.get_role(name)
        except Exception as err:  # noqa: BLE001
            raise NoSuchEntity(f"The role with name {name} cannot be found.") from err
        policies += [Policy(n, "role", _document(d)) for n, d in role.policies.items()]
        managed(role.managed_policies)
    elif kind == "group":
        group = iam.groups.get(name)
        if group is None:
            raise NoSuchEntity(f"The group with name {name} cannot be found.")
        policies += [Policy(n, "group", _document(d)) for n, d in group.policies.items()]
        managed(group.managed_policies)
    else:
        raise InvalidInput(f"PolicySourceArn {arn} does not name a user, group or role")
    return policies


def evaluate(policies: list[Policy], action: str, resource: str, context: dict[str, list[str]]) -> dict[str, Any]:
    allows: list[dict[str, Any]] = []
    denies: list[dict[str, Any]] = []
    missing: set[str] = set()
    for policy in policies:
        for statement, start, end in policy.statements:
            if not _matches(statement, "Action", "NotAction", action, ignore_case=True):
                continue
            if not _matches(statement, "Resource", "NotResource", resource, ignore_case=False):
                continue
            if not _condition_holds(statement.get("Condition") or {}, context, missing):
                continue
            matched: dict[str, Any] = {
                "SourcePolicyId": policy.source_id,
                "StartPosition": _position(policy.text, start),
                "EndPosition": _position(policy.text, end),
            }
            if policy.source_type:
                matched["SourcePolicyType"] = policy.source_type
            (denies if statement.get("Effect") == "Deny" else allows).append(matched)
    if denies:
        decision, statements = "explicitDeny", denies
    elif allows:
        decision, statements = "allowed", allows
    else:
        decision, statements = "implicitDeny", []
    return {
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": decision,
        "MatchedStatements": statements,
        "MissingContextValues": sorted(missing),
    }


def simulate_principal_policy(self: IamResponse) -> ActionResult:
    p = params(self)
    for unsupported in ("ResourcePolicy", "PermissionsBoundaryPolicyInputList"):
        if p.get(unsupported):
            raise InvalidInput(f"The sandbox does not simulate {unsupported}; leave it out")
    policies = _policies_of(self.current_account, p["PolicySourceArn"])
    for n, document in enumerate(p.get("PolicyInputList") or [], start=1):
        policies.append(Policy(f"PolicyInputList.{n}", None, _document(document)))
    context = {
        str(entry["ContextKeyName"]).lower(): [str(v) for v in entry.get("ContextKeyValues") or []]
        for entry in p.get("ContextEntries") or []
    }
    resources = p.get("ResourceArns") or ["*"]
    results = [evaluate(policies, action, resource, context) for action in p["ActionNames"] for resource in resources]
    start = int(p.get("Marker") or 0)
    limit = int(p.get("MaxItems") or 100)
    page = results[start : start + limit]
    out: dict[str, Any] = {"EvaluationResults": page, "IsTruncated": start + limit < len(results)}
    if out["IsTruncated"]:
        out["Marker"] = str(start + limit)
    return ActionResult(out)


HANDLERS = [simulate_principal_policy]


def install() -> None:
    for handler in HANDLERS:
        setattr(IamResponse, handler.__name__, handler)
