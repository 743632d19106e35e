"""The API templates build exactly the intended DynamoDB requests and answers, whatever the input.

Every mapping template is filled with sample deployment values and rendered by the project's VTL
engine (API Gateway semantics); request templates must give valid JSON equal to the intended DynamoDB
request, response templates the intended API answer, under every reading of what API Gateway leaves
undocumented (`vtl.Reading`). The gateway response template is rendered as API Gateway renders it:
substitution only. The last tests replay whole flows against moto's DynamoDB: what the templates
send is accepted, and DynamoDB's real errors map as documented.
"""

from __future__ import annotations

import base64
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import jsonschema
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator
from moto import mock_aws

import vtl
from components.contract import GALLERY, PHOTO_IDS, PHOTO_PREFIX, USERNAME_PATTERN, WRITABLE_STATE, Table
from components.route import Route
from components.routes import (
    GATEWAY_ERROR_TEMPLATE,
    PHOTO_ID_PATTERN,
    PHOTOS_ROUTES,
    ROUTING_ROUTES,
    SHARED_TEMPLATES,
    TEMPLATES_DIR,
    fill_template,
    load_template,
    placeholders,
    route_templates,
    template_values,
    whole_match,
)

TABLES = {Table.APP_CONFIG: "mra-prod-AppConfig", Table.COMMENTS: "mra-prod-Comments", Table.PHOTOS: "mra-prod-Photos",
          Table.STATE_AUDIT: "mra-prod-StateAudit"}
APP_ID = "photo-app"
VALUES = template_values(APP_ID, TABLES, "primary")
REQUEST_ID = "c0ffee00-1111-4222-8333-444455556666"
EPOCH = 1767225600123
IDENTITY = "us-east-1:7d8a1b2c-0000-4000-8000-123456789abc"
OWNER = "alice"  # the path's owner segment: IAM let only the caller whose `owner` tag is "alice" invoke it
REGISTER_PATH = "/users/{owner}/photos"
COMMENT_PATH = "/users/{owner}/comments/{photoId}"
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
           context: dict | None = None, values: dict | None = None,
           reading: vtl.Reading = vtl.Reading.JAVA) -> vtl.Rendered:
    text = fill_template(load_template(name), values or VALUES)
    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    params = {"path": path or {}, "querystring": query or {}, "header": {"Accept": "application/json"}}
    return vtl.render(text, body=raw or "", params=params, context={**CONTEXT, **(context or {})}, reading=reading)


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


def expected_comment_post(message: str, photo_id: str = "photo-1", user: str = OWNER) -> dict[str, Any]:
    return {
        "TransactItems": [
            fence_check(),
            {"Put": {
                "TableName": TABLES[Table.COMMENTS],
                "Item": {
                    "photoId": {"S": photo_id},
                    "commentKey": {"S": f"{EPOCH}-{REQUEST_ID}"},
                    "commentId": {"S": REQUEST_ID},
                    "user": {"S": user},
                    "message": {"S": message},
                    "createdAt": {"N": str(EPOCH)},
                },
                "ConditionExpression": "attribute_not_exists(commentKey)",
            }},
        ],
        "ClientRequestToken": REQUEST_ID,
    }


def comment_path(photo_id: str = "photo-1", owner: str = OWNER) -> dict[str, str]:
    return {"owner": owner, "photoId": photo_id}


@pytest.mark.parametrize("message", TRICKY)
def test_comment_post_keeps_any_message_verbatim_in_valid_json(message: str) -> None:
    request = render_json("comments-post.request.vtl", body={"message": message}, path=comment_path())
    assert request == expected_comment_post(message)
    assert request["TransactItems"][1]["Put"]["Item"]["message"]["S"] == message


def test_comment_post_cannot_inject_attributes_or_choose_user_or_photo() -> None:
    body = '{"message": "x\\", \\"user\\": {\\"S\\": \\"admin\\"}", "user": "mallory", "photoId": "other",' \
           ' "commentId": "mine", "createdAt": 1, "owner": "mallory"}'
    request = render_json("comments-post.request.vtl", body=body, path=comment_path(),
                          query={"owner": "mallory"})
    assert request == expected_comment_post('x", "user": {"S": "admin"}')


def test_the_comment_author_is_the_paths_owner_not_the_regions_identity_id() -> None:
    # The same person signed in through either region: a different identity id, the same owner.
    for identity in ("us-east-1:aaaa", "ap-northeast-1:bbbb"):
        request = render_json("comments-post.request.vtl", body={"message": "m"}, path=comment_path(),
                              context={"identity": {"cognitoIdentityId": identity, "userArn": OPERATOR_ARN}})
        assert request["TransactItems"][1]["Put"]["Item"]["user"] == {"S": OWNER}


# Path values outside the username / photo id patterns: IAM's `*` after the owner segment spans `/`, and whether
# API Gateway hands a %2F over decoded or as is is undocumented, so both forms are here.
BAD_OWNERS = ["demo/comments/forged", "demo%2Fcomments%2Fforged", "demo%2fx", "demo/", "../demo", "Demo", "demo\n",
              "demo ", "-demo", "d" * 65, "", *TRICKY[1:]]
BAD_PHOTO_IDS = ["p/x", "p%2Fx", "p\n", "p.x", "", "x" * 65, *TRICKY[1:]]


def refused_comment(message: str = "m") -> dict[str, Any]:
    """The comment write a refused path renders: an empty key, which DynamoDB refuses whole (nothing written)."""
    return expected_comment_post(message, photo_id="", user="")


@pytest.mark.parametrize("reading", list(vtl.Reading))
@pytest.mark.parametrize("owner", BAD_OWNERS)
def test_a_comment_as_an_owner_outside_the_username_pattern_is_refused_under_every_reading(
        owner: str, reading: vtl.Reading) -> None:
    request = render_json("comments-post.request.vtl", body={"message": "m"}, path=comment_path("p1", owner),
                          reading=reading)
    assert request == refused_comment()


@pytest.mark.parametrize("reading", list(vtl.Reading))
@pytest.mark.parametrize("photo_id", BAD_PHOTO_IDS)
def test_a_comment_on_a_photo_id_outside_its_pattern_is_refused_under_every_reading(
        photo_id: str, reading: vtl.Reading) -> None:
    request = render_json("comments-post.request.vtl", body={"message": "m"}, path=comment_path(photo_id),
                          reading=reading)
    assert request == refused_comment()


@pytest.mark.parametrize("reading", list(vtl.Reading))
@pytest.mark.parametrize(("owner", "photo_id"), [*((o, "p1") for o in BAD_OWNERS),
                                                 *((OWNER, p) for p in BAD_PHOTO_IDS)])
def test_a_registration_with_an_owner_or_photo_id_outside_its_pattern_is_refused_under_every_reading(
        owner: str, photo_id: str, reading: vtl.Reading) -> None:
    # The model checks the body's photoId first; the template holds whatever a validator let through.
    request = render_json("photos-post.request.vtl", body={"photoId": photo_id, "size": 1, "contentType": "image/png"},
                          path={"owner": owner}, reading=reading)
    marker, item = (request["TransactItems"][i]["Put"]["Item"] for i in (1, 2))
    assert marker["photoKey"] == {"S": ""}  # an empty key: DynamoDB refuses the whole transaction
    assert marker["owner"] == item["owner"] == item["photoId"] == {"S": ""}
    assert item["key"] == {"S": f"{PHOTO_PREFIX}/"}


# (value, what USERNAME_PATTERN / PHOTO_ID_PATTERN say of it in Python): the templates decide the same.
PATTERN_PROBES = ["a", "demo", "a.b_c-d", "0", "x" * 64, "x" * 65, "A", "_a", ".a", "a/b", "a%2Fb", "a\n", "a b", "",
                  "é", "a$", "a*", "ab_CD-9", "-a"]


@pytest.mark.parametrize("value", PATTERN_PROBES)
def test_the_templates_accept_exactly_what_the_contracts_patterns_accept(value: str) -> None:
    user_ok = re.fullmatch(USERNAME_PATTERN, value) is not None
    photo_ok = re.fullmatch(PHOTO_ID_PATTERN, value) is not None
    comment = render_json("comments-post.request.vtl", body={"message": "m"}, path=comment_path("p1", value))
    assert (comment != refused_comment()) is user_ok
    comment = render_json("comments-post.request.vtl", body={"message": "m"}, path=comment_path(value))
    assert (comment != refused_comment()) is photo_ok
    photo = render_json("photos-post.request.vtl", body={"photoId": value, "size": 1, "contentType": "image/png"},
                        path={"owner": OWNER})
    assert (photo["TransactItems"][1]["Put"]["Item"]["photoKey"] != {"S": ""}) is photo_ok


def test_the_templates_get_the_patterns_from_the_one_definition() -> None:
    for name in ("comments-post.request.vtl", "photos-post.request.vtl", "dynamodb-error.vtl"):
        assert {"usernamePattern", "photoIdPattern"} <= placeholders(load_template(name)), name
    assert f"^{VALUES['usernamePattern']}$" == USERNAME_PATTERN
    assert f"^{VALUES['photoIdPattern']}$" == PHOTO_ID_PATTERN


@pytest.mark.parametrize("hostile", TRICKY)
def test_hostile_owner_and_photo_id_path_values_stay_inside_the_answers_strings(hostile: str) -> None:
    answer = render_json("comments-post.response.vtl", body={}, path=comment_path(hostile, hostile))
    assert (answer["user"], answer["photoId"]) == (hostile, hostile)
    assert render_json("photos-post.response.vtl", body={}, path={"owner": hostile})["owner"] == hostile


def test_comments_are_keyed_by_13_digit_epoch_then_request_id() -> None:
    item = render_json("comments-post.request.vtl", body={"message": "m"},
                       path=comment_path("p"))["TransactItems"][1]["Put"]["Item"]
    epoch, _, request_id = item["commentKey"]["S"].partition("-")
    assert (len(epoch), epoch.isdigit(), request_id) == (13, True, REQUEST_ID)


def test_writes_are_fenced_on_the_regions_own_writable_state() -> None:
    secondary = template_values(APP_ID, TABLES, "secondary")
    for name, body, path in (("comments-post.request.vtl", {"message": "m"}, comment_path("p")),
                             ("photos-post.request.vtl", {"photoId": "p", "size": 1, "contentType": "image/png"},
                              {"owner": OWNER})):
        request = render_json(name, body=body, path=path, values=secondary)
        assert request["TransactItems"][0] == fence_check(WRITABLE_STATE["secondary"])


def expected_registration(photo_id: str, content_type: str, size: int, owner: str = OWNER,
                          epoch: int = EPOCH, request_id: str = REQUEST_ID) -> dict[str, Any]:
    return {
        "TransactItems": [
            fence_check(),
            {"Put": {
                "TableName": TABLES[Table.PHOTOS],
                "Item": {"gallery": {"S": PHOTO_IDS}, "photoKey": {"S": photo_id}, "owner": {"S": owner},
                         "createdAt": {"N": str(epoch)}},
                "ConditionExpression": "attribute_not_exists(photoKey)",
            }},
            {"Put": {
                "TableName": TABLES[Table.PHOTOS],
                "Item": {
                    "gallery": {"S": GALLERY},
                    "photoKey": {"S": f"{epoch}-{photo_id}"},
                    "photoId": {"S": photo_id},
                    "key": {"S": f"{PHOTO_PREFIX}{owner}/{photo_id}"},
                    "owner": {"S": owner},
                    "createdAt": {"N": str(epoch)},
                    "size": {"N": str(size)},
                    "contentType": {"S": content_type},
                },
                "ConditionExpression": "attribute_not_exists(photoKey)",
            }},
        ],
        "ClientRequestToken": request_id,
    }


@pytest.mark.parametrize("content_type", ["image/png", "image/svg+xml"])
def test_photo_registration_is_fenced_unique_and_keyed_under_the_paths_owner(content_type: str) -> None:
    body = {"photoId": "abc_DEF-123", "size": 2048, "contentType": content_type, "owner": "mallory",
            "key": "private/x", "gallery": "other"}
    request = render_json("photos-post.request.vtl", body=body, path={"owner": OWNER}, query={"owner": "mallory"})
    assert request == expected_registration("abc_DEF-123", content_type, 2048)


@pytest.mark.parametrize("size", ["2048", 2048.0, 2048])
def test_photo_size_is_a_valid_n_value_however_api_gateway_types_the_number(size: Any) -> None:
    # The model guarantees an integer; inside the N value's quotes it is right as Integer, Double or String
    # (what "2048.0" would make of it is for DynamoDB: a number either way).
    raw = '{"photoId": "p1", "size": %s, "contentType": "image/png"}' % (
        json.dumps(size) if isinstance(size, str) else repr(size))
    request = render_json("photos-post.request.vtl", body=raw, path={"owner": OWNER})
    value = request["TransactItems"][2]["Put"]["Item"]["size"]["N"]
    assert float(value) == 2048


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
    answer = render_json("comments-post.response.vtl", body={}, path=comment_path('p"1'))
    assert answer == {"commentId": REQUEST_ID, "photoId": 'p"1', "user": OWNER, "createdAt": EPOCH}


def test_photo_post_answers_the_paths_owner_and_time() -> None:
    assert render_json("photos-post.response.vtl", body={}, path={"owner": OWNER}) == {
        "owner": OWNER, "createdAt": EPOCH}


def test_write_answers_say_null_rather_than_guess_when_a_response_template_sees_no_path_parameters() -> None:
    # Whether $input.params() reaches integration response templates is not documented: never invent a value.
    assert render_json("photos-post.response.vtl", body={}) == {"owner": None, "createdAt": EPOCH}
    assert render_json("comments-post.response.vtl", body={}) == {
        "commentId": REQUEST_ID, "photoId": None, "user": None, "createdAt": EPOCH}


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


CANCELLED = DDB + "TransactionCanceledException"


def cancelled(*codes: str | None, reasons: bool = True, key: str = "message") -> dict[str, Any]:
    """DynamoDB's answer, with or without CancellationReasons (documented for Java only) and with the codes
    in the documented message form "... specific reasons [None, ConditionalCheckFailed]"."""
    body: dict[str, Any] = {"__type": CANCELLED, key: "Transaction cancelled, please refer cancellation reasons "
                            f"for specific reasons [{', '.join(str(c) for c in codes)}]"}
    if reasons:
        body["CancellationReasons"] = [{"Code": c, "Message": None} if c != "None" else {"Code": "None"}
                                       for c in codes]
    return body


CCF = "ConditionalCheckFailed"


@pytest.mark.parametrize(("path", "error", "code"), [
    # registration: fence first, then the photo id's marker, then the gallery item
    (REGISTER_PATH, cancelled("None", CCF, "None"), "PHOTO_EXISTS"),
    (REGISTER_PATH, cancelled("None", CCF, "None", reasons=False), "PHOTO_EXISTS"),
    (REGISTER_PATH, cancelled("None", CCF, "None", reasons=False, key="Message"), "PHOTO_EXISTS"),
    (REGISTER_PATH, cancelled(None, CCF, None), "PHOTO_EXISTS"),  # null codes where an item was fine
    (REGISTER_PATH, cancelled(CCF, CCF, "None"), "READ_ONLY"),  # fenced and taken: the fence answers
    (REGISTER_PATH, cancelled(CCF, CCF, "None", reasons=False), "READ_ONLY"),
    (REGISTER_PATH, cancelled(CCF, "None", "None"), "READ_ONLY"),
    (REGISTER_PATH, cancelled("None", "None", CCF), "CONFLICT"),
    (REGISTER_PATH, cancelled("None", "TransactionConflict", "None", reasons=False), "CONFLICT"),
    (REGISTER_PATH, cancelled("None", "ThrottlingError", "None", reasons=False), "THROTTLED"),
    (REGISTER_PATH, cancelled("None", "ValidationError", "None", reasons=False), "BAD_REQUEST"),
    # a comment's second item failing is no taken photo id
    (COMMENT_PATH, cancelled("None", CCF), "CONFLICT"),
    (COMMENT_PATH, cancelled("None", CCF, reasons=False), "CONFLICT"),
    (COMMENT_PATH, cancelled(CCF, "None", reasons=False), "READ_ONLY"),
    (COMMENT_PATH, {"__type": CANCELLED, "message": "Transaction cancelled"}, "CONFLICT"),
])
def test_cancelled_transactions_map_the_same_with_or_without_cancellation_reasons(path: str, error: Any,
                                                                                 code: str) -> None:
    rendered = render("dynamodb-error.vtl", body=error, context={"resourcePath": path})
    answer = json.loads(rendered.text)
    assert answer["code"] == code
    assert rendered.status_override == {"THROTTLED": 429, "BAD_REQUEST": 400}.get(code, 409)


VALIDATION = {"__type": "com.amazon.coral.validate#ValidationException",
              "message": "One or more parameter values were invalid: An AttributeValue may not contain an empty "
                         "string. Key: photoId"}
THROTTLED_ERROR = {"__type": DDB + "ProvisionedThroughputExceededException", "message": "slow down"}


@pytest.mark.parametrize("error", [VALIDATION, cancelled("None", "ValidationError"),
                                   cancelled(CCF, "ValidationError", reasons=False), THROTTLED_ERROR])
@pytest.mark.parametrize(("path", "parameter"), [({"owner": "demo/comments/forged", "photoId": "p1"}, "owner"),
                                                 ({"owner": "demo%2Fx"}, "owner"),
                                                 ({"owner": OWNER, "photoId": "p%2Fx"}, "photoId")])
def test_a_write_path_value_outside_its_pattern_is_400_naming_it_whatever_dynamodb_said(
        error: dict[str, Any], path: dict[str, str], parameter: str) -> None:
    rendered = render("dynamodb-error.vtl", body=error, path=path, context={"resourcePath": COMMENT_PATH})
    answer = json.loads(rendered.text)
    assert (rendered.status_override, answer["code"]) == (400, "BAD_REQUEST")
    assert answer["message"].startswith(f"Path parameter {parameter} must")
    assert (USERNAME_PATTERN if parameter == "owner" else PHOTO_ID_PATTERN)[1:-1] in answer["message"]


def test_without_path_parameters_in_the_error_template_dynamodbs_refusal_stands() -> None:
    # Whether $input.params() reaches response templates is undocumented: the request is refused either way.
    answer = render("dynamodb-error.vtl", body=VALIDATION, context={"resourcePath": COMMENT_PATH})
    assert (answer.status_override, json.loads(answer.text)) == (400, {"code": "BAD_REQUEST",
                                                                       "message": VALIDATION["message"]})
    fenced = render("dynamodb-error.vtl", body=cancelled(CCF, "ValidationError", reasons=False),
                    context={"resourcePath": COMMENT_PATH})
    assert (fenced.status_override, json.loads(fenced.text)["code"]) == (409, "READ_ONLY")


def test_a_read_routes_odd_photo_id_does_not_turn_its_errors_into_400() -> None:
    rendered = render("dynamodb-error.vtl", body=THROTTLED_ERROR, path={"photoId": "p/x"},
                      context={"resourcePath": "/comments/{photoId}"})
    assert (rendered.status_override, json.loads(rendered.text)["code"]) == (429, "THROTTLED")


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


# -- gateway responses: substitution only, as API Gateway renders them ---------------------------------------------

GATEWAY_TEMPLATES = sorted(p.name for p in Path(TEMPLATES_DIR).glob("*.subst"))
# Every gateway response type API Gateway has (its own errors), and the two defaults.
RESPONSE_TYPES = ["ACCESS_DENIED", "API_CONFIGURATION_ERROR", "AUTHORIZER_CONFIGURATION_ERROR", "AUTHORIZER_FAILURE",
                  "BAD_REQUEST_BODY", "BAD_REQUEST_PARAMETERS", "DEFAULT_4XX", "DEFAULT_5XX", "EXPIRED_TOKEN",
                  "INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT", "INVALID_API_KEY", "INVALID_SIGNATURE",
                  "MISSING_AUTHENTICATION_TOKEN", "QUOTA_EXCEEDED", "REQUEST_TOO_LARGE", "RESOURCE_NOT_FOUND",
                  "THROTTLED", "UNAUTHORIZED", "UNSUPPORTED_MEDIA_TYPE", "WAF_FILTERED"]
MESSAGES = ["Missing Authentication Token", 'User: arn:aws:sts::1:assumed-role/r/s is not authorized "here"',
            "The request signature we calculated does not match.\n\nThe Canonical String was\n'GET\n/x'",
            "Invalid request body", "Too Many Requests", "</script> \\ 😀 $context.requestId #set($x = 1)"]
# Real validator output holds quotes: it must never land inside a JSON string of the body.
VALIDATION_ERRORS = ["", '[object has missing required properties (["message"])]',
                     '[instance value ("paused") not found in enum (possible values: ["active","fenced"])]']


def substituted(name: str, response_type: str, message: str, validation_error: str = "") -> str:
    text = fill_template(load_template(name), VALUES)
    context = {**CONTEXT, "error": {"message": message, "responseType": response_type,
                                    "validationErrorString": validation_error}}
    return vtl.substitute(text, context=context, stage_variables={}, params={"header": {"Origin": "https://x"}})


def test_the_gateway_response_template_is_the_one_substitution_template() -> None:
    assert GATEWAY_TEMPLATES == [GATEWAY_ERROR_TEMPLATE]


@pytest.mark.parametrize("name", GATEWAY_TEMPLATES)
@pytest.mark.parametrize("response_type", RESPONSE_TYPES)
def test_every_gateway_template_is_code_and_message_json_for_every_response_type(name: str, response_type: str) -> None:
    for message in MESSAGES:
        for validation_error in VALIDATION_ERRORS:
            answer = json.loads(substituted(name, response_type, message, validation_error))
            assert answer == {"code": response_type, "message": message}


def test_a_gateway_template_with_a_directive_comes_out_literally_as_on_aws() -> None:
    vtl_version = ('#set($message = "$context.error.message")\n'
                   '{"code": "$context.error.responseType", "message": "$util.escapeJavaScript($message)"}')
    out = vtl.substitute(vtl_version, context={"error": {"message": "Nope", "responseType": "ACCESS_DENIED"}})
    assert out == '#set($message = "Nope")\n{"code": "ACCESS_DENIED", "message": "$util.escapeJavaScript($message)"}'
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


# -- every template under every reading of API Gateway's undocumented runtime types -------------------------------

# (template, render arguments): each template with inputs that reach its JSON numbers, booleans and $util calls.
SAMPLES: list[tuple[str, dict[str, Any]]] = [
    ("state-get.request.vtl", {"path": {"appId": APP_ID}}),
    ("state-put.request.vtl", {"body": {"state": "fenced", "expectedVersion": 0, "reason": "drill \"x\""},
                               "path": {"appId": APP_ID}}),
    ("state-put.request.vtl", {"body": {"state": "fenced", "expectedVersion": 7}, "path": {"appId": APP_ID}}),
    ("state-put.request.vtl", {"body": {"state": "active", "expectedVersion": 10485760}, "path": {"appId": APP_ID}}),
    ("comments-get.request.vtl", {"path": {"photoId": "p1"}}),
    ("comments-post.request.vtl", {"body": {"message": "hi", "n": 1, "ok": True},
                                   "path": {"owner": "demo", "photoId": "p1"}}),
    ("photos-get.request.vtl", {"query": {"limit": "5"}}),
    ("photos-get.request.vtl", {"query": {"cursor": base64.urlsafe_b64encode(b"1767225600123-abc").decode()}}),
    ("photos-post.request.vtl", {"body": {"photoId": "p", "size": 2048, "contentType": "image/png"},
                                 "path": {"owner": "demo"}}),
    ("photos-post.request.vtl", {"body": {"photoId": "p", "size": 10485760, "contentType": "image/png"},
                                 "path": {"owner": "demo"}}),
    ("photos-post.request.vtl", {"body": {"photoId": "p", "size": 1, "contentType": "image/png", "x": False},
                                 "path": {"owner": "demo"}}),
    ("state-get.response.vtl", {"body": {"Item": {"state": {"S": "active"}, "version": {"N": "3"},
                                                  "flag": {"BOOL": True}}}}),
    ("state-get.response.vtl", {"body": {}}),
    ("state-put.response.vtl", {"body": {}, "path": {"appId": APP_ID}}),  # a transaction answers {}
    ("comments-get.response.vtl", {"body": {"Items": [comment_item(1, "m")], "Count": 1, "ScannedCount": 1}}),
    ("comments-post.response.vtl", {"body": {}, "path": {"photoId": "p1"}}),
    ("photos-get.response.vtl", {"body": {"Items": [photo_item(1)], "Count": 1, "LastEvaluatedKey": {
        "gallery": {"S": GALLERY}, "photoKey": {"S": "1767225600123-id1"}}}}),
    ("photos-post.response.vtl", {"body": {}}),
    ("dynamodb-error.vtl", {"body": {"__type": DDB + "TransactionCanceledException", "message": "x",
                                     "CancellationReasons": [{"Code": "ConditionalCheckFailed"}, {"Code": "None"}]}}),
    ("dynamodb-error.vtl", {"body": {"__type": "com.amazon.coral.validate#ValidationException", "message": "m"},
                            "query": {"limit": "0"}, "context": {"resourcePath": "/photos"}}),
    ("dynamodb-error.vtl", {"body": {"__type": DDB + "ProvisionedThroughputExceededException", "retryable": True,
                                     "capacity": 5}}),
    ("cors-preflight.request.vtl", {}),
    # refused path values: the same empty-key request, and the same 400, under every reading
    ("comments-post.request.vtl", {"body": {"message": "hi"}, "path": {"owner": "demo%2Fx", "photoId": "p1"}}),
    ("photos-post.request.vtl", {"body": {"photoId": "p", "size": 2048, "contentType": "image/png"},
                                 "path": {"owner": "demo/x"}}),
    ("dynamodb-error.vtl", {"body": {"__type": "com.amazon.coral.validate#ValidationException", "message": "m"},
                            "path": {"owner": "demo/x", "photoId": "p1"}}),
]
DYNAMODB_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
ACTIONS = {r.request_template: r.action for r in (*ROUTING_ROUTES, *PHOTOS_ROUTES)}
DYNAMODB_MODEL = botocore.session.get_session().get_service_model("dynamodb")


def meaning(value: Any) -> Any:
    """A rendered JSON document with every DynamoDB number (N, NS) as a Decimal: "2048.0" means 2048."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "N" and isinstance(item, str):
                assert DYNAMODB_NUMBER.fullmatch(item), f"not a DynamoDB number: {item!r}"
                out[key] = Decimal(item)
            elif key == "NS" and isinstance(item, list):
                out[key] = sorted(meaning({"N": n})["N"] for n in item)
            else:
                out[key] = meaning(item)
        return out
    if isinstance(value, list):
        return [meaning(v) for v in value]
    return value


def test_every_template_has_a_sample() -> None:
    mapping_templates = {p.name for p in Path(TEMPLATES_DIR).glob("*.vtl")}
    assert {name for name, _ in SAMPLES} == mapping_templates


@pytest.mark.parametrize(("name", "kwargs"), SAMPLES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SAMPLES)])
def test_every_template_means_the_same_under_every_reading(name: str, kwargs: dict[str, Any]) -> None:
    """Integer/Long, Double or String for JSON numbers, Boolean or String for booleans, `$util` strict or lenient:
    the same DynamoDB request (valid for its action) or the same API answer and status."""
    renders = {reading: render(name, reading=reading, **kwargs) for reading in vtl.Reading}
    baseline = renders[vtl.Reading.JAVA]
    for reading, rendered in renders.items():
        assert meaning(json.loads(rendered.text)) == meaning(json.loads(baseline.text)), reading
        assert (rendered.status_override, rendered.header_overrides) == (baseline.status_override,
                                                                         baseline.header_overrides), reading
        if name in ACTIONS:
            shape = DYNAMODB_MODEL.operation_model(ACTIONS[name]).input_shape
            report = ParamValidator().validate(json.loads(rendered.text), shape)
            assert not report.has_errors(), f"{reading}: {report.generate_report()}"


def test_the_photo_size_is_a_dynamodb_number_under_every_reading() -> None:
    def gallery_size(reading: vtl.Reading) -> str:
        rendered = render_json("photos-post.request.vtl", reading=reading,
                               body={"photoId": "p", "size": 10485760, "contentType": "image/png"})
        puts = [item["Put"]["Item"] for item in rendered["TransactItems"]
                if "size" in item.get("Put", {}).get("Item", {})]
        assert len(puts) == 1  # only the gallery item carries the size
        return puts[0]["size"]["N"]

    sizes = {reading: gallery_size(reading) for reading in vtl.Reading}
    assert sizes == {vtl.Reading.JAVA: "10485760", vtl.Reading.LENIENT: "10485760",
                     vtl.Reading.DOUBLE: "1.048576E7", vtl.Reading.STRING: "10485760"}


# -- the route tables and the template files ---------------------------------------------------------------------


def test_every_template_file_is_used_and_every_used_template_exists() -> None:
    on_disk = {p.name for p in Path(TEMPLATES_DIR).iterdir() if p.is_file()}
    used = route_templates(ROUTING_ROUTES) | route_templates(PHOTOS_ROUTES) | set(SHARED_TEMPLATES)
    assert on_disk == used


def test_every_placeholder_has_a_value_in_template_values() -> None:
    for name in (p.name for p in Path(TEMPLATES_DIR).iterdir() if p.is_file()):
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
        "writableState": WRITABLE_STATE[role], "gallery": GALLERY, "photoIds": PHOTO_IDS,
        "photoPrefix": PHOTO_PREFIX, "photoRegistrationPath": REGISTER_PATH,
        "usernamePattern": USERNAME_PATTERN[1:-1], "photoIdPattern": PHOTO_ID_PATTERN[1:-1]}


def test_whole_match_wants_an_anchored_pattern() -> None:
    assert whole_match("^[a-z]{1,2}$") == "[a-z]{1,2}"
    with pytest.raises(ValueError, match="anchored"):
        whole_match("[a-z]+")
    with pytest.raises(ValueError, match="not allowed"):
        fill_template("'{{p}}'", {"p": whole_match("^a$b$")})


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
        ("POST", COMMENT_PATH): ("TransactWriteItems", (("dynamodb:ConditionCheckItem", "appConfig"),
                                                        ("dynamodb:PutItem", "comments")), False),
        ("GET", "/photos"): ("Query", (("dynamodb:Query", "photos"),), False),
        ("POST", REGISTER_PATH): ("TransactWriteItems", (("dynamodb:ConditionCheckItem", "appConfig"),
                                                         ("dynamodb:PutItem", "photos")), False),
    }
    assert route(PHOTOS_ROUTES, "GET", "/photos").query_params == ("limit", "cursor")
    # Every write names its author in the path, verified by IAM; no route writes without one.
    writes = [r for r in PHOTOS_ROUTES if r.method != "GET"]
    assert writes and all(r.owner_param == "owner" and "{owner}" in r.path for r in writes)


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
        ("POST", COMMENT_PATH, {"message": "x" * 1000}, True),
        ("POST", COMMENT_PATH, {"message": "x" * 1001}, False),
        ("POST", COMMENT_PATH, {"message": ""}, False),
        ("POST", COMMENT_PATH, {"user": "mallory"}, False),
        ("POST", REGISTER_PATH, {"photoId": "a-B_9", "size": 10485760, "contentType": "image/png"}, True),
        ("POST", REGISTER_PATH, {"photoId": "../x", "size": 1, "contentType": "image/png"}, False),
        ("POST", REGISTER_PATH, {"photoId": "a", "size": 0, "contentType": "image/png"}, False),
        ("POST", REGISTER_PATH, {"photoId": "a", "size": 10485761, "contentType": "image/png"}, False),
        ("POST", REGISTER_PATH, {"photoId": "a", "size": 1, "contentType": "text/html"}, False),
        ("POST", REGISTER_PATH, {"photoId": "a", "size": 1}, False),
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
    post = route(PHOTOS_ROUTES, "POST", COMMENT_PATH)
    for n, message in enumerate(TRICKY[:4]):
        status, _ = backend.call(post, body={"message": message, "user": "mallory"}, path=comment_path("p1"),
                                 context={"requestId": f"{n:08d}-0000-4000-8000-000000000000",
                                          "requestTimeEpoch": EPOCH + n})
        assert status == 200
    status, answer = backend.call(route(PHOTOS_ROUTES, "GET", "/comments/{photoId}"), path={"photoId": "p1"})
    assert status == 200
    assert [(c["message"], c["user"]) for c in answer["comments"]] == [(m, OWNER) for m in TRICKY[:4]]

    put = route(ROUTING_ROUTES, "PUT", "/state/{appId}")
    status, _ = backend.call(put, body={"state": "fenced", "expectedVersion": 1}, path={"appId": APP_ID})
    assert status == 200
    status, answer = backend.call(post, body={"message": "late"}, path=comment_path("p1"),
                                  context={"requestId": "99999999-0000-4000-8000-000000000000"})
    assert (status, answer["code"]) == (409, "READ_ONLY")
    status, answer = backend.call(put, body={"state": "active", "expectedVersion": 1}, path={"appId": APP_ID},
                                  context={"requestId": "88888888-0000-4000-8000-000000000000"})
    assert (status, answer["code"]) == (409, "CONFLICT")
    item = backend.client.get_item(TableName=TABLES[Table.APP_CONFIG], Key={"appId": {"S": APP_ID}})["Item"]
    assert (item["state"]["S"], item["version"]["N"], item["updatedBy"]["S"]) == ("fenced", "2", OPERATOR_ARN)


def register(backend: Backend, photo_id: str, n: int = 0, owner: str = OWNER) -> tuple[int, Any]:
    return backend.call(route(PHOTOS_ROUTES, "POST", REGISTER_PATH),
                        body={"photoId": photo_id, "size": 10 + n, "contentType": "image/png"}, path={"owner": owner},
                        context={"requestId": f"{n:08d}-0000-4000-8000-{owner[:12]:0>12}",
                                 "requestTimeEpoch": EPOCH + n})


def gallery_ids(backend: Backend) -> list[str]:
    status, page = backend.call(route(PHOTOS_ROUTES, "GET", "/photos"), query={"limit": "100"})
    assert status == 200
    return [p["photoId"] for p in page["photos"]]


def test_a_photo_id_is_registered_once_by_anyone_and_a_second_registration_is_409_photo_exists(
        backend: Backend) -> None:
    assert register(backend, "mine", 0) == (200, {"owner": OWNER, "createdAt": EPOCH})
    # Someone else, later (another ms, so another gallery sort key), the same id: refused, nothing written.
    status, answer = register(backend, "mine", 1, owner="mallory")
    assert (status, answer["code"]) == (409, "PHOTO_EXISTS")
    assert "already registered" in answer["message"]
    status, answer = register(backend, "mine", 2)  # the owner too: an id is registered once
    assert (status, answer["code"]) == (409, "PHOTO_EXISTS")
    status, page = backend.call(route(PHOTOS_ROUTES, "GET", "/photos"), query={"limit": "100"})
    assert [(p["photoId"], p["owner"], p["key"]) for p in page["photos"]] == [("mine", OWNER, "public/alice/mine")]


def stored(backend: Backend, name: str) -> list[dict[str, Any]]:
    return backend.client.scan(TableName=TABLES[name])["Items"]


@pytest.mark.parametrize("owner", ["demo/comments/forged", "demo%2Fcomments%2Fforged"])
def test_a_comment_posted_through_a_slash_in_the_owner_segment_is_400_and_writes_nothing(
        backend: Backend, owner: str) -> None:
    # POST /users/demo%2Fcomments%2Fforged/comments/p: IAM's .../users/demo/comments/* matches the decoded path.
    status, answer = backend.call(route(PHOTOS_ROUTES, "POST", COMMENT_PATH), body={"message": "who wrote this?"},
                                  path=comment_path("slashphoto", owner))
    assert (status, answer["code"]) == (400, "BAD_REQUEST")
    assert answer["message"].startswith("Path parameter owner must be a username")
    assert stored(backend, Table.COMMENTS) == []
    status, answer = backend.call(route(PHOTOS_ROUTES, "GET", "/comments/{photoId}"), path={"photoId": "slashphoto"})
    assert (status, answer) == (200, {"comments": []})


def test_a_comment_on_a_photo_id_outside_its_pattern_is_400_and_writes_nothing(backend: Backend) -> None:
    status, answer = backend.call(route(PHOTOS_ROUTES, "POST", COMMENT_PATH), body={"message": "m"},
                                  path=comment_path("p%2Fx"))
    assert (status, answer["code"]) == (400, "BAD_REQUEST")
    assert answer["message"].startswith("Path parameter photoId must")
    assert stored(backend, Table.COMMENTS) == []


@pytest.mark.parametrize("owner", ["demo/x", "demo%2Fx", "Alice"])
def test_a_registration_under_an_owner_outside_the_username_pattern_is_400_and_writes_nothing(
        backend: Backend, owner: str) -> None:
    status, answer = register(backend, "p1", owner=owner)
    assert (status, answer["code"]) == (400, "BAD_REQUEST")
    assert answer["message"].startswith("Path parameter owner must be a username")
    assert [item["gallery"]["S"] for item in stored(backend, Table.PHOTOS)] == []
    assert register(backend, "p1", 1)[0] == 200  # the id is still free for its real owner


def test_registration_while_fenced_is_409_read_only_and_the_photo_stays_out_of_the_gallery(
        backend: Backend) -> None:
    assert register(backend, "before", 0)[0] == 200
    backend.client.update_item(TableName=TABLES[Table.APP_CONFIG], Key={"appId": {"S": APP_ID}},
                               UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "state"},
                               ExpressionAttributeValues={":s": {"S": "fenced"}})
    for photo_id in ("during", "before"):  # a new id, and a taken one: the fence answers first
        status, answer = register(backend, photo_id, 1)
        assert (status, answer["code"]) == (409, "READ_ONLY")
    assert gallery_ids(backend) == ["before"]
    markers = backend.client.query(TableName=TABLES[Table.PHOTOS], KeyConditionExpression="gallery = :g",
                                   ExpressionAttributeValues={":g": {"S": PHOTO_IDS}})["Items"]
    assert [m["photoKey"]["S"] for m in markers] == ["before"]


def test_photos_page_newest_first_and_the_cursor_reaches_the_rest(backend: Backend) -> None:
    for n in range(5):
        assert register(backend, f"id{n}", n)[0] == 200
    get = route(PHOTOS_ROUTES, "GET", "/photos")
    status, first = backend.call(get, query={"limit": "3"})
    assert status == 200 and [p["photoId"] for p in first["photos"]] == ["id4", "id3", "id2"]
    assert first["photos"][0] == {"photoId": "id4", "key": "public/alice/id4", "owner": OWNER,
                                  "createdAt": EPOCH + 4, "size": 14, "contentType": "image/png"}
    status, rest = backend.call(get, query={"limit": "3", "cursor": first["next"]})
    assert status == 200 and [p["photoId"] for p in rest["photos"]] == ["id1", "id0"]
    assert rest["next"] is None


def test_old_gallery_items_keep_their_stored_key_and_identity_id_owner(backend: Backend) -> None:
    # Registered before photos had owners' prefixes: readers use the stored key and owner as they are.
    backend.client.put_item(TableName=TABLES[Table.PHOTOS], Item={
        "gallery": {"S": GALLERY}, "photoKey": {"S": f"{EPOCH}-old"}, "photoId": {"S": "old"},
        "key": {"S": "public/old"}, "owner": {"S": IDENTITY}, "createdAt": {"N": str(EPOCH)},
        "size": {"N": "3"}, "contentType": {"S": "image/png"}})
    status, page = backend.call(route(PHOTOS_ROUTES, "GET", "/photos"), query={})
    assert status == 200 and page["photos"][0]["key"] == "public/old" and page["photos"][0]["owner"] == IDENTITY


def test_state_of_an_unknown_app_is_404_and_of_the_app_its_state(backend: Backend) -> None:
    get = route(ROUTING_ROUTES, "GET", "/state/{appId}")
    assert backend.call(get, path={"appId": APP_ID}) == (200, {"state": "active", "version": 1})
    assert backend.call(get, path={"appId": "nope"})[0] == 404
    assert backend.call(route(ROUTING_ROUTES, "PUT", "/state/{appId}"), body={"state": "fenced", "expectedVersion": 0},
                        path={"appId": "nope"})[0] == 409

