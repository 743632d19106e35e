"""The IAM policy language, evaluated the way IAM evaluates it (AWS IAM User Guide, "Policy evaluation
logic" and "IAM JSON policy elements reference").

    evaluate(documents, action, resource, context)            # identity-based policies
    evaluate(documents, action, resource, context, principal=caller)  # resource-based or trust policies
    authorize(identity, resource_policies, action, resource, context, caller)  # same-account decision

- An explicit Deny wins; else any Allow; else the request is implicitly denied.
- `Action`/`NotAction` match case-insensitively, `Resource`/`NotResource` case-sensitively, with IAM
  wildcards (`*` any run of characters, `/` and `:` included; `?` one character).
- Policy variables (Version 2012-10-17 only): `${key}` takes the value of the request context key
  `key` (case-insensitive), `${key, 'default'}` falls back to the default, `${*}` `${?}` `${$}` are
  the literal characters. A substituted value is literal text, never a wildcard. A variable that
  cannot be resolved (key absent, or multivalued) makes the Resource entry match nothing and the
  condition value equal to nothing.
- `Principal`/`NotPrincipal` are checked when a `principal` is given: `*` (or `{"AWS": "*"}`) is
  anyone; a role ARN names the role and every session of it; an account (id or `:root`) is every
  principal of the account for a Deny, and for an Allow only delegates to the account's own
  policies (it grants nothing by itself, as AWS documents); `Federated` and `Service` match those.
- Conditions: every operator block must hold, every key in it must hold, any value of a key may
  match. Operators: String*, Numeric*, Date*, Bool, BinaryEquals, IpAddress/NotIpAddress, Arn*,
  Null, each with `...IfExists`, and the `ForAnyValue:`/`ForAllValues:` set qualifiers. A key absent
  from the context fails a positive operator (unless `IfExists`) and satisfies a negated one
  (`StringNotEquals`, `ArnNotLike`, `NotIpAddress`...). An operator IAM does not have never matches.

Context values are strings, or lists of strings for multivalued keys.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)

PolicyDocument = str | Mapping[str, Any]
ContextValue = str | Sequence[str]
Context = Mapping[str, ContextValue]
VARIABLES_VERSION = "2012-10-17"  # the only policy language version with policy variables


class Decision(StrEnum):
    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"


@dataclass(frozen=True)
class Caller:
    """Who makes a request, in the terms a `Principal` element can name."""

    account: str = ""
    arns: frozenset[str] = frozenset()
    """The caller's ARNs: the role ARN and the assumed-role session ARN, or a user's ARN."""
    federated: str = ""
    """The web identity provider (trust policies), e.g. cognito-identity.amazonaws.com."""
    service: str = ""
    """An AWS service principal, e.g. s3.amazonaws.com."""

    @property
    def anonymous(self) -> bool:
        return not (self.account or self.arns or self.federated or self.service)


ANONYMOUS = Caller()


@dataclass(frozen=True)
class Verdict:
    """The decision for one (action, resource) and which kind of policy produced it."""

    decision: Decision
    policy_type: str = "identity-based"  # "identity-based" | "resource-based": who denied, or nobody allowed

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW

    def reason(self, action: str) -> str:
        """The end of AWS's access-denied message: "... because no identity-based policy allows the X action"."""
        if self.decision is Decision.EXPLICIT_DENY:
            return f"with an explicit deny in a {self.policy_type} policy"
        return f"because no {self.policy_type} policy allows the {action} action"


# -- entry points -------------------------------------------------------------------------------------------
def evaluate(
    documents: Iterable[PolicyDocument],
    action: str,
    resource: str,
    context: Context | None = None,
    *,
    principal: Caller | None = None,
) -> Decision:
    """The IAM decision for `action` on `resource` under every document together.

    With `principal`, the documents are resource-based (or trust) policies: a statement applies only
    to the principals its `Principal`/`NotPrincipal` names."""
    context = _lowered(context or {})
    allowed = False
    for document in documents:
        parsed = _parse(document)
        variables = parsed.get("Version") == VARIABLES_VERSION
        for statement in _as_statements(parsed.get("Statement")):
            effect = statement.get("Effect")
            if effect not in ("Allow", "Deny"):
                continue
            if principal is not None and not _principal_applies(statement, principal, effect):
                continue
            if not _applies(statement, action, resource, context, variables, resource_based=principal is not None):
                continue
            if effect == "Deny":
                return Decision.EXPLICIT_DENY
            allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def is_allowed(
    documents: Iterable[PolicyDocument],
    action: str,
    resource: str,
    context: Context | None = None,
    *,
    principal: Caller | None = None,
) -> bool:
    return evaluate(documents, action, resource, context, principal=principal) is Decision.ALLOW


def authorize(
    identity_policies: Iterable[PolicyDocument],
    resource_policies: Iterable[PolicyDocument],
    action: str,
    resource: str,
    context: Context | None,
    caller: Caller,
) -> Verdict:
    """Same-account evaluation: an explicit Deny in either kind of policy denies; otherwise an Allow in
    the identity-based policies OR in a resource-based policy naming the caller allows."""
    identity = Decision.IMPLICIT_DENY if caller.anonymous else evaluate(identity_policies, action, resource, context)
    if identity is Decision.EXPLICIT_DENY:
        return Verdict(Decision.EXPLICIT_DENY, "identity-based")
    by_resource = evaluate(resource_policies, action, resource, context, principal=caller)
    if by_resource is Decision.EXPLICIT_DENY:
        return Verdict(Decision.EXPLICIT_DENY, "resource-based")
    if Decision.ALLOW in (identity, by_resource):
        return Verdict(Decision.ALLOW)
    return Verdict(Decision.IMPLICIT_DENY, "identity-based")


def conditions_on(documents: Iterable[PolicyDocument], action: str, resource: str, keys: Iterable[str]) -> bool:
    """Whether a statement of `documents` that covers `action` on `resource` (whatever its effect, principal or
    outcome) has a condition on one of the context `keys`: e.g. a bucket policy that enforces conditional writes
    (S3 then refuses copies carrying those headers)."""
    wanted = {key.lower() for key in keys}
    for document in documents:
        parsed = _parse(document)
        variables = parsed.get("Version") == VARIABLES_VERSION
        for statement in _as_statements(parsed.get("Statement")):
            conditions = statement.get("Condition") or {}
            named = {str(key).lower() for block in conditions.values() if isinstance(block, Mapping) for key in block}
            if named & wanted and _applies({**statement, "Condition": {}}, action, resource, {}, variables,
                                           resource_based=True):
                return True
    return False


def request_context(now: float) -> dict[str, ContextValue]:
    """The keys every request context has: the time (aws:CurrentTime, aws:EpochTime) and aws:SecureTransport,
    true because the sandbox stands in for AWS's HTTPS endpoints (docs/sandbox-fidelity.md)."""
    return {
        "aws:SecureTransport": "true",
        "aws:CurrentTime": iso_time(now),
        "aws:EpochTime": str(int(now)),
    }


def iso_time(epoch: float) -> str:
    """A moment as IAM's date condition keys spell it (aws:CurrentTime, aws:TokenIssueTime)."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wildcard_match(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """IAM wildcard matching: `*` matches any run of characters (including `/` and `:`), `?` one."""
    return _compile(((pattern, True),), case_sensitive).fullmatch(value) is not None


# -- statements -------------------------------------------------------------------------------------------------
def _parse(document: PolicyDocument) -> Mapping[str, Any]:
    parsed = _parse_text(document) if isinstance(document, str) else document
    return parsed if isinstance(parsed, Mapping) else {}


@lru_cache(maxsize=256)
def _parse_text(document: str) -> Any:
    """Policy documents are immutable text: parse each once (every request evaluates them)."""
    return json.loads(document)


def _as_statements(statements: Any) -> list[Mapping[str, Any]]:
    if isinstance(statements, Mapping):
        return [statements]
    return [s for s in statements or [] if isinstance(s, Mapping)]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, str | int | float | bool) else list(value)


def _applies(
    statement: Mapping[str, Any], action: str, resource: str, context: Context, variables: bool, *, resource_based: bool
) -> bool:
    if "Action" in statement:
        if not any(wildcard_match(str(p), action, case_sensitive=False) for p in _as_list(statement["Action"])):
            return False
    elif "NotAction" in statement:
        if any(wildcard_match(str(p), action, case_sensitive=False) for p in _as_list(statement["NotAction"])):
            return False
    else:
        return False
    if "Resource" in statement:
        if not any(_resource_matches(str(p), resource, context, variables) for p in _as_list(statement["Resource"])):
            return False
    elif "NotResource" in statement:
        if any(_resource_matches(str(p), resource, context, variables) for p in _as_list(statement["NotResource"])):
            return False
    elif not resource_based:
        return False  # an identity-based statement names its resources; a trust policy's is the role itself
    conditions = statement.get("Condition") or {}
    return all(
        _condition(operator, key, _as_list(values), context, variables)
        for operator, block in conditions.items()
        for key, values in (block or {}).items()
    )


def _resource_matches(pattern: str, resource: str, context: Context, variables: bool) -> bool:
    tokens = _substitute(pattern, context, variables)
    return tokens is not None and _compile(tokens, True).fullmatch(resource) is not None


# -- principals -----------------------------------------------------------------------------------------------
def _principal_applies(statement: Mapping[str, Any], caller: Caller, effect: str) -> bool:
    if "Principal" in statement:
        return _names(statement["Principal"], caller, effect)
    if "NotPrincipal" in statement:
        return not _names(statement["NotPrincipal"], caller, "Deny")
    return False  # a resource-based statement names its principals


def _names(element: Any, caller: Caller, effect: str) -> bool:
    if element == "*":
        return True
    if not isinstance(element, Mapping):
        return False
    for kind, values in element.items():
        for value in _as_list(values):
            value = str(value)
            if kind == "AWS":
                if value == "*":
                    return True
                account = value.removeprefix("arn:aws:iam::").removesuffix(":root")
                if (value.isdigit() or value.endswith(":root")) and account == caller.account:
                    if effect == "Deny":
                        return True  # an account principal denies every principal of the account
                    continue  # an Allow to the account delegates to the account's own policies
                if value in caller.arns:
                    return True
            elif kind == "Federated" and caller.federated and value == caller.federated:
                return True
            elif kind == "Service" and caller.service and value == caller.service:
                return True
    return False


# -- conditions -----------------------------------------------------------------------------------------------
Comparator = Callable[[str, list["Tokens"]], bool]
Tokens = tuple[tuple[str, bool], ...]  # (text, is_pattern): text from a variable is never a pattern


def _condition(operator: str, key: str, expected: list[Any], context: Context, variables: bool) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    actual = context.get(key.lower())
    values = [] if actual is None else ([actual] if isinstance(actual, str) else [str(v) for v in actual])
    if base == "Null":
        want_absent = str(expected[0]).lower() == "true" if expected else True
        return (not values) == want_absent
    if base not in _OPERATORS:
        log.warning("IAM condition operator %r is not supported: the condition never matches", operator)
        return False
    compare, negated = _OPERATORS[base]
    patterns = [t for t in (_substitute(str(e), context, variables) for e in expected) if t is not None]
    if qualifier == "ForAllValues":
        return all(_one(compare, negated, v, patterns) for v in values)
    if qualifier == "ForAnyValue":
        return any(_one(compare, negated, v, patterns) for v in values)
    if qualifier:
        log.warning("IAM condition qualifier %r is not supported: the condition never matches", qualifier)
        return False
    if not values:
        return negated or if_exists
    return any(_one(compare, negated, v, patterns) for v in values)


def _one(compare: Comparator, negated: bool, value: str, patterns: list[Tokens]) -> bool:
    matched = compare(value, patterns)
    return not matched if negated else matched


def _text(tokens: Tokens) -> str:
    return "".join(text for text, _ in tokens)


def _string_equals(value: str, patterns: list[Tokens]) -> bool:
    return any(value == _text(p) for p in patterns)


def _string_equals_ignore_case(value: str, patterns: list[Tokens]) -> bool:
    return any(value.lower() == _text(p).lower() for p in patterns)


def _string_like(value: str, patterns: list[Tokens]) -> bool:
    return any(_compile(p, True).fullmatch(value) is not None for p in patterns)


def _arn_like(value: str, patterns: list[Tokens]) -> bool:
    """Each of the six colon-separated parts is matched on its own (a wildcard does not cross a colon
    before the resource part)."""
    parts = value.split(":", 5)
    for pattern in patterns:
        text = _text(pattern)
        if text == "*":
            return True
        wanted = _split_tokens(pattern, 6)
        if len(parts) == 6 and len(wanted) == 6 and all(
            _compile(w, True).fullmatch(p) is not None for w, p in zip(wanted, parts, strict=True)
        ):
            return True
    return False


def _split_tokens(tokens: Tokens, count: int) -> list[Tokens]:
    """Split on ':' outside substituted text, at most count-1 times."""
    parts: list[list[tuple[str, bool]]] = [[]]
    for text, is_pattern in tokens:
        if not is_pattern:
            parts[-1].append((text, False))
            continue
        pieces = text.split(":")
        for i, piece in enumerate(pieces):
            if i and len(parts) < count:
                parts.append([])
            elif i:
                parts[-1].append((":", False))
            parts[-1].append((piece, True))
    return [tuple(p) for p in parts]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> float | None:
    if re.fullmatch(r"-?\d+(\.\d+)?", text.strip()):
        return float(text)
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _ordered(parse: Callable[[str], float | None], test: Callable[[float, float], bool]) -> Comparator:
    def compare(value: str, patterns: list[Tokens]) -> bool:
        left = parse(value)
        rights = [parse(_text(p)) for p in patterns]
        return left is not None and any(r is not None and test(left, r) for r in rights)

    return compare


def _binary(value: str, patterns: list[Tokens]) -> bool:
    try:
        return any(base64.b64decode(value) == base64.b64decode(_text(p)) for p in patterns)
    except ValueError:
        return False


def _ip(value: str, patterns: list[Tokens]) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    for pattern in patterns:
        try:
            if address in ipaddress.ip_network(_text(pattern), strict=False):
                return True
        except ValueError:
            continue
    return False


def _eq(a: float, b: float) -> bool:
    return a == b


_OPERATORS: dict[str, tuple[Comparator, bool]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "NumericEquals": (_ordered(_number, _eq), False),
    "NumericNotEquals": (_ordered(_number, _eq), True),
    "NumericLessThan": (_ordered(_number, lambda a, b: a < b), False),
    "NumericLessThanEquals": (_ordered(_number, lambda a, b: a <= b), False),
    "NumericGreaterThan": (_ordered(_number, lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_ordered(_number, lambda a, b: a >= b), False),
    "DateEquals": (_ordered(_date, _eq), False),
    "DateNotEquals": (_ordered(_date, _eq), True),
    "DateLessThan": (_ordered(_date, lambda a, b: a < b), False),
    "DateLessThanEquals": (_ordered(_date, lambda a, b: a <= b), False),
    "DateGreaterThan": (_ordered(_date, lambda a, b: a > b), False),
    "DateGreaterThanEquals": (_ordered(_date, lambda a, b: a >= b), False),
    "Bool": (_string_equals_ignore_case, False),  # "true"/"false", any case
    "BinaryEquals": (_binary, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
}


# -- policy variables -------------------------------------------------------------------------------------------
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,'\s][^,']*?)\s*,\s*'((?:[^']|'')*)'\s*$")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


def _substitute(text: str, context: Context, variables: bool) -> Tokens | None:
    """`text` as tokens with every variable replaced, or None when a variable cannot be resolved."""
    if not variables or "${" not in text:
        return ((text, True),)
    tokens: list[tuple[str, bool]] = []
    position = 0
    for match in _VARIABLE.finditer(text):
        tokens.append((text[position:match.start()], True))
        position = match.end()
        inner = match[1]
        if inner in _ESCAPES:
            tokens.append((_ESCAPES[inner], False))
            continue
        default = _DEFAULT.match(inner)
        name = default[1] if default else inner.strip()
        value = context.get(name.lower())
        if isinstance(value, str):
            tokens.append((value, False))
        elif default is not None:
            tokens.append((default[2].replace("''", "'"), False))
        else:
            return None  # absent or multivalued: the element matches nothing
    tokens.append((text[position:], True))
    return tuple(t for t in tokens if t[0])


@lru_cache(maxsize=2048)
def _compile(tokens: Tokens, case_sensitive: bool) -> re.Pattern[str]:
    regex = "".join(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text) if is_pattern
        else re.escape(text)
        for text, is_pattern in tokens
    )
    return re.compile(regex, re.DOTALL if case_sensitive else re.IGNORECASE | re.DOTALL)


def _lowered(context: Context) -> dict[str, ContextValue]:
    return {key.lower(): value for key, value in context.items()}

