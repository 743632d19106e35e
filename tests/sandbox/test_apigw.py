"""The execute-api emulator: a REST API stored in moto, run like API Gateway runs it.

GIVEN an API built with boto3 in moto (AWS integrations to DynamoDB with request/response
templates, a validator + models, a MOCK OPTIONS, gateway responses, AWS_IAM methods), tables,
an app-user identity from the credentials broker and an operator key,
WHEN requests signed with botocore's SigV4Auth (or not) go through the WSGI app,
THEN the answers are API Gateway's: statuses, JSON bodies, CORS headers, DynamoDB effects.
"""

from __future__ import annotations

import json
import os
import time
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

from sandbox.apigw import ExecuteApi
from sandbox.credentials import ACCOUNT, CredentialsBroker
from tests.sandbox.test_credentials import CognitoSetup, make_cognito, passthrough_app, sign_in_identity

REGION = "us-east-1"
STAGE = "prod"
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
GATEWAY_ERROR = """{"code": "$context.error.responseType", "message": $context.error.messageString}"""
BAD_REQUEST_BODY = """{"code": "BAD_REQUEST_BODY", "message": "$context.error.message",
 "details": "$util.escapeJavaScript($context.error.validationErrorString)"}"""

STATE_MODEL = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "required": ["state"],
               "properties": {"state": {"type": "string", "enum": ["active", "fenced", "failover"]}}}
COMMENT_MODEL = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "required": ["message"],
                 "properties": {"message": {"type": "string", "minLength": 1, "maxLength": 1000}}}
CORS = {"method.response.header.Access-Control-Allow-Origin": f"'{ORIGIN}'"}


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
        data = (body if isinstance(body, str) else json.dumps(body)) if body is not None else ""
        target = self.url(path, **url)
        all_headers = {"Host": HOST, "Origin": ORIGIN, **({"Content-Type": "application/json"} if data else {}),
                       **(headers or {})}
        if signer is not None:
            request = AWSRequest(method=method, url=f"http://{HOST}{target}", data=data.encode(), headers=all_headers)
            SigV4Auth(signer, "execute-api", region).add_auth(request)
            all_headers = dict(request.headers.items())
            if tamper:
                data = data.replace("fenced", "active") if "fenced" in data else data + " "
        return self.client.open(target, method=method, data=data.encode(), headers=all_headers,
                                environ_overrides=environ or {})


def _put(apigw: Any, api_id: str, resource_id: str, method: str, *, auth: str = "AWS_IAM", action: str = "",
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
                              requestTemplates={"application/json": '{"statusCode": 200}'}, passthroughBehavior="NEVER")
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


def build_api(role_arn: str) -> str:
    apigw = boto3.client("apigateway", region_name=REGION)
    api_id = apigw.create_rest_api(name="routing", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = next(r["id"] for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")

    def resource(parent: str, part: str) -> str:
        return apigw.create_resource(restApiId=api_id, parentId=parent, pathPart=part)["id"]

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
    common = {"role_arn": role_arn}
    _put(apigw, api_id, state_app, "GET", action="GetItem", request=STATE_GET_REQUEST, response=STATE_GET_RESPONSE,
         validator=validator, params={"method.request.path.appId": True}, **common)
    _put(apigw, api_id, state_app, "PUT", action="UpdateItem", request=STATE_PUT_REQUEST,
         response=STATE_PUT_RESPONSE, model="StateUpdate", validator=validator, **common)
    _put(apigw, api_id, comments_photo, "POST", action="TransactWriteItems", request=COMMENT_POST_REQUEST,
         response=COMMENT_POST_RESPONSE, model="CommentCreate", validator=validator, **common)
    _put(apigw, api_id, comments_photo, "GET", action="Query", request=COMMENTS_GET_REQUEST,
         response='{"count": $input.path(\'$.Count\')}', **common)  # Query on Comments is NOT granted
    _put(apigw, api_id, naive, "POST", action="PutItem", request=NAIVE_REQUEST, response='{"ok": true}', **common)
    _put(apigw, api_id, state_current, "GET", auth="NONE", mock=True, response='{"which": "literal"}')
    _put(apigw, api_id, health, "GET", auth="NONE", mock=True, response='{"probe": "$input.params(\'probe\')"}',
         validator=validator, params={"method.request.querystring.probe": True})

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
    for kind, template, status in (("DEFAULT_4XX", GATEWAY_ERROR, None), ("DEFAULT_5XX", GATEWAY_ERROR, None),
                                   ("BAD_REQUEST_BODY", BAD_REQUEST_BODY, "400")):
        extra = {"statusCode": status} if status else {}
        apigw.put_gateway_response(restApiId=api_id, responseType=kind,
                                   responseTemplates={"application/json": template},
                                   responseParameters={"gatewayresponse.header.Access-Control-Allow-Origin":
                                                       f"'{ORIGIN}'"}, **extra)
    deployment = apigw.create_deployment(restApiId=api_id)["id"]
    apigw.create_stage(restApiId=api_id, stageName=STAGE, deploymentId=deployment)
    return api_id


def _policy(*statements: tuple[list[str], list[str]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": resources} for actions, resources in statements]})


@pytest.fixture(scope="module")
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
        api_id = build_api(integration_role)
        execute = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/{STAGE}"

        broker = CredentialsBroker()
        broker.set_role_policies(integration_role, [_policy(
            (["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"], [f"{table}/AppConfig"]),
            (["dynamodb:PutItem"], [f"{table}/Comments"]),
        )])
        cognito = make_cognito()
        broker.set_identity_pool_roles(cognito.identity_pool_id, {"authenticated": cognito.role_arn})
        # App users: read the state, post comments, the naive route; never PUT state.
        broker.set_role_policies(cognito.role_arn, [_policy((["execute-api:Invoke"], [
            f"{execute}/GET/state/*", f"{execute}/POST/comments/*", f"{execute}/GET/comments/*",
            f"{execute}/POST/naive/*"]))])
        identity_id, creds = sign_in_identity(Client(broker.middleware(passthrough_app)), cognito, "alice")
        operator_role = f"arn:aws:iam::{ACCOUNT}:role/operator"
        broker.add_static_principal("AKIAOPERATOR0000", "operator-secret", operator_role,
                                    f"arn:aws:sts::{ACCOUNT}:assumed-role/operator/ops-cli")
        broker.set_role_policies(operator_role, [_policy((["execute-api:Invoke"], [f"{execute}/*/*"]))])

        app = ExecuteApi(broker)
        yield World(
            api_id=api_id, app=app, client=Client(app), broker=broker, cognito=cognito, identity_id=identity_id,
            user=Credentials(creds["AccessKeyId"], creds["SecretKey"], creds["SessionToken"]),
            operator=Credentials("AKIAOPERATOR0000", "operator-secret"), dynamodb=dynamodb,
        )


def _set_state(world: World, state: str) -> None:
    world.dynamodb.put_item(TableName="AppConfig", Item={"appId": {"S": "app"}, "state": {"S": state}})


# -- happy paths ------------------------------------------------------------------------------------------------
def test_signed_get_returns_the_response_templates_json(world: World) -> None:
    got = world.call("GET", "/state/app", signer=world.user)
    assert got.status_code == 200, got.get_data(as_text=True)
    assert got.json == {"state": "active",
                        "by": f"arn:aws:sts::{ACCOUNT}:assumed-role/app-users/CognitoIdentityCredentials"}
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["Access-Control-Allow-Origin"] == ORIGIN  # the integration response's parameter


def test_operator_key_may_put_the_state_and_dynamodb_changes(world: World) -> None:
    got = world.call("PUT", "/state/app", {"state": "fenced"}, signer=world.operator)
    try:
        assert got.status_code == 200, got.get_data(as_text=True)
        assert got.json == {"state": "fenced"}
        item = world.dynamodb.get_item(TableName="AppConfig", Key={"appId": {"S": "app"}})["Item"]
        assert item["state"] == {"S": "fenced"}
    finally:
        _set_state(world, "active")


def test_cognito_identity_reaches_the_templates_and_the_item(world: World) -> None:
    got = world.call("POST", "/comments/p1", {"message": "hello", "user": "mallory"}, signer=world.user)
    assert got.status_code == 200, got.get_data(as_text=True)
    assert got.json["user"] == world.identity_id
    assert got.json["photoId"] == "p1"
    assert got.json["provider"].startswith(f"{world.cognito.provider},{world.cognito.provider}:CognitoSignIn:")
    items = world.dynamodb.query(TableName="Comments", KeyConditionExpression="photoId = :p",
                                 ExpressionAttributeValues={":p": {"S": "p1"}})["Items"]
    assert [(i["user"]["S"], i["message"]["S"]) for i in items] == [(world.identity_id, "hello")]
    assert items[0]["commentKey"]["S"].endswith(got.json["commentId"])


def test_mock_options_answers_the_cors_preflight_unsigned(world: World) -> None:
    got = world.call("OPTIONS", "/state/app")
    assert got.status_code == 200
    assert got.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert got.headers["Access-Control-Allow-Methods"] == "GET,PUT,OPTIONS"
    assert "Authorization" in got.headers["Access-Control-Allow-Headers"]


def test_a_literal_resource_wins_over_a_path_parameter(world: World) -> None:
    got = world.call("GET", "/state/current")
    assert got.status_code == 200 and got.json == {"which": "literal"}


# -- authentication ----------------------------------------------------------------------------------------------
def test_unsigned_request_to_an_iam_method_is_403_json(world: World) -> None:
    got = world.call("GET", "/state/app")
    assert got.status_code == 403
    assert got.json == {"code": "MISSING_AUTHENTICATION_TOKEN", "message": "Missing Authentication Token"}
    assert got.headers["Access-Control-Allow-Origin"] == ORIGIN  # gateway responses carry CORS headers


def test_bad_signature_is_403_invalid_signature(world: World) -> None:
    got = world.call("PUT", "/state/app", {"state": "fenced"}, signer=world.operator, tamper=True)
    assert got.status_code == 403
    assert got.json["code"] == "INVALID_SIGNATURE"
    assert got.json["message"].startswith("The request signature we calculated does not match")
    assert world.dynamodb.get_item(TableName="AppConfig", Key={"appId": {"S": "app"}})["Item"]["state"]["S"] == "active"


def test_wrong_secret_is_refused(world: World) -> None:
    got = world.call("GET", "/state/app", signer=Credentials(world.user.access_key, "not-the-secret", world.user.token))
    assert got.status_code == 403 and got.json["code"] == "INVALID_SIGNATURE"


def test_unknown_access_key_is_refused(world: World) -> None:
    got = world.call("GET", "/state/app", signer=Credentials("AKIANOBODY000000", "secret"))
    assert got.status_code == 403
    assert got.json["message"] == "The security token included in the request is invalid."


def test_temporary_credentials_need_their_session_token(world: World) -> None:
    got = world.call("GET", "/state/app", signer=Credentials(world.user.access_key, world.user.secret_key))
    assert got.status_code == 403
    assert got.json["message"] == "The security token included in the request is invalid."


def test_signature_scoped_to_another_region_is_refused(world: World) -> None:
    got = world.call("GET", "/state/app", signer=world.user, region="ap-northeast-1")
    assert got.status_code == 403
    assert got.json["message"] == "Credential should be scoped to a valid region, not 'ap-northeast-1'. "


def test_signature_older_than_15_minutes_is_refused(world: World) -> None:
    late = ExecuteApi(world.broker, clock=lambda: time.time() + 16 * 60)
    world_late = World(**{**world.__dict__, "app": late, "client": Client(late)})
    got = world_late.call("GET", "/state/app", signer=world.user)
    assert got.status_code == 403
    assert got.json["message"].startswith("Signature expired:")
    assert world.call("GET", "/state/app", signer=world.user).status_code == 200


def test_expired_credentials_are_refused(world: World) -> None:
    broker = CredentialsBroker(credential_ttl=-1)  # minted already expired
    broker.set_identity_pool_roles(world.cognito.identity_pool_id, {"authenticated": world.cognito.role_arn})
    broker.set_role_policies(world.cognito.role_arn, world.broker.policies(world.cognito.role_arn))
    _, creds = sign_in_identity(Client(broker.middleware(passthrough_app)), world.cognito, "alice")
    app = ExecuteApi(broker)
    expired = World(**{**world.__dict__, "app": app, "client": Client(app)})
    got = expired.call("GET", "/state/app",
                       signer=Credentials(creds["AccessKeyId"], creds["SecretKey"], creds["SessionToken"]))
    assert got.status_code == 403
    assert got.json == {"code": "EXPIRED_TOKEN", "message": "The security token included in the request is expired"}


# -- authorization -------------------------------------------------------------------------------------------------
def test_principal_whose_policy_lacks_the_route_is_403_access_denied(world: World) -> None:
    got = world.call("PUT", "/state/app", {"state": "fenced"}, signer=world.user)
    assert got.status_code == 403
    assert got.json["code"] == "ACCESS_DENIED"
    resource = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{world.api_id}/{STAGE}/PUT/state/app"
    assert got.json["message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/app-users/CognitoIdentityCredentials is not authorized to "
        f"perform: execute-api:Invoke on resource: {resource}"
    )
    assert world.dynamodb.get_item(TableName="AppConfig", Key={"appId": {"S": "app"}})["Item"]["state"]["S"] == "active"


def test_integration_role_without_the_grant_gets_dynamodbs_access_denied(world: World) -> None:
    got = world.call("GET", "/comments/p1", signer=world.user)  # Query on Comments is not in the role's policy
    assert got.status_code == 500
    assert got.json == {"code": "INTERNAL"}


# -- validation and errors -------------------------------------------------------------------------------------------
def test_body_failing_the_model_is_400_with_the_validation_message(world: World) -> None:
    got = world.call("PUT", "/state/app", {"state": "paused"}, signer=world.operator)
    assert got.status_code == 400
    assert got.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert got.json["code"] == "BAD_REQUEST_BODY"
    assert got.json["message"] == "Invalid request body"
    assert got.json["details"] == (
        '[instance value ("paused") not found in enum (possible values: ["active","fenced","failover"])]'
    )


def test_missing_and_too_long_fields_are_named(world: World) -> None:
    missing = world.call("POST", "/comments/p2", {"text": "x"}, signer=world.user)
    too_long = world.call("POST", "/comments/p2", {"message": "x" * 1001}, signer=world.user)
    assert missing.status_code == too_long.status_code == 400
    assert missing.json["details"] == '[object has missing required properties (["message"])]'
    assert "is too long (length: 1001, maximum allowed: 1000)" in too_long.json["details"]
    assert world.call("POST", "/comments/p2", {"message": "x" * 1000}, signer=world.user).status_code == 200


def test_invalid_json_body_is_400(world: World) -> None:
    got = world.call("PUT", "/state/app", '{"state": ', signer=world.operator)
    assert got.status_code == 400
    assert got.json["code"] == "BAD_REQUEST_BODY"
    assert got.json["details"].startswith("[Invalid JSON")


def test_missing_required_query_parameter_is_400(world: World) -> None:
    missing = world.client.get(world.url("/health"), headers={"Host": HOST})
    present = world.client.get(world.url("/health") + "?probe=yes", headers={"Host": HOST})
    assert missing.status_code == 400
    assert json.loads(missing.get_data()) == {"code": "BAD_REQUEST_PARAMETERS",
                                              "message": "Missing required request parameters: [probe]"}
    assert present.status_code == 200 and present.json == {"probe": "yes"}


def test_dynamodb_conditional_failure_maps_to_the_error_templates_409(world: World) -> None:
    _set_state(world, "fenced")
    try:
        got = world.call("POST", "/comments/p3", {"message": "blocked"}, signer=world.user)
    finally:
        _set_state(world, "active")
    assert got.status_code == 409
    assert got.json == {"code": "READ_ONLY"}
    assert got.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert world.dynamodb.query(TableName="Comments", KeyConditionExpression="photoId = :p",
                                ExpressionAttributeValues={":p": {"S": "p3"}})["Count"] == 0


def test_template_producing_invalid_json_gets_dynamodbs_serialization_error(world: World) -> None:
    got = world.call("POST", "/naive/1", {"raw": 'a"b'}, signer=world.user)
    assert got.status_code == 400
    assert got.json == {"code": "BAD_REQUEST", "type": "com.amazon.coral.service#SerializationException"}
    assert world.call("POST", "/naive/1", {"raw": "ab"}, signer=world.user).json == {"ok": True}


def test_unsupported_content_type_is_415_when_passthrough_is_never(world: World) -> None:
    got = world.call("POST", "/comments/p4", "message=hi", signer=world.user,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert got.status_code == 415
    assert got.json == {"code": "UNSUPPORTED_MEDIA_TYPE", "message": "Unsupported Media Type"}


# -- routing misses ------------------------------------------------------------------------------------------------
def test_unknown_path_is_403_missing_authentication_token(world: World) -> None:
    for method, path in (("GET", "/nowhere"), ("GET", "/state"), ("DELETE", "/state/app"), ("GET", "/state/a/b")):
        got = world.call(method, path, signer=world.operator)
        assert got.status_code == 403, (method, path)
        assert got.json == {"code": "MISSING_AUTHENTICATION_TOKEN", "message": "Missing Authentication Token"}


def test_unknown_api_or_stage_is_forbidden(world: World) -> None:
    assert world.call("GET", "/state/app", signer=world.user, api_id="nope123456").status_code == 403
    got = world.call("GET", "/state/app", signer=world.user, stage="dev")
    assert got.status_code == 403 and got.json == {"message": "Forbidden"}


def test_an_api_is_served_only_on_its_own_regions_port(world: World) -> None:
    mine = world.call("GET", "/state/app", signer=world.user, environ={"sandbox.region": REGION})
    other = world.call("GET", "/state/app", signer=world.user, environ={"sandbox.region": "ap-northeast-1"})
    assert mine.status_code == 200
    assert other.status_code == 403 and other.json == {"message": "Forbidden"}


def test_signatures_cover_encoded_paths_and_query_strings(world: World) -> None:
    got = world.call("POST", "/comments/my%20photo%2Fx?b=2&a=x%20y", {"message": "hi"}, signer=world.user)
    assert got.status_code == 200, got.get_data(as_text=True)
    assert got.json["photoId"] == "my photo/x"  # decoded; an encoded slash stays inside its segment


def test_requests_are_counted_per_api(world: World) -> None:
    before = world.app.metrics().get(world.api_id, {"requests": 0, "statuses": {}})
    world.call("GET", "/state/app", signer=world.user)
    world.call("GET", "/state/app")
    after = world.app.metrics()[world.api_id]
    assert after["requests"] == before["requests"] + 2
    assert after["statuses"][200] >= before["statuses"].get(200, 0) + 1
    assert after["statuses"][403] >= before["statuses"].get(403, 0) + 1
    assert after["latencyMsMax"] > 0
