"""DynamoRestApi: a REST API per region whose routes call DynamoDB directly, signed, CORS-aware,
error-mapped, least-privilege, and redeployed whenever what it serves changes.

GIVEN the real program (`prod`) and a small program with a fixture route table
(tests/programs/rest_api/fixture_api.py: /items/{itemId} GET+PUT(operator), /items/{itemId}/notes
GET+POST, /feed GET), WHEN they run under mocks, THEN the registered resources say so.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable

import pytest

import components.rest_api as rest_api
from components.contract import STAGE
from components.rest_api import (
    CLOUDWATCH_PUSH_POLICY_ARN,
    CORS_ALLOW_HEADERS,
    DynamoRestApiArgs,
    bounded_name,
    grants_by_table,
    validate,
)
from components.route import Route
from components.routes import (
    DYNAMODB_ERROR_TEMPLATE,
    GATEWAY_ERROR_TEMPLATE,
    PHOTOS_ROUTES,
    ROUTING_ROUTES,
    fill_template,
    load_template,
    template_values,
)
from harness.fake_cloud import ACCOUNT, FakeCloud
from harness.program import ProgramRun, Registration, run_program, stack_config
from tests.conftest import PRIMARY, ROOT, SECONDARY
from tests.programs.rest_api.fixture_routes import fixture_routes, fixture_tables

FIXTURE_PROGRAM = ROOT / "tests" / "programs" / "rest_api" / "fixture_api.py"
FIXTURE_ORIGIN = "'https://app.example.com'"
FIXTURE_TABLES = fixture_tables()
REGIONS = {"primary": PRIMARY, "secondary": SECONDARY}

API = "multi-region-app:api:DynamoRestApi"
REST_API = "aws:apigateway/restApi:RestApi"
RESOURCE = "aws:apigateway/resource:Resource"
METHOD = "aws:apigateway/method:Method"
INTEGRATION = "aws:apigateway/integration:Integration"
METHOD_RESPONSE = "aws:apigateway/methodResponse:MethodResponse"
INTEGRATION_RESPONSE = "aws:apigateway/integrationResponse:IntegrationResponse"
GATEWAY_RESPONSE = "aws:apigateway/response:Response"
MODEL = "aws:apigateway/model:Model"
VALIDATOR = "aws:apigateway/requestValidator:RequestValidator"
DEPLOYMENT = "aws:apigateway/deployment:Deployment"
STAGE_TYPE = "aws:apigateway/stage:Stage"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ACCOUNT_SETTING = "aws:apigateway/account:Account"
# Confused deputy: API Gateway may assume the roles for this account only (IfExists: it does not document the key).
THIS_ACCOUNT_ONLY = {"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"

FIXTURE_ROUTES = {
    ("GET", "/items/{itemId}"): False,  # route -> operator_only
    ("PUT", "/items/{itemId}"): True,
    ("GET", "/items/{itemId}/notes"): False,
    ("POST", "/items/{itemId}/notes"): False,
    ("GET", "/feed"): False,
}


def run_fixture(variant: str = "base") -> ProgramRun:
    config = stack_config("prod")
    config["multi-region-app:testRestApiVariant"] = variant
    return run_program(FakeCloud(), config, program=FIXTURE_PROGRAM)


@pytest.fixture(scope="module")
def fixture() -> ProgramRun:
    return run_fixture()


@pytest.fixture(scope="module", params=["prod", "fixture"])
def any_run(request, prod) -> ProgramRun:
    """Each behaviour holds for the real routes and for the fixture route table."""
    return prod if request.param == "prod" else request.getfixturevalue("fixture")


# -- reading one API out of a run -----------------------------------------------------------------------
@dataclasses.dataclass
class ApiView:
    run: ProgramRun
    component: Registration

    @property
    def children(self) -> list[Registration]:
        return self.run.children(self.component)

    def of(self, type_: str) -> list[Registration]:
        return [r for r in self.children if r.type == type_]

    def one(self, type_: str) -> Registration:
        found = self.of(type_)
        assert len(found) == 1, (type_, [r.name for r in found])
        return found[0]

    @property
    def rest_api(self) -> Registration:
        return self.one(REST_API)

    @property
    def region(self) -> str:
        return self.rest_api.region

    @property
    def role(self) -> str:
        return "primary" if self.region == PRIMARY else "secondary"

    def paths(self) -> dict[str, str]:
        """resource id -> full path, following parentId up to the API's root."""
        parents = {r.outputs["id"]: (r.inputs["parentId"], r.inputs["pathPart"]) for r in self.of(RESOURCE)}
        root = self.rest_api.outputs["rootResourceId"]

        def full(resource_id: str) -> str:
            if resource_id == root:
                return "/"
            parent, part = parents[resource_id]
            return (full(parent).rstrip("/")) + "/" + part

        return {root: "/", **{rid: full(rid) for rid in parents}}

    def keyed(self, type_: str) -> dict[tuple, Registration]:
        """(METHOD, path[, status]) -> registration."""
        paths = self.paths()
        out = {}
        for reg in self.of(type_):
            key = (reg.inputs["httpMethod"], paths[reg.inputs["resourceId"]])
            if "statusCode" in reg.inputs:
                key += (reg.inputs["statusCode"],)
            assert key not in out, key
            out[key] = reg
        return out


def apis(run: ProgramRun) -> list[ApiView]:
    return [ApiView(run, reg) for reg in run.of_type(API)]


def routes_of(view: ApiView) -> tuple[Route, ...]:
    """The route table an API of the run was built from."""
    if view.component.name.startswith("fixture-"):
        return fixture_routes()
    return ROUTING_ROUTES if view.component.name.startswith("routing-") else PHOTOS_ROUTES


def values_of(view: ApiView) -> dict[str, str]:
    """The resolved template values of the API's region."""
    if view.component.name.startswith("fixture-"):
        return template_values("fixture-app", FIXTURE_TABLES, view.role)
    return template_values(view.run.outputs["appId"], view.run.outputs["tables"], view.role)


def origin_of(view: ApiView) -> str:
    if view.component.name.startswith("fixture-"):
        return FIXTURE_ORIGIN
    return f"'{view.run.outputs['siteUrl']}'"


def filled(view: ApiView, template: str) -> str:
    return fill_template(load_template(template), values_of(view))


# -- the routes ------------------------------------------------------------------------------------------
def test_real_and_fixture_runs_build_one_api_per_route_table_and_region(prod, fixture):
    assert sorted((v.component.name, v.region) for v in apis(prod)) == sorted(
        (f"{kind}-api-{role}", region) for kind in ("routing", "photos") for role, region in REGIONS.items()
    )
    assert sorted((v.component.name, v.region) for v in apis(fixture)) == sorted(
        (f"fixture-{role}", region) for role, region in REGIONS.items()
    )


def test_resource_tree_has_every_route_path_once_with_shared_prefixes(fixture, prod):
    for view in apis(fixture):
        resources = view.of(RESOURCE)
        assert sorted(view.paths().values()) == ["/", "/feed", "/items", "/items/{itemId}", "/items/{itemId}/notes"]
        assert len(resources) == 4  # /items is shared by both deeper paths
    for view in apis(prod):
        expected = {"/"} | {
            "/" + "/".join(r.path.strip("/").split("/")[: i + 1])
            for r in routes_of(view)
            for i in range(len(r.path.strip("/").split("/")))
        }
        assert set(view.paths().values()) == expected


def test_every_route_method_requires_sigv4_and_only_preflights_are_open(any_run):
    for view in apis(any_run):
        methods = view.keyed(METHOD)
        routes = {(r.method, r.path) for r in routes_of(view)}
        signed = {key for key, reg in methods.items() if reg.inputs["authorization"] == "AWS_IAM"}
        open_ = {key for key, reg in methods.items() if reg.inputs["authorization"] == "NONE"}
        assert signed == routes
        assert open_ == {("OPTIONS", path) for _, path in routes}
        assert signed | open_ == set(methods)
        integrations = view.keyed(INTEGRATION)
        for key in open_:
            assert integrations[key].inputs["type"] == "MOCK"
            assert integrations[key].inputs["requestTemplates"] == {"application/json": '{"statusCode": 200}\n'}


def test_integrations_call_the_routes_dynamodb_action_in_the_apis_own_region_with_its_own_role(any_run):
    for view in apis(any_run):
        role_arn = view.one(ROLE).outputs["arn"]
        integrations = view.keyed(INTEGRATION)
        for route in routes_of(view):
            inputs = integrations[(route.method, route.path)].inputs
            assert inputs["type"] == "AWS"
            assert inputs["integrationHttpMethod"] == "POST"
            assert inputs["uri"] == f"arn:aws:apigateway:{view.region}:dynamodb:action/{route.action}"
            assert inputs["credentials"] == role_arn
            assert inputs["passthroughBehavior"] == "NEVER"
            assert inputs["requestTemplates"] == {"application/json": filled(view, route.request_template)}
            assert "{{" not in inputs["requestTemplates"]["application/json"]


def test_each_apis_resources_live_in_its_region_and_the_regions_differ(any_run):
    regions = set()
    for view in apis(any_run):
        regions.add(view.region)
        assert view.children
        assert {r.region for r in view.children} == {view.region}, view.component.name
    assert regions == {PRIMARY, SECONDARY}


def test_templates_are_filled_with_the_regions_own_writable_state(prod):
    for view in apis(prod):
        if not view.component.name.startswith("photos-"):
            continue
        template = view.keyed(INTEGRATION)[("POST", "/users/{owner}/comments/{photoId}")].inputs["requestTemplates"]
        writable = "active" if view.role == "primary" else "failover"
        assert f'":w": {{"S": "{writable}"}}' in template["application/json"]


def test_every_route_that_takes_input_is_validated_and_declares_its_params(any_run):
    """GETs included (CKV2_AWS_53): path parameters required, query strings declared optional (the templates
    bound them), bodies checked against the route's model."""
    for view in apis(any_run):
        methods = view.keyed(METHOD)
        api_name = view.rest_api.inputs["name"]
        validators = {v.inputs["name"].removeprefix(f"{api_name}-"): v for v in view.of(VALIDATOR)}
        assert set(validators) == {"body-and-params", "params"}
        models = {m.inputs["name"]: m for m in view.of(MODEL)}
        body_routes = [r for r in routes_of(view) if r.body_model]
        assert len(models) == len(body_routes)
        assert validators["body-and-params"].inputs["validateRequestBody"] is True
        assert validators["body-and-params"].inputs["validateRequestParameters"] is True
        assert validators["params"].inputs["validateRequestBody"] is False
        assert validators["params"].inputs["validateRequestParameters"] is True
        for route in routes_of(view):
            inputs = methods[(route.method, route.path)].inputs
            assert inputs.get("requestParameters", {}) == {
                **{f"method.request.path.{p}": True for p in route.path_params},
                **{f"method.request.querystring.{q}": False for q in route.query_params},
            }
            assert route.path_params or route.query_params or route.body_model  # every route takes input
            if not route.body_model:
                assert not inputs.get("requestModels")
                assert inputs["requestValidatorId"] == validators["params"].outputs["id"], route
                continue
            model = models[inputs["requestModels"]["application/json"]]
            assert json.loads(model.inputs["schema"]) == route.body_model
            assert model.inputs["contentType"] == "application/json"
            assert re.fullmatch(r"[A-Za-z0-9]+", model.inputs["name"])
            assert inputs["requestValidatorId"] == validators["body-and-params"].outputs["id"]


def test_a_route_without_any_input_gets_no_validator():
    route = Route("GET", "/health", "Scan", "state-get.request.vtl", "state-get.response.vtl",
                  grants=(("dynamodb:Scan", "appConfig"),))
    assert rest_api.validator_kind(route) is None
    assert rest_api.validator_kind(dataclasses.replace(route, query_params=("limit",))) == "params"
    assert rest_api.validator_kind(dataclasses.replace(route, path="/health/{id}")) == "params"


def test_dynamodb_errors_never_answer_200_and_every_answer_carries_the_cors_origin(any_run):
    for view in apis(any_run):
        integrations = view.keyed(INTEGRATION)
        answers = view.keyed(INTEGRATION_RESPONSE)
        declared = view.keyed(METHOD_RESPONSE)
        for route in routes_of(view):
            key = (route.method, route.path)
            mine = {k[2]: r for k, r in answers.items() if k[:2] == key}
            assert set(mine) == {"200", "400", "500"}
            assert mine["200"].inputs.get("selectionPattern") in (None, "")
            assert mine["400"].inputs["selectionPattern"] == r"4\d{2}"
            assert mine["500"].inputs["selectionPattern"] == r"5\d{2}"
            assert mine["200"].inputs["responseTemplates"] == {
                "application/json": filled(view, route.response_template)
            }
            for status in ("400", "500"):
                assert mine[status].inputs["responseTemplates"] == {
                    "application/json": filled(view, DYNAMODB_ERROR_TEMPLATE)
                }
            for answer in mine.values():
                assert answer.inputs["responseParameters"] == {
                    "method.response.header.Access-Control-Allow-Origin": origin_of(view)
                }
                # created after the integration (API Gateway rejects it before)
                assert integrations[key].urn in answer.options["depends_on"]
            statuses = {k[2]: r for k, r in declared.items() if k[:2] == key}
            assert set(statuses) == {"200", "400", "404", "409", "429", "500", "503"}
            for reg in statuses.values():
                assert "method.response.header.Access-Control-Allow-Origin" in reg.inputs["responseParameters"]


def test_preflight_allows_the_origin_the_resources_methods_and_the_sigv4_headers(fixture):
    expected_methods = {"/items/{itemId}": "'GET,PUT,OPTIONS'", "/items/{itemId}/notes": "'GET,POST,OPTIONS'",
                        "/feed": "'GET,OPTIONS'"}
    for view in apis(fixture):
        answers = view.keyed(INTEGRATION_RESPONSE)
        for path, methods in expected_methods.items():
            headers = answers[("OPTIONS", path, "200")].inputs["responseParameters"]
            assert headers == {
                "method.response.header.Access-Control-Allow-Origin": FIXTURE_ORIGIN,
                "method.response.header.Access-Control-Allow-Methods": methods,
                "method.response.header.Access-Control-Allow-Headers": "'" + ",".join(CORS_ALLOW_HEADERS) + "'",
                "method.response.header.Access-Control-Max-Age": "'600'",
            }
            assert set(view.keyed(METHOD_RESPONSE)[("OPTIONS", path, "200")].inputs["responseParameters"]) == set(
                headers
            )
    allow_headers = set(CORS_ALLOW_HEADERS)
    assert {"Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256"} <= allow_headers


def test_gateway_errors_are_json_with_cors_headers(any_run):
    for view in apis(any_run):
        responses = {r.inputs["responseType"]: r for r in view.of(GATEWAY_RESPONSE)}
        assert set(responses) == {"DEFAULT_4XX", "DEFAULT_5XX"}  # they cover every type (THROTTLED...)
        for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
            assert responses[kind].inputs["responseTemplates"] == {
                "application/json": filled(view, GATEWAY_ERROR_TEMPLATE)
            }
        for response in responses.values():
            assert response.inputs["restApiId"] == view.rest_api.outputs["id"]
            headers = response.inputs["responseParameters"]
            assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == origin_of(view)
            assert "Authorization" in headers["gatewayresponse.header.Access-Control-Allow-Headers"]
            assert "OPTIONS" in headers["gatewayresponse.header.Access-Control-Allow-Methods"]


# -- the role --------------------------------------------------------------------------------------------
def test_integration_role_grants_exactly_the_routes_actions_on_its_regions_tables(any_run):
    for view in apis(any_run):
        role = view.one(ROLE)
        trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert [(t["Effect"], t["Principal"], t["Action"]) for t in trust] == [
            ("Allow", {"Service": "apigateway.amazonaws.com"}, "sts:AssumeRole")]
        assert len(role.inputs["name"]) <= 64
        policy = view.one(ROLE_POLICY)
        assert policy.inputs["role"] == role.outputs["id"]
        statements = json.loads(policy.inputs["policy"])["Statement"]
        granted = {}
        for statement in statements:
            assert statement["Effect"] == "Allow"
            resource = statement["Resource"]
            assert isinstance(resource, str) and "*" not in resource
            assert resource.startswith(f"arn:aws:dynamodb:{view.region}:123456789012:table/")
            assert all("*" not in action for action in statement["Action"])
            granted[resource.rsplit("/", 1)[1]] = statement["Action"]
        names = FIXTURE_TABLES if view.component.name.startswith("fixture-") else any_run.outputs["tables"]
        assert granted == {names[table]: actions for table, actions in grants_by_table(routes_of(view)).items()}


def test_fixture_role_policy_is_exactly_the_hand_written_grants(fixture):
    view = next(v for v in apis(fixture) if v.role == "secondary")
    statements = json.loads(view.one(ROLE_POLICY).inputs["policy"])["Statement"]
    arn = f"arn:aws:dynamodb:{SECONDARY}:123456789012:table/"
    assert {s["Resource"]: s["Action"] for s in statements} == {
        arn + "fixture-app-config": ["dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:UpdateItem"],
        arn + "fixture-notes": ["dynamodb:PutItem", "dynamodb:Query"],
        arn + "fixture-feed": ["dynamodb:Query"],
    }


def test_role_names_fit_iam_and_stay_unique_when_shortened():
    long_a, long_b = "a" * 70 + "-routing-primary", "a" * 70 + "-routing-secondary"
    assert len(bounded_name(long_a, "integration")) <= 64
    assert bounded_name(long_a, "integration") != bounded_name(long_b, "integration")
    assert bounded_name("short", "integration") == "short-integration"


# -- invoke ARNs -----------------------------------------------------------------------------------------
def test_app_invoke_arns_exclude_operator_only_routes_and_operator_arns_cover_every_route(fixture):
    for role, region in REGIONS.items():
        api_id = fixture.outputs[f"{role}ApiId"]
        base = f"arn:aws:execute-api:{region}:123456789012:{api_id}/{STAGE}"

        def arn(method: str, path: str, base: str = base) -> str:
            return f"{base}/{method}/" + re.sub(r"\{[^}]+\}", "*", path.strip("/"))

        assert fixture.outputs[f"{role}OperatorInvokeArns"] == [arn(m, p) for m, p in FIXTURE_ROUTES]
        assert fixture.outputs[f"{role}AppInvokeArns"] == [
            arn(m, p) for (m, p), operator_only in FIXTURE_ROUTES.items() if not operator_only
        ]
        assert arn("PUT", "/items/{itemId}") not in fixture.outputs[f"{role}AppInvokeArns"]


def test_app_users_may_not_invoke_the_state_switch_of_the_real_program(prod):
    policies = [r.inputs["policy"] for r in prod.of_type(ROLE_POLICY) if "authenticated" in r.name]
    assert policies
    for policy in policies:
        assert "/PUT/state/" not in policy and "/GET/state/" in policy
        assert "/POST/users/${aws:PrincipalTag/owner}/comments/*" in policy


def test_owner_scoped_routes_put_the_callers_owner_tag_in_their_invoke_arn_and_stay_out_of_the_shared_lists():
    route = Route("POST", "/users/{owner}/notes/{noteId}", "PutItem", "comments-post.request.vtl",
                  "comments-post.response.vtl", grants=(("dynamodb:PutItem", "comments"),), owner_param="owner")
    assert route.arn_path == "users/${aws:PrincipalTag/owner}/notes/*"
    assert route.url_path(owner="alice", noteId="a/b c") == "/users/alice/notes/a%2Fb%20c"
    with pytest.raises(ValueError, match="noteId"):
        route.url_path(owner="alice")



# -- deployment ------------------------------------------------------------------------------------------
def deployment_triggers(run: ProgramRun) -> dict[str, str]:
    return {view.role: view.one(DEPLOYMENT).inputs["triggers"]["redeployment"] for view in apis(run)}


def test_deployment_waits_for_every_method_integration_response_and_the_role_policy(any_run):
    for view in apis(any_run):
        depends_on = set(view.one(DEPLOYMENT).options["depends_on"])
        must = [r for r in view.children if r.type in (METHOD, INTEGRATION, METHOD_RESPONSE, INTEGRATION_RESPONSE,
                                                        GATEWAY_RESPONSE, MODEL, VALIDATOR, ROLE_POLICY)]
        assert must and {r.urn for r in must} <= depends_on
        assert view.one(DEPLOYMENT).inputs["restApi"] == view.rest_api.outputs["id"]
        assert "stageName" not in view.one(DEPLOYMENT).inputs


def test_deployment_trigger_is_stable_when_nothing_changes(fixture):
    again = deployment_triggers(run_fixture())
    assert again == deployment_triggers(fixture)
    assert len(set(again.values())) == 2  # the regions fill different values (writable state)


def test_deployment_trigger_changes_when_a_route_changes(fixture):
    assert_all_changed(deployment_triggers(fixture), deployment_triggers(run_fixture("route-changed")))


def test_deployment_trigger_changes_when_a_filled_template_value_changes(fixture):
    assert_all_changed(deployment_triggers(fixture), deployment_triggers(run_fixture("value-changed")))


@pytest.mark.parametrize(
    "template", ["comments-get.response.vtl", DYNAMODB_ERROR_TEMPLATE, GATEWAY_ERROR_TEMPLATE,
                 "cors-preflight.request.vtl"]
)
def test_deployment_trigger_changes_when_a_templates_text_changes(fixture, monkeypatch, template):
    original: Callable[[str], str] = rest_api.load_template
    monkeypatch.setattr(rest_api, "load_template", lambda name: original(name) + ("\n" if name == template else ""))
    assert_all_changed(deployment_triggers(fixture), deployment_triggers(run_fixture()))


def assert_all_changed(before: dict[str, str], after: dict[str, str]) -> None:
    assert set(before) == set(after) == {"primary", "secondary"}
    for role in before:
        assert before[role] != after[role], role


# -- stage -----------------------------------------------------------------------------------------------
def test_stage_prod_serves_the_deployment_with_json_access_logs(any_run):
    for view in apis(any_run):
        stage = view.one(STAGE_TYPE)
        assert stage.inputs["stageName"] == STAGE
        assert stage.inputs["deployment"] == view.one(DEPLOYMENT).outputs["id"]
        groups = {g.name.rsplit("-", 2)[-2]: g for g in view.of(LOG_GROUP)}
        assert set(groups) == {"access", "execution"}
        settings = stage.inputs["accessLogSettings"]
        assert settings["destinationArn"] == groups["access"].outputs["arn"]
        assert f":{view.region}:" in settings["destinationArn"]
        line = json.loads(settings["format"].replace("$context.error.messageString", '"msg"'))
        for key in ("requestId", "ip", "caller", "cognitoIdentityId", "httpMethod", "resourcePath", "status",
                    "responseLength", "integrationStatus", "integrationLatency", "errorMessage"):
            assert key in line, key
        api_id = view.rest_api.outputs["id"]
        assert groups["execution"].inputs["name"] == f"API-Gateway-Execution-Logs_{api_id}/{STAGE}"


def test_stage_throttles_logs_at_info_without_data_trace_and_keeps_logs_the_configured_days(fixture, prod):
    # Pulumi.prod.yaml is hardened: a year of logs.
    for run, (rate, burst, days) in ((fixture, (7, 11, 14)), (prod, (50, 100, 365))):
        for view in apis(run):
            settings = view.one(METHOD_SETTINGS)
            assert settings.inputs["methodPath"] == "*/*"
            assert settings.inputs["stageName"] == STAGE
            assert settings.inputs["settings"] == {
                "throttlingRateLimit": float(rate),
                "throttlingBurstLimit": float(burst),
                "metricsEnabled": True,
                "loggingLevel": "INFO",
                "dataTraceEnabled": False,
            }
            assert {g.inputs["retentionInDays"] for g in view.of(LOG_GROUP)} == {float(days)}


def test_stage_waits_for_the_regions_api_gateway_cloudwatch_role(fixture):
    for view in apis(fixture):
        # depending on the component means depending on its resources, the account setting among them
        setting = next(a for a in fixture.of_type(ACCOUNT_SETTING) if a.region == view.region)
        assert fixture.by_urn(setting.parent).name == f"fixture-account-{view.role}"
        for type_ in (STAGE_TYPE, METHOD_SETTINGS):
            assert setting.urn in view.one(type_).options["depends_on"]


def test_api_gateway_may_assume_the_stacks_roles_for_this_account_only(any_run):
    """Confused deputy: API Gateway does not document the keys it sets when it assumes a role, so the condition is
    the IfExists form (components/service_principals.py): another account's API is refused whenever API Gateway
    names it, and the stack's own integrations and logs never break."""
    roles = [r for r in any_run.of_type(ROLE) if "apigateway.amazonaws.com" in r.inputs["assumeRolePolicy"]]
    assert roles
    for role in roles:
        [trust] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
        assert trust["Condition"] == THIS_ACCOUNT_ONLY, role.name


def test_api_gateway_account_sets_a_cloudwatch_role_per_region(prod):
    accounts = prod.of_type(ACCOUNT_SETTING)
    assert sorted(a.region for a in accounts) == sorted(REGIONS.values())
    for account in accounts:
        component = prod.by_urn(account.parent)
        role = next(r for r in prod.children(component) if r.type == ROLE)
        attachment = next(r for r in prod.children(component) if r.type == ATTACHMENT)
        assert account.inputs["cloudwatchRoleArn"] == role.outputs["arn"]
        assert attachment.inputs["policyArn"] == CLOUDWATCH_PUSH_POLICY_ARN
        assert attachment.inputs["role"] == role.outputs["name"]
        assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
            "Service": "apigateway.amazonaws.com"
        }
        assert {role.region, attachment.region} == {account.region}


# -- invalid arguments -----------------------------------------------------------------------------------
class _Region:
    name, role = PRIMARY, "primary"


def args_with(routes: list[Route] | None = None, **changes) -> DynamoRestApiArgs:
    base = DynamoRestApiArgs(
        api_name="test-api",
        region=_Region(),  # type: ignore[arg-type]  # validation reads no provider
        account_id="123456789012",
        routes=list(fixture_routes()) if routes is None else routes,
        template_values=template_values("app", FIXTURE_TABLES, "primary"),
        table_arns={t: f"arn:aws:dynamodb:{PRIMARY}:123456789012:table/{n}" for t, n in FIXTURE_TABLES.items()},
        cors_origin="https://app.example.com",
    )
    return dataclasses.replace(base, **changes)


def route(**changes) -> Route:
    return dataclasses.replace(fixture_routes()[0], **changes)


def test_valid_fixture_args_pass_validation():
    validate(args_with())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (lambda: args_with([route(method="FETCH")]), r"route FETCH /items/\{itemId\}: unknown HTTP method"),
        (lambda: args_with([route(method="OPTIONS")]), r"route OPTIONS /items/\{itemId\}: unknown HTTP method"),
        (lambda: args_with([route(), route()]), r"route GET /items/\{itemId\}: duplicate route"),
        (lambda: args_with([route(request_template="nope.request.vtl")]),
         r"route GET /items/\{itemId\}: template 'nope.request.vtl' not found"),
        (lambda: args_with([route(grants=(("dynamodb:GetItem", "ghost"),))]),
         r"route GET /items/\{itemId\}: grant dynamodb:GetItem names table 'ghost' missing from table_arns"),
        (lambda: args_with([route(grants=(("dynamodb:*", "appConfig"),))]), r"route GET /items/\{itemId\}: grant"),
        (lambda: args_with([route(grants=())]), r"route GET /items/\{itemId\}: grants"),
        (lambda: args_with([route(path="/items/{itemId}"), route(method="PUT", path="/items/{id}")]),
         r"route PUT /items/\{id\}: parameter \{id\} conflicts with \{itemId\}"),
        (lambda: args_with([route(path="items")]), r"route GET items: path must start"),
        (lambda: args_with([route(path="/items/{item-id}")]), r"invalid path segment"),
        (lambda: args_with([route(action="dynamodb:GetItem")]), r"route GET /items/\{itemId\}: action"),
        (lambda: args_with([route(owner_param="owner")]),
         r"route GET /items/\{itemId\}: owner_param 'owner' is not one of its path parameters"),
        (lambda: args_with(template_values={}), r"route GET /items/\{itemId\}: template .* without a value"),
        (lambda: args_with([]), r"^routes"),
        (lambda: args_with(api_name="bad name"), r"^api_name"),
        (lambda: args_with(throttle_rate_limit=0), r"^throttle_rate_limit"),
        (lambda: args_with(throttle_burst_limit=-1), r"^throttle_burst_limit"),
        (lambda: args_with(log_retention_days=31), r"^log_retention_days"),
        (lambda: args_with(cors_origin="https://app.example.com/"), r"^cors_origin"),
        (lambda: args_with(cors_origin="*"), r"^cors_origin"),
    ],
    ids=["unknown-method", "options-is-ours", "duplicate", "missing-template", "missing-table", "wildcard-grant",
         "no-grants", "sibling-params", "relative-path", "bad-segment", "bad-action", "owner-param",
         "missing-placeholder", "no-routes", "api-name", "rate", "burst", "retention", "origin-path", "origin-star"],
)
def test_invalid_args_raise_naming_the_route_or_argument(args, message):
    with pytest.raises(ValueError, match=message):
        validate(args())


def test_the_component_refuses_a_duplicate_route_before_creating_anything():
    with pytest.raises(ValueError, match=r"route GET /items/\{itemId\}: duplicate route"):
        run_fixture("duplicate-route")
