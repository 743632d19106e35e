"""IAM and signatures on the AWS endpoints, for keys the sandbox issued, over real HTTP.

GIVEN a LocalCloud whose credentials broker knows a few principals and their role policies,
WHEN they call S3, DynamoDB, Cognito and STS signed with botocore (header or presigned URL),
THEN each call is verified and authorised as AWS would (identity policies, bucket policies, policy
variables from principal tags), a refusal is the service's own error, and nothing is written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from components.identity import authenticated_trust_policy
from sandbox.cloud import ACCOUNT, LocalCloud
from sandbox.credentials import CredentialsBroker
from sandbox.outage import CONTROL_SERVICE
from tests.sandbox.cloud_support import FOREIGN_ORIGIN, NO_RETRIES, PRIMARY, SECONDARY, http, unique

ROLE = f"arn:aws:iam::{ACCOUNT}:role/tester"
OPERATOR = Credentials("AKIATESTOPERATOR0001", "operator-secret")
S3V4 = Config(signature_version="s3v4", s3={"addressing_style": "path"})


@pytest.fixture(scope="module")
def broker(local_cloud: LocalCloud) -> CredentialsBroker:
    broker = CredentialsBroker(ACCOUNT)
    local_cloud.set_principals(broker)
    local_cloud.add_middleware(broker.middleware)
    broker.add_static_principal(OPERATOR.access_key, OPERATOR.secret_key, ROLE,
                                f"arn:aws:sts::{ACCOUNT}:assumed-role/tester/session")
    return broker


@pytest.fixture()
def grant(broker: CredentialsBroker) -> Iterator[Callable[..., None]]:
    """grant(statement, ...): the tester role's identity policy for this test."""

    def set_policy(*statements: dict[str, Any]) -> None:
        broker.set_role_policies(ROLE, [json.dumps({"Version": "2012-10-17", "Statement": list(statements)})])

    yield set_policy
    broker.set_role_policies(ROLE, [])


def client(cloud: LocalCloud, service: str, region: str = PRIMARY, credentials: Credentials = OPERATOR,
           config: Config | None = None) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=cloud.region_endpoint(region),
                        aws_access_key_id=credentials.access_key, aws_secret_access_key=credentials.secret_key,
                        aws_session_token=credentials.token, config=NO_RETRIES.merge(config or Config()))


def refused(call: Callable[[], Any]) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]



def make_table(aws_client: Callable[..., Any]) -> str:
    name = unique("Items")
    aws_client("dynamodb", PRIMARY).create_table(
        TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    return name


def table_arn(name: str, region: str = PRIMARY) -> str:
    return f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"


# -- identity policies ------------------------------------------------------------------------------------------
def test_an_issued_key_may_do_what_its_policy_grants_and_nothing_else(
    local_cloud: LocalCloud, broker: CredentialsBroker, grant: Callable[..., None], aws_client: Callable[..., Any]
) -> None:
    table = make_table(aws_client)
    admin = aws_client("dynamodb", PRIMARY)
    admin.put_item(TableName=table, Item={"id": {"S": "a"}, "v": {"S": "1"}})
    grant({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": table_arn(table)})
    ddb = client(local_cloud, "dynamodb")

    assert ddb.get_item(TableName=table, Key={"id": {"S": "a"}})["Item"]["v"] == {"S": "1"}
    status, code, message = refused(lambda: ddb.put_item(TableName=table, Item={"id": {"S": "b"}}))
    assert (status, code) == (400, "AccessDeniedException")
    assert message == (f"User: arn:aws:sts::{ACCOUNT}:assumed-role/tester/session is not authorized to perform: "
                       f"dynamodb:PutItem on resource: {table_arn(table)} because no identity-based policy allows "
                       "the dynamodb:PutItem action")
    assert "Item" not in admin.get_item(TableName=table, Key={"id": {"S": "b"}})
    assert refused(lambda: ddb.delete_table(TableName=table))[1] == "AccessDeniedException"
    assert table in admin.list_tables()["TableNames"]


def test_a_transaction_needs_the_item_action_on_every_table(
    local_cloud: LocalCloud, grant: Callable[..., None], aws_client: Callable[..., Any]
) -> None:
    mine, other = make_table(aws_client), make_table(aws_client)
    grant({"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table_arn(mine)})
    ddb = client(local_cloud, "dynamodb")
    items = [{"Put": {"TableName": mine, "Item": {"id": {"S": "t"}}}},
             {"Put": {"TableName": other, "Item": {"id": {"S": "t"}}}}]
    assert refused(lambda: ddb.transact_write_items(TransactItems=items))[1] == "AccessDeniedException"
    assert "Item" not in aws_client("dynamodb", PRIMARY).get_item(TableName=mine, Key={"id": {"S": "t"}})
    ddb.transact_write_items(TransactItems=items[:1])


def test_an_operation_the_sandbox_cannot_map_is_refused_for_issued_keys(
    local_cloud: LocalCloud, grant: Callable[..., None], aws_client: Callable[..., Any]
) -> None:
    table = make_table(aws_client)
    grant({"Effect": "Allow", "Action": "*", "Resource": "*"})
    status, code, message = refused(lambda: client(local_cloud, "dynamodb").execute_statement(
        Statement=f'INSERT INTO "{table}" VALUE {{\'id\': \'x\'}}'))
    assert (status, code) == (400, "AccessDeniedException") and "no IAM mapping" in message
    assert aws_client("dynamodb", PRIMARY).scan(TableName=table)["Count"] == 0


def test_get_caller_identity_names_the_issued_principal(local_cloud: LocalCloud, broker: CredentialsBroker) -> None:
    answer = client(local_cloud, "sts").get_caller_identity()
    assert answer["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/tester/session"
    assert answer["Account"] == ACCOUNT and answer["UserId"].endswith(":session")


# -- S3: identity and bucket policies together -----------------------------------------------------------------
@pytest.fixture()
def bucket(aws_client: Callable[..., Any]) -> str:
    name = unique("photos")
    aws_client("s3", PRIMARY).create_bucket(Bucket=name)
    return name


def test_a_bucket_policy_naming_the_role_grants_without_an_identity_grant(
    local_cloud: LocalCloud, broker: CredentialsBroker, bucket: str, aws_client: Callable[..., Any]
) -> None:
    admin = aws_client("s3", PRIMARY)
    admin.put_object(Bucket=bucket, Key="public/k", Body=b"x")
    s3 = client(local_cloud, "s3", config=S3V4)
    status, code, message = refused(lambda: s3.get_object(Bucket=bucket, Key="public/k"))
    assert (status, code) == (403, "AccessDenied")
    assert f'on resource: "arn:aws:s3:::{bucket}/public/k" because no identity-based policy allows' in message
    admin.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    assert s3.get_object(Bucket=bucket, Key="public/k")["Body"].read() == b"x"


def test_a_missing_object_is_403_to_a_caller_who_may_not_list_the_bucket_and_404_to_one_who_may(
    local_cloud: LocalCloud, grant: Callable[..., None], bucket: str, aws_client: Callable[..., Any]
) -> None:
    aws_client("s3", PRIMARY).put_object(Bucket=bucket, Key="public/here", Body=b"x")
    read = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    s3 = client(local_cloud, "s3", config=S3V4)

    def answers() -> tuple[tuple[int, str], int, int]:
        get = refused(lambda: s3.get_object(Bucket=bucket, Key="public/absent"))[:2]
        head = refused(lambda: s3.head_object(Bucket=bucket, Key="public/absent"))[0]
        url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "public/absent"}, ExpiresIn=60)
        return get, head, http(url)[0]

    grant(read)
    assert answers() == ((403, "AccessDenied"), 403, 403)
    assert s3.get_object(Bucket=bucket, Key="public/here")["Body"].read() == b"x"
    # a ListBucket grant conditioned on s3:prefix does not help: GetObject carries no s3:prefix
    grant(read, {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}",
                 "Condition": {"StringLike": {"s3:prefix": ["public/", "public/*"]}}})
    assert answers() == ((403, "AccessDenied"), 403, 403)
    grant(read, {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"})
    assert answers() == ((404, "NoSuchKey"), 404, 404)


def test_delete_objects_deletes_what_the_caller_may_and_reports_each_refused_key(
    local_cloud: LocalCloud, grant: Callable[..., None], bucket: str, aws_client: Callable[..., Any]
) -> None:
    admin = aws_client("s3", PRIMARY)
    for key in ("mine/a", "mine/b", "theirs/c"):
        admin.put_object(Bucket=bucket, Key=key, Body=b"x")
    grant({"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/mine/*"})
    s3 = client(local_cloud, "s3", config=S3V4)
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "mine/a"}, {"Key": "theirs/c"}]})
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert [d["Key"] for d in answer["Deleted"]] == ["mine/a"]
    assert [(e["Key"], e["Code"], e["Message"]) for e in answer["Errors"]] == [
        ("theirs/c", "AccessDenied", "Access Denied")]
    everything_refused = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "theirs/c"}]})
    assert not everything_refused.get("Deleted")
    assert [e["Key"] for e in everything_refused["Errors"]] == ["theirs/c"]
    left = {o["Key"] for o in admin.list_objects_v2(Bucket=bucket)["Contents"]}
    assert left == {"mine/b", "theirs/c"}
    admin.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "theirs/c"}]})  # moto's own check stays neutral
    assert {o["Key"] for o in admin.list_objects_v2(Bucket=bucket)["Contents"]} == {"mine/b"}


def test_a_conditional_bucket_policy_deny_forces_if_none_match_and_its_refusal_writes_nothing(
    local_cloud: LocalCloud, grant: Callable[..., None], bucket: str, aws_client: Callable[..., Any]
) -> None:
    admin = aws_client("s3", PRIMARY)
    admin.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"Null": {"s3:if-none-match": "true"}, "Bool": {"s3:ObjectCreationOperation": "true"}}}]}))
    grant({"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"})
    s3 = client(local_cloud, "s3", config=S3V4)

    status, code, message = refused(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"unconditional"))
    assert (status, code) == (403, "AccessDenied") and "with an explicit deny in a resource-based policy" in message
    assert admin.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    s3.put_object(Bucket=bucket, Key="k", Body=b"first", IfNoneMatch="*")
    status, code, _ = refused(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"second", IfNoneMatch="*"))
    assert (status, code) == (412, "PreconditionFailed")
    assert admin.get_object(Bucket=bucket, Key="k")["Body"].read() == b"first"


def test_the_programs_photo_bucket_policy_lets_the_sandbox_https_stand_in_through(
    local_cloud: LocalCloud, grant: Callable[..., None], bucket: str, aws_client: Callable[..., Any]
) -> None:
    from components.object_store import photo_bucket_policy

    aws_client("s3", PRIMARY).put_bucket_policy(Bucket=bucket, Policy=photo_bucket_policy(f"arn:aws:s3:::{bucket}"))
    grant({"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": f"arn:aws:s3:::{bucket}/*"})
    s3 = client(local_cloud, "s3", config=S3V4)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")  # aws:SecureTransport is true in the sandbox
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


# -- signatures ---------------------------------------------------------------------------------------------
def test_s3_signature_failures_answer_s3s_own_errors(
    local_cloud: LocalCloud, grant: Callable[..., None], bucket: str, aws_client: Callable[..., Any]
) -> None:
    grant({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    wrong_secret = Credentials(OPERATOR.access_key, "not-the-secret")
    assert refused(lambda: client(local_cloud, "s3", credentials=wrong_secret, config=S3V4).put_object(
        Bucket=bucket, Key="k", Body=b"x"))[:2] == (403, "SignatureDoesNotMatch")
    with_token = Credentials(OPERATOR.access_key, OPERATOR.secret_key, "a-token-it-never-had")
    assert refused(lambda: client(local_cloud, "s3", credentials=with_token, config=S3V4).put_object(
        Bucket=bucket, Key="k", Body=b"x"))[:2] == (400, "InvalidToken")
    # signed for the wrong region (boto3 would follow the error's <Region> and sign again: send it raw)
    request = AWSRequest("PUT", f"{local_cloud.region_endpoint(SECONDARY)}/{bucket}/k", data=b"x")
    S3SigV4Auth(OPERATOR, "s3", SECONDARY).add_auth(request)
    status, _, body = http(request.url, "PUT", b"x", dict(request.headers.items()))
    assert status == 400 and b"<Code>AuthorizationHeaderMalformed</Code>" in body
    assert f"<Region>{PRIMARY}</Region>".encode() in body
    assert aws_client("s3", PRIMARY).list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_s3_refuses_x_amz_headers_added_after_signing_and_writes_nothing(
    local_cloud: LocalCloud, grant: Callable[..., None], bucket: str, aws_client: Callable[..., Any]
) -> None:
    grant({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    request = AWSRequest("PUT", f"{local_cloud.region_endpoint(PRIMARY)}/{bucket}/k", data=b"x")
    S3SigV4Auth(OPERATOR, "s3", PRIMARY).add_auth(request)
    headers = {**dict(request.headers.items()), "x-amz-acl": "public-read", "x-amz-meta-note": "added"}
    status, _, body = http(request.url, "PUT", b"x", headers)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    assert b"<Message>There were headers present in the request which were not signed</Message>" in body
    assert b"<HeadersNotSigned>x-amz-acl, x-amz-meta-note</HeadersNotSigned>" in body
    assert aws_client("s3", PRIMARY).list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    url = client(local_cloud, "s3", config=S3V4).generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60)
    status, _, body = http(url, "PUT", b"x", {"x-amz-website-redirect-location": "/evil"})
    assert status == 403 and b"<HeadersNotSigned>x-amz-website-redirect-location</HeadersNotSigned>" in body
    assert aws_client("s3", PRIMARY).list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    assert http(url, "PUT", b"x")[0] == 200  # the same URL without the added header


def test_json_signature_failures_answer_the_services_own_errors(local_cloud: LocalCloud,
                                                                 grant: Callable[..., None]) -> None:
    grant({"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*"})
    wrong_secret = Credentials(OPERATOR.access_key, "not-the-secret")
    assert refused(lambda: client(local_cloud, "dynamodb", credentials=wrong_secret).list_tables())[:2] == (
        400, "InvalidSignatureException")
    misdirected = boto3.client("dynamodb", region_name=SECONDARY, endpoint_url=local_cloud.region_endpoint(PRIMARY),
                               aws_access_key_id=OPERATOR.access_key, aws_secret_access_key=OPERATOR.secret_key,
                               config=NO_RETRIES)
    status, code, message = refused(misdirected.list_tables)
    assert (status, code) == (400, "InvalidSignatureException") and "Credential should be scoped" in message
    request = AWSRequest("POST", local_cloud.region_endpoint(PRIMARY) + "/", data=b"{}",
                         headers={"X-Amz-Target": "DynamoDB_20120810.ListTables",
                                  "Content-Type": "application/x-amz-json-1.0"})
    SigV4Auth(OPERATOR, "dynamodb", PRIMARY).add_auth(request)
    request.headers["X-Amz-Date"] = "20200101T000000Z"  # long ago, and no longer what was signed
    status, _, body = http(request.url, "POST", b"{}", dict(request.headers.items()))
    assert status == 400 and json.loads(body)["__type"].endswith("InvalidSignatureException")


def test_signature_version_2_is_refused_for_issued_keys(local_cloud: LocalCloud, bucket: str) -> None:
    legacy = client(local_cloud, "s3", config=Config(signature_version="s3", s3={"addressing_style": "path"}))
    assert refused(lambda: legacy.put_object(Bucket=bucket, Key="k", Body=b"x"))[:2] == (400, "InvalidRequest")


def test_presigned_urls_are_verified_and_expire(
    local_cloud: LocalCloud, grant: Callable[..., None], bucket: str, aws_client: Callable[..., Any]
) -> None:
    aws_client("s3", PRIMARY).put_object(Bucket=bucket, Key="public/p", Body=b"photo")
    grant({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/public/*"})
    s3 = client(local_cloud, "s3", config=S3V4)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "public/p"}, ExpiresIn=60)
    assert http(url)[::2] == (200, b"photo")

    status, _, body = http(url.replace("X-Amz-Signature=", "X-Amz-Signature=f"))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    status, _, body = http(url.replace("public%2Fp", "public%2Fother").replace("public/p", "public/other"))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    real_clock = local_cloud.access.clock
    local_cloud.access.clock = lambda: real_clock() + 61
    try:
        status, _, body = http(url)
    finally:
        local_cloud.access.clock = real_clock
    assert status == 403 and b"<Code>AccessDenied</Code><Message>Request has expired</Message>" in body
    assert b"<X-Amz-Expires>60</X-Amz-Expires>" in body
    forbidden = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "private/p"}, ExpiresIn=60)
    assert http(forbidden)[0] == 403


def test_an_issued_key_from_a_foreign_origin_is_served_without_cors_headers(
    local_cloud: LocalCloud, grant: Callable[..., None], bucket: str, aws_client: Callable[..., Any]
) -> None:
    aws_client("s3", PRIMARY).put_object(Bucket=bucket, Key="k", Body=b"x")
    grant({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    url = client(local_cloud, "s3", config=S3V4).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60)
    status, headers, _ = http(url, headers={"Origin": FOREIGN_ORIGIN})
    assert status == 200 and "Access-Control-Allow-Origin" not in headers


# -- the control API and the operator's signature --------------------------------------------------------------
def test_the_control_api_accepts_the_operators_signature(local_cloud: LocalCloud, broker: CredentialsBroker) -> None:
    def signed(credentials: Credentials) -> int:
        request = AWSRequest("GET", f"{local_cloud.endpoint}/_sandbox/health")
        SigV4Auth(credentials, CONTROL_SERVICE, PRIMARY).add_auth(request)
        return http(request.url, headers=dict(request.headers.items()))[0]

    assert signed(OPERATOR) == 200
    assert signed(Credentials(OPERATOR.access_key, "guessed")) == 403
    assert signed(Credentials("AKIANOTISSUED0000000", "anything")) == 403  # admin keys are not the operator


# -- principal tags from the identity pool, as policy variables --------------------------------------------------
def test_identity_pool_principal_tags_scope_s3_writes_to_the_users_own_prefix(
    local_cloud: LocalCloud, broker: CredentialsBroker, bucket: str, aws_client: Callable[..., Any]
) -> None:
    idp, identity = aws_client("cognito-idp", PRIMARY), aws_client("cognito-identity", PRIMARY)
    pool = idp.create_user_pool(PoolName=unique("users"))["UserPool"]["Id"]
    app = idp.create_user_pool_client(UserPoolId=pool, ClientName="web",
                                      ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
    provider = f"cognito-idp.{PRIMARY}.amazonaws.com/{pool}"
    identity_pool = identity.create_identity_pool(
        IdentityPoolName=unique("ids").replace("-", "_"), AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[{"ProviderName": provider, "ClientId": app}])["IdentityPoolId"]
    role_name = unique("owners")
    role = aws_client("iam", PRIMARY).create_role(
        RoleName=role_name, AssumeRolePolicyDocument=authenticated_trust_policy(identity_pool))["Role"]["Arn"]
    broker.set_role_policies(role, [json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{bucket}/public/${{aws:PrincipalTag/owner}}/*"}]})])
    identity.set_identity_pool_roles(IdentityPoolId=identity_pool, Roles={"authenticated": role})  # admin keys
    identity.set_principal_tag_attribute_map(IdentityPoolId=identity_pool, IdentityProviderName=provider,
                                             UseDefaults=False, PrincipalTags={"owner": "cognito:username"})
    idp.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="alice", Password="Alice-pass-1", Permanent=True)

    browser = Config(signature_version=UNSIGNED)
    endpoint = local_cloud.region_endpoint(PRIMARY)
    token = boto3.client("cognito-idp", region_name=PRIMARY, endpoint_url=endpoint, config=browser).initiate_auth(
        ClientId=app, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": "Alice-pass-1"})["AuthenticationResult"]["IdToken"]
    cognito = boto3.client("cognito-identity", region_name=PRIMARY, endpoint_url=endpoint, config=browser)
    identity_id = cognito.get_id(IdentityPoolId=identity_pool, Logins={provider: token})["IdentityId"]
    issued = cognito.get_credentials_for_identity(IdentityId=identity_id, Logins={provider: token})["Credentials"]
    alice = Credentials(issued["AccessKeyId"], issued["SecretKey"], issued["SessionToken"])
    s3 = client(local_cloud, "s3", credentials=alice, config=S3V4)

    s3.put_object(Bucket=bucket, Key="public/alice/p1", Body=b"mine")
    for key in ("public/bob/p1", "public/p1", "public/alice"):
        assert refused(lambda key=key: s3.put_object(Bucket=bucket, Key=key, Body=b"x"))[:2] == (403, "AccessDenied")
    # ... and temporary credentials expire
    assert time.time() < issued["Expiration"].timestamp()
    broker.credential_ttl = -1
    try:
        stale = cognito.get_credentials_for_identity(IdentityId=identity_id, Logins={provider: token})["Credentials"]
    finally:
        broker.credential_ttl = 3600
    expired = client(local_cloud, "s3", credentials=Credentials(stale["AccessKeyId"], stale["SecretKey"],
                                                                stale["SessionToken"]), config=S3V4)
    assert refused(lambda: expired.put_object(Bucket=bucket, Key="public/alice/p2", Body=b"x"))[:2] == (
        400, "ExpiredToken")
    assert [o["Key"] for o in aws_client("s3", PRIMARY).list_objects_v2(Bucket=bucket)["Contents"]] == [
        "public/alice/p1"]


# -- S3 replication acts as its role ----------------------------------------------------------------------------
def test_replication_needs_its_roles_permissions_and_marks_the_object_failed_otherwise(
    local_cloud: LocalCloud, broker: CredentialsBroker, aws_client: Callable[..., Any]
) -> None:
    from components.object_store import replication_policy

    source, destination = unique("repl-src"), unique("repl-dst")
    role = f"arn:aws:iam::{ACCOUNT}:role/{unique('replication')}"
    s3 = aws_client("s3", PRIMARY)
    for name, region in ((source, PRIMARY), (destination, SECONDARY)):
        aws_client("s3", region).create_bucket(Bucket=name, **(
            {"CreateBucketConfiguration": {"LocationConstraint": region}} if region != "us-east-1" else {}))
        aws_client("s3", region).put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket=source, ReplicationConfiguration={"Role": role, "Rules": [{
        "ID": "photos", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": "public/"},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "Destination": {"Bucket": f"arn:aws:s3:::{destination}"}}]})

    def replicate(key: str) -> str:
        s3.put_object(Bucket=source, Key=key, Body=b"x")
        assert local_cloud.wait_replication_idle(5)
        return str(s3.head_object(Bucket=source, Key=key)["ReplicationStatus"])

    broker.set_role_policies(role, [])  # a role without the replication grants
    assert replicate("public/denied") == "FAILED"
    broker.set_role_policies(role, [replication_policy(f"arn:aws:s3:::{source}", f"arn:aws:s3:::{destination}")])
    assert replicate("public/granted") == "COMPLETED"
    keys = {o["Key"] for o in aws_client("s3", SECONDARY).list_objects_v2(Bucket=destination).get("Contents", [])}
    assert keys == {"public/granted"}
