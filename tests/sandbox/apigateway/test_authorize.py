"""Stage authorise: AWS_IAM methods need a valid SigV4 signature and an IAM Allow of execute-api:Invoke."""

from __future__ import annotations

import time

from botocore.credentials import Credentials
from werkzeug.test import Client

from sandbox.apigateway import ExecuteApi
from sandbox.credentials import ACCOUNT, CredentialsBroker
from tests.sandbox.apigateway.conftest import REGION, STAGE, World, assert_gateway_error, with_app
from tests.sandbox.test_credentials import passthrough_app, sign_in_identity


def test_unsigned_request_to_an_iam_method_is_403_missing_authentication_token(world: World) -> None:
    assert_gateway_error(world.call("GET", "/state/app"), 403, "MISSING_AUTHENTICATION_TOKEN",
                         "Missing Authentication Token")


def test_a_tampered_body_is_403_invalid_signature_and_changes_nothing(world: World) -> None:
    got = world.call("PUT", "/state/app", {"state": "fenced"}, signer=world.operator, tamper=True)
    assert_gateway_error(got, 403, "INVALID_SIGNATURE")
    assert got.json["message"].startswith("The request signature we calculated does not match")
    assert world.state() == "active"


def test_wrong_secret_is_refused(world: World) -> None:
    got = world.call("GET", "/state/app", signer=Credentials(world.user.access_key, "not-the-secret", world.user.token))
    assert_gateway_error(got, 403, "INVALID_SIGNATURE")


def test_unknown_access_key_is_refused(world: World) -> None:
    got = world.call("GET", "/state/app", signer=Credentials("AKIANOBODY000000", "secret"))
    assert got.status_code == 403
    assert got.json["message"] == "The security token included in the request is invalid."


def test_temporary_credentials_need_their_session_token(world: World) -> None:
    got = world.call("GET", "/state/app", signer=Credentials(world.user.access_key, world.user.secret_key))
    assert got.status_code == 403
    assert got.json["message"] == "The security token included in the request is invalid."


def test_signature_scoped_to_another_region_is_refused(world: World) -> None:
    got = world.call("GET", "/state/app", signer=world.user, region="ap-northeast-1")
    assert got.status_code == 403
    assert got.json["message"] == "Credential should be scoped to a valid region, not 'ap-northeast-1'. "


def test_signature_older_than_15_minutes_is_refused(world: World) -> None:
    late = with_app(world, ExecuteApi(world.broker, clock=lambda: time.time() + 16 * 60))
    got = late.call("GET", "/state/app", signer=world.user)
    assert got.status_code == 403
    assert got.json["message"].startswith("Signature expired:")
    assert world.call("GET", "/state/app", signer=world.user).status_code == 200


def test_expired_credentials_are_refused(world: World) -> None:
    broker = CredentialsBroker(credential_ttl=-1)  # minted already expired
    broker.set_identity_pool_roles(world.cognito.identity_pool_id, {"authenticated": world.cognito.role_arn})
    broker.set_role_policies(world.cognito.role_arn, world.broker.policies(world.cognito.role_arn))
    _, creds = sign_in_identity(Client(broker.middleware(passthrough_app)), world.cognito, "alice")
    expired = with_app(world, ExecuteApi(broker))
    got = expired.call("GET", "/state/app",
                       signer=Credentials(creds["AccessKeyId"], creds["SecretKey"], creds["SessionToken"]))
    assert_gateway_error(got, 403, "EXPIRED_TOKEN", "The security token included in the request is expired")


def test_principal_whose_policy_lacks_the_route_is_403_access_denied(world: World) -> None:
    got = world.call("PUT", "/state/app", {"state": "fenced"}, signer=world.user)
    resource = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{world.api_id}/{STAGE}/PUT/state/app"
    assert_gateway_error(got, 403, "ACCESS_DENIED", (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/app-users/CognitoIdentityCredentials is not authorized to "
        f"perform: execute-api:Invoke on resource: {resource}"
    ))
    assert world.state() == "active"


def test_operator_key_may_put_the_state(world: World) -> None:
    got = world.call("PUT", "/state/app", {"state": "fenced"}, signer=world.operator)
    try:
        assert got.status_code == 200, got.get_data(as_text=True)
        assert got.json == {"state": "fenced"}
        assert world.state() == "fenced"
    finally:
        world.set_state("active")


def test_the_callers_cognito_identity_reaches_the_templates(world: World) -> None:
    got = world.call("POST", "/comments/p1", {"message": "hello", "user": "mallory"}, signer=world.user)
    assert got.status_code == 200, got.get_data(as_text=True)
    assert got.json["user"] == world.identity_id
    assert got.json["provider"].startswith(f"{world.cognito.provider},{world.cognito.provider}:CognitoSignIn:")


def test_signatures_cover_encoded_paths_and_query_strings(world: World) -> None:
    got = world.call("POST", "/comments/my%20photo%2Fx?b=2&a=x%20y", {"message": "hi"}, signer=world.user)
    assert got.status_code == 200, got.get_data(as_text=True)
    assert got.json["photoId"] == "my photo/x"  # decoded; an encoded slash stays inside its segment


def test_methods_without_authorization_take_unsigned_requests(world: World) -> None:
    got = world.call("OPTIONS", "/state/app")
    assert got.status_code == 200
    assert got.headers["Access-Control-Allow-Methods"] == "GET,PUT,OPTIONS"
