"""What a hostile signed-in user, a hostile web page or a stray caller tries against the deployed sandbox,
and how AWS would refuse it: with the service's own error, and nothing written.

The grants under test are the program's own (components/identity.py for app users,
components/operator.py for the operator); the sandbox enforces them on every AWS call
(sandbox/access.py), as IAM would.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from components.contract import Out, RegionOut, Table, photo_key
from ops.appclient import AppError, AppUser, new_photo_id
from sandbox.outage import TOKEN_HEADER
from sandbox.up import Sandbox, demo_password
from tests.e2e.conftest import DEV_ORIGIN, WAIT, set_state_everywhere
from tests.sandbox.cloud_support import http

EVIL = "https://evil.example"
S3V4 = Config(signature_version="s3v4", s3={"addressing_style": "path"})


def aws(sandbox: Sandbox, service: str, role: str, credentials: Credentials, config: Config | None = None) -> Any:
    """A boto3 client of `role`'s region endpoint, signed with `credentials`."""
    region = sandbox.ui_config[role][RegionOut.REGION]
    return boto3.client(service, region_name=region, endpoint_url=sandbox.cloud.region_endpoint(region),
                        aws_access_key_id=credentials.access_key, aws_secret_access_key=credentials.secret_key,
                        aws_session_token=credentials.token,
                        config=Config(retries={"max_attempts": 1}).merge(config or Config()))


def refusal(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]



def table(sandbox: Sandbox, name: str) -> str:
    return str(sandbox.outputs[Out.TABLES][name])


def state_item(sandbox: Sandbox, region: str) -> dict[str, Any]:
    return sandbox.client("dynamodb", region).get_item(
        TableName=table(sandbox, Table.APP_CONFIG), Key={"appId": {"S": sandbox.outputs[Out.APP_ID]}},
        ConsistentRead=True)["Item"]


# -- a signed-in app user, with the identity pool's credentials --------------------------------------------------
@pytest.mark.parametrize("role", ["primary", "secondary"])
@pytest.mark.parametrize("name", [Table.APP_CONFIG, Table.COMMENTS, Table.PHOTOS])
def test_an_app_user_cannot_write_or_scan_any_table_directly(sandbox: Sandbox, user: AppUser, name: str,
                                                            role: str) -> None:
    hash_key, range_key = Table.KEYS[name]
    key = {hash_key: {"S": sandbox.outputs[Out.APP_ID] if name == Table.APP_CONFIG else "attack"}}
    if range_key:
        key[range_key] = {"S": "attack"}
    ddb = aws(sandbox, "dynamodb", role, user.credentials)
    attempts = [
        lambda: ddb.put_item(TableName=table(sandbox, name), Item={**key, "state": {"S": "failover"}}),
        lambda: ddb.update_item(TableName=table(sandbox, name), Key=key, UpdateExpression="SET #s = :s",
                                ExpressionAttributeNames={"#s": "state"},
                                ExpressionAttributeValues={":s": {"S": "failover"}}),
        lambda: ddb.scan(TableName=table(sandbox, name)),
        lambda: ddb.delete_item(TableName=table(sandbox, name), Key=key),
    ]
    for attempt in attempts:
        assert refusal(attempt) == (400, "AccessDeniedException")
    region = sandbox.ui_config[role][RegionOut.REGION]
    if name == Table.APP_CONFIG:
        assert state_item(sandbox, region)["state"] == {"S": "active"}
    else:
        assert "Item" not in sandbox.client("dynamodb", region).get_item(TableName=table(sandbox, name), Key=key)


@pytest.mark.parametrize("role", ["primary", "secondary"])
def test_an_app_user_cannot_create_users_or_remap_the_identity_pools_roles(sandbox: Sandbox, user: AppUser,
                                                                          role: str) -> None:
    block = sandbox.ui_config[role]
    idp = aws(sandbox, "cognito-idp", role, user.credentials)
    assert refusal(lambda: idp.admin_create_user(UserPoolId=block[RegionOut.USER_POOL_ID],
                                                 Username="intruder")) == (400, "AccessDeniedException")
    identity = aws(sandbox, "cognito-identity", role, user.credentials)
    before = sandbox.broker.identity_pool_roles(block[RegionOut.IDENTITY_POOL_ID])
    assert refusal(lambda: identity.set_identity_pool_roles(
        IdentityPoolId=block[RegionOut.IDENTITY_POOL_ID],
        Roles={"authenticated": sandbox.operator["roleArn"]})) == (400, "AccessDeniedException")
    assert sandbox.broker.identity_pool_roles(block[RegionOut.IDENTITY_POOL_ID]) == before
    users = sandbox.client("cognito-idp", block[RegionOut.REGION]).list_users(
        UserPoolId=block[RegionOut.USER_POOL_ID])["Users"]
    assert "intruder" not in {u["Username"] for u in users}


def test_an_app_user_cannot_list_outside_public(sandbox: Sandbox, user: AppUser) -> None:
    photo_id = new_photo_id("list-")
    assert user.put_object("primary", photo_id, b"mine", "image/png").status == 200
    s3 = aws(sandbox, "s3", "primary", user.credentials, S3V4)
    bucket = bucket_of(sandbox, "primary")
    assert refusal(lambda: s3.list_objects_v2(Bucket=bucket, Prefix="private/")) == (403, "AccessDenied")
    assert refusal(lambda: s3.list_objects_v2(Bucket=bucket)) == (403, "AccessDenied")
    assert refusal(lambda: s3.list_objects_v2(Bucket=bucket, Prefix="public/")) == (403, "AccessDenied")  # no listing


# -- photos belong to their owner: another signed-in user, in either region -----------------------------------
ROLES = ["primary", "secondary"]
OWNERS_BYTES = b"\x89PNG the owner's own"


def bucket_of(sandbox: Sandbox, role: str) -> str:
    return str(sandbox.ui_config[role][RegionOut.BUCKET])


def stored_versions(sandbox: Sandbox, role: str, key: str) -> tuple[list[bytes], int]:
    """(the bytes of every version of `key`, newest first; the number of delete markers), read as the
    account's administrator."""
    admin = sandbox.client("s3", sandbox.ui_config[role][RegionOut.REGION])
    listing = admin.list_object_versions(Bucket=bucket_of(sandbox, role), Prefix=key)
    versions = [v for v in listing.get("Versions", []) if v["Key"] == key]
    markers = [m for m in listing.get("DeleteMarkers", []) if m["Key"] == key]
    bodies = [admin.get_object(Bucket=bucket_of(sandbox, role), Key=key, VersionId=v["VersionId"])["Body"].read()
              for v in versions]
    return bodies, len(markers)


def assert_untouched(sandbox: Sandbox, role: str, key: str) -> None:
    """The owner's photo is still its one original version, with no delete marker."""
    assert stored_versions(sandbox, role, key) == ([OWNERS_BYTES], 0), (role, key)


def assert_absent(sandbox: Sandbox, role: str, key: str) -> None:
    assert stored_versions(sandbox, role, key) == ([], 0), (role, key)


def assert_delete_objects_refused(s3: Any, bucket: str, key: str) -> None:
    """DeleteObjects is authorised per key: S3 answers 200 with an AccessDenied <Error> for each key the caller may
    not delete (and deletes the others)."""
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key}]})
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert not answer.get("Deleted") and [(e["Key"], e["Code"]) for e in answer["Errors"]] == [(key, "AccessDenied")]


@pytest.fixture(scope="module")
def owners_photo(sandbox: Sandbox, user: AppUser) -> str:
    """A photo of the demo user, uploaded and registered in the primary, replicated to the secondary."""
    photo_id = new_photo_id("owned-")
    user.upload_photo("primary", photo_id, OWNERS_BYTES)
    assert sandbox.cloud.wait_replication_idle(WAIT)
    assert_untouched(sandbox, "secondary", photo_key(user.owner, photo_id))
    return photo_id


@pytest.mark.parametrize("role", ROLES)
def test_another_user_cannot_overwrite_a_photo_with_or_without_if_none_match(
        sandbox: Sandbox, user: AppUser, other_user: AppUser, owners_photo: str, role: str) -> None:
    s3 = aws(sandbox, "s3", role, other_user.credentials, S3V4)
    key = photo_key(user.owner, owners_photo)
    for conditional in ({"IfNoneMatch": "*"}, {}):
        assert refusal(lambda c=conditional: s3.put_object(Bucket=bucket_of(sandbox, role), Key=key,
                                                           Body=b"defaced", **c)) == (403, "AccessDenied")
    assert_untouched(sandbox, role, key)
    assert user.get_object(role, owners_photo).body == OWNERS_BYTES


def copy_refusal(s3: Any, bucket: str, key: str, source: dict[str, str], **conditions: str) -> tuple[int, str]:
    return refusal(lambda: s3.copy_object(Bucket=bucket, Key=key, CopySource=source, **conditions))


@pytest.mark.parametrize("role", ROLES)
def test_no_app_user_can_overwrite_a_photo_with_copy_object_not_even_its_owner(
        sandbox: Sandbox, user: AppUser, other_user: AppUser, owners_photo: str, role: str) -> None:
    """CopyObject is a write too. The bucket policy's Deny answers 403 to a copy without `If-None-Match: *` (so also
    to `If-Match` alone) and IAM to another user's prefix; S3 answers a copy with those headers into a bucket whose
    policy enforces conditional writes with 501 (without such a policy it would evaluate them: 412 for an existing
    key, see tests/sandbox/test_s3_rules.py). Never an overwrite, not even of a new key."""
    key = photo_key(user.owner, owners_photo)
    bucket = bucket_of(sandbox, role)
    etag = sandbox.client("s3", sandbox.ui_config[role][RegionOut.REGION]).head_object(Bucket=bucket, Key=key)["ETag"]
    denied, not_implemented = (403, "AccessDenied"), (501, "NotImplemented")
    for who in (user, other_user):
        source_id = new_photo_id("copysrc-")
        assert who.put_object(role, source_id, b"defaced", "image/png").status == 200
        s3 = aws(sandbox, "s3", role, who.credentials, S3V4)
        source = {"Bucket": bucket, "Key": photo_key(who.owner, source_id)}
        owner = who is user
        assert copy_refusal(s3, bucket, key, source, IfNoneMatch="*") == (not_implemented if owner else denied)
        assert copy_refusal(s3, bucket, key, source, IfMatch=etag) == denied
        assert copy_refusal(s3, bucket, key, source) == denied
        fresh = photo_key(who.owner, new_photo_id("copied-"))
        assert copy_refusal(s3, bucket, fresh, source, IfNoneMatch="*") == not_implemented
        assert_absent(sandbox, role, fresh)
    assert_untouched(sandbox, role, key)
    assert user.get_object(role, owners_photo).body == OWNERS_BYTES


@pytest.mark.parametrize("role", ROLES)
def test_no_app_user_can_delete_a_photo_not_even_its_owner(
        sandbox: Sandbox, user: AppUser, other_user: AppUser, owners_photo: str, role: str) -> None:
    key = photo_key(user.owner, owners_photo)
    bucket = bucket_of(sandbox, role)
    admin = sandbox.client("s3", sandbox.ui_config[role][RegionOut.REGION])
    [version] = [v["VersionId"] for v in admin.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]]
    for who in (other_user, user):
        s3 = aws(sandbox, "s3", role, who.credentials, S3V4)
        assert refusal(lambda s3=s3: s3.delete_object(Bucket=bucket, Key=key)) == (403, "AccessDenied")
        assert refusal(lambda s3=s3: s3.delete_object(Bucket=bucket, Key=key, VersionId=version)) == (
            403, "AccessDenied")
        assert_delete_objects_refused(s3, bucket, key)
    assert_untouched(sandbox, role, key)


@pytest.mark.parametrize("role", ROLES)
def test_a_photo_whose_bytes_are_not_there_is_403_to_app_users_not_404(
        sandbox: Sandbox, user: AppUser, role: str) -> None:
    """S3 says a key does not exist (404) only to callers that may list the bucket; app users may not (their
    GetObject carries no s3:prefix), so a missing photo, e.g. not replicated yet, is 403: the web app shows it as
    "replicating" either way."""
    absent = new_photo_id("absent-")
    answer = user.get_object(role, absent)
    assert answer.status == 403 and b"<Code>AccessDenied</Code>" in answer.body
    s3 = aws(sandbox, "s3", role, user.credentials, S3V4)
    url = s3.generate_presigned_url("get_object", ExpiresIn=60,
                                    Params={"Bucket": bucket_of(sandbox, role), "Key": photo_key(user.owner, absent)})
    assert http(url)[0] == 403  # what the web app's <img> gets


@pytest.mark.parametrize("role", ROLES)
def test_another_user_cannot_write_into_someone_elses_prefix(
        sandbox: Sandbox, user: AppUser, other_user: AppUser, role: str) -> None:
    s3 = aws(sandbox, "s3", role, other_user.credentials, S3V4)
    key = photo_key(user.owner, new_photo_id("planted-"))
    assert refusal(lambda: s3.put_object(Bucket=bucket_of(sandbox, role), Key=key, Body=b"x", IfNoneMatch="*")) == (
        403, "AccessDenied")
    assert_absent(sandbox, role, key)


@pytest.mark.parametrize("role", ROLES)
def test_an_app_user_cannot_write_outside_public_own_owner(sandbox: Sandbox, other_user: AppUser, role: str) -> None:
    s3 = aws(sandbox, "s3", role, other_user.credentials, S3V4)
    me, photo_id = other_user.owner, new_photo_id("outside-")
    outside = [f"public/{photo_id}",  # the old flat layout
               f"public/{me}",  # the prefix's own name, not under it
               photo_key(f"{me}x", photo_id),  # a username that merely starts with mine
               f"../{photo_key(me, photo_id)}",  # dot segments are part of an S3 key, never resolved
               f"private/{photo_id}", photo_id, f"publicity/{photo_id}"]
    for key in outside:
        assert refusal(lambda k=key: s3.put_object(Bucket=bucket_of(sandbox, role), Key=k, Body=b"x",
                                                   IfNoneMatch="*")) == (403, "AccessDenied"), key
        assert_absent(sandbox, role, key)


@pytest.mark.parametrize("role", ROLES)
def test_an_unconditional_put_is_refused_even_in_ones_own_prefix(sandbox: Sandbox, other_user: AppUser,
                                                                 role: str) -> None:
    s3 = aws(sandbox, "s3", role, other_user.credentials, S3V4)
    key = photo_key(other_user.owner, new_photo_id("unconditional-"))
    assert refusal(lambda: s3.put_object(Bucket=bucket_of(sandbox, role), Key=key, Body=b"x")) == (
        403, "AccessDenied")
    assert_absent(sandbox, role, key)
    s3.put_object(Bucket=bucket_of(sandbox, role), Key=key, Body=b"x", IfNoneMatch="*")  # the condition was missing
    assert stored_versions(sandbox, role, key) == ([b"x"], 0)


@pytest.mark.parametrize("role", ROLES)
def test_another_user_cannot_register_a_photo_id_already_registered(
        sandbox: Sandbox, user: AppUser, other_user: AppUser, owners_photo: str, role: str) -> None:
    if role == "secondary":  # the id's marker replicated: taken in the other region too
        set_state_everywhere(sandbox, "failover")
    answer = other_user.register_photo(role, owners_photo, len(OWNERS_BYTES))
    assert (answer.status, answer.body["code"]) == (409, "PHOTO_EXISTS")
    records = [p for p in other_user.all_photos(role) or [] if p["photoId"] == owners_photo]
    assert [(p["owner"], p["key"]) for p in records] == [(user.owner, photo_key(user.owner, owners_photo))]


def test_registration_while_fenced_is_409_and_the_bytes_stay_out_of_the_gallery(
        sandbox: Sandbox, other_user: AppUser) -> None:
    set_state_everywhere(sandbox, "fenced")
    photo_id = new_photo_id("fenced-")
    assert other_user.put_object("primary", photo_id, b"\x89PNG fenced", "image/png").status == 200  # S3: no fence
    for role in ROLES:
        answer = other_user.register_photo(role, photo_id, 12)
        assert (answer.status, answer.body["code"]) == (409, "READ_ONLY"), role
    set_state_everywhere(sandbox, "active")
    for role in ROLES:
        assert photo_id not in {p["photoId"] for p in other_user.all_photos(role) or []}, role
    assert stored_versions(sandbox, "secondary", photo_key(other_user.owner, photo_id)) == ([b"\x89PNG fenced"], 0)


@pytest.mark.parametrize("role", ROLES)
def test_another_user_cannot_invoke_the_owners_write_routes(
        sandbox: Sandbox, user: AppUser, other_user: AppUser, owners_photo: str, role: str) -> None:
    stolen = new_photo_id("stolen-")
    attempts = {
        "postComment": (other_user.path("postComment", owner=user.owner, photoId=owners_photo),
                        {"message": "posted as the owner"}),
        "registerPhoto": (other_user.path("registerPhoto", owner=user.owner),
                          {"photoId": stolen, "size": 3, "contentType": "image/png"}),
    }
    for name, (path, body) in attempts.items():
        answer = other_user.api("POST", role, path, body)
        # IAM refuses before any template runs: 403, not the secondary's 409 READ_ONLY
        assert (answer.status, answer.body["code"]) == (403, "ACCESS_DENIED"), name
    assert "posted as the owner" not in {c["message"] for c in user.comments(role, owners_photo)}
    assert stolen not in {p["photoId"] for p in user.all_photos(role) or []}


def test_the_owners_own_flows_work(sandbox: Sandbox, user: AppUser) -> None:
    photo_id = new_photo_id("own-")
    assert user.put_object("primary", photo_id, b"\x89PNG own", "image/png").status == 200
    again = user.put_object("primary", photo_id, b"\x89PNG replaced", "image/png")
    assert again.status == 412 and b"<Code>PreconditionFailed</Code>" in again.body
    assert user.register_photo("primary", photo_id, 8).status == 200
    [record] = [p for p in user.photos("primary") if p["photoId"] == photo_id]
    assert (record["owner"], record["key"]) == (user.owner, photo_key(user.owner, photo_id))
    assert user.get_object("primary", photo_id).body == b"\x89PNG own"
    s3 = aws(sandbox, "s3", "primary", user.credentials, S3V4)
    url = s3.generate_presigned_url("get_object", ExpiresIn=60,
                                    Params={"Bucket": bucket_of(sandbox, "primary"), "Key": record["key"]})
    assert http(url)[::2] == (200, b"\x89PNG own")
    user.post_comment("primary", photo_id, "mine")
    assert [(c["message"], c["user"]) for c in user.comments("primary", photo_id)] == [("mine", user.owner)]
    assert user.routing_state() == "active"


# -- the operator's keys: exactly the operator policy -----------------------------------------------------------
@pytest.fixture(scope="module")
def operator_keys(sandbox: Sandbox) -> Credentials:
    return Credentials(sandbox.operator["accessKeyId"], sandbox.operator["secretAccessKey"])


def test_the_operator_can_do_what_the_operator_policy_grants(sandbox: Sandbox, operator_keys: Credentials) -> None:
    app_key = {"appId": {"S": sandbox.outputs[Out.APP_ID]}}
    for role in ("primary", "secondary"):
        ddb = aws(sandbox, "dynamodb", role, operator_keys)
        assert ddb.get_item(TableName=table(sandbox, Table.APP_CONFIG), Key=app_key)["Item"]["state"]
        ddb.update_item(TableName=table(sandbox, Table.APP_CONFIG), Key=app_key, UpdateExpression="SET #s = :s",
                        ConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "state"},
                        ExpressionAttributeValues={":s": {"S": "active"}})
        ddb.query(TableName=table(sandbox, Table.PHOTOS), KeyConditionExpression="gallery = :g",
                  ExpressionAttributeValues={":g": {"S": "public"}}, Select="COUNT")
        ddb.scan(TableName=table(sandbox, Table.COMMENTS), Select="COUNT")
        aws(sandbox, "cognito-idp", role, operator_keys).list_users(
            UserPoolId=sandbox.ui_config[role][RegionOut.USER_POOL_ID])
    secondary = aws(sandbox, "cognito-idp", "secondary", operator_keys)
    secondary.admin_create_user(UserPoolId=sandbox.ui_config["secondary"][RegionOut.USER_POOL_ID],
                                Username=new_photo_id("synced-").lower(), MessageAction="SUPPRESS")
    assert aws(sandbox, "sts", "primary", operator_keys).get_caller_identity()["Arn"].endswith("/ops-cli")


def test_the_operator_can_do_nothing_more(sandbox: Sandbox, operator_keys: Credentials) -> None:
    ddb = aws(sandbox, "dynamodb", "primary", operator_keys)
    comment = {"photoId": {"S": "op-attack"}, "commentKey": {"S": "0"}}
    assert refusal(lambda: ddb.put_item(TableName=table(sandbox, Table.COMMENTS), Item=comment)) == (
        400, "AccessDeniedException")
    assert refusal(lambda: ddb.delete_table(TableName=table(sandbox, Table.COMMENTS))) == (
        400, "AccessDeniedException")
    assert refusal(lambda: ddb.put_item(TableName=table(sandbox, Table.APP_CONFIG), Item={
        "appId": {"S": sandbox.outputs[Out.APP_ID]}, "state": {"S": "failover"}})) == (400, "AccessDeniedException")
    s3 = aws(sandbox, "s3", "primary", operator_keys, S3V4)
    assert refusal(lambda: s3.put_object(Bucket=sandbox.ui_config["primary"][RegionOut.BUCKET], Key="public/op",
                                         Body=b"x")) == (403, "AccessDenied")
    primary = aws(sandbox, "cognito-idp", "primary", operator_keys)
    assert refusal(lambda: primary.admin_create_user(UserPoolId=sandbox.ui_config["primary"][RegionOut.USER_POOL_ID],
                                                     Username="op-made")) == (400, "AccessDeniedException")
    region = sandbox.ui_config["primary"][RegionOut.REGION]
    assert table(sandbox, Table.COMMENTS) in sandbox.client("dynamodb", region).list_tables()["TableNames"]
    assert "Item" not in sandbox.client("dynamodb", region).get_item(TableName=table(sandbox, Table.COMMENTS),
                                                                      Key=comment)
    assert state_item(sandbox, region)["state"] == {"S": "active"}


# -- a hostile page in the developer's browser, and stray callers -----------------------------------------------
def test_an_unsigned_cross_origin_update_cannot_switch_the_state(sandbox: Sandbox) -> None:
    region = sandbox.ui_config["primary"][RegionOut.REGION]
    body = json.dumps({"TableName": table(sandbox, Table.APP_CONFIG),
                       "Key": {"appId": {"S": sandbox.outputs[Out.APP_ID]}},
                       "UpdateExpression": "SET #s = :s", "ExpressionAttributeNames": {"#s": "state"},
                       "ExpressionAttributeValues": {":s": {"S": "failover"}}}).encode()
    headers = {"X-Amz-Target": "DynamoDB_20120810.UpdateItem", "Content-Type": "application/x-amz-json-1.0",
               "Origin": EVIL}
    preflight = http(sandbox.cloud.region_endpoint(region) + "/", "OPTIONS", headers={
        "Origin": EVIL, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-amz-target"})
    assert preflight[0] == 403 and "Access-Control-Allow-Origin" not in preflight[1]
    status, response_headers, answer = http(sandbox.cloud.region_endpoint(region) + "/", "POST", body, headers)
    assert status == 400 and json.loads(answer)["__type"].endswith("#MissingAuthenticationTokenException")
    assert not [k for k in response_headers if k.lower().startswith("access-control-")]
    assert state_item(sandbox, region)["state"] == {"S": "active"}


def test_the_photo_buckets_answer_cors_for_the_sandboxs_own_origins_only(sandbox: Sandbox) -> None:
    block = sandbox.ui_config["primary"]
    url = f"{sandbox.cloud.region_endpoint(block[RegionOut.REGION])}/{block[RegionOut.BUCKET]}/public/p"
    requested = "authorization, content-type, x-amz-date, x-amz-security-token, x-amz-content-sha256"

    def preflight(origin: str) -> tuple[int, Any, bytes]:
        return http(url, "OPTIONS", headers={"Origin": origin, "Access-Control-Request-Method": "PUT",
                                             "Access-Control-Request-Headers": requested})

    for origin in (str(sandbox.web_url), DEV_ORIGIN):  # the web app, and a dev server given with --allow-origin
        status, headers, _ = preflight(origin)
        assert status == 200 and headers["Access-Control-Allow-Origin"] == origin
        assert "PUT" in headers["Access-Control-Allow-Methods"]
    status, headers, body = preflight(EVIL)
    assert status == 403 and b"AccessForbidden" in body and "Access-Control-Allow-Origin" not in headers


def test_an_unauthenticated_caller_cannot_start_an_outage_or_remap_roles(sandbox: Sandbox) -> None:
    status, _, _ = http(sandbox.cloud.endpoint + "/_sandbox/outage", "POST",
                        json.dumps({"region": "primary", "down": True}).encode(),
                        {"Content-Type": "application/json", "Origin": EVIL})
    assert status == 403 and not sandbox.cloud.is_down("primary")
    assert http(sandbox.cloud.endpoint + "/_sandbox/outage", "POST", b'{"region": "primary", "down": true}',
                {TOKEN_HEADER: "guess"})[0] == 403
    block = sandbox.ui_config["primary"]
    before = sandbox.broker.identity_pool_roles(block[RegionOut.IDENTITY_POOL_ID])
    status, _, answer = http(sandbox.cloud.region_endpoint(block[RegionOut.REGION]) + "/", "POST", json.dumps({
        "IdentityPoolId": block[RegionOut.IDENTITY_POOL_ID],
        "Roles": {"authenticated": sandbox.operator["roleArn"]}}).encode(),
        {"X-Amz-Target": "AWSCognitoIdentityService.SetIdentityPoolRoles",
         "Content-Type": "application/x-amz-json-1.1"})
    assert status == 400 and json.loads(answer)["__type"] == "MissingAuthenticationTokenException"
    assert sandbox.broker.identity_pool_roles(block[RegionOut.IDENTITY_POOL_ID]) == before


def test_a_foreign_host_header_is_refused_on_every_port(sandbox: Sandbox) -> None:
    urls = [sandbox.cloud.endpoint, *(sandbox.cloud.region_endpoint(r) for r in sandbox.cloud.regions)]
    for url in [*urls, *([sandbox.web_url] if sandbox.web_url else [])]:
        status, _, _ = http(url + "/uiConfig.json", headers={"Host": "rebound.evil.example"})
        assert status == 403, url


def test_presigned_urls_work_until_tampered_or_expired(sandbox: Sandbox, user: AppUser) -> None:
    photo_id = new_photo_id("url-")
    assert user.put_object("primary", photo_id, b"pixels", "image/png").status == 200
    s3 = aws(sandbox, "s3", "primary", user.credentials, S3V4)
    url = s3.generate_presigned_url("get_object", ExpiresIn=60, Params={
        "Bucket": sandbox.ui_config["primary"][RegionOut.BUCKET], "Key": photo_key(user.owner, photo_id)})
    assert http(url)[::2] == (200, b"pixels")
    status, _, body = http(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    real_clock = sandbox.cloud.access.clock
    sandbox.cloud.access.clock = lambda: time.time() + 120  # the URL's 60 seconds are over
    try:
        status, _, body = http(url)
    finally:
        sandbox.cloud.access.clock = real_clock
    assert status == 403 and b"<Message>Request has expired</Message>" in body


# -- identities: nobody joins by themselves; a signed-out token is worth nothing ------------------------------
def unsigned_client(sandbox: Sandbox, service: str, role: str) -> Any:
    """Unsigned, on `role`'s region endpoint: what a browser (or an attacker's script) uses for Cognito."""
    region = sandbox.ui_config[role][RegionOut.REGION]
    return boto3.client(service, region_name=region, endpoint_url=sandbox.cloud.region_endpoint(region),
                        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))


def pool_usernames(sandbox: Sandbox, role: str) -> set[str]:
    block = sandbox.ui_config[role]
    users = sandbox.client("cognito-idp", block[RegionOut.REGION]).list_users(
        UserPoolId=block[RegionOut.USER_POOL_ID])["Users"]
    return {u["Username"] for u in users}


@pytest.mark.parametrize("role", ROLES)
def test_nobody_can_sign_up_or_confirm_themselves_in_either_region(sandbox: Sandbox, role: str) -> None:
    """The owner is the user pool's username in both regions: a self-made user could take the name of someone
    not yet copied to the other region (`ops sync-users`). Only administrators create users."""
    block = sandbox.ui_config[role]
    idp = unsigned_client(sandbox, "cognito-idp", role)
    squatted = f"notyetcopied{role[:3]}"
    if role == "secondary":  # the victim exists in the primary only, as before the next sync-users
        primary = sandbox.ui_config["primary"]
        sandbox.client("cognito-idp", primary[RegionOut.REGION]).admin_create_user(
            UserPoolId=primary[RegionOut.USER_POOL_ID], Username=squatted, MessageAction="SUPPRESS")
    assert refusal(lambda: idp.sign_up(ClientId=block[RegionOut.USER_POOL_CLIENT_ID], Username=squatted,
                                       Password="Squatter-Passw0rd!")) == (400, "NotAuthorizedException")
    assert refusal(lambda: idp.confirm_sign_up(ClientId=block[RegionOut.USER_POOL_CLIENT_ID], Username=squatted,
                                               ConfirmationCode="000000"))[0] == 400
    assert squatted not in pool_usernames(sandbox, role)
    with pytest.raises((AppError, ClientError)):  # no such user (or, on AWS with existence errors hidden, a refusal)
        AppUser.sign_in(sandbox.ui_config, squatted, "Squatter-Passw0rd!", role=role)


@pytest.mark.parametrize("role", ROLES)
def test_a_signed_out_id_token_gets_no_identity_and_no_credentials(sandbox: Sandbox, role: str) -> None:
    """The identity pools check id tokens with the user pool (ServerSideTokenCheck): after GlobalSignOut a
    stolen id token buys no AWS credentials."""
    block = sandbox.ui_config[role]
    region, pool = block[RegionOut.REGION], block[RegionOut.USER_POOL_ID]
    username, password = f"leaving{role[:3]}", demo_password()
    admin = sandbox.client("cognito-idp", region)
    admin.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS")
    admin.admin_set_user_password(UserPoolId=pool, Username=username, Password=password, Permanent=True)
    idp = unsigned_client(sandbox, "cognito-idp", role)
    tokens = idp.initiate_auth(ClientId=block[RegionOut.USER_POOL_CLIENT_ID], AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": username, "PASSWORD": password})["AuthenticationResult"]
    logins = {f"cognito-idp.{region}.amazonaws.com/{pool}": tokens["IdToken"]}
    identity = unsigned_client(sandbox, "cognito-identity", role)
    identity_id = identity.get_id(IdentityPoolId=block[RegionOut.IDENTITY_POOL_ID], Logins=logins)["IdentityId"]
    assert identity.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)["Credentials"]
    idp.global_sign_out(AccessToken=tokens["AccessToken"])
    assert refusal(lambda: identity.get_id(IdentityPoolId=block[RegionOut.IDENTITY_POOL_ID], Logins=logins)) == (
        400, "NotAuthorizedException")
    assert refusal(lambda: identity.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)) == (
        400, "NotAuthorizedException")
    assert AppUser.sign_in(sandbox.ui_config, username, password, role=role).identity_id == identity_id  # again


# -- request validation and signatures -------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_a_photo_id_with_a_trailing_newline_is_refused(sandbox: Sandbox, other_user: AppUser, role: str) -> None:
    """API Gateway's validator is ECMA-262: `$` does not match before a final newline."""
    if role == "secondary":
        set_state_everywhere(sandbox, "failover")
    for body in ({"photoId": "nlx\n", "size": 3, "contentType": "image/png"},
                 {"photoId": "nlx", "size": 3, "contentType": "image/png\n"}):
        answer = other_user.api("POST", role, other_user.path("registerPhoto"), body)
        assert (answer.status, answer.body["code"]) == (400, "BAD_REQUEST_BODY"), body
    assert not [p for p in other_user.all_photos(role) or [] if p["photoId"].startswith("nlx")]


@pytest.mark.parametrize("role", ROLES)
def test_x_amz_headers_added_after_signing_are_refused(sandbox: Sandbox, user: AppUser, role: str) -> None:
    photo_id = new_photo_id("unsigned-")
    url = user.object_url(role, photo_id)
    request = AWSRequest(method="PUT", url=url, data=b"x", headers={
        "If-None-Match": "*", "Content-Type": "image/png", "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    S3SigV4Auth(user.credentials, "s3", sandbox.ui_config[role][RegionOut.REGION]).add_auth(request)
    headers = {**dict(request.headers.items()), "x-amz-website-redirect-location": "/evil"}
    status, _, body = http(url, "PUT", b"x", headers)
    assert status == 403 and b"<HeadersNotSigned>x-amz-website-redirect-location</HeadersNotSigned>" in body
    assert_absent(sandbox, role, photo_key(user.owner, photo_id))
