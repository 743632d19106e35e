"""Evaluate IAM identity policies the way IAM does, for the few decisions the sandbox makes.

An explicit Deny wins, then any Allow, else the request is implicitly denied. Action and
Resource patterns use IAM wildcards (`*` any run of characters, `?` one character; actions
compare case-insensitively, resources case-sensitively). Conditions are evaluated against
the request context given; a condition on a key the context lacks does not match (IAM's
rule), so an Allow with an unknown condition never grants more than AWS would.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from functools import lru_cache
from typing import Any

PolicyDocument = str | Mapping[str, Any]


class Decision(StrEnum):
    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"


def evaluate(
    documents: Iterable[PolicyDocument],
    action: str,
    resource: str,
    context: Mapping[str, str] | None = None,
) -> Decision:
    """The IAM decision for `action` on `resource` under every document together."""
    allowed = False
    for document in documents:
        for statement in _statements(document):
            if not _applies(statement, action, resource, context or {}):
                continue
            if statement.get("Effect") == "Deny":
                return Decision.EXPLICIT_DENY
            if statement.get("Effect") == "Allow":
                allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def is_allowed(
    documents: Iterable[PolicyDocument], action: str, resource: str, context: Mapping[str, str] | None = None
) -> bool:
    return evaluate(documents, action, resource, context) is Decision.ALLOW


def wildcard_match(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """IAM wildcard matching: `*` matches any run of characters (including `/` and `:`), `?` one."""
    return _compile(pattern, case_sensitive).fullmatch(value) is not None


@lru_cache(maxsize=1024)
def _compile(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, 0 if case_sensitive else re.IGNORECASE | re.DOTALL)


def _statements(document: PolicyDocument) -> list[Mapping[str, Any]]:
    parsed = json.loads(document) if isinstance(document, str) else document
    statements = parsed.get("Statement", [])
    return [statements] if isinstance(statements, Mapping) else list(statements)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]) -> bool:
    if "Action" in statement:
        if not any(wildcard_match(p, action, case_sensitive=False) for p in _as_list(statement["Action"])):
            return False
    elif "NotAction" in statement:
        if any(wildcard_match(p, action, case_sensitive=False) for p in _as_list(statement["NotAction"])):
            return False
    else:
        return False
    if "Resource" in statement:
        if not any(wildcard_match(p, resource) for p in _as_list(statement["Resource"])):
            return False
    elif "NotResource" in statement:
        if any(wildcard_match(p, resource) for p in _as_list(statement["NotResource"])):
            return False
    else:
        return False
    return all(
        _condition(operator, key, _as_list(values), context)
        for operator, block in (statement.get("Condition") or {}).items()
        for key, values in block.items()
    )


def _condition(operator: str, key: str, expected: list[str], context: Mapping[str, str]) -> bool:
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    actual = next((v for k, v in context.items() if k.lower() == key.lower()), None)
    if base == "Null":
        want_null = str(expected[0]).lower() == "true"
        return (actual is None) == want_null
    if actual is None:
        return if_exists
    expected = [str(e) for e in expected]
    if base == "StringEquals":
        return actual in expected
    if base == "StringNotEquals":
        return actual not in expected
    if base == "StringEqualsIgnoreCase":
        return actual.lower() in [e.lower() for e in expected]
    if base == "StringLike":
        return any(fnmatch.fnmatchcase(actual, e) for e in expected)
    if base == "StringNotLike":
        return not any(fnmatch.fnmatchcase(actual, e) for e in expected)
    if base == "Bool":
        return actual.lower() in [e.lower() for e in expected]
    if base in ("ArnEquals", "ArnLike"):
        return any(wildcard_match(e, actual) for e in expected)
    if base in ("ArnNotEquals", "ArnNotLike"):
        return not any(wildcard_match(e, actual) for e in expected)
    if base in ("IpAddress", "NotIpAddress"):
        try:
            inside = any(ipaddress.ip_address(actual) in ipaddress.ip_network(e, strict=False) for e in expected)
        except ValueError:
            return False
        return inside if base == "IpAddress" else not inside
    return False  # an operator we do not model never grants
