"""The local cloud's front door: region outages, the control API, CORS, region ports, mounts.

GIVEN a LocalCloud with two regions on ephemeral ports,
WHEN requests arrive over HTTP (boto3, signed or unsigned, and raw urllib),
THEN each is answered for the right region, or refused with 503 while that region is down.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.cloud import LocalCloud
from tests.sandbox.cloud_support import LAG, MARGIN, PRIMARY, SECONDARY, unique

ORIGIN = "http://127.0.0.1:8080"


@pytest.fixture(autouse=True)
def all_regions_up(local_cloud: LocalCloud) -> Iterator[None]:
    yield
    for region in local_cloud.regions:
        local_cloud.set_outage(region, False)


def http(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    """(status, headers, body) of a raw HTTP request; errors are answers too."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def control(cloud: LocalCloud, path: str, payload: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    body = json.dumps(payload).encode() if payload is not None else None
    status, _, raw = http(f"{cloud.endpoint}/_sandbox/{path}", "POST" if body else "GET", body)
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
    assert http(local_cloud.region_endpoint(SECONDARY) + "/", "GET")[0] == 200

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
def test_cors_preflight_is_answered_with_the_origin_and_aws_headers(local_cloud: LocalCloud) -> None:
    status, headers, _ = http(
        local_cloud.region_endpoint(PRIMARY) + "/some-bucket/photo.jpg", "OPTIONS",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, x-amz-date, x-amz-security-token, content-type, x-evil",
        },
    )
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "PUT" in headers["Access-Control-Allow-Methods"]
    allowed = {h.strip() for h in headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {"authorization", "x-amz-date", "x-amz-security-token", "content-type"}


def test_responses_echo_the_origin_and_expose_etag_and_version_headers(
    local_cloud: LocalCloud, aws_client: Callable[..., Any]
) -> None:
    bucket = unique("cors")
    aws_client("s3", PRIMARY).create_bucket(Bucket=bucket)
    status, headers, _ = http(f"{local_cloud.region_endpoint(PRIMARY)}/{bucket}/k", "PUT", b"x", {"Origin": ORIGIN})
    assert status == 200
    assert headers.get_all("Access-Control-Allow-Origin") == [ORIGIN]  # ours only, not moto's "*"
    exposed = {h.strip().lower() for h in headers["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "x-amz-version-id", "x-amz-request-id"} <= exposed

    assert "Access-Control-Allow-Origin" not in http(f"{local_cloud.endpoint}/{bucket}/k")[1]  # no Origin, no CORS


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
        local_cloud.region_endpoint(SECONDARY) + "/", "POST", b"{}", {"X-Amz-Target": "SandboxTest.Where"}
    )
    assert status == 200 and json.loads(body)["region"] == SECONDARY
    assert "TableNames" in aws_client("dynamodb", PRIMARY).list_tables()  # everything else still reaches moto
