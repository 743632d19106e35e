"""Stage integration: MOCK answers its template's status; AWS calls DynamoDB as the integration role."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from sandbox.apigateway.integration import Integrations, mock
from sandbox.apigateway.invocation import GatewayError
from sandbox.credentials import ACCOUNT, CredentialsBroker
from tests.sandbox.apigateway.conftest import World

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table"


def test_a_mock_answers_the_status_its_request_template_names() -> None:
    assert mock('{"statusCode": 204}').status == "204"
    assert mock("").status == "200"
    with pytest.raises(GatewayError):
        mock("not json")


ROLE = "arn:aws:iam::123456789012:role/integration"


@pytest.mark.parametrize(
    ("action", "request_", "denied"),
    [
        # every item of a transaction needs its own item action on its own table (sandbox/iam_actions.py)
        ("TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "B", "Item": {}}},
                                                  {"ConditionCheck": {"TableName": "A", "Key": {}}}]},
         f"dynamodb:ConditionCheckItem on resource: {TABLE}/A because"),
        ("BatchWriteItem", {"RequestItems": {"B": [], "A": []}}, f"dynamodb:BatchWriteItem on resource: {TABLE}/A "),
        ("Query", {"TableName": "B", "IndexName": "byOwner"}, f"dynamodb:Query on resource: {TABLE}/B/index/byOwner"),
        # what the sandbox cannot map is refused, never let through
        ("ExecuteStatement", {"Statement": 'SELECT * FROM "B"'}, "no IAM mapping"),
        ("GetItem", ["not", "an", "object"], "no IAM mapping"),
    ],
)
def test_the_integration_role_needs_what_iam_actions_maps_for_the_call(action: str, request_: object,
                                                                       denied: str) -> None:
    broker = CredentialsBroker(ACCOUNT)
    broker.set_role_policies(ROLE, [{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:BatchWriteItem", "dynamodb:Query"],
         "Resource": f"{TABLE}/B"}]}])
    integration = SimpleNamespace(uri=f"arn:aws:apigateway:us-east-1:dynamodb:action/{action}", credentials=ROLE)
    answer = Integrations(broker, ACCOUNT).dynamodb(integration, json.dumps(request_), None)
    assert answer.status == "400"
    body = json.loads(answer.body)
    assert body["__type"] == "com.amazon.coral.service#AccessDeniedException"
    assert body["Message"].startswith(f"User: arn:aws:sts::{ACCOUNT}:assumed-role/integration/"), body
    assert denied in body["Message"]


def test_integration_role_without_the_grant_gets_dynamodbs_access_denied(world: World) -> None:
    got = world.call("GET", "/comments/p1", signer=world.user)  # Query on Comments is not in the role's policy
    assert got.status_code == 500
    assert got.json == {"code": "INTERNAL"}  # the error template's answer to AccessDeniedException


def test_a_template_producing_invalid_json_gets_dynamodbs_serialization_error(world: World) -> None:
    got = world.call("POST", "/naive/1", {"raw": 'a"b'}, signer=world.user)
    assert got.status_code == 400
    assert got.json == {"code": "BAD_REQUEST", "type": "com.amazon.coral.service#SerializationException"}
    assert world.call("POST", "/naive/1", {"raw": "ab"}, signer=world.user).json == {"ok": True}


def test_a_transaction_writes_the_item_as_the_caller(world: World) -> None:
    got = world.call("POST", "/comments/p1", {"message": "hello"}, signer=world.user)
    assert got.status_code == 200, got.get_data(as_text=True)
    items = world.dynamodb.query(TableName="Comments", KeyConditionExpression="photoId = :p",
                                 ExpressionAttributeValues={":p": {"S": "p1"}})["Items"]
    mine = [i for i in items if i["commentKey"]["S"].endswith(got.json["commentId"])]
    assert [(i["user"]["S"], i["message"]["S"]) for i in mine] == [(world.identity_id, "hello")]
