"""execute-api for the local cloud: run the deployed REST APIs the way API Gateway does.

moto stores the APIs (resources, methods, integrations, templates) but never invokes them.
`ExecuteApi` is a WSGI app serving `/execute-api/<restApiId>/<stage>/<path>` that reads each
API's definition live from moto's apigateway backend and runs it:

1. route: the most specific resource matching the path (literal segments beat `{param}`),
   then the method (or ANY); no match -> 403 "Missing Authentication Token", as AWS;
2. AWS_IAM: SigV4 verified with the secret the credentials broker knows for the access key
   (service execute-api, the API's region, 15 min skew, session token, expiry), then the
   principal's role policies must allow `execute-api:Invoke` on the method ARN;
3. request validators: required parameters, the body against the model's JSON schema (draft 4);
4. the integration: MOCK, or AWS calling DynamoDB's JSON API in-process on moto's DynamoDB
   of the region named in the integration URI, after checking the integration role's
   policies allow each DynamoDB action (as IAM would);
5. the integration response whose selection pattern matches the backend status (else the
   default one), its template, response parameters and `$context.responseOverride`.

Errors raised by the gateway itself go through the API's gateway responses (the specific
type, else DEFAULT_4XX/DEFAULT_5XX, else API Gateway's `{"message": ...}`).
Templates run on the project's VTL engine (`vtl.render`).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import jsonschema
from moto.backends import get_backend
from moto.core.request import Request as MotoRequest
from moto.dynamodb.responses import DynamoHandler

import vtl
from sandbox import iam_policy, sigv4
from sandbox.credentials import ACCOUNT, CredentialsBroker, Principal

log = logging.getLogger(__name__)

PREFIX = "/execute-api/"
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's request payload limit
JSON = "application/json"

# Default status of each gateway response type (API Gateway's documented defaults).
GATEWAY_RESPONSE_STATUS = {
    "ACCESS_DENIED": 403,
    "API_CONFIGURATION_ERROR": 500,
    "BAD_REQUEST_BODY": 400,
    "BAD_REQUEST_PARAMETERS": 400,
    "EXPIRED_TOKEN": 403,
    "INTEGRATION_FAILURE": 504,
    "INVALID_SIGNATURE": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "REQUEST_TOO_LARGE": 413,
    "RESOURCE_NOT_FOUND": 404,
    "UNAUTHORIZED": 401,
    "UNSUPPORTED_MEDIA_TYPE": 415,
}
_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 409: "Conflict", 413: "Payload Too Large", 415: "Unsupported Media Type",
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout"}
_DYNAMODB_URI = re.compile(r"^arn:aws:apigateway:(?P<region>[a-z0-9-]+):dynamodb:action/(?P<action>[A-Za-z]+)$")
# Which IAM action each item of a transaction needs.
_TRANSACT_ACTIONS = {"ConditionCheck": "ConditionCheckItem", "Put": "PutItem", "Update": "UpdateItem",
                     "Delete": "DeleteItem", "Get": "GetItem"}

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class GatewayError(Exception):
    """An answer produced by the gateway itself, rendered through the API's gateway responses."""

    def __init__(self, response_type: str, message: str, validation_error: str = ""):
        super().__init__(message)
        self.response_type, self.message, self.validation_error = response_type, message, validation_error


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ApiMetrics:
    """Simple counters per API for benchmarks: requests, statuses, latency."""

    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latency_ms_total: float = 0.0
    latency_ms_max: float = 0.0

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "statuses": dict(self.statuses),
            "latencyMsMean": self.latency_ms_total / self.requests if self.requests else 0.0,
            "latencyMsMax": self.latency_ms_max,
        }


@dataclass
class _Call:
    """One request as the pipeline sees it."""

    method: str
    api_id: str
    stage_name: str
    raw_path: str  # the full path as sent (signature input)
    segments: list[str]  # decoded path segments under the stage ("%2F" stays inside its segment)
    query_string: str
    headers: dict[str, str]  # name -> value, names as received (title-cased by WSGI)
    body: bytes
    source_ip: str
    region_hint: str | None
    path_params: dict[str, str] = field(default_factory=dict)  # known once routed
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.time)

    @property
    def path(self) -> str:
        """The resource path under the stage, e.g. "/comments/abc" (decoded)."""
        return "/" + "/".join(self.segments)

    def header(self, name: str) -> str:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), "")

    @property
    def querystring(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string, keep_blank_values=True))  # the last value wins, as API Gateway

    @property
    def content_type(self) -> str:
        return (self.header("content-type").split(";", 1)[0].strip().lower()) or JSON


class ExecuteApi:
    """WSGI app serving every REST API deployed in moto; see the module docstring."""

    def __init__(
        self,
        broker: CredentialsBroker,
        *,
        account: str = ACCOUNT,
        clock: Callable[[], float] = time.time,
        check_integration_role: bool = True,
    ):
        self.broker = broker
        self.account = account
        self.clock = clock
        self.check_integration_role = check_integration_role
        self._metrics: dict[str, ApiMetrics] = {}
        self._metrics_lock = threading.Lock()

    # -- WSGI ---------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        call = self._parse(environ)
        if call is None:
            response = _plain(404, {"message": "Not Found"})
        else:
            response = self.handle(call)
            self._count(call, response)
        headers = {**response.headers, "Content-Length": str(len(response.body))}
        start_response(f"{response.status} {_REASONS.get(response.status, 'Status')}", list(headers.items()))
        return [response.body]

    def metrics(self) -> dict[str, dict[str, Any]]:
        """{api id: {"requests", "statuses", "latencyMsMean", "latencyMsMax"}}."""
        with self._metrics_lock:
            return {api_id: m.snapshot() for api_id, m in self._metrics.items()}

    # -- the pipeline ---------------------------------------------------------------------------
    def handle(self, call: _Call) -> Response:
        api, region = self._find_api(call.api_id, call.region_hint)
        if api is None or call.stage_name not in api.stages:
            # API Gateway has no API (or stage) to take gateway responses from here.
            return _plain(403, {"message": "Forbidden"}, call.request_id)
        context = self._base_context(call, api)
        try:
            if len(call.body) > MAX_PAYLOAD_BYTES:
                raise GatewayError("REQUEST_TOO_LARGE", "Request Too Long")
            resource, method, path_params = _route(api, call.method, call.segments)
            context.update(resourcePath=resource.get_path(), resourceId=resource.id)
            call.path_params = path_params
            params = {"path": path_params, "querystring": call.querystring, "header": dict(call.headers)}
            if (method.authorization_type or "NONE").upper() == "AWS_IAM":
                principal = self._authenticate(call, region)
                context["identity"] = _identity(principal, call)
                self._authorize(principal, call, region, api.id)
            else:
                principal = None
            self._validate(api, method, call, params)
            return self._integrate(api, method, call, params, context, region, principal)
        except GatewayError as error:
            return self._gateway_response(api, error, call, context)
        except Exception:  # a sandbox bug must still answer like API Gateway, and be visible in logs
            log.exception("execute-api %s %s failed", call.method, call.raw_path)
            error = GatewayError("API_CONFIGURATION_ERROR", "Internal server error")
            return self._gateway_response(api, error, call, context)

    def _find_api(self, api_id: str, region: str | None) -> tuple[Any, str]:
        backends = get_backend("apigateway")[self.account]
        regions = [region] if region else list(backends.keys())
        for name in regions:
            api = backends[name].apis.get(api_id)
            if api is not None:
                return api, name
        return None, ""

    def _base_context(self, call: _Call, api: Any) -> dict[str, Any]:
        started = datetime.fromtimestamp(call.started, tz=UTC)
        return {
            "requestId": call.request_id,
            "extendedRequestId": call.request_id.replace("-", "")[:16],
            "requestTimeEpoch": int(call.started * 1000),
            "requestTime": started.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "httpMethod": call.method,
            "resourcePath": "",
            "resourceId": "",
            "path": f"/{call.stage_name}{call.path}",
            "stage": call.stage_name,
            "apiId": api.id,
            "accountId": self.account,
            "domainName": call.header("host"),
            "domainPrefix": call.header("host").split(".", 1)[0],
            "protocol": "HTTP/1.1",
            "identity": _identity(None, call),
        }

    # -- AWS_IAM ----------------------------------------------------------------------------------
    def _authenticate(self, call: _Call, region: str) -> Principal:
        authorization = call.header("authorization")
        if not authorization:
            raise GatewayError("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
        try:
            credential, _, _ = sigv4.parse_authorization(authorization)
        except sigv4.SigV4Error as error:
            raise GatewayError(error.response_type, error.message) from None
        principal = self.broker.lookup(credential.access_key)
        if principal is not None and principal.session_token:
            if call.header("x-amz-security-token") != principal.session_token:
                principal = None  # temporary keys are only valid with their own session token
        request = sigv4.SignedRequest(call.method, call.raw_path, call.query_string, call.headers, call.body)
        try:
            sigv4.verify(
                request,
                secret_for=lambda _key: principal.secret_key if principal else None,
                region=region,
                now=self.clock(),
            )
        except sigv4.SigV4Error as error:
            raise GatewayError(error.response_type, error.message) from None
        assert principal is not None  # verify() refuses unknown keys
        if principal.expiration is not None and principal.expiration < self.clock():
            raise GatewayError("EXPIRED_TOKEN", "The security token included in the request is expired")
        return principal

    def _authorize(self, principal: Principal, call: _Call, region: str, api_id: str) -> None:
        resource = f"{api_id}/{call.stage_name}/{call.method}/{call.path.lstrip('/')}"
        arn = f"arn:aws:execute-api:{region}:{self.account}:{resource}"
        if not self.broker.is_allowed(principal, "execute-api:Invoke", arn, {"aws:SourceIp": call.source_ip}):
            raise GatewayError(
                "ACCESS_DENIED",
                f"User: {principal.user_arn} is not authorized to perform: execute-api:Invoke on resource: {arn}",
            )

    # -- request validation -----------------------------------------------------------------------
    def _validate(self, api: Any, method: Any, call: _Call, params: Mapping[str, Mapping[str, str]]) -> None:
        validator = api.request_validators.get(method.request_validator_id) if method.request_validator_id else None
        if validator is None:
            return
        if validator.validate_request_parameters:
            missing = []
            for key, required in (method.request_parameters or {}).items():
                _, _, where, name = (key.split(".", 3) + ["", "", "", ""])[:4]
                if not _truthy(required):
                    continue
                source = {"path": params["path"], "querystring": params["querystring"]}.get(where)
                present = call.header(name) != "" if where == "header" else bool(source and source.get(name))
                if not present:
                    missing.append(name)
            if missing:
                message = f"Missing required request parameters: [{', '.join(missing)}]"
                raise GatewayError("BAD_REQUEST_PARAMETERS", message)
        if validator.validate_request_body:
            models = method.request_models or {}
            model_name = models.get(call.content_type) or models.get("$default")
            if not model_name or model_name == "Empty":
                return
            model = api.models.get(model_name)
            if model is None:
                raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error")
            try:
                document = json.loads(call.body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as error:
                raise GatewayError("BAD_REQUEST_BODY", "Invalid request body", f"[Invalid JSON: {error}]") from None
            problems = [_schema_message(e) for e in _validator(model.schema or "{}").iter_errors(document)]
            if problems:
                raise GatewayError("BAD_REQUEST_BODY", "Invalid request body", "[" + ", ".join(problems) + "]")

    # -- integration --------------------------------------------------------------------------------
    def _integrate(
        self,
        api: Any,
        method: Any,
        call: _Call,
        params: Mapping[str, Mapping[str, str]],
        context: dict[str, Any],
        region: str,
        principal: Principal | None,
    ) -> Response:
        integration = method.method_integration
        if integration is None:
            raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error")
        kind = (integration.integration_type or "").upper()
        stage_variables = dict(api.stages[call.stage_name].variables or {})
        request_body = self._request_body(integration, call, params, context, stage_variables)
        if kind == "MOCK":
            try:
                status = str(int(json.loads(request_body or '{"statusCode": 200}').get("statusCode", 200)))
            except (ValueError, AttributeError):
                raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error") from None
            backend_status, backend_body, backend_headers = status, "", {}
        elif kind == "AWS":
            backend_status, backend_body, backend_headers = self._call_dynamodb(integration, request_body, principal)
        else:
            log.error("execute-api: integration type %s is not emulated (%s %s)", kind, call.method, call.path)
            raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error")

        chosen = _select_response(integration, backend_status)
        if chosen is None or str(chosen.status_code) not in (method.method_responses or {}):
            log.error("execute-api: no integration/method response for backend status %s on %s %s",
                      backend_status, call.method, context["resourcePath"])
            raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error")
        templates = chosen.response_templates or {}
        template = templates.get(JSON, next(iter(templates.values()), None)) if templates else None
        status, headers = int(chosen.status_code), {"Content-Type": JSON}
        if template:
            rendered = vtl.render(template, body=backend_body, params=params, context=context,
                                  stage_variables=stage_variables)
            body = rendered.text
            status = rendered.status_override or status
            overrides = dict(rendered.header_overrides or {})
        else:
            body, overrides = backend_body, {}
        headers.update(_response_parameters(chosen.response_parameters, backend_headers, backend_body, params))
        headers.update({str(k): str(v) for k, v in overrides.items()})
        headers.update(_request_id_headers(call))
        return Response(int(status), body.encode("utf-8"), headers)

    def _request_body(
        self,
        integration: Any,
        call: _Call,
        params: Mapping[str, Mapping[str, str]],
        context: Mapping[str, Any],
        stage_variables: Mapping[str, str],
    ) -> str:
        templates = integration.request_templates or {}
        template = templates.get(call.content_type)
        passthrough = (integration.passthrough_behaviour or "WHEN_NO_MATCH").upper()
        if template is None:
            if passthrough == "NEVER" or (passthrough == "WHEN_NO_TEMPLATES" and templates):
                raise GatewayError("UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type")
            return call.body.decode("utf-8", errors="replace")
        body = call.body.decode("utf-8", errors="replace")
        return vtl.render(template, body=body, params=params, context=context, stage_variables=stage_variables).text

    def _call_dynamodb(
        self, integration: Any, body: str, principal: Principal | None
    ) -> tuple[str, str, dict[str, str]]:
        match = _DYNAMODB_URI.match(integration.uri or "")
        if not match:
            log.error("execute-api: AWS integration %r is not emulated (DynamoDB actions only)", integration.uri)
            raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error")
        region, action = match.group("region"), match.group("action")
        try:
            request = json.loads(body)
        except ValueError as error:
            # What DynamoDB answers to a body that is not JSON (a template bug, or an injection attempt).
            return "400", json.dumps({"__type": "com.amazon.coral.service#SerializationException",
                                      "Message": f"Start of structure or map found where not expected. ({error})"}), {}
        if self.check_integration_role and integration.credentials:
            denied = self._integration_denied(integration.credentials, principal, region, action, request)
            if denied:
                error = {"__type": "com.amazon.coral.service#AccessDeniedException", "Message": denied}
                return "400", json.dumps(error), {}
        status, headers, response_body = _dispatch_dynamodb(region, action, body)
        text = response_body.decode("utf-8") if isinstance(response_body, bytes) else str(response_body or "")
        return str(status), text, {str(k): str(v) for k, v in (headers or {}).items()}

    def _integration_denied(
        self, credentials: str, principal: Principal | None, region: str, action: str, request: Any
    ) -> str | None:
        """AccessDenied message when the integration role may not make this DynamoDB call, else None."""
        if ":user/*" in credentials:  # "invoke with caller credentials"
            if principal is None:
                return "The security token included in the request is invalid."
            role, user_arn = principal.role_arn, principal.user_arn
        else:
            role = credentials
            role_name = credentials.rsplit("/", 1)[-1]
            user_arn = f"arn:aws:sts::{self.account}:assumed-role/{role_name}/BackplaneAssumeRoleSession"
        policies = self.broker.policies(role)
        for iam_action, resource in _dynamodb_permissions(action, request, region, self.account):
            if not iam_policy.is_allowed(policies, iam_action, resource):
                return (f"User: {user_arn} is not authorized to perform: {iam_action} on resource: {resource} "
                        f"because no identity-based policy allows the {iam_action} action")
        return None

    # -- gateway responses --------------------------------------------------------------------------------
    def _gateway_response(self, api: Any, error: GatewayError, call: _Call, context: dict[str, Any]) -> Response:
        defined = api.gateway_responses or {}
        specific = defined.get(error.response_type)
        status = int(specific.status_code) if specific is not None and specific.status_code else \
            GATEWAY_RESPONSE_STATUS.get(error.response_type, 500)
        chosen = specific or defined.get("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX")
        context = {
            **context,
            "error": {
                "message": error.message,
                "messageString": json.dumps(error.message),
                "responseType": error.response_type,
                "validationErrorString": error.validation_error,
            },
        }
        templates = (chosen.response_templates or {}) if chosen is not None else {}
        template = templates.get(JSON, next(iter(templates.values()), None)) if templates else None
        headers = {"Content-Type": JSON, "x-amzn-ErrorType": _error_type(error.response_type)}
        params = {"path": call.path_params, "querystring": call.querystring,
                  "header": dict(call.headers)}
        if template:
            rendered = vtl.render(template, body=call.body.decode("utf-8", errors="replace"), params=params,
                                  context=context)
            body = rendered.text
            status = rendered.status_override or status
            headers.update({str(k): str(v) for k, v in (rendered.header_overrides or {}).items()})
        else:
            body = json.dumps({"message": error.message})
        if chosen is not None:
            headers.update(_response_parameters(chosen.response_parameters, {}, "", params))
        headers.update(_request_id_headers(call))
        return Response(int(status), body.encode("utf-8"), headers)

    # -- plumbing ------------------------------------------------------------------------------------------
    def _parse(self, environ: Mapping[str, Any]) -> _Call | None:
        # The signature covers the path exactly as sent: prefer the raw request target over PATH_INFO.
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
        if raw_uri.startswith(("http://", "https://")):  # absolute-form request target
            target = urlsplit(raw_uri)
            raw_uri = target.path + (f"?{target.query}" if target.query else "")
        raw_path, _, raw_query = raw_uri.partition("?")
        if not raw_path.startswith("/"):
            raw_path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
            raw_query = environ.get("QUERY_STRING", "")
        if not raw_path.startswith(PREFIX):
            return None
        api_id, _, rest = raw_path[len(PREFIX):].partition("/")
        stage, _, sub_path = rest.partition("/")
        if not api_id or not stage:
            return None
        headers = {}
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                headers[key[5:].replace("_", "-").title()] = value
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").title()] = environ[key]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(min(length, MAX_PAYLOAD_BYTES + 1)) if length > 0 else b""
        return _Call(
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            api_id=api_id,
            stage_name=stage,
            raw_path=raw_path,
            segments=[unquote(s) for s in sub_path.split("/") if s],
            query_string=raw_query or environ.get("QUERY_STRING", ""),
            headers=headers,
            body=body,
            source_ip=environ.get("REMOTE_ADDR", "127.0.0.1"),
            region_hint=environ.get("sandbox.region"),
        )

    def _count(self, call: _Call, response: Response) -> None:
        elapsed_ms = (time.time() - call.started) * 1000
        with self._metrics_lock:
            metrics = self._metrics.setdefault(call.api_id, ApiMetrics())
            metrics.requests += 1
            metrics.statuses[response.status] = metrics.statuses.get(response.status, 0) + 1
            metrics.latency_ms_total += elapsed_ms
            metrics.latency_ms_max = max(metrics.latency_ms_max, elapsed_ms)


# -- routing ---------------------------------------------------------------------------------------------
def _route(api: Any, http_method: str, segments: list[str]) -> tuple[Any, Any, dict[str, str]]:
    """The most specific resource matching the path segments and its method, with the path parameters."""
    candidates = []
    for resource in list(api.resources.values()):
        matched = _match(resource.get_path(), segments)
        if matched is not None:
            rank, params = matched
            candidates.append((rank, resource, params))
    for _, resource, params in sorted(candidates, key=lambda c: c[0]):
        methods = resource.resource_methods or {}
        method = methods.get(http_method) or methods.get("ANY")
        if method is not None:
            return resource, method, params
        break  # the best-matching resource decides, as in API Gateway
    raise GatewayError("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")


def _match(resource_path: str, segments: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """(specificity rank, params) when the template matches; literal=0 < {param}=1 < {proxy+}=2 per segment."""
    template = [s for s in resource_path.split("/") if s]
    params: dict[str, str] = {}
    rank: list[int] = []
    for i, part in enumerate(template):
        if part.startswith("{") and part.endswith("+}"):
            if i != len(template) - 1 or len(segments) <= i:
                return None
            params[part[1:-2]] = "/".join(segments[i:])
            return (*rank, 2), params
        if i >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = segments[i]
            rank.append(1)
        elif part == segments[i]:
            rank.append(0)
        else:
            return None
    if len(template) != len(segments):
        return None
    return tuple(rank), params


def _select_response(integration: Any, backend_status: str) -> Any:
    """The integration response whose selection pattern fully matches the status, else the default."""
    default = None
    for response in (integration.integration_responses or {}).values():
        pattern = response.selection_pattern
        if pattern:
            if re.fullmatch(pattern, backend_status, re.DOTALL):
                return response
        elif default is None:
            default = response
    return default


# -- helpers ------------------------------------------------------------------------------------------------
def _identity(principal: Principal | None, call: _Call) -> dict[str, str]:
    identity = {
        "cognitoIdentityId": "",
        "cognitoIdentityPoolId": "",
        "cognitoAuthenticationProvider": "",
        "cognitoAuthenticationType": "",
        "userArn": "",
        "caller": "",
        "user": "",
        "accountId": "",
        "accessKey": "",
        "apiKey": "",
        "principalOrgId": "",
        "sourceIp": call.source_ip,
        "userAgent": call.header("user-agent"),
    }
    if principal is not None:
        identity.update(
            cognitoIdentityId=principal.identity_id,
            cognitoIdentityPoolId=principal.identity_pool_id,
            cognitoAuthenticationProvider=principal.auth_provider,
            cognitoAuthenticationType=principal.auth_type,
            userArn=principal.user_arn,
            caller=principal.caller,
            user=principal.caller,
            accountId=principal.account_id,
            accessKey=principal.access_key,
        )
    return identity


def _response_parameters(
    mapping: Mapping[str, str] | None,
    backend_headers: Mapping[str, str],
    backend_body: str,
    params: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, str]:
    """Response headers from (method.response|gatewayresponse).header.X mappings.

    Sources: 'static' values, integration.response.header.Y / integration.response.body, and
    method.request.(header|path|querystring).Y (how gateway responses echo the Origin).
    """
    headers: dict[str, str] = {}
    for target, source in (mapping or {}).items():
        prefix = next((p for p in ("method.response.header.", "gatewayresponse.header.") if target.startswith(p)), "")
        if not prefix:
            continue
        name, source = target[len(prefix):], str(source)
        value: str | None = None
        if len(source) >= 2 and source[0] == "'" and source[-1] == "'":
            value = source[1:-1]
        elif source.startswith("integration.response.header."):
            value = _lookup(backend_headers, source[len("integration.response.header."):])
        elif source == "integration.response.body":
            value = backend_body
        elif source.startswith("method.request.") and params is not None:
            where, _, wanted = source[len("method.request."):].partition(".")
            value = _lookup(params.get(where, {}), wanted)
        if value is not None:
            headers[name] = value
    return headers


def _lookup(mapping: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    return next((v for k, v in mapping.items() if k.lower() == lowered), None)


def _request_id_headers(call: _Call) -> dict[str, str]:
    return {"x-amzn-RequestId": call.request_id, "x-amz-apigw-id": call.request_id.replace("-", "")[:16]}


def _error_type(response_type: str) -> str:
    return {
        "ACCESS_DENIED": "AccessDeniedException",
        "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
        "INVALID_SIGNATURE": "InvalidSignatureException",
        "EXPIRED_TOKEN": "ExpiredTokenException",
        "BAD_REQUEST_BODY": "BadRequestException",
        "BAD_REQUEST_PARAMETERS": "BadRequestException",
        "UNSUPPORTED_MEDIA_TYPE": "UnsupportedMediaTypeException",
    }.get(response_type, "InternalServerErrorException" if GATEWAY_RESPONSE_STATUS.get(response_type, 500) >= 500
          else "BadRequestException")


def _plain(status: int, payload: Mapping[str, Any], request_id: str = "") -> Response:
    headers = {"Content-Type": JSON}
    if request_id:
        headers["x-amzn-RequestId"] = request_id
    return Response(status, json.dumps(payload).encode(), headers)


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


@lru_cache(maxsize=256)
def _validator(schema: str) -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(json.loads(schema))


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


def _schema_message(error: jsonschema.ValidationError) -> str:
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


def _dynamodb_permissions(action: str, request: Any, region: str, account: str) -> list[tuple[str, str]]:
    """(IAM action, resource ARN) pairs a DynamoDB call needs, as IAM evaluates them."""
    if not isinstance(request, dict):
        return []

    def table_arn(name: Any, index: Any = None) -> str:
        arn = f"arn:aws:dynamodb:{region}:{account}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    if action in ("TransactWriteItems", "TransactGetItems"):
        needs = []
        for item in request.get("TransactItems") or []:
            for kind, spec in (item or {}).items():
                if kind in _TRANSACT_ACTIONS and isinstance(spec, dict):
                    needs.append((f"dynamodb:{_TRANSACT_ACTIONS[kind]}", table_arn(spec.get("TableName"))))
        return needs
    if action in ("BatchWriteItem", "BatchGetItem"):
        return [(f"dynamodb:{action}", table_arn(name)) for name in (request.get("RequestItems") or {})]
    return [(f"dynamodb:{action}", table_arn(request.get("TableName"), request.get("IndexName")))]


def _dispatch_dynamodb(region: str, action: str, body: str) -> tuple[int, dict[str, Any], Any]:
    """Call moto's DynamoDB handler in-process, as a signed client of that region would."""
    now = datetime.now(UTC)
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": f"DynamoDB_20120810.{action}",
        "X-Amz-Date": now.strftime("%Y%m%dT%H%M%SZ"),
        # moto routes by the credential scope; the signature itself is not checked.
        "Authorization": f"AWS4-HMAC-SHA256 Credential=apigateway/{now:%Y%m%d}/{region}/dynamodb/aws4_request, "
                         "SignedHeaders=host;x-amz-date;x-amz-target, Signature=0",
    }
    request = MotoRequest.from_primitives("POST", f"https://dynamodb.{region}.amazonaws.com/", headers, body.encode())
    status, response_headers, response_body = DynamoHandler.dispatch(request)
    return int(status), dict(response_headers or {}), response_body
