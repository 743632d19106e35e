"""Which IAM actions on which resources each API call needs, as AWS maps them (S3 "Required
permissions for Amazon S3 API operations", the DynamoDB API permissions reference, Cognito's
signed/unsigned operations).

Pure functions: no cloud needed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.aws_errors import Protocol
from sandbox.iam_actions import UnmappedError, classify, permissions

REGION, ACCOUNT = "us-east-1", "123456789012"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table"
POOL = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/us-east-1_abc"


def s3(method: str, path: str, query: str = "", headers: dict[str, str] | None = None, body: bytes = b"") -> Any:
    return classify(method, path, query, headers or {}, body, "s3")


def json_call(target: str, payload: dict[str, Any], service: str = "") -> Any:
    return classify("POST", "/", "", {"X-Amz-Target": target}, json.dumps(payload).encode(), service)


def needed(call: Any) -> list[tuple[str, str]]:
    return [(p.action, p.resource) for p in permissions(call, REGION, ACCOUNT)]


# -- what a request is -----------------------------------------------------------------------------------------------
def test_requests_are_recognised_by_their_shape() -> None:
    ddb = json_call("DynamoDB_20120810.PutItem", {})
    assert (ddb.service, ddb.protocol, ddb.operation) == ("dynamodb", Protocol.JSON, "PutItem")
    idp = json_call("AWSCognitoIdentityProviderService.InitiateAuth", {})
    assert (idp.service, idp.operation, idp.public) == ("cognito-idp", "InitiateAuth", True)
    sts = classify("POST", "/", "", {"Content-Type": "application/x-www-form-urlencoded"},
                   b"Action=GetCallerIdentity&Version=2011-06-15")
    assert (sts.service, sts.protocol, sts.operation) == ("sts", Protocol.QUERY, "GetCallerIdentity")
    jwks = classify("GET", "/us-east-1_abc/.well-known/jwks.json", "", {}, b"")
    assert (jwks.service, jwks.public) == ("cognito-idp", True)
    assert s3("PUT", "/b/k").operation == "PutObject"
    assert json_call("Unknown_1.Op", {}).service == ""


@pytest.mark.parametrize(
    "method,path,query,headers,operation",
    [
        ("GET", "/", "", {}, "ListBuckets"),
        ("GET", "/b", "list-type=2&prefix=public%2F", {}, "ListObjectsV2"),
        ("GET", "/b", "", {}, "ListObjects"),
        ("HEAD", "/b", "", {}, "HeadBucket"),
        ("GET", "/b", "versioning", {}, "GetBucketVersioning"),
        ("POST", "/b", "delete", {}, "DeleteObjects"),
        ("PUT", "/b/k", "", {"x-amz-copy-source": "/b/src"}, "CopyObject"),
        ("HEAD", "/b/k", "", {}, "HeadObject"),
        ("POST", "/b/k", "uploads", {}, "CreateMultipartUpload"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", {}, "UploadPart"),
        ("POST", "/b/k", "uploadId=u", {}, "CompleteMultipartUpload"),
        ("DELETE", "/b/k", "uploadId=u", {}, "AbortMultipartUpload"),
        ("GET", "/b/k", "tagging", {}, "GetObjectTagging"),
    ],
)
def test_s3_operations_are_named(method: str, path: str, query: str, headers: dict[str, str], operation: str) -> None:
    assert s3(method, path, query, headers).operation == operation


# -- S3 ---------------------------------------------------------------------------------------------------------
OBJECT = "arn:aws:s3:::b/public/k"


@pytest.mark.parametrize(
    "method,path,query,headers,expected",
    [
        ("GET", "/", "", {}, [("s3:ListAllMyBuckets", "*")]),
        ("GET", "/b/public/k", "", {}, [("s3:GetObject", OBJECT)]),
        ("HEAD", "/b/public/k", "", {}, [("s3:GetObject", OBJECT)]),  # HeadObject needs s3:GetObject
        ("GET", "/b/public/k", "versionId=v1", {}, [("s3:GetObjectVersion", OBJECT)]),
        ("PUT", "/b/public/k", "", {}, [("s3:PutObject", OBJECT)]),
        ("PUT", "/b/public/k", "", {"x-amz-tagging": "a=b"}, [("s3:PutObject", OBJECT),
                                                             ("s3:PutObjectTagging", OBJECT)]),
        ("PUT", "/b/public/k", "", {"x-amz-acl": "public-read"},
         [("s3:PutObject", OBJECT), ("s3:PutObjectAcl", OBJECT)]),
        ("PUT", "/b/public/k", "", {"x-amz-copy-source": "/src/a%20b?versionId=v2"},
         [("s3:PutObject", OBJECT), ("s3:GetObjectVersion", "arn:aws:s3:::src/a b")]),
        ("DELETE", "/b/public/k", "", {}, [("s3:DeleteObject", OBJECT)]),
        ("DELETE", "/b/public/k", "versionId=v1", {}, [("s3:DeleteObjectVersion", OBJECT)]),
        ("POST", "/b/public/k", "uploads", {}, [("s3:PutObject", OBJECT)]),
        ("PUT", "/b/public/k", "partNumber=2&uploadId=u", {}, [("s3:PutObject", OBJECT)]),
        ("POST", "/b/public/k", "uploadId=u", {}, [("s3:PutObject", OBJECT)]),
        ("DELETE", "/b/public/k", "uploadId=u", {}, [("s3:AbortMultipartUpload", OBJECT)]),
        ("GET", "/b/public/k", "uploadId=u", {}, [("s3:ListMultipartUploadParts", OBJECT)]),
        ("PUT", "/b/public/k", "tagging", {}, [("s3:PutObjectTagging", OBJECT)]),
        ("DELETE", "/b/public/k", "tagging&versionId=v", {}, [("s3:DeleteObjectVersionTagging", OBJECT)]),
        ("GET", "/b/public/k", "attributes", {}, [("s3:GetObject", OBJECT), ("s3:GetObjectAttributes", OBJECT)]),
        ("GET", "/b", "list-type=2", {}, [("s3:ListBucket", "arn:aws:s3:::b")]),  # ListObjectsV2 on the bucket
        ("HEAD", "/b", "", {}, [("s3:ListBucket", "arn:aws:s3:::b")]),
        ("GET", "/b", "versions", {}, [("s3:ListBucketVersions", "arn:aws:s3:::b")]),
        ("GET", "/b", "uploads", {}, [("s3:ListBucketMultipartUploads", "arn:aws:s3:::b")]),
        ("PUT", "/b", "", {}, [("s3:CreateBucket", "arn:aws:s3:::b")]),
        ("DELETE", "/b", "", {}, [("s3:DeleteBucket", "arn:aws:s3:::b")]),
        ("PUT", "/b", "policy", {}, [("s3:PutBucketPolicy", "arn:aws:s3:::b")]),
        ("DELETE", "/b", "cors", {}, [("s3:PutBucketCORS", "arn:aws:s3:::b")]),  # DeleteBucketCors
        ("GET", "/b", "replication", {}, [("s3:GetReplicationConfiguration", "arn:aws:s3:::b")]),
    ],
)
def test_s3_permissions(method: str, path: str, query: str, headers: dict[str, str],
                        expected: list[tuple[str, str]]) -> None:
    assert needed(s3(method, path, query, headers)) == expected


def test_delete_objects_needs_delete_object_on_every_key() -> None:
    body = (b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>public/a</Key></Object>'
            b"<Object><Key>private/b</Key><VersionId>v1</VersionId></Object></Delete>")
    assert needed(s3("POST", "/b", "delete", {}, body)) == [
        ("s3:DeleteObject", "arn:aws:s3:::b/public/a"), ("s3:DeleteObjectVersion", "arn:aws:s3:::b/private/b")]


def test_listing_carries_prefix_delimiter_and_max_keys() -> None:
    [permission] = permissions(s3("GET", "/b", "list-type=2&prefix=public%2F&delimiter=%2F&max-keys=10"), REGION,
                               ACCOUNT)
    assert permission.context == {"s3:prefix": "public/", "s3:delimiter": "/", "s3:max-keys": "10"}
    [bare] = permissions(s3("GET", "/b", "list-type=2"), REGION, ACCOUNT)
    assert "s3:prefix" not in bare.context


def test_writes_carry_the_conditional_headers_and_the_creation_flag() -> None:
    [put] = permissions(s3("PUT", "/b/k", "", {"If-None-Match": "*"}), REGION, ACCOUNT)
    assert put.context["s3:if-none-match"] == "*" and put.context["s3:ObjectCreationOperation"] == "true"
    assert put.bucket == "b"
    [bare] = permissions(s3("PUT", "/b/k"), REGION, ACCOUNT)
    assert "s3:if-none-match" not in bare.context
    [part] = permissions(s3("PUT", "/b/k", "partNumber=1&uploadId=u"), REGION, ACCOUNT)
    assert part.context["s3:ObjectCreationOperation"] == "false"
    [complete] = permissions(s3("POST", "/b/k", "uploadId=u", {"If-Match": '"etag"'}), REGION, ACCOUNT)
    assert complete.context["s3:if-match"] == '"etag"' and complete.context["s3:ObjectCreationOperation"] == "true"


def test_an_unknown_s3_operation_is_unmapped() -> None:
    with pytest.raises(UnmappedError):
        permissions(s3("POST", "/b", ""), REGION, ACCOUNT)  # a browser form upload (POST Object)
    with pytest.raises(UnmappedError):
        permissions(s3("PATCH", "/b/k"), REGION, ACCOUNT)


# -- DynamoDB ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "operation,payload,expected",
    [
        ("PutItem", {"TableName": "Comments"}, [("dynamodb:PutItem", f"{TABLE}/Comments")]),
        ("Query", {"TableName": "Photos", "IndexName": "byOwner"},
         [("dynamodb:Query", f"{TABLE}/Photos/index/byOwner")]),
        ("Scan", {"TableName": "Comments"}, [("dynamodb:Scan", f"{TABLE}/Comments")]),
        ("DeleteTable", {"TableName": "Comments"}, [("dynamodb:DeleteTable", f"{TABLE}/Comments")]),
        ("ListTables", {}, [("dynamodb:ListTables", "*")]),
        ("BatchWriteItem", {"RequestItems": {"A": [], "B": []}},
         [("dynamodb:BatchWriteItem", f"{TABLE}/A"), ("dynamodb:BatchWriteItem", f"{TABLE}/B")]),
        ("TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "A"}}, {"Update": {"TableName": "B"}},
                                                  {"ConditionCheck": {"TableName": "C"}},
                                                  {"Delete": {"TableName": "A"}}]},
         [("dynamodb:PutItem", f"{TABLE}/A"), ("dynamodb:UpdateItem", f"{TABLE}/B"),
          ("dynamodb:ConditionCheckItem", f"{TABLE}/C"), ("dynamodb:DeleteItem", f"{TABLE}/A")]),
        ("TransactGetItems", {"TransactItems": [{"Get": {"TableName": "A"}}]}, [("dynamodb:GetItem", f"{TABLE}/A")]),
        ("GetItem", {"TableName": f"{TABLE}/ByArn"}, [("dynamodb:GetItem", f"{TABLE}/ByArn")]),
    ],
)
def test_dynamodb_permissions(operation: str, payload: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert needed(json_call(f"DynamoDB_20120810.{operation}", payload)) == expected


@pytest.mark.parametrize("operation,payload", [("ExecuteStatement", {"Statement": "SELECT * FROM t"}),
                                               ("PutItem", {}), ("TransactWriteItems", {"TransactItems": []})])
def test_dynamodb_calls_the_sandbox_cannot_map_are_unmapped(operation: str, payload: dict[str, Any]) -> None:
    with pytest.raises(UnmappedError):
        permissions(json_call(f"DynamoDB_20120810.{operation}", payload), REGION, ACCOUNT)


# -- Cognito and STS -------------------------------------------------------------------------------------------
def test_cognito_admin_calls_need_their_action_on_the_pool() -> None:
    call = json_call("AWSCognitoIdentityProviderService.AdminCreateUser", {"UserPoolId": "us-east-1_abc"})
    assert needed(call) == [("cognito-idp:AdminCreateUser", POOL)]
    roles = json_call("AWSCognitoIdentityService.SetIdentityPoolRoles", {"IdentityPoolId": "us-east-1:p"})
    assert needed(roles) == [("cognito-identity:SetIdentityPoolRoles",
                              f"arn:aws:cognito-identity:{REGION}:{ACCOUNT}:identitypool/us-east-1:p")]
    assert needed(json_call("AWSCognitoIdentityProviderService.ListUserPools", {})) == [
        ("cognito-idp:ListUserPools", "*")]


@pytest.mark.parametrize("target", ["AWSCognitoIdentityProviderService.InitiateAuth",
                                    "AWSCognitoIdentityProviderService.RespondToAuthChallenge",
                                    "AWSCognitoIdentityProviderService.GetUser",
                                    "AWSCognitoIdentityService.GetId",
                                    "AWSCognitoIdentityService.GetCredentialsForIdentity"])
def test_operations_cognito_serves_unsigned_need_no_iam_permission(target: str) -> None:
    assert needed(json_call(target, {})) == []


def test_get_caller_identity_needs_no_permission_and_other_sts_calls_are_unmapped() -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert needed(classify("POST", "/", "", form, b"Action=GetCallerIdentity&Version=2011-06-15", "sts")) == []
    with pytest.raises(UnmappedError):
        needed(classify("POST", "/", "", form, b"Action=AssumeRole&Version=2011-06-15", "sts"))


# -- dynamodb:LeadingKeys: the partition key values a call touches -------------------------------------------------
@pytest.fixture()
def partition_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables `photos` (partition key `gallery`) and `comments` (`photoId`), as the local DynamoDB would say."""
    import sandbox.iam_actions as iam_actions

    keys = {"photos": "gallery", "comments": "photoId"}
    monkeypatch.setattr(iam_actions, "partition_key", lambda _account, _region, table: keys.get(table))


def leading_keys(target: str, payload: dict[str, Any]) -> list[Any]:
    return [p.context.get("dynamodb:LeadingKeys") for p in permissions(json_call(target, payload), REGION, ACCOUNT)]


def test_item_operations_name_the_partition_key_value_they_touch(partition_keys: None) -> None:
    item = {"gallery": {"S": "photo-ids"}, "photoKey": {"S": "p1"}}
    assert leading_keys("DynamoDB_20120810.PutItem", {"TableName": "photos", "Item": item}) == [["photo-ids"]]
    for op in ("GetItem", "UpdateItem", "DeleteItem"):
        assert leading_keys(f"DynamoDB_20120810.{op}", {"TableName": "photos", "Key": item}) == [["photo-ids"]]


def test_a_query_names_the_partition_key_of_its_key_condition(partition_keys: None) -> None:
    query = {"TableName": "comments", "KeyConditionExpression": "#p = :p AND begins_with(commentKey, :k)",
             "ExpressionAttributeNames": {"#p": "photoId"}, "ExpressionAttributeValues": {":p": {"S": "abc"},
                                                                                         ":k": {"S": "1"}}}
    assert leading_keys("DynamoDB_20120810.Query", query) == [["abc"]]
    legacy = {"TableName": "comments", "KeyConditions": {"photoId": {"ComparisonOperator": "EQ",
                                                                     "AttributeValueList": [{"S": "xyz"}]}}}
    assert leading_keys("DynamoDB_20120810.Query", legacy) == [["xyz"]]


def test_transactions_and_batches_name_each_items_partition_key(partition_keys: None) -> None:
    tx = {"TransactItems": [
        {"ConditionCheck": {"TableName": "photos", "Key": {"gallery": {"S": "a"}}, "ConditionExpression": "x"}},
        {"Put": {"TableName": "comments", "Item": {"photoId": {"S": "p9"}}}},
    ]}
    assert leading_keys("DynamoDB_20120810.TransactWriteItems", tx) == [["a"], ["p9"]]
    batch = {"RequestItems": {"photos": [{"PutRequest": {"Item": {"gallery": {"S": "b"}}}},
                                         {"DeleteRequest": {"Key": {"gallery": {"S": "a"}}}}]}}
    assert leading_keys("DynamoDB_20120810.BatchWriteItem", batch) == [["a", "b"]]


def test_scans_and_index_queries_carry_no_leading_keys(partition_keys: None) -> None:
    assert leading_keys("DynamoDB_20120810.Scan", {"TableName": "photos"}) == [None]
    index_query = {"TableName": "photos", "IndexName": "byOwner", "KeyConditionExpression": "owner = :o",
                   "ExpressionAttributeValues": {":o": {"S": "demo"}}}
    assert leading_keys("DynamoDB_20120810.Query", index_query) == [None]
