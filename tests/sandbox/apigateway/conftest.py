"""One REST API stored in moto and run by the execute-api pipeline, shared by the stage tests.

GIVEN an API built with boto3 in moto the way components/rest_api.py builds the program's (AWS
integrations to DynamoDB with request/response templates, a validator + models, a MOCK OPTIONS,
the program's own gateway response template with CORS headers, AWS_IAM methods), tables, an
app-user identity from the credentials broker and an operator key,
WHEN requests signed with botocore's SigV4Auth (or not) go through the WSGI app,
THEN each stage's test checks API Gateway's answer: statuses, JSON bodies, CORS headers, DynamoDB effects.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto import mock_aws
from werkzeug.test import Client, TestResponse

from components.routes import GATEWAY_ERROR_TEMPLATE, load_template
from sandbox.apigateway import ExecuteApi
from sandbox.credentials import ACCOUNT, CredentialsBroker
from tests.sandbox.test_credentials import CognitoSetup, make_cognito, passthrough_app, sign_in_identity

REGION = "us-east-1"
STAGE = "prod"
SLOW_STAGE = "slow"  # the same deployment, throttled hard (see world())
SLOW_RATE, SLOW_BURST = 1, 2
ORIGIN = "https://app.example"
HOST = "localhost"

# -- templates (the shapes of components/templates; engine-neutral on purpose) --------------------------
STATE_GET_REQUEST = """{"TableName": "AppConfig",
 "Key": {"appId": {"S": "$util.escapeJavaScript($input.params('appId'))"}}, "ConsistentRead": true}"""
STATE_GET_RESPONSE = """{"state": "$input.path('$.Item.state.S')", "by": "$context.identity.userArn"}"""
STATE_PUT_REQUEST = """{"TableName": "AppConfig", "Key": {"appId": {"S": "$input.params('appId')"}},
 "UpdateExpression": "SET #s = :s", "ExpressionAttributeNames": {"#s": "state"},
 "ExpressionAttributeValues": {":s": {"S": "$input.path('$.state')"}},
 "ConditionExpression": "attribute_exists(appId)", "ReturnValues": "ALL_NEW"}"""
STATE_PUT_RESPONSE = """{"state": "$input.path('$.Attributes.state.S')"}"""
COMMENT_POST_REQUEST = """{"TransactItems": [
 {"ConditionCheck": {"TableName": "AppConfig", "Key": {"appId": {"S": "app"}}, "ConditionExpression": "#s = :w",
   "ExpressionAttributeNames": {"#s": "state"}, "ExpressionAttributeValues": {":w": {"S": "active"}}}},
 {"Put": {"TableName": "Comments", "Item": {
   "photoId": {"S": "$util.escapeJavaScript($input.params('photoId'))"},
   "commentKey": {"S": "$context.requestTimeEpoch-$context.requestId"},
   "user": {"S": "$context.identity.cognitoIdentityId"},
   "message": {"S": "$util.escapeJavaScript($input.path('$.message'))"}},
   "ConditionExpression": "attribute_not_exists(commentKey)"}}],
 "ClientRequestToken": "$context.requestId"}"""
COMMENT_POST_RESPONSE = """{"commentId": "$context.requestId", "photoId": "$input.params('photoId')",
 "user": "$context.identity.cognitoIdentityId", "provider": "$context.identity.cognitoAuthenticationProvider"}"""
# Deliberately unescaped: a quote in the body breaks the JSON sent to DynamoDB.
NAIVE_REQUEST = """{"TableName": "Comments",
 "Item": {"photoId": {"S": "$input.path('$.raw')"}, "commentKey": {"S": "k"}}}"""
COMMENTS_GET_REQUEST = """{"TableName": "Comments", "KeyConditionExpression": "photoId = :p",
 "ExpressionAttributeValues": {":p": {"S": "$input.params('photoId')"}}}"""
DYNAMODB_ERROR = """#set($type = $input.path('$.__type'))
#if($type == "com.amazonaws.dynamodb.v20120810#TransactionCanceledException")
#set($context.responseOverride.status = 409)
{"code": "READ_ONLY"}
#elseif($type == "com.amazon.coral.service#AccessDeniedException")
#set($context.responseOverride.status = 500)
{"code": "INTERNAL"}
#else
{"code": "BAD_REQUEST", "type": "$type"}
#end"""

STATE_MODEL = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "required": ["state"],
               "properties": {"state": {"type": "string", "enum": ["active", "fenced", "failover"]}}}
COMMENT_MODEL = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "required": ["message"],
                 "properties": {"message": {"type": "string", "minLength": 1, "maxLength": 1000}}}
CORS = {"method.response.header.Access-Control-Allow-Origin": f"'{ORIGIN}'"}
GATEWAY_CORS = {"gatewayresponse.header.Access-Control-Allow-Origin": f"'{ORIGIN}'",
                "gatewayresponse.header.Access-Control-Allow-Headers": "'Content-Type,Authorization,X-Amz-Date'"}


@dataclass
class World:
    api_id: str
    app: ExecuteApi
    client: Client
    broker: CredentialsBroker
    cognito: CognitoSetup
    identity_id: str
    user: Credentials
    operator: Credentials
    dynamodb: Any
    apigw: Any

    def url(self, path: str, stage: str = STAGE, api_id: str | None = None) -> str:
        return f"/execute-api/{api_id or self.api_id}/{stage}{path}"

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        signer: Credentials | None = None,
        region: str = REGION,
        headers: dict[str, str] | None = None,
        tamper: bool = False,
        environ: dict[str, Any] | None = None,
        **url: Any,
    ) -> TestResponse:
        data = (body if isinstance(body, (str, bytes)) else json.dumps(body)) if body is not None else ""
        raw = data if isinstance(data, bytes) else data.encode()
        target = self.url(path, **url)
        all_headers = {"Host": HOST, "Origin": ORIGIN, **({"Content-Type": "application/json"} if raw else {}),
                       **(headers or {})}
        if signer is not None:
            request = AWSRequest(method=method, url=f"http://{HOST}{target}", data=raw, headers=all_headers)
            SigV4Auth(signer, "execute-api", region).add_auth(request)
            all_headers = dict(request.headers.items())
            if tamper:
                raw = raw.replace(b"fenced", b"active") if b"fenced" in raw else raw + b" "
        return self.client.open(target, method=method, data=raw, headers=all_headers, environ_overrides=environ or {})

    def state(self) -> str:
        return self.dynamodb.get_item(TableName="AppConfig", Key={"appId": {"S": "app"}})["Item"]["state"]["S"]

    def set_state(self, state: str) -> None:
        self.dynamodb.put_item(TableName="AppConfig", Item={"appId": {"S": "app"}, "state": {"S": state}})


def put_method(apigw: Any, api_id: str, resource_id: str, method: str, *, auth: str = "AWS_IAM", action: str = "",
               request: str = "", response: str = "", model: str | None = None, validator: str | None = None,
               params: dict[str, bool] | None = None, mock: bool = False, role_arn: str = "") -> None:
    """One method with its integration, as components/rest_api.py declares it."""
    kwargs: dict[str, Any] = {}
    if model:
        kwargs["requestModels"] = {"application/json": model}
    if validator:
        kwargs["requestValidatorId"] = validator
    if params:
        kwargs["requestParameters"] = params
    apigw.put_method(restApiId=api_id, resourceId=resource_id, httpMethod=method, authorizationType=auth, **kwargs)
    statuses = ("200",) if mock else ("200", "400", "500")
    for status in statuses:
        apigw.put_method_response(restApiId=api_id, resourceId=resource_id, httpMethod=method, statusCode=status,
                                  responseParameters={"method.response.header.Access-Control-Allow-Origin": False})
    if mock:
        apigw.put_integration(restApiId=api_id, resourceId=resource_id, httpMethod=method, type="MOCK",
                              requestTemplates={"application/json": request or '{"statusCode": 200}'},
                              passthroughBehavior="NEVER")
    else:
        apigw.put_integration(restApiId=api_id, resourceId=resource_id, httpMethod=method, type="AWS",
                              integrationHttpMethod="POST", credentials=role_arn,
                              uri=f"arn:aws:apigateway:{REGION}:dynamodb:action/{action}",
                              requestTemplates={"application/json": request}, passthroughBehavior="NEVER")
    apigw.put_integration_response(restApiId=api_id, resourceId=resource_id, httpMethod=method, statusCode="200",
                                   responseTemplates={"application/json": response}, responseParameters=CORS)
    if not mock:
        for status, pattern in (("400", r"4\d{2}"), ("500", r"5\d{2}")):
            apigw.put_integration_response(restApiId=api_id, resourceId=resource_id, httpMethod=method,
                                           statusCode=status, selectionPattern=pattern,
                                           responseTemplates={"application/json": DYNAMODB_ERROR},
                                           responseParameters=CORS)


def resource_maker(apigw: Any, api_id: str) -> Any:
    def resource(parent: str, part: str) -> str:
        return apigw.create_resource(restApiId=api_id, parentId=parent, pathPart=part)["id"]

    return resource


def root_of(apigw: Any, api_id: str) -> str:
    return next(r["id"] for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")


def build_api(apigw: Any, role_arn: str) -> str:
    api_id = apigw.create_rest_api(name="routing", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = root_of(apigw, api_id)
    resource = resource_maker(apigw, api_id)
    validator = apigw.create_request_validator(restApiId=api_id, name="all", validateRequestBody=True,
                                               validateRequestParameters=True)["id"]
    for name, schema in (("StateUpdate", STATE_MODEL), ("CommentCreate", COMMENT_MODEL)):
        apigw.create_model(restApiId=api_id, name=name, contentType="application/json", schema=json.dumps(schema))

    state = resource(root, "state")
    state_app = resource(state, "{appId}")
    state_current = resource(state, "current")  # a literal sibling of {appId}
    comments_photo = resource(resource(root, "comments"), "{photoId}")
    naive = resource(resource(root, "naive"), "{id}")
    health = resource(root, "health")
    broken = resource(root, "broken")
    common = {"role_arn": role_arn}
    put_method(apigw, api_id, state_app, "GET", action="GetItem", request=STATE_GET_REQUEST,
               response=STATE_GET_RESPONSE, validator=validator, params={"method.request.path.appId": True}, **common)
    put_method(apigw, api_id, state_app, "PUT", action="UpdateItem", request=STATE_PUT_REQUEST,
               response=STATE_PUT_RESPONSE, model="StateUpdate", validator=validator, **common)
    put_method(apigw, api_id, comments_photo, "POST", action="TransactWriteItems", request=COMMENT_POST_REQUEST,
               response=COMMENT_POST_RESPONSE, model="CommentCreate", validator=validator, **common)
    put_method(apigw, api_id, comments_photo, "GET", action="Query", request=COMMENTS_GET_REQUEST,
               response='{"count": $input.path(\'$.Count\')}', **common)  # Query on Comments is NOT granted
    put_method(apigw, api_id, naive, "POST", action="PutItem", request=NAIVE_REQUEST, response='{"ok": true}',
               **common)
    put_method(apigw, api_id, state_current, "GET", auth="NONE", mock=True, response='{"which": "literal"}')
    put_method(apigw, api_id, health, "GET", auth="NONE", mock=True,
               response='{"probe": "$input.params(\'probe\')"}', validator=validator,
               params={"method.request.querystring.probe": True, "method.request.header.X-Probe": True})
    # A MOCK whose request template does not name a status: the API is broken (5xx).
    put_method(apigw, api_id, broken, "GET", auth="NONE", mock=True, request="not a status", response="{}")

    # CORS preflight: MOCK, no auth (browsers never sign preflights).
    apigw.put_method(restApiId=api_id, resourceId=state_app, httpMethod="OPTIONS", authorizationType="NONE")
    preflight = {f"method.response.header.Access-Control-Allow-{h}": False for h in ("Origin", "Methods", "Headers")}
    apigw.put_method_response(restApiId=api_id, resourceId=state_app, httpMethod="OPTIONS", statusCode="200",
                              responseParameters=preflight)
    apigw.put_integration(restApiId=api_id, resourceId=state_app, httpMethod="OPTIONS", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'}, passthroughBehavior="NEVER")
    apigw.put_integration_response(
        restApiId=api_id, resourceId=state_app, httpMethod="OPTIONS", statusCode="200",
        responseTemplates={"application/json": ""},
        responseParameters={
            "method.response.header.Access-Control-Allow-Origin": f"'{ORIGIN}'",
            "method.response.header.Access-Control-Allow-Methods": "'GET,PUT,OPTIONS'",
            "method.response.header.Access-Control-Allow-Headers": "'Content-Type,Authorization,X-Amz-Date'",
        },
    )
    # The program's gateway responses: its own template (substitution only) and CORS headers.
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        apigw.put_gateway_response(restApiId=api_id, responseType=kind,
                                   responseTemplates={"application/json": load_template(GATEWAY_ERROR_TEMPLATE)},
                                   responseParameters=GATEWAY_CORS)
    deployment = apigw.create_deployment(restApiId=api_id)["id"]
    apigw.create_stage(restApiId=api_id, stageName=STAGE, deploymentId=deployment)
    apigw.create_stage(restApiId=api_id, stageName=SLOW_STAGE, deploymentId=deployment)
    apigw.update_stage(restApiId=api_id, stageName=SLOW_STAGE, patchOperations=[
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(SLOW_RATE)},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(SLOW_BURST)},
    ])
    return api_id


def policy(*statements: tuple[list[str], list[str]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": resources} for actions, resources in statements]})


@pytest.fixture(scope="package")
def world() -> Iterator[World]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION}.items():
        os.environ.setdefault(key, value)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(TableName="AppConfig", BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": "appId", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "appId", "AttributeType": "S"}])
        dynamodb.create_table(TableName="Comments", BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": "photoId", "KeyType": "HASH"},
                                         {"AttributeName": "commentKey", "KeyType": "RANGE"}],
                              AttributeDefinitions=[{"AttributeName": "photoId", "AttributeType": "S"},
                                                    {"AttributeName": "commentKey", "AttributeType": "S"}])
        dynamodb.put_item(TableName="AppConfig", Item={"appId": {"S": "app"}, "state": {"S": "active"}})
        table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table"
        integration_role = f"arn:aws:iam::{ACCOUNT}:role/routing-integration"
        apigw = boto3.client("apigateway", region_name=REGION)
        api_id = build_api(apigw, integration_role)
        execute = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/*"

        broker = CredentialsBroker()
        broker.set_role_policies(integration_role, [policy(
            (["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"], [f"{table}/AppConfig"]),
            (["dynamodb:PutItem"], [f"{table}/Comments"]),
        )])
        cognito = make_cognito()
        broker.set_identity_pool_roles(cognito.identity_pool_id, {"authenticated": cognito.role_arn})
        # App users: read the state, post comments, the naive route; never PUT state.
        broker.set_role_policies(cognito.role_arn, [policy((["execute-api:Invoke"], [
            f"{execute}/GET/state/*", f"{execute}/POST/comments/*", f"{execute}/GET/comments/*",
            f"{execute}/POST/naive/*"]))])
        identity_id, creds = sign_in_identity(Client(broker.middleware(passthrough_app)), cognito, "alice")
        operator_role = f"arn:aws:iam::{ACCOUNT}:role/operator"
        broker.add_static_principal("AKIAOPERATOR0000", "operator-secret", operator_role,
                                    f"arn:aws:sts::{ACCOUNT}:assumed-role/operator/ops-cli")
        broker.set_role_policies(operator_role, [policy((["execute-api:Invoke"], [f"{execute}/*/*"]))])

        app = ExecuteApi(broker)
        yield World(
            api_id=api_id, app=app, client=Client(app), broker=broker, cognito=cognito, identity_id=identity_id,
            user=Credentials(creds["AccessKeyId"], creds["SecretKey"], creds["SessionToken"]),
            operator=Credentials("AKIAOPERATOR0000", "operator-secret"), dynamodb=dynamodb, apigw=apigw,
        )


def with_app(world: World, app: ExecuteApi) -> World:
    """The same world served by another ExecuteApi (another clock, broker or reading)."""
    return World(**{**world.__dict__, "app": app, "client": Client(app)})


def assert_gateway_error(got: TestResponse, status: int, code: str, message: str | None = None) -> None:
    """An error API Gateway itself answered: the program's {code, message} JSON, with CORS headers."""
    assert got.status_code == status, got.get_data(as_text=True)
    assert got.headers["Content-Type"] == "application/json"
    body = json.loads(got.get_data())
    assert set(body) == {"code", "message"} and body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    if message is not None:
        assert body["message"] == message
    assert got.headers["Access-Control-Allow-Origin"] == ORIGIN
