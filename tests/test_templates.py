"""The API templates build exactly the intended DynamoDB requests and answers, whatever the input.

Every template is filled with sample deployment values and rendered by the project's VTL engine
(API Gateway semantics); request templates must give valid JSON equal to the intended DynamoDB
request, response templates the intended API answer. The last tests replay whole flows against
moto's DynamoDB: what the templates send is accepted, and DynamoDB's real errors map as documented.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

import vtl
from components.contract import GALLERY, PHOTO_PREFIX, WRITABLE_STATE, Table
from components.route import Route
from components.routes import (
    PHOTOS_ROUTES,
    ROUTING_ROUTES,
    SHARED_TEMPLATES,
    TEMPLATES_DIR,
    fill_template,
    load_template,
    placeholders,
    route_templates,
    template_values,
)

TABLES = {Table.APP_CONFIG: "mra-prod-AppConfig", Table.COMMENTS: "mra-prod-Comments", Table.PHOTOS: "mra-prod-Photos",
          Table.STATE_AUDIT: "mra-prod-StateAudit"}
APP_ID = "photo-app"
VALUES = template_values(APP_ID, TABLES, "primary")
REQUEST_ID = "c0ffee00-1111-4222-8333-444455556666"
EPOCH = 1767225600123
IDENTITY = "us-east-1:7d8a1b2c-0000-4000-8000-123456789abc"
OPERATOR_ARN = "arn:aws:sts::123456789012:assumed-role/mra-prod-operator/alice"
CONTEXT = {
    "requestId": REQUEST_ID,
    "requestTimeEpoch": EPOCH,
    "identity": {"cognitoIdentityId": IDENTITY, "userArn": OPERATOR_ARN},
}

TRICKY = [
    "plain",
    "it's a \"quote\" of both 'kinds'",
    "back\\slash \\' \\\" \\\\",
    "line\nbreak\r\nand\ttab",
    "</script><script>alert(1)</script>",
    "emoji 😀👍🏽 and accents éàü and \u2028 separators \x01",
    '", "user": {"S": "admin"}, "x": "',
    "#set($x = 1) $context.requestId ${util} #end",
    "x" * 1000,
]


def render(name: str, *, body: Any = None, path: dict | None = None, query: dict | None = None,
           context: dict | None = None, values: dict | None = None) -> vtl.Rendered:
    text = fill_template(load_template(name), values or VALUES)
    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    params = {"path": path or {}, "querystring": query or {}, "header": {"Accept": "application/json"}}
    return vtl.render(text, body=raw or "", params=params, context={**CONTEXT, **(context or {})})


def render_json(name: str, **kwargs: Any) -> Any:
    return json.loads(render(name, **kwargs).text)


def fence_check(writable: str = "active") -> dict[str, Any]:
    return {
        "ConditionCheck": {
            "TableName": TABLES[Table.APP_CONFIG],
            "Key": {"appId": {"S": APP_ID}},
            "ConditionExpression": "#s = :w",
            "ExpressionAttributeNames": {"#s": "state"},
            "ExpressionAttributeValues": {":w": {"S": writable}},
        }
    }


def route(routes: tuple[Route, ...], method: str, path: str) -> Route:
    return next(r for r in routes if (r.method, r.path) == (method, path))


# -- request templates ------------------------------------------------------------------------------------------


def test_state_get_reads_the_path_app_id_consistently() -> None:
    request = render_json("state-get.request.vtl", path={"appId": 'odd"id\'s'}, query={"appId": "other"})
    assert request == {"TableName": TABLES[Table.APP_CONFIG], "Key": {"appId": {"S": 'odd"id\'s'}},
                       "ConsistentRead": True}


# state-put.*.vtl: tests/test_state_switch.py


def test_comments_get_queries_the_path_photo_in_creation_order() -> None:
    request = render_json("comments-get.request.vtl", path={"photoId": "p\"1"})
    assert request == {"TableName": TABLES[Table.COMMENTS], "KeyConditionExpression": "photoId = :photoId",
                       "ExpressionAttributeValues": {":photoId": {"S": 'p"1'}}, "ScanIndexForward": True}


def expected_comment_post(message: str, photo_id: str = "photo-1") -> dict[str, Any]:
    return {
        "TransactItems": [
            fence_check(),
            {"Put": {
                "TableName": TABLES[Table.COMMENTS],
                "Item": {
                    "photoId": {"S": photo_id},
                    "commentKey": {"S": f"{EPOCH}-{REQUEST_ID}"},
                    "commentId": {"S": REQUEST_ID},
                    "user": {"S": IDENTITY},
                    "message": {"S": message},
                    "createdAt": {"N": str(EPOCH)},
                },
                "ConditionExpression": "attribute_not_exists(commentKey)",
            }},
        ],
        "ClientRequestToken": REQUEST_ID,
    }


@pytest.mark.parametrize("message", TRICKY)
def test_comment_post_keeps_any_message_verbatim_in_valid_json(message: str) -> None:
    request = render_json("comments-post.request.vtl", body={"message": message}, path={"photoId": "photo-1"})
    assert request == expected_comment_post(message)
    assert request["TransactItems"][1]["Put"]["Item"]["message"]["S"] == message


def test_comment_post_cannot_inject_attributes_or_choose_user_or_photo() -> None:
    body = '{"message": "x\\", \\"user\\": {\\"S\\": \\"admin\\"}", "user": "mallory", "photoId": "other",' \
           ' "commentId": "mine", "createdAt": 1}'
    request = render_json("comments-post.request.vtl", body=body, path={"photoId": "photo-1"})
    assert request == expected_comment_post('x", "user": {"S": "admin"}')


def test_comments_are_keyed_by_13_digit_epoch_then_request_id() -> None:
    item = render_json("comments-post.request.vtl", body={"message": "m"},
                       path={"photoId": "p"})["TransactItems"][1]["Put"]["Item"]
    epoch, _, request_id = item["commentKey"]["S"].partition("-")
    assert (len(epoch), epoch.isdigit(), request_id) == (13, True, REQUEST_ID)


def test_writes_are_fenced_on_the_regions_own_writable_state() -> None:
    secondary = template_values(APP_ID, TABLES, "secondary")
    for name, body, path in (("comments-post.request.vtl", {"message": "m"}, {"photoId": "p"}),
                             ("photos-post.request.vtl", {"photoId": "p", "size": 1, "contentType": "image/png"}, {})):
        request = render_json(name, body=body, path=path, values=secondary)
        assert request["TransactItems"][0] == fence_check(WRITABLE_STATE["secondary"])


@pytest.mark.parametrize("content_type", ["image/png", "image/svg+xml"])
def test_photo_post_indexes_the_photo_as_the_caller(content_type: str) -> None:
    body = {"photoId": "abc_DEF-123", "size": 2048, "contentType": content_type, "owner": "mallory",
            "key": "private/x", "gallery": "other"}
    request = render_json("photos-post.request.vtl", body=body)
    assert request == {
        "TransactItems": [
            fence_check(),
            {"Put": {
                "TableName": TABLES[Table.PHOTOS],
                "Item": {
                    "gallery": {"S": GALLERY},
                    "photoKey": {"S": f"{EPOCH}-abc_DEF-123"},
                    "photoId": {"S": "abc_DEF-123"},
                    "key": {"S": f"{PHOTO_PREFIX}abc_DEF-123"},
                    "owner": {"S": IDENTITY},
                    "createdAt": {"N": str(EPOCH)},
                    "size": {"N": "2048"},
                    "contentType": {"S": content_type},
                },
                "ConditionExpression": "attribute_not_exists(photoKey)",
            }},
        ],
        "ClientRequestToken": REQUEST_ID,
    }


def photos_query(limit: int, start_key: str | None = None) -> dict[str, Any]:
    query: dict[str, Any] = {
        "TableName": TABLES[Table.PHOTOS],
        "KeyConditionExpression": "gallery = :gallery",
        "ExpressionAttributeValues": {":gallery": {"S": GALLERY}},
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start_key is not None:
        query["ExclusiveStartKey"] = {"gallery": {"S": GALLERY}, "photoKey": {"S": start_key}}
    return query


@pytest.mark.parametrize(("limit", "expected"), [(None, 24), ("", 24), ("1", 1), ("42", 42), ("100", 100)])
def test_photos_get_pages_newest_first_with_a_limit(limit: str | None, expected: int) -> None:
    query = {} if limit is None else {"limit": limit}
    assert render_json("photos-get.request.vtl", query=query) == photos_query(expected)


@pytest.mark.parametrize("limit", ["0", "101", "-1", "1.5", "abc", "10 ", "1e2", '1", "x": "'])
def test_photos_get_with_an_invalid_limit_ends_as_400_naming_limit(limit: str) -> None:
    assert render_json("photos-get.request.vtl", query={"limit": limit}) == photos_query(0)
    dynamodb_says = {"__type": "com.amazon.coral.validate#ValidationException",
                     "message": "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
                                "Member must have value greater than or equal to 1"}
    error = render("dynamodb-error.vtl", body=dynamodb_says, query={"limit": limit},
                   context={"resourcePath": "/photos"})
    assert error.status_override == 400
    assert json.loads(error.text) == {"code": "BAD_REQUEST",
                                      "message": "Query parameter limit must be an integer from 1 to 100."}


def test_photos_cursor_round_trips_from_next_into_the_exclusive_start_key() -> None:
    last_key = {"gallery": {"S": GALLERY}, "photoKey": {"S": "1767225600123-abc_DEF-9"}}
    page = render_json("photos-get.response.vtl", body={"Items": [], "LastEvaluatedKey": last_key})
    cursor = page["next"]
    assert cursor and set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert render_json("photos-get.request.vtl", query={"cursor": cursor, "limit": "2"}) == \
        photos_query(2, "1767225600123-abc_DEF-9")


@pytest.mark.parametrize("cursor", ["not a cursor", "AAAA", base64.urlsafe_b64encode(b'1", "x": "y').decode(),
                                    base64.urlsafe_b64encode(b"1767225600123-bad/id").decode().rstrip("=")])
def test_photos_get_with_an_invalid_cursor_ends_as_400_naming_cursor(cursor: str) -> None:
    assert render_json("photos-get.request.vtl", query={"cursor": cursor}) == photos_query(24, "")
    dynamodb_says = {"__type": "com.amazon.coral.validate#ValidationException",
                     "message": "One or more parameter values are not valid. The AttributeValue for a key "
                                "attribute cannot contain an empty string value. Key: photoKey"}
    error = render("dynamodb-error.vtl", body=dynamodb_says, query={"cursor": cursor},
                   context={"resourcePath": "/photos"})
    assert error.status_override == 400
    assert "cursor" in json.loads(error.text)["message"]


def test_cors_preflight_mock_answers_200() -> None:
    assert render_json("cors-preflight.request.vtl") == {"statusCode": 200}


# -- response templates ---------------------------------------------------------------------------------------------


def test_state_get_answers_the_state_or_404() -> None:
    hit = render("state-get.response.vtl", body={"Item": {"appId": {"S": APP_ID}, "state": {"S": "fenced"},
                                                          "version": {"N": "12"}}})
    assert (hit.status_override, json.loads(hit.text)) == (None, {"state": "fenced", "version": 12})
    miss = render("state-get.response.vtl", body={})
    assert (miss.status_override, json.loads(miss.text)) == (404, {"code": "NOT_FOUND",
                                                                   "message": "unknown application id"})


def test_state_get_of_an_item_without_version_answers_version_0() -> None:
    answer = render_json("state-get.response.vtl", body={"Item": {"appId": {"S": APP_ID}, "state": {"S": "active"}}})
    assert answer == {"state": "active", "version": 0}


def comment_item(n: int, message: str) -> dict[str, Any]:
    return {"photoId": {"S": "p1"}, "commentKey": {"S": f"{EPOCH + n}-r{n}"}, "commentId": {"S": f"r{n}"},
            "user": {"S": f"us-east-1:{n}"}, "message": {"S": message}, "createdAt": {"N": str(EPOCH + n)}}


@pytest.mark.parametrize("count", [0, 1, len(TRICKY)])
def test_comments_get_answers_every_comment_in_order_with_strings_intact(count: int) -> None:
    items = [comment_item(n, TRICKY[n]) for n in range(count)]
    answer = render_json("comments-get.response.vtl", body={"Items": items, "Count": count})
    assert answer == {"comments": [
        {"commentId": f"r{n}", "photoId": "p1", "user": f"us-east-1:{n}", "message": TRICKY[n],
         "createdAt": EPOCH + n} for n in range(count)]}


def test_comment_post_answers_the_new_comment_from_the_request() -> None:
    answer = render_json("comments-post.response.vtl", body={}, path={"photoId": "p\"1"})
    assert answer == {"commentId": REQUEST_ID, "photoId": 'p"1', "user": IDENTITY, "createdAt": EPOCH}


def test_photo_post_answers_the_owner_and_time() -> None:
    assert render_json("photos-post.response.vtl", body={}) == {"owner": IDENTITY, "createdAt": EPOCH}


def photo_item(n: int, content_type: str = "image/jpeg") -> dict[str, Any]:
    return {"gallery": {"S": GALLERY}, "photoKey": {"S": f"{EPOCH + n}-id{n}"}, "photoId": {"S": f"id{n}"},
            "key": {"S": f"public/id{n}"}, "owner": {"S": TRICKY[n % len(TRICKY)]},
            "createdAt": {"N": str(EPOCH + n)}, "size": {"N": str(100 + n)}, "contentType": {"S": content_type}}


@pytest.mark.parametrize("count", [0, 1, 5])
def test_photos_get_answers_the_page_in_order_and_no_next_on_the_last_page(count: int) -> None:
    items = [photo_item(n) for n in reversed(range(count))]
    answer = render_json("photos-get.response.vtl", body={"Items": items, "Count": count})
    assert answer == {"photos": [
        {"photoId": f"id{n}", "key": f"public/id{n}", "owner": TRICKY[n % len(TRICKY)], "createdAt": EPOCH + n,
         "size": 100 + n, "contentType": "image/jpeg"} for n in reversed(range(count))], "next": None}


# -- errors -----------------------------------------------------------------------------------------------------------

DDB = "com.amazonaws.dynamodb.v20120810#"


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        ({"__type": DDB + "TransactionCanceledException", "message": "cancelled [ConditionalCheckFailed, None]",
          "CancellationReasons": [{"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
                                  {"Code": "None"}]}, 409, "READ_ONLY"),
        ({"__type": DDB + "TransactionCanceledException", "Message": "cancelled [None, ConditionalCheckFailed]",
          "CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed"}]}, 409, "CONFLICT"),
        ({"__type": DDB + "TransactionCanceledException", "message": "cancelled",
          "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}]}, 409, "CONFLICT"),
        ({"__type": DDB + "TransactionCanceledException", "message": "cancelled",
          "CancellationReasons": [{"Code": "None"}, {"Code": "ThrottlingError"}]}, 429, "THROTTLED"),
        ({"__type": DDB + "ConditionalCheckFailedException", "message": "The conditional request failed"}, 409,
         "CONFLICT"),
        ({"__type": DDB + "TransactionConflictException", "message": "conflict"}, 409, "CONFLICT"),
        ({"__type": "com.amazon.coral.validate#ValidationException", "message": "Bad 'value' \"x\""}, 400,
         "BAD_REQUEST"),
        ({"__type": "com.amazon.coral.service#SerializationException", "Message": "Unexpected character"}, 400,
         "BAD_REQUEST"),
        ({"__type": DDB + "ProvisionedThroughputExceededException", "message": "slow down"}, 429, "THROTTLED"),
        ({"__type": "com.amazon.coral.availability#ThrottlingException", "message": "Rate exceeded"}, 429,
         "THROTTLED"),
        ({"__type": DDB + "RequestLimitExceeded", "message": "Throughput exceeds the account limit"}, 429,
         "THROTTLED"),
        ({"__type": "com.amazon.coral.service#AccessDeniedException", "Message": "User: arn:... is not authorized"},
         500, "INTERNAL"),
        ({"__type": DDB + "ResourceNotFoundException", "message": "Requested resource not found"}, 500, "INTERNAL"),
        ({"__type": "com.amazon.coral.service#InternalServerError", "message": "oops"}, 503, "UNAVAILABLE"),
        ({"__type": DDB + "ServiceUnavailableException"}, 503, "UNAVAILABLE"),
        ("<html>502 Bad Gateway</html>", 503, "UNAVAILABLE"),
        ("", 503, "UNAVAILABLE"),
    ],
)
def test_dynamodb_errors_map_to_status_and_code(error: Any, status: int, code: str) -> None:
    rendered = render("dynamodb-error.vtl", body=error, context={"resourcePath": "/comments/{photoId}"})
    answer = json.loads(rendered.text)
    assert (rendered.status_override, answer["code"]) == (status, code)
    assert set(answer) == {"code", "message"} and answer["message"]
    if status in (429, 503):
        assert rendered.header_overrides == {"Retry-After": "1"}


def test_read_only_error_tells_the_user_to_try_again() -> None:
    error = {"__type": DDB + "TransactionCanceledException", "message": "x",
             "CancellationReasons": [{"Code": "ConditionalCheckFailed"}, {"Code": "None"}]}
    assert render_json("dynamodb-error.vtl", body=error)["message"] == (
        "The application is read-only in this region right now (state check failed); try again in a few moments.")


def test_validation_errors_pass_dynamodbs_message_escaped() -> None:
    message = "Value 'x\"y' at \\path\\ is </bad>\n"
    answer = render_json("dynamodb-error.vtl", body={"__type": "com.amazon.coral.validate#ValidationException",
                                                      "message": message})
    assert answer == {"code": "BAD_REQUEST", "message": message}


@pytest.mark.parametrize("response_type", ["DEFAULT_4XX", "DEFAULT_5XX", "ACCESS_DENIED"])
def test_gateway_errors_are_json_with_the_response_type(response_type: str) -> None:
    message = 'User is not authorized to access "this" resource\n'
    answer = render_json("gateway-error.vtl", context={"error": {"message": message, "responseType": response_type}})
    assert answer == {"code": response_type, "message": message}


def test_bad_request_body_names_the_failed_rule() -> None:
    details = '[object has missing required properties (["message"])]'
    answer = render_json("gateway-bad-request-body.vtl", context={"error": {
        "message": "Invalid request body", "responseType": "BAD_REQUEST_BODY", "validationErrorString": details}})
    assert answer == {"code": "BAD_REQUEST_BODY", "message": f"Invalid request body: {details}"}


# -- the route tables and the template files ---------------------------------------------------------------------


def test_every_template_file_is_used_and_every_used_template_exists() -> None:
    on_disk = {p.name for p in Path(TEMPLATES_DIR).glob("*.vtl")}
    used = route_templates(ROUTING_ROUTES) | route_templates(PHOTOS_ROUTES) | set(SHARED_TEMPLATES)
    assert on_disk == used


def test_every_placeholder_has_a_value_in_template_values() -> None:
    for name in (p.name for p in Path(TEMPLATES_DIR).glob("*.vtl")):
        assert placeholders(load_template(name)) <= set(VALUES), name


def test_fill_template_names_missing_placeholders_and_refuses_unsafe_values() -> None:
    with pytest.raises(ValueError, match="appConfigTable"):
        fill_template(load_template("state-get.request.vtl"), {})
    with pytest.raises(ValueError, match="appConfigTable"):
        fill_template(load_template("state-get.request.vtl"), {"appConfigTable": 'x", "y": "'})
    assert '"TableName": "T"' in fill_template(load_template("state-get.request.vtl"), {"appConfigTable": "T"})


@pytest.mark.parametrize("role", ["primary", "secondary"])
def test_template_values_of_a_region(role: str) -> None:
    assert template_values(APP_ID, TABLES, role) == {
        "appId": APP_ID, "appConfigTable": TABLES["appConfig"], "commentsTable": TABLES["comments"],
        "photosTable": TABLES["photos"], "stateAuditTable": TABLES["stateAudit"], "regionRole": role,
        "writableState": WRITABLE_STATE[role], "gallery": GALLERY, "photoPrefix": PHOTO_PREFIX}


def test_template_values_reject_an_unknown_role_or_missing_table() -> None:
    with pytest.raises(ValueError, match="role"):
        template_values(APP_ID, TABLES, "tertiary")
    with pytest.raises(ValueError, match="photos"):
        template_values(APP_ID, {"appConfig": "a", "comments": "c"}, "primary")


def test_routes_grant_exactly_the_actions_their_integrations_call() -> None:
    grants = {(r.method, r.path): (r.action, r.grants, r.operator_only) for r in (*ROUTING_ROUTES, *PHOTOS_ROUTES)}
    assert grants == {
        ("GET", "/state/{appId}"): ("GetItem", (("dynamodb:GetItem", "appConfig"),), False),
        ("PUT", "/state/{appId}"): ("TransactWriteItems", (("dynamodb:PutItem", "stateAudit"),
                                                           ("dynamodb:UpdateItem", "appConfig")), True),
        ("GET", "/comments/{photoId}"): ("Query", (("dynamodb:Query", "comments"),), False),
        ("POST", "/comments/{photoId}"): ("TransactWriteItems", (("dynamodb:ConditionCheckItem", "appConfig"),
                                                                 ("dynamodb:PutItem", "comments")), False),
        ("GET", "/photos"): ("Query", (("dynamodb:Query", "photos"),), False),
        ("POST", "/photos"): ("TransactWriteItems", (("dynamodb:ConditionCheckItem", "appConfig"),
                                                     ("dynamodb:PutItem", "photos")), False),
    }
    assert route(PHOTOS_ROUTES, "GET", "/photos").query_params == ("limit", "cursor")


@pytest.mark.parametrize(
    ("method", "path", "body", "valid"),
    [
        ("PUT", "/state/{appId}", {"state": "fenced"}, False),
        ("PUT", "/state/{appId}", {"state": "failover", "expectedVersion": 0}, True),
        ("PUT", "/state/{appId}", {"state": "fenced", "expectedVersion": 9999999, "reason": "drill"}, True),
        ("PUT", "/state/{appId}", {"state": "fenced", "expectedVersion": 10000000}, False),
        ("PUT", "/state/{appId}", {"state": "fenced", "expectedVersion": 1, "reason": ""}, False),
        ("PUT", "/state/{appId}", {"state": "down"}, False),
        ("PUT", "/state/{appId}", {"state": "active", "expectedVersion": -1}, False),
        ("PUT", "/state/{appId}", {}, False),
        ("POST", "/comments/{photoId}", {"message": "x" * 1000}, True),
        ("POST", "/comments/{photoId}", {"message": "x" * 1001}, False),
        ("POST", "/comments/{photoId}", {"message": ""}, False),
        ("POST", "/comments/{photoId}", {"user": "mallory"}, False),
        ("POST", "/photos", {"photoId": "a-B_9", "size": 10485760, "contentType": "image/png"}, True),
        ("POST", "/photos", {"photoId": "../x", "size": 1, "contentType": "image/png"}, False),
        ("POST", "/photos", {"photoId": "a", "size": 0, "contentType": "image/png"}, False),
        ("POST", "/photos", {"photoId": "a", "size": 10485761, "contentType": "image/png"}, False),
        ("POST", "/photos", {"photoId": "a", "size": 1, "contentType": "text/html"}, False),
        ("POST", "/photos", {"photoId": "a", "size": 1}, False),
    ],
)
def test_body_models_accept_and_refuse_as_documented(method: str, path: str, body: dict, valid: bool) -> None:
    model = route((*ROUTING_ROUTES, *PHOTOS_ROUTES), method, path).body_model
    assert model is not None
    jsonschema.Draft4Validator.check_schema(model)
    assert jsonschema.Draft4Validator(model).is_valid(body) is valid


# -- whole flows against moto's DynamoDB ------------------------------------------------------------------------------


class Backend:
    """Run rendered DynamoDB requests the way the AWS integration does, answering DynamoDB's JSON."""

    def __init__(self) -> None:
        self.client = boto3.client("dynamodb", region_name="us-east-1",
                                   config=Config(retries={"max_attempts": 1}, parameter_validation=False))
        for logical, physical in TABLES.items():
            hash_key, range_key = Table.KEYS[logical]
            keys = [(hash_key, "HASH")] + ([(range_key, "RANGE")] if range_key else [])
            self.client.create_table(
                TableName=physical, BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": n, "KeyType": t} for n, t in keys],
                AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n, _ in keys])
        self.client.put_item(TableName=TABLES[Table.APP_CONFIG],
                             Item={"appId": {"S": APP_ID}, "state": {"S": "active"}, "version": {"N": "1"}})

    def call(self, route_: Route, *, body: Any = None, path: dict | None = None, query: dict | None = None,
             context: dict | None = None) -> tuple[int, Any]:
        """(status, answer) of the whole method: request template, DynamoDB, response or error template."""
        request = render_json(route_.request_template, body=body, path=path, query=query, context=context)
        method = getattr(self.client, "".join("_" + c.lower() if c.isupper() else c for c in route_.action)[1:])
        try:
            result = method(**request)
            result.pop("ResponseMetadata", None)
            template, status = route_.response_template, 200
        except ClientError as error:
            result = {"__type": DDB + error.response["Error"]["Code"], "message": error.response["Error"]["Message"]}
            if "CancellationReasons" in error.response:
                result["CancellationReasons"] = error.response["CancellationReasons"]
            template, status = "dynamodb-error.vtl", 400
        rendered = render(template, body=result, path=path, query=query,
                          context={"resourcePath": route_.path, **(context or {})})
        return rendered.status_override or status, json.loads(rendered.text)


@pytest.fixture
def backend() -> Backend:
    with mock_aws():
        yield Backend()


def test_comments_round_trip_through_dynamodb_and_fencing_refuses_writes(backend: Backend) -> None:
    post = route(PHOTOS_ROUTES, "POST", "/comments/{photoId}")
    for n, message in enumerate(TRICKY[:4]):
        status, _ = backend.call(post, body={"message": message, "user": "mallory"}, path={"photoId": "p1"},
                                 context={"requestId": f"{n:08d}-0000-4000-8000-000000000000",
                                          "requestTimeEpoch": EPOCH + n})
        assert status == 200
    status, answer = backend.call(route(PHOTOS_ROUTES, "GET", "/comments/{photoId}"), path={"photoId": "p1"})
    assert status == 200
    assert [(c["message"], c["user"]) for c in answer["comments"]] == [(m, IDENTITY) for m in TRICKY[:4]]

    put = route(ROUTING_ROUTES, "PUT", "/state/{appId}")
    status, _ = backend.call(put, body={"state": "fenced", "expectedVersion": 1}, path={"appId": APP_ID})
    assert status == 200
    status, answer = backend.call(post, body={"message": "late"}, path={"photoId": "p1"},
                                  context={"requestId": "99999999-0000-4000-8000-000000000000"})
    assert (status, answer["code"]) == (409, "READ_ONLY")
    status, answer = backend.call(put, body={"state": "active", "expectedVersion": 1}, path={"appId": APP_ID},
                                  context={"requestId": "88888888-0000-4000-8000-000000000000"})
    assert (status, answer["code"]) == (409, "CONFLICT")
    item = backend.client.get_item(TableName=TABLES[Table.APP_CONFIG], Key={"appId": {"S": APP_ID}})["Item"]
    assert (item["state"]["S"], item["version"]["N"], item["updatedBy"]["S"]) == ("fenced", "2", OPERATOR_ARN)


def test_state_of_an_unknown_app_is_404_and_of_the_app_its_state(backend: Backend) -> None:
    get = route(ROUTING_ROUTES, "GET", "/state/{appId}")
    assert backend.call(get, path={"appId": APP_ID}) == (200, {"state": "active", "version": 1})
    assert backend.call(get, path={"appId": "nope"})[0] == 404
    assert backend.call(route(ROUTING_ROUTES, "PUT", "/state/{appId}"), body={"state": "fenced", "expectedVersion": 0},
                        path={"appId": "nope"})[0] == 409


def test_photos_page_newest_first_and_the_cursor_reaches_the_rest(backend: Backend) -> None:
    post = route(PHOTOS_ROUTES, "POST", "/photos")
    for n in range(5):
        status, _ = backend.call(post, body={"photoId": f"id{n}", "size": 10 + n, "contentType": "image/png"},
                                 context={"requestId": f"{n:08d}-0000-4000-8000-000000000000",
                                          "requestTimeEpoch": EPOCH + n})
        assert status == 200
    get = route(PHOTOS_ROUTES, "GET", "/photos")
    status, first = backend.call(get, query={"limit": "3"})
    assert status == 200 and [p["photoId"] for p in first["photos"]] == ["id4", "id3", "id2"]
    assert first["photos"][0] == {"photoId": "id4", "key": "public/id4", "owner": IDENTITY, "createdAt": EPOCH + 4,
                                  "size": 14, "contentType": "image/png"}
    status, rest = backend.call(get, query={"limit": "3", "cursor": first["next"]})
    assert status == 200 and [p["photoId"] for p in rest["photos"]] == ["id1", "id0"]
    assert rest["next"] is None
