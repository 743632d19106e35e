"""Gateway response templates as API Gateway renders them: variable substitution, no VTL.

"A GatewayResponse mapping template isn't processed by the Velocity Template Language (VTL)
engine"; it supports "only simple variable substitution" and "can access $context variable values
and $stageVariables property values, as well as method request parameters, in the form of
method.request.param-position.param-name" (API Gateway developer guide: gateway responses, and
x-amazon-apigateway-gateway-responses.responseTemplates).

`substitute` replaces, in `$name.name` or `${name.name}` form:

- `$context.<variable>` when it names one of API Gateway's $context variables (`vtl.build_context`
  lists them; the request's values are merged in), e.g. `$context.error.messageString`;
- `$stageVariables.<name>` (empty when the stage has no such variable);
- `$method.request.(path|querystring|header).<name>` (empty when the request has no such parameter).

Everything else stays exactly as written: directives (`#set`, `#if`), `##` comments, `$util` and
`$input`, quiet references (`$!x`), method calls. A VTL template therefore comes out here as broken
as it does on AWS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from vtl.engine import build_context
from vtl.java import to_java_string

_NAME = r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*"
_PARAMETER = r"method\.request\.(?:path|querystring|header)\.[A-Za-z0-9_-]+"
_REFERENCE = re.compile(rf"\$(?:\{{(?P<formal>{_PARAMETER}|{_NAME})\}}|(?P<plain>{_PARAMETER}|{_NAME}))")
_PARAMETER_KINDS = {"path", "querystring", "header"}


def substitute(
    template: str,
    *,
    context: Mapping[str, Any] | None = None,
    stage_variables: Mapping[str, str] | None = None,
    params: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """The gateway response body API Gateway makes of `template` (see the module docstring).

    `context` is merged over API Gateway's $context like `vtl.render` does (so
    `$context.error.messageString` is the quoted message); `params` is {"path", "querystring", "header"}.
    """
    ctx = build_context(context)
    stage = dict(stage_variables or {})
    request = {kind: dict((params or {}).get(kind) or {}) for kind in _PARAMETER_KINDS}

    def value_of(match: re.Match[str]) -> str:
        name = match.group("formal") or match.group("plain")
        found = _resolve(name.split("."), ctx, stage, request)
        return match.group(0) if found is None else found

    return _REFERENCE.sub(value_of, template)


def _resolve(
    parts: list[str], context: Mapping[str, Any], stage: Mapping[str, str], request: Mapping[str, Mapping[str, str]]
) -> str | None:
    """The text of a supported variable, or None when the reference is not one (it stays literal)."""
    root, rest = parts[0], parts[1:]
    if root == "stageVariables" and len(rest) == 1:
        return stage.get(rest[0], "")
    if root == "method" and len(rest) == 3 and rest[0] == "request":
        kind, name = rest[1], rest[2]
        values = request[kind]
        if kind == "header":  # header names are case-insensitive
            return next((v for k, v in values.items() if k.lower() == name.lower()), "")
        return values.get(name, "")
    if root != "context" or not rest:
        return None
    value: Any = context
    for part in rest:
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    if isinstance(value, Mapping):
        return None  # a group ($context.identity), not a variable
    return "" if value is None else to_java_string(value)
