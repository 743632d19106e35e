r"""Stage 5, validate: the method's request validator, as API Gateway's basic request validation.

- parameters: "the required request parameters in the URI, query string, and headers of an
  incoming request are included and not blank" -> 400 BAD_REQUEST_PARAMETERS
  "Missing required request parameters: [a, b]";
- body: the model of the request's content type (else the `$default` model; no model, no check)
  validates the body as JSON Schema draft 4 -> 400 BAD_REQUEST_BODY "Invalid request body", with
  the violations in $context.error.validationErrorString, worded like API Gateway's validator.
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-request-validation.html

`pattern` is an ECMA-262 regular expression, as JSON Schema specifies and as API Gateway's validator
reports it ("ECMA 262 regex ... does not match input string ..."): `$` matches at the end of the input
only (Python's `re` also matches before a final newline), `\d`, `\w`, `\b` are ASCII, `.` excludes
every line terminator, `\Z` is a literal "Z". The sandbox evaluates it with an ECMA-262 engine
(`regress`), searched anywhere in the string as JavaScript's `RegExp.test` does.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jsonschema
import regress

from sandbox.apigateway.invocation import GatewayError, Invocation, configuration_error


def validate(invocation: Invocation) -> None:
    api, method = invocation.api, invocation.api_method
    validator = api.request_validators.get(method.request_validator_id) if method.request_validator_id else None
    if validator is None:
        return
    if validator.validate_request_parameters:
        missing = missing_parameters(invocation, method.request_parameters or {})
        if missing:
            raise GatewayError("BAD_REQUEST_PARAMETERS", f"Missing required request parameters: [{', '.join(missing)}]")
    if validator.validate_request_body:
        _validate_body(invocation)


def missing_parameters(invocation: Invocation, declared: dict[str, Any]) -> list[str]:
    """Names of the required `method.request.(path|querystring|header).<name>` that are absent or blank."""
    params = invocation.params
    missing = []
    for key, required in declared.items():
        _, _, where, name = (key.split(".", 3) + ["", "", "", ""])[:4]
        if not _truthy(required):
            continue
        value = invocation.header(name) if where == "header" else params.get(where, {}).get(name, "")
        if not value.strip():
            missing.append(name)
    return missing


def _validate_body(invocation: Invocation) -> None:
    models = invocation.api_method.request_models or {}
    model_name = models.get(invocation.content_type) or models.get("$default")
    if not model_name or model_name == "Empty":
        return
    model = invocation.api.models.get(model_name)
    if model is None:
        raise configuration_error()
    try:
        document = json.loads(invocation.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise GatewayError("BAD_REQUEST_BODY", "Invalid request body", f"[Invalid JSON: {error}]") from None
    problems = [schema_message(e) for e in _validator(model.schema or "{}").iter_errors(document)]
    if problems:
        raise GatewayError("BAD_REQUEST_BODY", "Invalid request body", "[" + ", ".join(problems) + "]")


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


@lru_cache(maxsize=256)
def _ecma_regex(pattern: str) -> regress.Regex:
    try:
        return regress.Regex(pattern)
    except regress.RegressError:  # API Gateway refuses such a model when it is created
        raise configuration_error() from None


def _ecma_pattern(validator: Any, pattern: str, instance: Any, _schema: Any) -> Any:
    """The `pattern` keyword with ECMA-262 semantics (see the module docstring)."""
    if validator.is_type(instance, "string") and _ecma_regex(pattern).find(instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


_Draft4Ecma = jsonschema.validators.extend(jsonschema.Draft4Validator, {"pattern": _ecma_pattern})


@lru_cache(maxsize=256)
def _validator(schema: str) -> Any:
    return _Draft4Ecma(json.loads(schema))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def schema_message(error: jsonschema.ValidationError) -> str:
    """A schema violation worded like API Gateway's validator (json-schema-validator)."""
    v, instance, expected = error.validator, error.instance, error.validator_value
    where = "/" + "/".join(str(p) for p in error.absolute_path)
    if v == "required":
        missing = [name for name in expected if isinstance(instance, dict) and name not in instance]
        return f"object has missing required properties ({_compact(missing)})"
    if v == "enum":
        return f"instance value ({_compact(instance)}) not found in enum (possible values: {_compact(expected)})"
    if v == "type":
        allowed = [expected] if isinstance(expected, str) else list(expected)
        return (f"instance type ({_json_type(instance)}) does not match any allowed primitive type "
                f"(allowed: {_compact(allowed)}) at {where}")
    if v == "minLength":
        return f"string {_compact(instance)} is too short (length: {len(instance)}, required minimum: {expected})"
    if v == "maxLength":
        return f"string {_compact(instance)} is too long (length: {len(instance)}, maximum allowed: {expected})"
    if v == "pattern":
        return f"ECMA 262 regex {_compact(expected)} does not match input string {_compact(instance)} at {where}"
    if v == "minimum":
        return f"numeric instance is lower than the required minimum (minimum: {expected}, found: {instance})"
    if v == "maximum":
        return f"numeric instance is greater than the required maximum (maximum: {expected}, found: {instance})"
    if v == "additionalProperties":
        extra = sorted(set(instance) - set((error.schema or {}).get("properties", {})))
        return f"object instance has properties which are not allowed by the schema: {_compact(extra)}"
    return f"{error.message} at {where}"
