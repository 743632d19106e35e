"""A REST API whose routes call DynamoDB directly (no Lambda), declared as data (`Route`s).

One `DynamoRestApi` per API and region builds, all in `args.region`:

    RestApi (REGIONAL) + resource tree of the route paths
    per route:   Method (AWS_IAM) [+ Model], RequestValidator when it takes input -> Integration (AWS, DynamoDB action,
                 filled request template, passthrough NEVER) -> IntegrationResponses 200 / 4xx->400 /
                 5xx->500 (the shared error template overrides the final status) + MethodResponses
    per resource: OPTIONS (no auth, MOCK) answering the CORS preflight
    gateway responses DEFAULT_4XX / DEFAULT_5XX: {"code", "message"} JSON (substitution only) with CORS headers
    execution role: exactly the routes' grants, on the region's own table ARNs
    Deployment (redeploys whenever a route, a filled template or the CORS settings change)
    -> Stage "prod" with JSON access logs, INFO execution logs, metrics and throttling
       [+ X-Ray tracing, log groups encrypted with a customer managed key: the hardened profile]

The reference implementations had open or unmapped methods, DynamoDB errors answered as HTTP 200,
no CORS on gateway errors and deployments that did not follow route changes; each is covered here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.contract import STAGE
from components.regions import Region
from components.route import Route
from components.routes import (
    CORS_PREFLIGHT_TEMPLATE,
    DYNAMODB_ERROR_TEMPLATE,
    GATEWAY_ERROR_TEMPLATE,
    SHARED_TEMPLATES,
    fill_template,
    load_template,
    placeholders,
)
from components.service_principals import service_trust_policy, source_condition
from components.settings import LOG_RETENTION_DAYS

APIGATEWAY_SERVICE = "apigateway.amazonaws.com"
CLOUDWATCH_PUSH_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
MAX_ROLE_NAME = 64  # IAM's limit

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")  # OPTIONS belongs to the component
# Every status a route can answer: 200, the error template's overrides, and the two integration mappings.
METHOD_STATUSES = ("200", "400", "404", "409", "429", "500", "503")
# (integration response status, selection pattern matched against DynamoDB's HTTP status)
ERROR_MAPPINGS = (("400", r"4\d{2}"), ("500", r"5\d{2}"))

# What a SigV4-signing browser sends; browsers never sign the preflight itself.
CORS_ALLOW_HEADERS = (
    "Content-Type",
    "Authorization",
    "X-Amz-Date",
    "X-Amz-Security-Token",
    "X-Amz-Content-Sha256",
    "X-Api-Key",
)
CORS_MAX_AGE_SECONDS = 600
ALLOW_ORIGIN = "Access-Control-Allow-Origin"
ALLOW_METHODS = "Access-Control-Allow-Methods"
ALLOW_HEADERS = "Access-Control-Allow-Headers"
MAX_AGE = "Access-Control-Max-Age"


# Access log line: one JSON object per request (messageString is already a quoted JSON string).
ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","caller":"$context.identity.caller",'
    '"userArn":"$context.identity.userArn","cognitoIdentityId":"$context.identity.cognitoIdentityId",'
    '"requestTime":"$context.requestTime","httpMethod":"$context.httpMethod",'
    '"resourcePath":"$context.resourcePath","status":"$context.status",'
    '"responseLength":"$context.responseLength","integrationStatus":"$context.integration.status",'
    '"integrationLatency":"$context.integration.latency","errorType":"$context.error.responseType",'
    '"errorMessage":$context.error.messageString}'
)

_API_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_LITERAL_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")
_PARAM_SEGMENT = re.compile(r"^\{[A-Za-z_][A-Za-z0-9_]*\}$")
_QUERY_PARAM = re.compile(r"^[A-Za-z0-9_.-]+$")
_DYNAMODB_ACTION = re.compile(r"^[A-Z][A-Za-z]+$")
_GRANT_ACTION = re.compile(r"^dynamodb:[A-Z][A-Za-z]+$")


@dataclass
class DynamoRestApiArgs:
    api_name: str
    """Name of the REST API, base of its role and log group names; required, unique per region."""
    region: Region
    """The region of the API, its role's target tables and its logs; required."""
    account_id: pulumi.Input[str]
    """The AWS account id of the stack; required."""
    routes: Sequence[Route]
    """The routes (at least one); every one AWS_IAM-authorized with CORS and mapped errors; required."""
    template_values: Mapping[str, pulumi.Input[str]]
    """Values of the templates' {{placeholders}} in this region (routes.template_values); required."""
    table_arns: Mapping[str, pulumi.Input[str]]
    """Logical table name -> this region's table ARN, for the role's grants; required."""
    cors_origin: pulumi.Input[str]
    """The one browser origin allowed (e.g. the site URL, no trailing slash); required."""
    throttle_rate_limit: int = 50
    """Steady-state requests per second of the whole stage; default 50."""
    throttle_burst_limit: int = 100
    """Burst of requests of the whole stage; default 100."""
    log_retention_days: int = 30
    """Retention of the access and execution logs, a CloudWatch Logs period; default 30."""
    log_kms_key_arn: pulumi.Input[str] | None = None
    """Customer managed key (this region's) encrypting both log groups; default None: CloudWatch Logs' own."""
    xray_tracing: bool = False
    """AWS X-Ray tracing on the stage; default False."""


# -- pure helpers (tested directly) ----------------------------------------------------------------------
def route_label(route: Route) -> str:
    return f"{route.method} {route.path}"


def path_segments(path: str) -> tuple[str, ...]:
    """"/comments/{photoId}" -> ("comments", "{photoId}"); "/" -> ()."""
    return tuple(seg for seg in path.strip("/").split("/") if seg)


def resource_paths(routes: Sequence[Route]) -> list[str]:
    """Every resource of the tree below the root, parents before children, each once."""
    paths: set[str] = set()
    for route in routes:
        segments = path_segments(route.path)
        paths.update("/" + "/".join(segments[: i + 1]) for i in range(len(segments)))
    return sorted(paths, key=lambda p: (p.count("/"), p))


def path_slug(path: str) -> str:
    """A resource-name fragment of a path: "/comments/{photoId}" -> "comments-{photoId}", "/" -> "root"."""
    return "-".join(path_segments(path)) or "root"


def model_name(route: Route) -> str:
    """API Gateway model names are alphanumeric: POST /comments/{photoId} -> "PostCommentsPhotoIdBody"."""
    words = [route.method.lower(), *re.split(r"[^A-Za-z0-9]+", route.path)]
    return "".join(w[:1].upper() + w[1:] for w in words if w) + "Body"


def method_request_parameters(route: Route) -> dict[str, bool]:
    """Path parameters are required, query parameters optional."""
    return {
        **{f"method.request.path.{p}": True for p in route.path_params},
        **{f"method.request.querystring.{q}": False for q in route.query_params},
    }


# Request validators, by what they check; every route that takes input (path, query string or body) has one.
BODY_AND_PARAMS = "body-and-params"
PARAMS = "params"


def validator_kind(route: Route) -> str | None:
    """The validator of a route: its body and parameters, its parameters only, or none when it takes no input."""
    if route.body_model:
        return BODY_AND_PARAMS
    return PARAMS if (route.path_params or route.query_params) else None


def access_log_group_name(api_name: str) -> str:
    return f"/aws/apigateway/{api_name}/{STAGE}/access"


def log_group_patterns(api_name_prefix: str) -> list[str]:
    """Names (with *) of every log group of the APIs whose names start with `api_name_prefix`: their access logs,
    and API Gateway's execution logs (named after the API id, unknown before it exists)."""
    return [f"/aws/apigateway/{api_name_prefix}*", "API-Gateway-Execution-Logs_*"]


def route_templates(route: Route) -> tuple[str, ...]:
    return (route.request_template, route.response_template)


def grants_by_table(routes: Sequence[Route]) -> dict[str, list[str]]:
    """Logical table -> the sorted, distinct IAM actions the routes need on it."""
    grouped: dict[str, set[str]] = {}
    for route in routes:
        for action, table in route.grants:
            grouped.setdefault(table, set()).add(action)
    return {table: sorted(actions) for table, actions in sorted(grouped.items())}


def integration_role_policy(grants: Mapping[str, Sequence[str]], table_arns: Mapping[str, str]) -> str:
    """One statement per table: exactly its actions on exactly its regional ARN."""
    statements = [
        {
            "Sid": re.sub(r"[^A-Za-z0-9]", "", table[:1].upper() + table[1:]) + "Table",
            "Effect": "Allow",
            "Action": list(actions),
            "Resource": table_arns[table],
        }
        for table, actions in grants.items()
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def apigateway_trust_policy(account_id: str) -> str:
    """API Gateway may assume the role for this account only. API Gateway does not document which confused-deputy
    keys it sets when it assumes an integration or CloudWatch role: the ...IfExists form (service_principals)."""
    return service_trust_policy(APIGATEWAY_SERVICE, source_condition(account_id, documented=False))


def bounded_name(base: str, suffix: str, limit: int = MAX_ROLE_NAME) -> str:
    """f"{base}-{suffix}", shortened with a hash of the full name when longer than `limit`."""
    name = f"{base}-{suffix}"
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    keep = limit - len(suffix) - len(digest) - 2
    return f"{base[:keep].rstrip('-')}-{digest}-{suffix}"


def quoted(value: str) -> str:
    """A static header value as API Gateway mappings want it: in single quotes."""
    if "'" in value:
        raise ValueError(f"header value {value!r} must not contain a single quote")
    return f"'{value}'"


def check_origin(origin: str) -> str:
    """The CORS origin as a mapping value; a bad one would break every response's headers."""
    if not re.match(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$", origin or ""):
        raise ValueError(f"cors_origin must be a scheme://host[:port] origin without a path, got {origin!r}")
    return quoted(origin)


def route_signature(route: Route) -> dict[str, Any]:
    """Everything about a route that the deployed API serves (its templates are hashed filled)."""
    return {
        "method": route.method,
        "path": route.path,
        "action": route.action,
        "model": route.body_model,
        "path_params": list(route.path_params),
        "query_params": list(route.query_params),
        "templates": list(route_templates(route)),
        "validator": validator_kind(route),
    }


def redeployment_hash(
    routes: Sequence[Route], filled_templates: Mapping[str, str], settings: Mapping[str, Any]
) -> str:
    """sha256 over the routes, the filled text of every template and the CORS/gateway settings."""
    document = {
        "routes": [route_signature(r) for r in routes],
        "templates": dict(sorted(filled_templates.items())),
        "settings": dict(sorted(settings.items())),
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def validate(args: DynamoRestApiArgs) -> None:
    """Everything checkable before any resource exists; ValueError names the argument or route."""
    if not _API_NAME.match(args.api_name or ""):
        raise ValueError(f"api_name must be 1-128 letters, digits, '-' or '_', got {args.api_name!r}")
    if not args.routes:
        raise ValueError("routes must name at least one route")
    if not isinstance(args.throttle_rate_limit, int) or args.throttle_rate_limit <= 0:
        raise ValueError(f"throttle_rate_limit must be a positive integer, got {args.throttle_rate_limit!r}")
    if not isinstance(args.throttle_burst_limit, int) or args.throttle_burst_limit <= 0:
        raise ValueError(f"throttle_burst_limit must be a positive integer, got {args.throttle_burst_limit!r}")
    if args.log_retention_days not in LOG_RETENTION_DAYS:
        raise ValueError(
            f"log_retention_days must be a CloudWatch Logs retention period"
            f" ({', '.join(map(str, LOG_RETENTION_DAYS))}), got {args.log_retention_days!r}"
        )
    if isinstance(args.cors_origin, str):
        check_origin(args.cors_origin)

    seen: dict[tuple[str, str], Route] = {}
    for route in args.routes:
        label = route_label(route)
        if route.method not in HTTP_METHODS:
            raise ValueError(f"route {label}: unknown HTTP method {route.method!r} (one of {', '.join(HTTP_METHODS)})")
        if not route.path.startswith("/") or (route.path != "/" and route.path.endswith("/")):
            raise ValueError(f"route {label}: path must start with '/' and not end with one")
        for seg in route.path.strip("/").split("/") if route.path != "/" else ():
            if not (_LITERAL_SEGMENT.match(seg) or _PARAM_SEGMENT.match(seg)):
                raise ValueError(f"route {label}: invalid path segment {seg!r} (a name or a {{param}})")
        if len(set(route.path_params)) != len(route.path_params):
            raise ValueError(f"route {label}: a path parameter appears twice")
        if route.owner_param is not None and route.owner_param not in route.path_params:
            raise ValueError(f"route {label}: owner_param {route.owner_param!r} is not one of its path parameters")
        key = (route.method, route.path)
        if key in seen:
            raise ValueError(f"route {label}: duplicate route (method and path declared twice)")
        seen[key] = route
        if not _DYNAMODB_ACTION.match(route.action):
            raise ValueError(f"route {label}: action must be a DynamoDB action name, got {route.action!r}")
        bad_params = [q for q in route.query_params if not _QUERY_PARAM.match(q)]
        if bad_params:
            raise ValueError(f"route {label}: invalid query parameter names {bad_params}")
        if not route.grants:
            raise ValueError(f"route {label}: grants must name the DynamoDB action(s) its integration needs")
        for action, table in route.grants:
            if not _GRANT_ACTION.match(action):
                raise ValueError(f"route {label}: grant {action!r} must be one exact dynamodb:<Action> (no wildcard)")
            if table not in args.table_arns:
                raise ValueError(f"route {label}: grant {action} names table {table!r} missing from table_arns")
        for template in route_templates(route):
            _check_template(template, args.template_values, f"route {label}")
    for template in SHARED_TEMPLATES:
        _check_template(template, args.template_values, "shared templates")
    _check_sibling_params(args.routes)


def _check_template(name: str, values: Mapping[str, Any], owner: str) -> None:
    try:
        text = load_template(name)
    except ValueError as err:
        raise ValueError(f"{owner}: template {name!r} not found ({err})") from None
    missing = sorted(placeholders(text) - set(values))
    if missing:
        raise ValueError(f"{owner}: template {name!r} uses placeholders without a value: {', '.join(missing)}")


def _check_sibling_params(routes: Sequence[Route]) -> None:
    """API Gateway rejects two differently named {params} under one parent (/a/{x} and /a/{y})."""
    params: dict[str, tuple[str, Route]] = {}
    for route in routes:
        segments = path_segments(route.path)
        for i, seg in enumerate(segments):
            if not seg.startswith("{"):
                continue
            parent = "/" + "/".join(segments[:i])
            other = params.setdefault(parent, (seg, route))
            if other[0] != seg:
                raise ValueError(
                    f"route {route_label(route)}: parameter {seg} conflicts with {other[0]} of route"
                    f" {route_label(other[1])} under {parent}"
                )


def _dependencies(opts: pulumi.ResourceOptions | None) -> list[pulumi.Resource]:
    """The component's own depends_on (e.g. the account's CloudWatch role), for the children that need it."""
    deps = opts.depends_on if opts else None
    if deps is None:
        return []
    if isinstance(deps, pulumi.Resource):
        return [deps]
    return [d for d in deps if isinstance(d, pulumi.Resource)] if isinstance(deps, (list, tuple)) else []


# -- components ------------------------------------------------------------------------------------------
class ApiGatewayAccount(pulumi.ComponentResource):
    """The region's account-level API Gateway setting: the role it uses to write CloudWatch logs.

    One per region and account (a second stack in the same account would overwrite it: see
    the manageApiGatewayAccount config). Stages with logging need it before they are created.
    """

    role_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        prefix: str,
        region: Region,
        account_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("multi-region-app:api:ApiGatewayAccount", name, None, opts)
        role = aws.iam.Role(
            f"{name}-cloudwatch-role",
            name=bounded_name(prefix, f"apigw-cloudwatch-{region.role}"),
            description=f"API Gateway pushes execution and access logs to CloudWatch ({region.name})",
            assume_role_policy=pulumi.Output.from_input(account_id).apply(apigateway_trust_policy),
            opts=region.opts(self),
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-cloudwatch-push",
            role=role.name,
            policy_arn=CLOUDWATCH_PUSH_POLICY_ARN,
            opts=region.opts(self),
        )
        self.account = aws.apigateway.Account(
            f"{name}-settings",
            cloudwatch_role_arn=role.arn,
            opts=region.opts(self, depends_on=[attachment]),
        )
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})


class DynamoRestApi(pulumi.ComponentResource):
    """A REST API in one region whose routes call DynamoDB through one least-privilege role."""

    api_id: pulumi.Output[str]
    invoke_url: pulumi.Output[str]
    stage_arn: pulumi.Output[str]  # what a WAF web ACL is associated with
    execution_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    redeployment_hash: pulumi.Output[str]
    app_invoke_arns: list[pulumi.Output[str]]
    operator_invoke_arns: list[pulumi.Output[str]]
    owner_invoke_arns: list[pulumi.Output[str]]

    def __init__(self, name: str, args: DynamoRestApiArgs, opts: pulumi.ResourceOptions | None = None):
        validate(args)
        super().__init__("multi-region-app:api:DynamoRestApi", name, None, opts)
        region = args.region
        routes = list(args.routes)
        self.routes = tuple(routes)

        self.rest_api = aws.apigateway.RestApi(
            f"{name}-api",
            name=args.api_name,
            description=f"{args.api_name}: DynamoDB-backed REST API ({region.role}, {region.name})",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            opts=region.opts(self),
        )
        api = self.rest_api
        origin = pulumi.Output.from_input(args.cors_origin).apply(check_origin)

        # Templates filled with this region's values; the same Outputs feed the integrations and the hash.
        def filled(template: str) -> pulumi.Output[str]:
            text = load_template(template)
            return pulumi.Output.all(**dict(args.template_values)).apply(lambda values: fill_template(text, values))

        template_names = sorted({*SHARED_TEMPLATES, *(t for r in routes for t in route_templates(r))})
        templates = {t: filled(t) for t in template_names}

        # Execution role: exactly the routes' grants, on this region's tables.
        grants = grants_by_table(routes)
        self.role = aws.iam.Role(
            f"{name}-integration-role",
            name=bounded_name(args.api_name, "integration"),
            description=f"{args.api_name} calls DynamoDB with exactly its routes' actions",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(apigateway_trust_policy),
            opts=region.opts(self),
        )
        self.role_policy = aws.iam.RolePolicy(
            f"{name}-integration-policy",
            role=self.role.id,
            policy=pulumi.Output.all(**{t: args.table_arns[t] for t in grants}).apply(
                lambda arns: integration_role_policy(grants, arns)
            ),
            opts=region.opts(self),
        )

        # Resource tree: shared prefixes once; the root is the API's own.
        resource_ids: dict[str, pulumi.Input[str]] = {"/": api.root_resource_id}
        for path in resource_paths(routes):
            parent = path.rsplit("/", 1)[0] or "/"
            resource = aws.apigateway.Resource(
                f"{name}-res-{path_slug(path)}",
                rest_api=api.id,
                parent_id=resource_ids[parent],
                path_part=path.rsplit("/", 1)[1],
                opts=region.opts(self),
            )
            resource_ids[path] = resource.id

        deployed: list[pulumi.Resource] = [self.role_policy]  # everything the deployment must follow
        # One validator per kind the routes need: a missing path parameter or a body off its model is refused
        # before the integration (query strings are optional and bounded by the templates).
        validators: dict[str, aws.apigateway.RequestValidator] = {}
        for kind in sorted({k for k in map(validator_kind, routes) if k}):
            validators[kind] = aws.apigateway.RequestValidator(
                f"{name}-validate-{kind}",
                rest_api=api.id,
                name=f"{args.api_name}-{kind}",
                validate_request_body=kind == BODY_AND_PARAMS,
                validate_request_parameters=True,
                opts=region.opts(self),
            )
            deployed.append(validators[kind])

        allow_origin_header = f"method.response.header.{ALLOW_ORIGIN}"
        for route in routes:
            slug = f"{route.method.lower()}-{path_slug(route.path)}"
            resource_id = resource_ids[route.path]
            request_models = None
            if route.body_model:
                model = aws.apigateway.Model(
                    f"{name}-model-{slug}",
                    rest_api=api.id,
                    name=model_name(route),
                    content_type="application/json",
                    schema=json.dumps(route.body_model, sort_keys=True),
                    opts=region.opts(self),
                )
                deployed.append(model)
                request_models = {"application/json": model.name}
            method = aws.apigateway.Method(
                f"{name}-{slug}",
                rest_api=api.id,
                resource_id=resource_id,
                http_method=route.method,
                authorization="AWS_IAM",
                request_parameters=method_request_parameters(route) or None,
                request_models=request_models,
                request_validator_id=validators[kind].id if (kind := validator_kind(route)) else None,
                opts=region.opts(self),
            )
            integration = aws.apigateway.Integration(
                f"{name}-{slug}-integration",
                rest_api=api.id,
                resource_id=resource_id,
                http_method=method.http_method,
                type="AWS",
                integration_http_method="POST",
                uri=f"arn:aws:apigateway:{region.name}:dynamodb:action/{route.action}",
                credentials=self.role.arn,
                passthrough_behavior="NEVER",
                request_templates={"application/json": templates[route.request_template]},
                opts=region.opts(self),
            )
            method_responses = {
                status: aws.apigateway.MethodResponse(
                    f"{name}-{slug}-{status}",
                    rest_api=api.id,
                    resource_id=resource_id,
                    http_method=method.http_method,
                    status_code=status,
                    response_parameters={allow_origin_header: False},
                    opts=region.opts(self),
                )
                for status in METHOD_STATUSES
            }
            # The default (success) response, then DynamoDB's 4xx/5xx through the error template,
            # which overrides the final status (404, 409, 429, 503 ...).
            answers = [("200", None, route.response_template)] + [
                (status, pattern, DYNAMODB_ERROR_TEMPLATE) for status, pattern in ERROR_MAPPINGS
            ]
            integration_responses = [
                aws.apigateway.IntegrationResponse(
                    f"{name}-{slug}-answer-{status}",
                    rest_api=api.id,
                    resource_id=resource_id,
                    http_method=method.http_method,
                    status_code=status,
                    selection_pattern=pattern,
                    response_templates={"application/json": templates[template]},
                    response_parameters={allow_origin_header: origin},
                    opts=region.opts(self, depends_on=[integration, method_responses[status]]),
                )
                for status, pattern, template in answers
            ]
            deployed += [method, integration, *method_responses.values(), *integration_responses]

        # CORS preflight per resource with methods: unauthenticated MOCK answering 200.
        methods_by_path: dict[str, list[str]] = {}
        for route in routes:
            methods_by_path.setdefault(route.path, []).append(route.method)
        for path, methods in sorted(methods_by_path.items()):
            deployed += self._preflight(name, region, api, resource_ids[path], path, methods, origin, templates)

        # Gateway responses: API Gateway's own errors (auth, validation, throttling...) as JSON with CORS.
        # The defaults cover every type; API Gateway only substitutes variables in their templates.
        all_methods = ",".join(sorted({r.method for r in routes}) + ["OPTIONS"])
        gateway_headers = {
            f"gatewayresponse.header.{ALLOW_ORIGIN}": origin,
            f"gatewayresponse.header.{ALLOW_HEADERS}": quoted(",".join(CORS_ALLOW_HEADERS)),
            f"gatewayresponse.header.{ALLOW_METHODS}": quoted(all_methods),
        }
        gateway_responses = {
            "DEFAULT_4XX": (None, GATEWAY_ERROR_TEMPLATE),
            "DEFAULT_5XX": (None, GATEWAY_ERROR_TEMPLATE),
        }
        for response_type, (status, template) in gateway_responses.items():
            deployed.append(
                aws.apigateway.Response(
                    f"{name}-gateway-{response_type.lower().replace('_', '-')}",
                    rest_api_id=api.id,
                    response_type=response_type,
                    status_code=status,
                    response_templates={"application/json": templates[template]},
                    response_parameters=gateway_headers,
                    opts=region.opts(self),
                )
            )

        # Any change of a route, a filled template, the role or the CORS/gateway settings redeploys.
        static_settings = {
            "region": region.name,
            "gateway_responses": {k: [v[0], v[1]] for k, v in gateway_responses.items()},
            "cors_allow_headers": list(CORS_ALLOW_HEADERS),
            "cors_max_age": CORS_MAX_AGE_SECONDS,
            "method_statuses": list(METHOD_STATUSES),
            "error_mappings": [list(m) for m in ERROR_MAPPINGS],
        }
        self.redeployment_hash = pulumi.Output.all(
            templates=pulumi.Output.all(**templates), origin=origin, role_arn=self.role.arn
        ).apply(
            lambda v: redeployment_hash(
                routes, v["templates"], {**static_settings, "origin": v["origin"], "role_arn": v["role_arn"]}
            )
        )
        self.deployment = aws.apigateway.Deployment(
            f"{name}-deployment",
            rest_api=api.id,
            description=f"{args.api_name} ({len(routes)} routes)",
            triggers={"redeployment": self.redeployment_hash},
            opts=region.opts(self, depends_on=deployed),
        )

        # Logs: JSON access logs, and the execution log group API Gateway would otherwise create unbounded.
        self.access_log_group = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=access_log_group_name(args.api_name),
            retention_in_days=args.log_retention_days,
            kms_key_id=args.log_kms_key_arn,
            opts=region.opts(self),
        )
        self.execution_log_group = aws.cloudwatch.LogGroup(
            f"{name}-execution-logs",
            name=pulumi.Output.concat("API-Gateway-Execution-Logs_", api.id, "/", STAGE),
            retention_in_days=args.log_retention_days,
            kms_key_id=args.log_kms_key_arn,
            opts=region.opts(self),
        )
        account_setting = _dependencies(opts)  # the region's CloudWatch role must be set before logging
        self.stage = aws.apigateway.Stage(
            f"{name}-stage",
            rest_api=api.id,
            deployment=self.deployment.id,
            stage_name=STAGE,
            description=f"{args.api_name} {STAGE}",
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=self.access_log_group.arn,
                format=ACCESS_LOG_FORMAT,
            ),
            xray_tracing_enabled=args.xray_tracing,
            opts=region.opts(self, depends_on=account_setting),
        )
        self.method_settings = aws.apigateway.MethodSettings(
            f"{name}-method-settings",
            rest_api=api.id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                metrics_enabled=True,
                logging_level="INFO",
                data_trace_enabled=False,  # would log request bodies (comments) and credentials headers
                throttling_rate_limit=float(args.throttle_rate_limit),
                throttling_burst_limit=args.throttle_burst_limit,
            ),
            opts=region.opts(self, depends_on=[self.execution_log_group, *account_setting]),
        )

        self.api_id = api.id
        self.execution_arn = api.execution_arn
        self.invoke_url = self.stage.invoke_url
        self.stage_arn = self.stage.arn
        self.role_arn = self.role.arn
        # Owner-scoped routes name the caller's `owner` principal tag in their ARN. They are listed apart:
        # IAM may drop a whole statement whose variable does not resolve, and the operator (no owner tag)
        # writes no photo or comment, so they are never the operator's.
        shared = [route for route in routes if route.owner_param is None]
        self.operator_invoke_arns = [self._invoke_arn(route) for route in shared]
        self.app_invoke_arns = [self._invoke_arn(route) for route in shared if not route.operator_only]
        self.owner_invoke_arns = [self._invoke_arn(route) for route in routes if route.owner_param is not None]
        self.register_outputs(
            {
                "api_id": self.api_id,
                "invoke_url": self.invoke_url,
                "execution_arn": self.execution_arn,
                "role_arn": self.role_arn,
                "app_invoke_arns": self.app_invoke_arns,
                "operator_invoke_arns": self.operator_invoke_arns,
                "owner_invoke_arns": self.owner_invoke_arns,
            }
        )

    def _invoke_arn(self, route: Route) -> pulumi.Output[str]:
        return pulumi.Output.concat(self.rest_api.execution_arn, f"/{STAGE}/{route.method}/{route.arn_path}")

    def _preflight(
        self,
        name: str,
        region: Region,
        api: aws.apigateway.RestApi,
        resource_id: pulumi.Input[str],
        path: str,
        methods: Sequence[str],
        origin: pulumi.Output[str],
        templates: Mapping[str, pulumi.Output[str]],
    ) -> list[pulumi.Resource]:
        """OPTIONS without auth (browsers never sign a preflight), MOCK answering the CORS headers."""
        slug = f"options-{path_slug(path)}"
        method = aws.apigateway.Method(
            f"{name}-{slug}",
            rest_api=api.id,
            resource_id=resource_id,
            http_method="OPTIONS",
            authorization="NONE",
            opts=region.opts(self),
        )
        integration = aws.apigateway.Integration(
            f"{name}-{slug}-integration",
            rest_api=api.id,
            resource_id=resource_id,
            http_method=method.http_method,
            type="MOCK",
            # Nothing reaches a backend; a preflight must never fail on an unexpected content type.
            passthrough_behavior="WHEN_NO_MATCH",
            request_templates={"application/json": templates[CORS_PREFLIGHT_TEMPLATE]},
            opts=region.opts(self),
        )
        headers = {
            ALLOW_ORIGIN: origin,
            ALLOW_METHODS: quoted(",".join(sorted(methods) + ["OPTIONS"])),
            ALLOW_HEADERS: quoted(",".join(CORS_ALLOW_HEADERS)),
            MAX_AGE: quoted(str(CORS_MAX_AGE_SECONDS)),
        }
        method_response = aws.apigateway.MethodResponse(
            f"{name}-{slug}-200",
            rest_api=api.id,
            resource_id=resource_id,
            http_method=method.http_method,
            status_code="200",
            response_parameters={f"method.response.header.{h}": False for h in headers},
            opts=region.opts(self),
        )
        integration_response = aws.apigateway.IntegrationResponse(
            f"{name}-{slug}-answer-200",
            rest_api=api.id,
            resource_id=resource_id,
            http_method=method.http_method,
            status_code="200",
            response_parameters={f"method.response.header.{h}": v for h, v in headers.items()},
            response_templates={"application/json": ""},
            opts=region.opts(self, depends_on=[integration, method_response]),
        )
        return [method, integration, method_response, integration_response]
