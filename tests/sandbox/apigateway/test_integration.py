"""Stage integration: MOCK answers its template's status; AWS calls DynamoDB as the integration role."""

from __future__ import annotations

import pytest

from sandbox.apigateway.integration import dynamodb_permissions, mock
from sandbox.apigateway.invocation import GatewayError
from tests.sandbox.apigateway.conftest import World

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table"


def test_a_mock_answers_the_status_its_request_template_names() -> None:
    assert mock('{"statusCode": 204}').status == "204"
    assert mock("").status == "200"
    with pytest.raises(GatewayError):
        mock("not json")


@pytest.mark.parametrize(
    ("action", "request_", "needs"),
    [
        ("GetItem", {"TableName": "T"}, [("dynamodb:GetItem", f"{TABLE}/T")]),
        ("Query", {"TableName": "T", "IndexName": "byOwner"}, [("dynamodb:Query", f"{TABLE}/T/index/byOwner")]),
        ("TransactWriteItems", {"TransactItems": [{"ConditionCheck": {"TableName": "A"}}, {"Put": {"TableName": "B"}},
                                                  {"Delete": {"TableName": "B"}}]},
         [("dynamodb:ConditionCheckItem", f"{TABLE}/A"), ("dynamodb:PutItem", f"{TABLE}/B"),
          ("dynamodb:DeleteItem", f"{TABLE}/B")]),
        ("BatchWriteItem", {"RequestItems": {"A": [], "B": []}},
         [("dynamodb:BatchWriteItem", f"{TABLE}/A"), ("dynamodb:BatchWriteItem", f"{TABLE}/B")]),
        ("GetItem", ["not", "an", "object"], []),
    ],
)
def test_every_table_a_dynamodb_call_touches_needs_its_own_grant(action: str, request_: object,
                                                                  needs: list[tuple[str, str]]) -> None:
    assert dynamodb_permissions(action, request_, "us-east-1", "123456789012") == needs


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
