"""What Cognito user pools refuse and moto lets through, over real HTTP: self sign-up on a pool that only
administrators may add users to, and a confirmation code nobody was sent.

GIVEN user pools made in the LocalCloud (one admin-only, as components/identity.py makes them; one open),
WHEN a browser-like unsigned client calls SignUp / ConfirmSignUp on a region port or the generic port,
THEN Cognito's own errors come back and no user is created or confirmed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.cloud import LocalCloud
from sandbox.user_pools import CODE_MISMATCH, SIGN_UP_REFUSED
from tests.sandbox.cloud_support import NO_RETRIES, PRIMARY, unique

PASSWORD = "Intruder-Passw0rd!"


def make_pool(aws_client: Callable[..., Any], admin_only: bool) -> tuple[str, str]:
    idp = aws_client("cognito-idp", PRIMARY)
    pool = idp.create_user_pool(PoolName=unique("users"),
                                AdminCreateUserConfig={"AllowAdminCreateUserOnly": admin_only})["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="web",
                                         ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
    return pool, client


def browser(endpoint: str) -> Any:
    """Unsigned, as the web app (or an attacker's script) calls SignUp."""
    return boto3.client("cognito-idp", region_name=PRIMARY, endpoint_url=endpoint,
                        config=NO_RETRIES.merge(Config(signature_version=UNSIGNED)))


def refusal(call: Callable[[], Any]) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def usernames(aws_client: Callable[..., Any], pool: str) -> set[str]:
    return {u["Username"] for u in aws_client("cognito-idp", PRIMARY).list_users(UserPoolId=pool)["Users"]}


@pytest.mark.parametrize("port", ["region", "generic"])
def test_sign_up_on_an_admin_only_pool_is_refused_and_creates_nobody(
    local_cloud: LocalCloud, aws_client: Callable[..., Any], port: str
) -> None:
    pool, client = make_pool(aws_client, admin_only=True)
    endpoint = local_cloud.region_endpoint(PRIMARY) if port == "region" else local_cloud.endpoint
    attempt = browser(endpoint)
    assert refusal(lambda: attempt.sign_up(ClientId=client, Username="intruder", Password=PASSWORD)) == (
        400, "NotAuthorizedException", SIGN_UP_REFUSED)
    assert "intruder" not in usernames(aws_client, pool)


def test_confirm_sign_up_with_a_code_nobody_was_sent_confirms_nobody(
    local_cloud: LocalCloud, aws_client: Callable[..., Any]
) -> None:
    pool, client = make_pool(aws_client, admin_only=False)
    attempt = browser(local_cloud.region_endpoint(PRIMARY))
    attempt.sign_up(ClientId=client, Username="newcomer", Password=PASSWORD)  # an open pool takes sign-ups
    for code in ("000000", "123456"):
        assert refusal(lambda c=code: attempt.confirm_sign_up(ClientId=client, Username="newcomer",
                                                              ConfirmationCode=c)) == (
            400, "CodeMismatchException", CODE_MISMATCH)
    admin = aws_client("cognito-idp", PRIMARY)
    assert admin.admin_get_user(UserPoolId=pool, Username="newcomer")["UserStatus"] == "UNCONFIRMED"
    admin.admin_confirm_sign_up(UserPoolId=pool, Username="newcomer")  # what an administrator does instead
    assert admin.admin_get_user(UserPoolId=pool, Username="newcomer")["UserStatus"] == "CONFIRMED"


def test_confirm_sign_up_of_a_user_an_administrator_created_is_not_authorized(
    local_cloud: LocalCloud, aws_client: Callable[..., Any]
) -> None:
    pool, client = make_pool(aws_client, admin_only=True)
    aws_client("cognito-idp", PRIMARY).admin_create_user(UserPoolId=pool, Username="victim", MessageAction="SUPPRESS")
    attempt = browser(local_cloud.region_endpoint(PRIMARY))
    assert refusal(lambda: attempt.confirm_sign_up(ClientId=client, Username="victim", ConfirmationCode="0")) == (
        400, "NotAuthorizedException", "User cannot be confirmed. Current status is FORCE_CHANGE_PASSWORD")
    status = aws_client("cognito-idp", PRIMARY).admin_get_user(UserPoolId=pool, Username="victim")["UserStatus"]
    assert status == "FORCE_CHANGE_PASSWORD"
