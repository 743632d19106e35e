"""The local cloud's front door: region outages, the control API and its token, CORS, region ports,
the loopback Host check, unsigned calls, mounts.

GIVEN a LocalCloud with two regions on ephemeral ports (no issued keys: every signed call is admin),
WHEN requests arrive over HTTP (boto3, signed or unsigned, and raw urllib),
THEN each is answered for the right region, refused with 503 while that region is down, and refused
as AWS refuses it when unsigned.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.cloud import LocalCloud
from sandbox.outage import TOKEN_HEADER
from tests.sandbox.cloud_support import FOREIGN_ORIGIN, KEYS, LAG, MARGIN, ORIGIN, PRIMARY, SECONDARY, http, unique


def admin_signature(service: str) -> str:
    """An Authorization header with the admin keys: keys the sandbox did not issue are not verified."""
    return (f"AWS4-HMAC-SHA256 Credential={KEYS['aws_access_key_id']}/20260101/{PRIMARY}/{service}/aws4_request, "
            "SignedHeaders=host, Signature=" + "0" * 64)


@pytest.fixture(autouse=True)
def all_regions_up(local_cloud: LocalCloud) -> Iterator[None]:
    yield
    for region in local_cloud.regions:
        local_cloud.set_outage(region, False)



def control(
    cloud: LocalCloud, path: str, payload: dict[str, Any] | None = None, token: str | None = "session"
) -> tuple[int, dict[str, Any]]:
    """A control API call, with the cloud's control token unless `token` says otherwise."""
    body = json.dumps(payload).encode() if payload is not None else None
    headers = {} if token is None else {TOKEN_HEADER: cloud.control_token if token == "session" else token}
    status, _, raw = http(f"{cloud.endpoint}/_sandbox/{path}", "POST" if body else "GET", body, headers)
    return status, json.loads(raw)


def error_code(call: Callable[[], Any]) -> int | None:
    try:
        call()
    except ClientError as error:
        return error.response["ResponseMetadata"]["HTTPStatusCode"]
    return None


# -- outages ------------------------------------------------------------------------------------------------
def test_region_port_answers_503_json_while_down_and_serves_again_after(
    local_cloud: LocalCloud, aws_client: Callable[..., Any]
) -> None:
    ddb = aws_client("dynamodb", PRIMARY, local_cloud.region_endpoint(PRIMARY))
    ddb.list_tables()

    local_cloud.set_outage(PRIMARY, True)
    status, headers, body = http(local_cloud.region_endpoint(PRIMARY) + "/anything", "GET")
    assert status == 503 and headers["Content-Type"] == "application/json"
    assert "outage" in json.loads(body)["message"]
    assert error_code(ddb.list_tables) == 503
    assert "TableNames" in aws_client("dynamodb", SECONDARY, local_cloud.region_endpoint(SECONDARY)).list_tables()

    local_cloud.set_outage(PRIMARY, False)
    assert "TableNames" in ddb.list_tables()


def test_generic_port_refuses_only_requests_signed_for_the_downed_region(
    local_cloud: LocalCloud, aws_client: Callable[..., Any]
) -> None:
    down, up = aws_client("dynamodb", PRIMARY), aws_client("dynamodb", SECONDARY)
    local_cloud.set_outage(PRIMARY, True)

    assert error_code(down.list_tables) == 503
    assert "TableNames" in up.list_tables()


def test_generic_port_refuses_s3_requests_for_buckets_in_the_downed_region(
    local_cloud: LocalCloud, aws_client: Callable[..., Any]
) -> None:
    s3_up = aws_client("s3", SECONDARY)
    bucket = unique("in-primary")
    aws_client("s3", PRIMARY).create_bucket(Bucket=bucket)
    s3_up.put_object(Bucket=bucket, Key="k", Body=b"x")
    presigned = aws_client("s3", PRIMARY).generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    local_cloud.set_outage(PRIMARY, True)

    assert error_code(lambda: s3_up.get_object(Bucket=bucket, Key="k")) == 503  # signed for the other region
    assert http(presigned)[0] == 503
    assert s3_up.list_buckets()["Buckets"]  # no bucket named: not the downed region's


def test_replication_is_held_during_an_outage_and_delivered_after(
    local_cloud: LocalCloud, aws_client: Callable[..., Any]
) -> None:
    name = unique("State")
    tables = {r: aws_client("dynamodb", r) for r in (PRIMARY, SECONDARY)}
    for client in tables.values():
        client.create_table(
            TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        )
    local_cloud.replicate_table(name, [PRIMARY, SECONDARY])
    local_cloud.set_outage(PRIMARY, True)
    tables[SECONDARY].put_item(TableName=name, Item={"id": {"S": "app"}, "state": {"S": "failover"}})

    assert not local_cloud.wait_replication_idle(LAG * 3)
    assert local_cloud.replication_stats()["dynamodb"]["blocked"]
    local_cloud.set_outage(PRIMARY, False)
    assert local_cloud.wait_replication_idle(LAG + MARGIN)
    item = tables[PRIMARY].get_item(TableName=name, Key={"id": {"S": "app"}})["Item"]
    assert item["state"] == {"S": "failover"}


def test_health_and_outage_switch_work_over_http_even_while_regions_are_down(local_cloud: LocalCloud) -> None:
    status, answer = control(local_cloud, "outage", {"region": "primary", "down": True})
    assert status == 200 and answer["region"] == PRIMARY and answer["regions"][PRIMARY] == "down"
    control(local_cloud, "outage", {"region": SECONDARY, "down": True})

    status, health = control(local_cloud, "health")
    assert status == 200 and health["regions"] == {PRIMARY: "down", SECONDARY: "down"}
    assert local_cloud.is_down(PRIMARY)

    control(local_cloud, "outage", {"region": PRIMARY, "down": False})
    assert control(local_cloud, "health")[1]["regions"] == {PRIMARY: "up", SECONDARY: "down"}


@pytest.mark.parametrize("token", [None, "guessed-token"])
def test_the_control_api_refuses_callers_without_the_sessions_token(local_cloud: LocalCloud, token: str | None) -> None:
    for path, payload in (("outage", {"region": PRIMARY, "down": True}), ("health", None)):
        status, answer = control(local_cloud, path, payload, token=token)
        assert status == 403 and "control token" in answer["message"]
    assert not local_cloud.is_down(PRIMARY)


@pytest.mark.parametrize(
    "payload,message",
    [
        ({"region": "eu-west-1", "down": True}, "region: unknown region 'eu-west-1'"),
        ({"region": PRIMARY, "down": "yes"}, "down: expected true or false"),
        ([PRIMARY], "body: expected"),
    ],
)
def test_outage_switch_rejects_bad_requests_with_400(local_cloud: LocalCloud, payload: Any, message: str) -> None:
    status, answer = control(local_cloud, "outage", payload)
    assert status == 400 and answer["message"].startswith(message)
    assert control(local_cloud, "health")[1]["regions"] == {PRIMARY: "up", SECONDARY: "up"}


# -- region ports ---------------------------------------------------------------------------------------------
def test_unsigned_cognito_call_on_a_region_port_reaches_that_regions_pool(
    local_cloud: LocalCloud, aws_client: Callable[..., Any]
) -> None:
    idp = aws_client("cognito-idp", SECONDARY)
    pool = idp.create_user_pool(PoolName=unique("users"))["UserPool"]["Id"]
    app = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="demo", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="demo", Password="Demo-pass-1", Permanent=True)
    aws_client("cognito-idp", PRIMARY).create_user_pool(PoolName=unique("users"))  # a pool in the other region

    def sign_in(endpoint: str) -> dict[str, Any]:
        # a browser: unsigned, and the SDK's configured region does not matter, the port does
        browser = aws_client("cognito-idp", PRIMARY, endpoint, Config(signature_version=UNSIGNED))
        return browser.initiate_auth(
            ClientId=app, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "demo", "PASSWORD": "Demo-pass-1"}
        )

    assert sign_in(local_cloud.region_endpoint(SECONDARY))["AuthenticationResult"]["IdToken"]
    with pytest.raises(ClientError) as error:
        sign_in(local_cloud.region_endpoint(PRIMARY))
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_unsigned_identity_pool_call_on_a_region_port_reaches_that_regions_pool(
    local_cloud: LocalCloud, aws_client: Callable[..., Any]
) -> None:
    pool = aws_client("cognito-identity", SECONDARY).create_identity_pool(
        IdentityPoolName=unique("ids").replace("-", "_"), AllowUnauthenticatedIdentities=True
    )["IdentityPoolId"]

    def get_id(endpoint: str) -> dict[str, Any]:
        browser = aws_client("cognito-identity", PRIMARY, endpoint, Config(signature_version=UNSIGNED))
        return browser.get_id(IdentityPoolId=pool)

    # moto would serve an unsigned call from us-east-1; the port makes it the secondary's
    assert get_id(local_cloud.region_endpoint(SECONDARY))["IdentityId"].startswith(f"{SECONDARY}:")


def test_signed_calls_on_a_region_port_are_served_by_that_region(
    local_cloud: LocalCloud, aws_client: Callable[..., Any]
) -> None:
    name = unique("Pinned")
    misconfigured = aws_client("dynamodb", PRIMARY, local_cloud.region_endpoint(SECONDARY))
    misconfigured.create_table(
        TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )

    assert name in aws_client("dynamodb", SECONDARY).list_tables()["TableNames"]
    assert name not in aws_client("dynamodb", PRIMARY).list_tables()["TableNames"]


# -- CORS -------------------------------------------------------------------------------------------------------
def preflight(url: str, origin: str, method: str, headers: str) -> Any:
    return http(url, "OPTIONS", headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": headers})


def test_preflight_to_the_json_apis_answers_only_the_allowed_origin(local_cloud: LocalCloud) -> None:
    url = local_cloud.region_endpoint(PRIMARY) + "/"
    status, headers, _ = preflight(url, ORIGIN, "POST", "content-type, x-amz-target, x-amz-date, authorization")
    assert status == 200 and headers["Access-Control-Allow-Origin"] == ORIGIN
    allowed = {h.strip() for h in headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {"content-type", "x-amz-target", "x-amz-date", "authorization"}

    for origin, requested in ((FOREIGN_ORIGIN, "content-type"), (ORIGIN, "content-type, x-evil")):
        status, headers, _ = preflight(url, origin, "POST", requested)
        assert status == 403 and not [k for k in headers if k.lower().startswith("access-control-")]


def test_preflight_to_a_bucket_follows_the_buckets_cors_rules_within_the_allowed_origins(
    local_cloud: LocalCloud, aws_client: Callable[..., Any]
) -> None:
    s3 = aws_client("s3", PRIMARY)
    bucket, bare = unique("cors"), unique("no-cors")
    s3.create_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=bare)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": [ORIGIN, FOREIGN_ORIGIN], "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["X-Amz-*",
        "Content-Type", "Authorization"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000}]})
    url = f"{local_cloud.region_endpoint(PRIMARY)}/{bucket}/photo.jpg"

    status, headers, _ = preflight(url, ORIGIN, "PUT", "authorization, x-amz-date, content-type")
    assert status == 200 and headers["Access-Control-Allow-Origin"] == ORIGIN
    assert headers["Access-Control-Allow-Methods"] == "GET, PUT" and headers["Access-Control-Max-Age"] == "3000"
    assert headers["Access-Control-Expose-Headers"] == "ETag"
    refused = [
        preflight(url, ORIGIN, "DELETE", "authorization"),  # not a method of the rule
        preflight(url, ORIGIN, "PUT", "x-evil"),  # not a header of the rule
        preflight(url, FOREIGN_ORIGIN, "PUT", "authorization"),  # the rule allows it, the sandbox does not
        preflight(f"{local_cloud.region_endpoint(PRIMARY)}/{bare}/k", ORIGIN, "PUT", "authorization"),
    ]
    for status, headers, body in refused:
        assert status == 403 and b"<Code>AccessForbidden</Code>" in body
        assert "Access-Control-Allow-Origin" not in headers


def test_responses_carry_the_rules_cors_headers_for_allowed_origins_only(
    local_cloud: LocalCloud, aws_client: Callable[..., Any]
) -> None:
    bucket = unique("cors")
    s3 = aws_client("s3", PRIMARY)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": [ORIGIN], "AllowedMethods": ["PUT", "GET"], "ExposeHeaders": ["ETag", "x-amz-version-id"]}]})
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = f"{local_cloud.region_endpoint(PRIMARY)}/{bucket}/k"

    status, headers, _ = http(url, "GET", headers={"Origin": ORIGIN, "Authorization": admin_signature("s3")})
    assert status == 200
    assert headers.get_all("Access-Control-Allow-Origin") == [ORIGIN]  # ours only, not moto's "*"
    assert headers["Access-Control-Expose-Headers"] == "ETag, x-amz-version-id"
    no_origin = http(url, headers={"Authorization": admin_signature("s3")})[1]
    assert "Access-Control-Allow-Origin" not in no_origin


def test_a_page_of_a_foreign_origin_cannot_use_the_admin_keys(local_cloud: LocalCloud,
                                                              aws_client: Callable[..., Any]) -> None:
    bucket = unique("csrf")
    aws_client("s3", PRIMARY).create_bucket(Bucket=bucket)
    # a form POST needs no preflight: a foreign page could send it with any key in it
    status, headers, body = http(f"{local_cloud.region_endpoint(PRIMARY)}/{bucket}/k", "PUT", b"x",
                                 {"Origin": FOREIGN_ORIGIN, "Authorization": admin_signature("s3")})
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    assert "Access-Control-Allow-Origin" not in headers
    assert aws_client("s3", PRIMARY).list_objects_v2(Bucket=bucket).get("KeyCount") == 0


# -- unsigned calls and the Host header ----------------------------------------------------------------------------
def test_unsigned_calls_are_refused_as_aws_refuses_them(local_cloud: LocalCloud,
                                                        aws_client: Callable[..., Any]) -> None:
    bucket = unique("private")
    aws_client("s3", PRIMARY).create_bucket(Bucket=bucket)
    endpoint = local_cloud.region_endpoint(PRIMARY)

    status, _, body = http(endpoint + "/", "POST", b"{}", {"X-Amz-Target": "DynamoDB_20120810.ListTables",
                                                            "Content-Type": "application/x-amz-json-1.0"})
    assert status == 400 and json.loads(body)["__type"].endswith("#MissingAuthenticationTokenException")
    status, _, body = http(endpoint + "/", "POST", b'{"MaxResults": 10}', {
        "X-Amz-Target": "AWSCognitoIdentityProviderService.ListUserPools",
        "Content-Type": "application/x-amz-json-1.1"})
    assert status == 400 and json.loads(body)["__type"] == "MissingAuthenticationTokenException"
    for method in ("GET", "PUT", "DELETE"):  # S3: the anonymous principal, and the bucket is private
        status, _, body = http(f"{endpoint}/{bucket}/k", method, b"x" if method == "PUT" else None)
        assert status == 403 and b"<Code>AccessDenied</Code>" in body
    assert aws_client("s3", PRIMARY).list_objects_v2(Bucket=bucket).get("KeyCount") == 0


@pytest.mark.parametrize("host", ["evil.example", "evil.example:4566", "127.0.0.1.nip.io", "10.0.0.1", ""])
def test_a_host_header_that_is_not_a_loopback_name_is_refused_on_every_port(local_cloud: LocalCloud,
                                                                               host: str) -> None:
    for url in (local_cloud.endpoint, *(local_cloud.region_endpoint(r) for r in local_cloud.regions)):
        for path in ("/", "/_sandbox/health", "/execute-api/x/prod/state"):
            status, _, body = http(url + path, headers={"Host": host, TOKEN_HEADER: local_cloud.control_token})
            assert status == 403 and "loopback" in json.loads(body)["message"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost:4566", "[::1]:8080", "LOCALHOST"])
def test_loopback_host_names_are_served(local_cloud: LocalCloud, host: str) -> None:
    status, _, _ = http(local_cloud.endpoint + "/_sandbox/health",
                        headers={"Host": host, TOKEN_HEADER: local_cloud.control_token})
    assert status == 200


# -- extension points -------------------------------------------------------------------------------------------
def region_echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = json.dumps({"region": environ.get("sandbox.region"), "path": environ["PATH_INFO"]}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def test_mounted_apps_serve_their_prefix_on_every_port_and_know_the_region(local_cloud: LocalCloud) -> None:
    local_cloud.mount("/echo/", region_echo, region_of=lambda environ: PRIMARY)

    for region in (PRIMARY, SECONDARY):
        status, _, body = http(local_cloud.region_endpoint(region) + "/echo/x")
        assert status == 200 and json.loads(body) == {"region": region, "path": "/echo/x"}
    assert json.loads(http(local_cloud.endpoint + "/echo/x")[2])["region"] is None

    local_cloud.set_outage(PRIMARY, True)
    assert http(local_cloud.region_endpoint(PRIMARY) + "/echo/x")[0] == 503
    assert http(local_cloud.endpoint + "/echo/x")[0] == 503  # region_of says it is the primary's
    assert http(local_cloud.region_endpoint(SECONDARY) + "/echo/x")[0] == 200


def test_middlewares_wrap_the_aws_app_and_see_the_port_region(
    local_cloud: LocalCloud, aws_client: Callable[..., Any]
) -> None:
    def middleware(app: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("HTTP_X_AMZ_TARGET") == "SandboxTest.Where":
                return region_echo(environ, start_response)
            return app(environ, start_response)

        return wrapped

    local_cloud.add_middleware(middleware)
    status, _, body = http(
        local_cloud.region_endpoint(SECONDARY) + "/", "POST", b"{}",
        {"X-Amz-Target": "SandboxTest.Where", "Authorization": admin_signature("sandboxtest")},
    )
    assert status == 200 and json.loads(body)["region"] == SECONDARY
    assert "TableNames" in aws_client("dynamodb", PRIMARY).list_tables()  # everything else still reaches moto


def test_a_failing_access_check_answers_500_json_not_a_traceback(local_cloud: LocalCloud,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_request: Any) -> Any:
        raise RuntimeError("a sandbox bug")

    monkeypatch.setattr(local_cloud.access, "check", broken)
    status, headers, body = http(local_cloud.region_endpoint(PRIMARY) + "/", "POST", b"{}",
                                 {"X-Amz-Target": "DynamoDB_20120810.ListTables"})
    assert status == 500 and json.loads(body)["__type"] == "InternalFailure"
    assert b"Traceback" not in body
