"""Render API Gateway mapping templates the way API Gateway does, on airspeed-ext.

airspeed parses Velocity but evaluates it with Python semantics. While `render` runs (a context
variable gates it, so other airspeed users in the process are untouched) the evaluation follows
Velocity 1.7 on the JVM instead (the patches of airspeed that do it live in `patches.py`, pinned to
the airspeed-ext and jsonpath-ng versions they were checked against by tests/test_patches.py):

- method calls and properties resolve through `vtl.java` (String/List/Map methods, getX/isX);
- non-string values render with Java's toString (maps as {k=v}, JSON arrays as JSON);
- #if/!/&&/|| use Velocity truthiness (only null and false are false), == compares like Velocity;
- #set with a null value leaves the variable unchanged, and sets made inside #foreach persist;
- #foreach over a map iterates its values, and skips anything that is not a collection;
- a reference right after `#` is interpolated (`photo#$id`, `#${x}`), which airspeed misses.

JSONPath (`$input.path`, `$input.json`) is jsonpath-ng's extended grammar. One rule is our own,
because jsonpath-ng always answers a list of matches: a *definite* path (only names and single
indexes, like `$.a.b[0]`) yields the value itself, or null when absent, and any other path (`*`,
`..`, slices, filters) yields the list of matches, as Jayway JsonPath (API Gateway's) does.

Where API Gateway's runtime types are undocumented (what `$input.path` hands over for a JSON
number or boolean, whether `$util` functions accept a non-String), `render(reading=...)` picks one
reading (`vtl.Reading`); templates are tested under every reading.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import time
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import airspeed
import airspeed.operators as ops
from jsonpath_ng import JSONPath
from jsonpath_ng import jsonpath as jp
from jsonpath_ng.ext import parse as parse_jsonpath

import patches
from vtl import java
from vtl.java import HostObject, Reading, VtlError

_ACTIVE: ContextVar[bool] = ContextVar("vtl_api_gateway_semantics", default=False)


class InvalidJsonBodyError(VtlError):
    """`$input.json`/`$input.path` on a body that is not JSON (API Gateway fails the request)."""


@dataclass(frozen=True)
class Rendered:
    """The output of a template and what it asked API Gateway to override."""

    text: str
    status_override: int | None = None
    header_overrides: dict[str, str] = field(default_factory=dict)
    request_overrides: dict[str, dict[str, str]] = field(default_factory=dict)


# -- $input and $util ------------------------------------------------------------------------------------------


class Input(HostObject):
    """`$input`: the payload (request body in request templates, backend body in response templates)."""

    java_methods = frozenset({"json", "path", "params", "getBody"})

    def __init__(self, body: str, params: Mapping[str, Mapping[str, str]], reading: Reading = Reading.JAVA) -> None:
        self._body = body
        self._params = {kind: dict(params.get(kind) or {}) for kind in ("path", "querystring", "header")}
        self._reading = reading
        self._document: Any = None
        self._parsed = False

    def __repr__(self) -> str:
        return "$input"

    def _doc(self) -> Any:
        if not self._parsed:
            # API Gateway treats an empty payload as an empty JSON object.
            text = self._body if self._body.strip() else "{}"
            try:
                self._document = json.loads(text)
            except ValueError as error:
                raise InvalidJsonBodyError(f"Could not parse request body into json: {error}") from None
            self._parsed = True
        return self._document

    def getBody(self) -> str:  # noqa: N802 - Java name
        return self._body if self._body else "{}"

    def java_property(self, name: str) -> Any:
        return self.getBody() if name == "body" else None

    def json(self, path: str = "$") -> str:
        return java.to_json(select(self._doc(), java.to_java_string(path)))

    def path(self, path: str = "$") -> Any:
        return java.from_json(select(self._doc(), java.to_java_string(path)), self._reading)

    def params(self, name: Any = None) -> Any:
        if name is None:
            return self._params
        key = java.to_java_string(name)
        for kind in ("path", "querystring", "header"):
            if key in self._params[kind]:
                return self._params[kind][key]
        lowered = key.lower()  # header names are case-insensitive
        for header, value in self._params["header"].items():
            if header.lower() == lowered:
                return value
        return ""


class Util(HostObject):
    """`$util` of API Gateway (plus toJson, which AppSync templates also use)."""

    java_methods = frozenset({"escapeJavaScript", "parseJson", "toJson", "base64Encode", "base64Decode",
                              "urlEncode", "urlDecode"})

    def __init__(self, reading: Reading = Reading.JAVA) -> None:
        self._reading = reading

    def __repr__(self) -> str:
        return "$util"

    def _string(self, name: str, value: Any) -> str:
        """The String argument of a `$util` function (a Java method taking a String)."""
        if isinstance(value, str):
            return value
        if self._reading is Reading.LENIENT:
            return java.to_java_string(value)
        # Velocity 1.7 converts no argument: `escapeJavaScript(String)` does not match a Number.
        raise VtlError(f"$util.{name}() takes a String, not {java.java_type(value)}: "
                       f'quote the argument ("$value") or read it as a string')

    def escapeJavaScript(self, value: Any) -> str | None:  # noqa: N802 - Java name
        if value is None:
            return None
        return java.escape_javascript(self._string("escapeJavaScript", value))

    def parseJson(self, text: Any) -> Any:  # noqa: N802
        try:
            return java.from_json(json.loads(self._string("parseJson", text)), self._reading)
        except ValueError as error:
            raise VtlError(f"parseJson: {error}") from None

    def toJson(self, value: Any) -> str:  # noqa: N802
        return java.to_json(value)

    def base64Encode(self, value: Any) -> str | None:  # noqa: N802
        if value is None:
            return None
        return base64.b64encode(self._string("base64Encode", value).encode("utf-8")).decode("ascii")

    def base64Decode(self, value: Any) -> str | None:  # noqa: N802
        if value is None:
            return None
        try:
            raw = base64.b64decode(self._string("base64Decode", value), validate=True)
        except (binascii.Error, ValueError) as error:
            raise VtlError(f"base64Decode: {error}") from None
        return raw.decode("utf-8", errors="replace")

    def urlEncode(self, value: Any) -> str | None:  # noqa: N802
        if value is None:
            return None
        # java.net.URLEncoder: keeps A-Z a-z 0-9 . - * _, space -> +, the rest %XX of UTF-8
        return quote_plus(self._string("urlEncode", value), safe="*").replace("~", "%7E")

    def urlDecode(self, value: Any) -> str | None:  # noqa: N802
        if value is None:
            return None
        return unquote_plus(self._string("urlDecode", value))


# -- JSONPath -------------------------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _jsonpath(path: str) -> tuple[JSONPath, bool]:
    """The parsed path and whether it is definite (names and single indexes only)."""
    try:
        parsed = parse_jsonpath(path)
    except Exception as error:  # jsonpath-ng raises bare Exceptions for lexer and parser errors
        raise VtlError(f"invalid JSONPath {path!r}: {error}") from None
    return parsed, _definite(parsed)


def _definite(node: JSONPath) -> bool:
    if isinstance(node, (jp.Root, jp.This)):
        return True
    if isinstance(node, jp.Child):
        return _definite(node.left) and _definite(node.right)
    if isinstance(node, jp.Fields):
        return len(node.fields) == 1 and node.fields[0] != "*"
    if isinstance(node, jp.Index):
        return len(node.indices) == 1
    return False


def select(document: Any, path: str) -> Any:
    """`path` in `document`: the value of a definite path (None when absent), else the list of matches."""
    parsed, definite = _jsonpath(path.strip())
    matches = [match.value for match in parsed.find(document)]
    if definite:
        return matches[0] if matches else None
    return matches


# -- $context -------------------------------------------------------------------------------------------------------

_IDENTITY_KEYS = ("cognitoIdentityId", "cognitoIdentityPoolId", "cognitoAuthenticationProvider",
                  "cognitoAuthenticationType", "userArn", "caller", "accountId", "sourceIp", "user", "userAgent",
                  "accessKey", "apiKey", "principalOrgId")


def time_variables(epoch: float) -> dict[str, Any]:
    """$context.requestTime (CLF-formatted) and $context.requestTimeEpoch (ms) of a request made at `epoch`."""
    return {
        "requestTime": datetime.fromtimestamp(epoch, tz=UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(epoch * 1000),
    }


def _default_context() -> dict[str, Any]:
    return {
        "accountId": "",
        "apiId": "",
        "domainName": "",
        "domainPrefix": "",
        "extendedRequestId": "",
        "httpMethod": "",
        "path": "",
        "protocol": "HTTP/1.1",
        "requestId": str(uuid.uuid4()),
        **time_variables(time.time()),
        "resourceId": "",
        "resourcePath": "",
        "stage": "",
        "identity": dict.fromkeys(_IDENTITY_KEYS, ""),
        "error": {"message": "", "responseType": "", "validationErrorString": ""},
        "authorizer": {},
        "requestOverride": {"header": {}, "path": {}, "querystring": {}},
        "responseOverride": {"status": None, "header": {}},
    }


def _merge(base: dict[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in given.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def build_context(given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """$context: API Gateway's variables with `given` merged in (missing ones are empty)."""
    context = _merge(_default_context(), given or {})
    error = context["error"]
    if "messageString" not in error:
        # "The quoted value of $context.error.message": a JSON string literal.
        error["messageString"] = json.dumps(java.to_java_string(error.get("message") or ""), ensure_ascii=False)
    return context


# -- airspeed, evaluated with Velocity/Java semantics while _ACTIVE (the patches: patches.py) ---------------------


def _numeric(fn: Any) -> Any:
    def apply(a: Any, b: Any) -> Any:
        return fn(a, b) if java.is_number(a) and java.is_number(b) else None

    return apply


def _relational(fn: Any) -> Any:
    def apply(a: Any, b: Any) -> bool:
        if java.is_number(a) and java.is_number(b):
            return fn(a, b)
        if isinstance(a, str) and isinstance(b, str):
            return fn(java._compare_to(a, b), 0)
        return False  # Velocity logs an error and evaluates to false

    return apply


_JAVA_OPERATORS: dict[str, Any] = {
    "==": java.java_equals, "eq": java.java_equals,
    "!=": lambda a, b: not java.java_equals(a, b), "ne": lambda a, b: not java.java_equals(a, b),
    "+": java.java_add, "-": _numeric(lambda a, b: a - b), "*": _numeric(lambda a, b: a * b),
    "/": java.java_divide, "%": java.java_modulo,
    "&&": lambda a, b: java.truthy(a) and java.truthy(b), "and": lambda a, b: java.truthy(a) and java.truthy(b),
    "||": lambda a, b: java.truthy(a) or java.truthy(b), "or": lambda a, b: java.truthy(a) or java.truthy(b),
    ">": _relational(lambda a, b: a > b), "gt": _relational(lambda a, b: a > b),
    ">=": _relational(lambda a, b: a >= b), "ge": _relational(lambda a, b: a >= b),
    "<": _relational(lambda a, b: a < b), "lt": _relational(lambda a, b: a < b),
    "<=": _relational(lambda a, b: a <= b), "le": _relational(lambda a, b: a <= b),
}


# Permanent, and gated by _ACTIVE: other airspeed users in the process keep airspeed's semantics.
AIRSPEED_PATCHES = patches.Patches()
patches.velocity_semantics_on_airspeed(
    AIRSPEED_PATCHES,
    patches.VelocitySemantics(invoke=java.invoke, get_property=java.get_property, get_index=java.get_index,
                              to_string=java.to_java_string, truthy=java.truthy, operators=_JAVA_OPERATORS),
    active=_ACTIVE.get,
)


@lru_cache(maxsize=256)
def _compile(template: str) -> airspeed.Template:
    compiled = airspeed.Template(template)
    token = _ACTIVE.set(True)
    try:
        compiled.ensure_compiled()
    except ops.TemplateSyntaxError as error:
        raise VtlError(f"template syntax error: {error}") from None
    finally:
        _ACTIVE.reset(token)
    return compiled


def _root_cause(error: BaseException) -> BaseException:
    while isinstance(error, ops.TemplateExecutionError) and error.__cause__ is not None:
        error = error.__cause__
    return error


def render(
    template: str,
    *,
    body: str = "",
    params: Mapping[str, Mapping[str, str]] | None = None,
    context: Mapping[str, Any] | None = None,
    stage_variables: Mapping[str, str] | None = None,
    reading: Reading = Reading.JAVA,
) -> Rendered:
    """Render a mapping template as API Gateway would.

    `params` is {"path": {}, "querystring": {}, "header": {}}; `context` is merged over API
    Gateway's $context (requestId, requestTimeEpoch, identity.*, error.* ...); `reading` is how
    JSON scalars and `$util` arguments behave where API Gateway does not document it. Raises
    VtlError (InvalidJsonBodyError for a non-JSON payload) where API Gateway would fail the request.
    """
    compiled = _compile(template)
    ctx = build_context(context)
    namespace = {
        "input": Input(body or "", params or {}, reading),
        "util": Util(reading),
        "context": ctx,
        "stageVariables": dict(stage_variables or {}),
    }
    token = _ACTIVE.set(True)
    try:
        text = compiled.merge(namespace)
    except ops.TemplateError as error:
        cause = _root_cause(error)
        if isinstance(cause, VtlError):
            raise cause from None
        raise VtlError(f"template failed: {cause!r}") from None
    finally:
        _ACTIVE.reset(token)
    return Rendered(
        text=text,
        status_override=_status(ctx["responseOverride"].get("status")),
        header_overrides=_strings(ctx["responseOverride"].get("header")),
        request_overrides={kind: _strings(values) for kind, values in (ctx.get("requestOverride") or {}).items()},
    )


def _status(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        status = int(java.to_java_string(value))
    except ValueError:
        raise VtlError(f"invalid $context.responseOverride.status {value!r}") from None
    if not 100 <= status <= 599:
        raise VtlError(f"invalid $context.responseOverride.status {status}")
    return status


def _strings(values: Any) -> dict[str, str]:
    if not isinstance(values, dict):
        return {}
    return {str(k): java.to_java_string(v) for k, v in values.items() if v is not None}
