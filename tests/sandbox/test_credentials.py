"""The identity-pool credentials broker and the IAM policy evaluator behind execute-api.

moto runs in-process (mock_aws); the broker's WSGI middleware is driven with werkzeug's test
client exactly as a browser would call Cognito Identity (unsigned JSON POSTs).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from joserfc import jwk, jwt
from moto import mock_aws
from moto.backends import get_backend
from moto.utilities.utils import load_resource
from werkzeug.test import Client

from sandbox.credentials import ACCOUNT, CredentialsBroker
from sandbox.iam_policy import Decision, evaluate, wildcard_match

REGION = "us-east-1"


@dataclass
class CognitoSetup:
    """A user pool + client + identity pool trusting it, with an authenticated role."""

    region: str
    user_pool_id: str
    client_id: str
    identity_pool_id: str
    role_arn: str
    idp: Any

    @property
    def provider(self) -> str:
        return f"cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    def id_token(self, username: str, password: str = "Passw0rd!x") -> str:
        """Create the user if needed (no forced password change) and sign in."""
        try:
            self.idp.admin_create_user(UserPoolId=self.user_pool_id, Username=username, MessageAction="SUPPRESS")
            self.idp.admin_set_user_password(
                UserPoolId=self.user_pool_id, Username=username, Password=password, Permanent=True
            )
        except self.idp.exceptions.UsernameExistsException:
            pass
        auth = self.idp.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        return auth["AuthenticationResult"]["IdToken"]


def make_cognito(region: str = REGION, role_name: str = "app-users") -> CognitoSetup:
    """Create the Cognito resources of one region in moto (inside mock_aws)."""
    idp = boto3.client("cognito-idp", region_name=region)
    pool_id = idp.create_user_pool(PoolName=f"users-{region}")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["UserPoolClient"]["ClientId"]
    identity = boto3.client("cognito-identity", region_name=region)
    identity_pool_id = identity.create_identity_pool(
        IdentityPoolName=f"ids_{region.replace('-', '_')}",
        AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[
            {"ProviderName": f"cognito-idp.{region}.amazonaws.com/{pool_id}", "ClientId": client_id}
        ],
    )["IdentityPoolId"]
    iam = boto3.client("iam", region_name=region)
    try:
        role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(_TRUST))["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role_arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    return CognitoSetup(region, pool_id, client_id, identity_pool_id, role_arn, idp)


_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Federated": "cognito-identity.amazonaws.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
        }
    ],
}


@dataclass
class Reply:
    status_code: int
    json: Any


def identity_call(client: Client, operation: str, payload: dict[str, Any], region: str | None = None) -> Reply:
    """An unsigned Cognito Identity JSON call, as the browser SDK sends it."""
    environ = {"sandbox.region": region} if region else {}
    response = client.post(
        "/",
        data=json.dumps(payload),
        headers={
            "X-Amz-Target": f"AWSCognitoIdentityService.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
        },
        environ_overrides=environ,
    )
    return Reply(response.status_code, json.loads(response.get_data() or b"null"))


def passthrough_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"moto"]


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION}.items():
        os.environ.setdefault(key, value)
    with mock_aws():
        yield


@pytest.fixture(scope="module")
def cognito(aws: None) -> CognitoSetup:
    return make_cognito()


@pytest.fixture()
def broker(cognito: CognitoSetup) -> CredentialsBroker:
    broker = CredentialsBroker()
    broker.set_identity_pool_roles(cognito.identity_pool_id, {"authenticated": cognito.role_arn})
    return broker


@pytest.fixture()
def client(broker: CredentialsBroker) -> Client:
    return Client(broker.middleware(passthrough_app))


def sign_in_identity(client: Client, cognito: CognitoSetup, username: str) -> tuple[str, dict[str, Any]]:
    """GetId + GetCredentialsForIdentity for a user: (identity id, credentials)."""
    logins = {cognito.provider: cognito.id_token(username)}
    got = identity_call(client, "GetId", {"IdentityPoolId": cognito.identity_pool_id, "Logins": logins})
    assert got.status_code == 200, got.get_data(as_text=True)
    identity_id = got.json["IdentityId"]
    creds = identity_call(client, "GetCredentialsForIdentity", {"IdentityId": identity_id, "Logins": logins})
    assert creds.status_code == 200, creds.get_data(as_text=True)
    return identity_id, creds.json["Credentials"]


# -- GetId ---------------------------------------------------------------------------------------------
def test_get_id__the_same_user_gets_the_same_identity_id_twice(client: Client, cognito: CognitoSetup) -> None:
    first = identity_call(client, "GetId", {"IdentityPoolId": cognito.identity_pool_id,
                                            "Logins": {cognito.provider: cognito.id_token("alice")}})
    second = identity_call(client, "GetId", {"IdentityPoolId": cognito.identity_pool_id,
                                             "Logins": {cognito.provider: cognito.id_token("alice")}})
    assert first.status_code == second.status_code == 200
    assert first.json["IdentityId"] == second.json["IdentityId"]
    assert first.json["IdentityId"].startswith(f"{REGION}:")
    # moto knows the identity too, so ListIdentities stays truthful.
    listed = boto3.client("cognito-identity", region_name=REGION).list_identities(
        IdentityPoolId=cognito.identity_pool_id, MaxResults=60
    )
    assert first.json["IdentityId"] in [i["IdentityId"] for i in listed["Identities"]]


def test_get_id__two_users_get_distinct_identities_and_credentials(client: Client, cognito: CognitoSetup) -> None:
    alice_id, alice = sign_in_identity(client, cognito, "alice")
    bob_id, bob = sign_in_identity(client, cognito, "bob")
    assert alice_id != bob_id
    assert alice["AccessKeyId"] != bob["AccessKeyId"]
    assert alice["SecretKey"] != bob["SecretKey"]
    assert alice["SessionToken"] != bob["SessionToken"]
    assert alice["AccessKeyId"].startswith("ASIA") and len(alice["AccessKeyId"]) == 20


def test_get_id__rejects_a_token_signed_with_another_key(client: Client, cognito: CognitoSetup) -> None:
    genuine = jwt.decode(cognito.id_token("alice"), jwk.KeySet.import_key_set(
        load_resource("cognitoidp/resources/jwks-public.json"))).claims
    forged = jwt.encode({"alg": "RS256", "kid": "dummy"}, {**genuine, "sub": "admin"}, jwk.RSAKey.generate_key(2048))
    got = identity_call(client, "GetId", {"IdentityPoolId": cognito.identity_pool_id,
                                          "Logins": {cognito.provider: forged}})
    assert got.status_code == 400
    assert got.json["__type"] == "NotAuthorizedException"
    assert "Invalid login token" in got.json["message"]


def test_get_id__rejects_a_token_signed_with_motos_key_but_never_issued(client: Client, cognito: CognitoSetup) -> None:
    # moto's private key ships with moto: anyone can sign with it, so the pool must have issued the token.
    pool = get_backend("cognito-idp")[ACCOUNT][REGION].user_pools[cognito.user_pool_id]
    cognito.id_token("alice")
    token, _ = pool.create_jwt(cognito.client_id, "alice", "id")  # valid signature, not recorded as issued
    got = identity_call(client, "GetId", {"IdentityPoolId": cognito.identity_pool_id,
                                          "Logins": {cognito.provider: token}})
    assert got.status_code == 400
    assert got.json["__type"] == "NotAuthorizedException"


def test_get_id__rejects_a_provider_the_pool_does_not_trust(client: Client, cognito: CognitoSetup) -> None:
    other = make_cognito(role_name="other-users")
    got = identity_call(client, "GetId", {"IdentityPoolId": cognito.identity_pool_id,
                                          "Logins": {other.provider: other.id_token("carol")}})
    assert got.status_code == 400
    assert got.json == {"__type": "NotAuthorizedException",
                        "message": "Invalid login token. Issuer doesn't match providerName"}


def test_get_id__rejects_a_token_for_another_client(client: Client, cognito: CognitoSetup) -> None:
    other_client = cognito.idp.create_user_pool_client(
        UserPoolId=cognito.user_pool_id, ClientName="other", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.id_token("dave")
    token = cognito.idp.initiate_auth(
        ClientId=other_client, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "dave", "PASSWORD": "Passw0rd!x"},
    )["AuthenticationResult"]["IdToken"]
    got = identity_call(client, "GetId", {"IdentityPoolId": cognito.identity_pool_id,
                                          "Logins": {cognito.provider: token}})
    assert got.status_code == 400
    assert got.json["message"] == "Invalid login token. Incorrect token audience."


def test_get_id__rejects_an_expired_token(cognito: CognitoSetup) -> None:
    broker = CredentialsBroker(clock=lambda: time.time() + 2 * 3600)  # the token (1 h) has expired by then
    got = identity_call(Client(broker.middleware(passthrough_app)), "GetId", {
        "IdentityPoolId": cognito.identity_pool_id, "Logins": {cognito.provider: cognito.id_token("alice")}})
    assert got.status_code == 400
    assert "Token expired" in got.json["message"]


def test_get_id__without_logins_is_refused_when_unauthenticated_identities_are_off(
    client: Client, cognito: CognitoSetup
) -> None:
    got = identity_call(client, "GetId", {"IdentityPoolId": cognito.identity_pool_id})
    assert got.status_code == 400
    assert got.json["__type"] == "NotAuthorizedException"


def test_get_id__an_unknown_pool_or_another_regions_port_is_not_found(client: Client, cognito: CognitoSetup) -> None:
    logins = {cognito.provider: cognito.id_token("alice")}
    unknown = identity_call(client, "GetId", {"IdentityPoolId": f"{REGION}:00000000-0000-0000-0000-000000000000",
                                              "Logins": logins})
    elsewhere = identity_call(client, "GetId", {"IdentityPoolId": cognito.identity_pool_id, "Logins": logins},
                              region="ap-northeast-1")
    assert unknown.status_code == elsewhere.status_code == 400
    assert unknown.json["__type"] == elsewhere.json["__type"] == "ResourceNotFoundException"


# -- GetCredentialsForIdentity ---------------------------------------------------------------------------
def test_credentials__record_the_principal_behind_the_keys(
    client: Client, cognito: CognitoSetup, broker: CredentialsBroker
) -> None:
    identity_id, creds = sign_in_identity(client, cognito, "alice")
    principal = broker.lookup(creds["AccessKeyId"])
    assert principal is not None
    sub = jwt.decode(cognito.id_token("alice"), jwk.KeySet.import_key_set(
        load_resource("cognitoidp/resources/jwks-public.json"))).claims["sub"]
    assert principal.identity_id == identity_id
    assert principal.identity_pool_id == cognito.identity_pool_id
    assert principal.region == REGION
    assert principal.role_arn == cognito.role_arn
    assert principal.secret_key == creds["SecretKey"] and principal.session_token == creds["SessionToken"]
    assert principal.user_arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/app-users/CognitoIdentityCredentials"
    assert principal.caller.endswith(":CognitoIdentityCredentials")
    assert principal.auth_type == "authenticated"
    assert principal.auth_provider == f"{cognito.provider},{cognito.provider}:CognitoSignIn:{sub}"
    assert 3500 < creds["Expiration"] - time.time() <= 3600


def test_credentials__each_call_mints_new_keys(client: Client, cognito: CognitoSetup) -> None:
    logins = {cognito.provider: cognito.id_token("alice")}
    identity_id = identity_call(client, "GetId", {"IdentityPoolId": cognito.identity_pool_id,
                                                  "Logins": logins}).json["IdentityId"]
    first = identity_call(client, "GetCredentialsForIdentity", {"IdentityId": identity_id, "Logins": logins})
    second = identity_call(client, "GetCredentialsForIdentity", {"IdentityId": identity_id, "Logins": logins})
    assert first.json["Credentials"]["AccessKeyId"] != second.json["Credentials"]["AccessKeyId"]


def test_credentials__require_the_identitys_own_login(client: Client, cognito: CognitoSetup) -> None:
    alice_id, _ = sign_in_identity(client, cognito, "alice")
    no_logins = identity_call(client, "GetCredentialsForIdentity", {"IdentityId": alice_id})
    bobs_token = identity_call(client, "GetCredentialsForIdentity", {
        "IdentityId": alice_id, "Logins": {cognito.provider: cognito.id_token("bob")}})
    assert no_logins.status_code == bobs_token.status_code == 400
    assert no_logins.json["__type"] == bobs_token.json["__type"] == "NotAuthorizedException"
    assert "Logins don't match" in bobs_token.json["message"]


def test_credentials__need_the_pools_authenticated_role(cognito: CognitoSetup) -> None:
    client = Client(CredentialsBroker().middleware(passthrough_app))  # no roles set for the pool
    logins = {cognito.provider: cognito.id_token("alice")}
    identity_id = identity_call(client, "GetId", {"IdentityPoolId": cognito.identity_pool_id,
                                                  "Logins": logins}).json["IdentityId"]
    got = identity_call(client, "GetCredentialsForIdentity", {"IdentityId": identity_id, "Logins": logins})
    assert got.status_code == 400
    assert got.json["__type"] == "InvalidIdentityPoolConfigurationException"


def test_credentials__expire_after_an_hour(cognito: CognitoSetup) -> None:
    broker = CredentialsBroker(credential_ttl=1)
    broker.set_identity_pool_roles(cognito.identity_pool_id, {"authenticated": cognito.role_arn})
    _, creds = sign_in_identity(Client(broker.middleware(passthrough_app)), cognito, "alice")
    assert creds["Expiration"] <= time.time() + 1
    assert CredentialsBroker().credential_ttl == 3600


# -- the server-side token check ---------------------------------------------------------------------------
def checked_pool(cognito: CognitoSetup) -> str:
    """An identity pool trusting `cognito`'s user pool with ServerSideTokenCheck (as components/identity.py sets)."""
    return boto3.client("cognito-identity", region_name=cognito.region).create_identity_pool(
        IdentityPoolName="checked", AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[{"ProviderName": cognito.provider, "ClientId": cognito.client_id,
                                   "ServerSideTokenCheck": True}])["IdentityPoolId"]


def signed_in(cognito: CognitoSetup, username: str) -> dict[str, str]:
    cognito.id_token(username)  # creates the user
    return cognito.idp.initiate_auth(ClientId=cognito.client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
        "USERNAME": username, "PASSWORD": "Passw0rd!x"})["AuthenticationResult"]


def identity_answers(client: Client, pool_id: str, logins: dict[str, str], identity_id: str) -> list[Reply]:
    return [identity_call(client, "GetId", {"IdentityPoolId": pool_id, "Logins": logins}),
            identity_call(client, "GetCredentialsForIdentity", {"IdentityId": identity_id, "Logins": logins})]


@pytest.mark.parametrize("revoke", ["GlobalSignOut", "AdminUserGlobalSignOut", "AdminDisableUser", "AdminDeleteUser"])
def test_server_side_check__a_revoked_users_old_id_token_gets_no_id_and_no_credentials(
    cognito: CognitoSetup, revoke: str
) -> None:
    pool_id = checked_pool(cognito)
    broker = CredentialsBroker()
    broker.set_identity_pool_roles(pool_id, {"authenticated": cognito.role_arn})
    client = Client(broker.middleware(passthrough_app))
    username = f"erin-{revoke.lower()}"
    tokens = signed_in(cognito, username)
    logins = {cognito.provider: tokens["IdToken"]}
    identity_id = identity_call(client, "GetId", {"IdentityPoolId": pool_id, "Logins": logins}).json["IdentityId"]
    assert [a.status_code for a in identity_answers(client, pool_id, logins, identity_id)] == [200, 200]
    idp = cognito.idp
    {"GlobalSignOut": lambda: idp.global_sign_out(AccessToken=tokens["AccessToken"]),
     "AdminUserGlobalSignOut": lambda: idp.admin_user_global_sign_out(UserPoolId=cognito.user_pool_id,
                                                                     Username=username),
     "AdminDisableUser": lambda: idp.admin_disable_user(UserPoolId=cognito.user_pool_id, Username=username),
     "AdminDeleteUser": lambda: idp.admin_delete_user(UserPoolId=cognito.user_pool_id, Username=username),
     }[revoke]()
    for answer in identity_answers(client, pool_id, logins, identity_id):
        assert answer.status_code == 400 and answer.json["__type"] == "NotAuthorizedException", answer
        assert answer.json["message"].startswith("Invalid login token.")
    if revoke in ("GlobalSignOut", "AdminUserGlobalSignOut"):  # signing in again gives a token that stands
        fresh = {cognito.provider: signed_in(cognito, username)["IdToken"]}
        assert [a.status_code for a in identity_answers(client, pool_id, fresh, identity_id)] == [200, 200]


def test_server_side_check__a_user_deleted_and_made_again_does_not_revive_the_old_token(
    cognito: CognitoSetup
) -> None:
    pool_id = checked_pool(cognito)
    broker = CredentialsBroker()
    broker.set_identity_pool_roles(pool_id, {"authenticated": cognito.role_arn})
    client = Client(broker.middleware(passthrough_app))
    old = {cognito.provider: signed_in(cognito, "frank")["IdToken"]}
    cognito.idp.admin_delete_user(UserPoolId=cognito.user_pool_id, Username="frank")
    signed_in(cognito, "frank")  # the same username, another user (another sub)
    got = identity_call(client, "GetId", {"IdentityPoolId": pool_id, "Logins": old})
    assert (got.status_code, got.json["__type"]) == (400, "NotAuthorizedException")


def test_without_the_server_side_check_a_signed_out_token_still_gets_credentials_until_it_expires(
    client: Client, cognito: CognitoSetup
) -> None:
    tokens = signed_in(cognito, "grace")
    logins = {cognito.provider: tokens["IdToken"]}
    identity_id = identity_call(client, "GetId", {"IdentityPoolId": cognito.identity_pool_id,
                                                  "Logins": logins}).json["IdentityId"]
    cognito.idp.global_sign_out(AccessToken=tokens["AccessToken"])
    assert [a.status_code for a in identity_answers(client, cognito.identity_pool_id, logins, identity_id)] == [
        200, 200]


# -- identity pool roles (moto lacks them) and pass-through ------------------------------------------------
def test_identity_pool_roles_can_be_set_and_read_through_the_api(cognito: CognitoSetup) -> None:
    broker = CredentialsBroker()
    client = Client(broker.middleware(passthrough_app))
    roles = {"authenticated": cognito.role_arn}
    assert identity_call(client, "SetIdentityPoolRoles",
                         {"IdentityPoolId": cognito.identity_pool_id, "Roles": roles}).status_code == 200
    got = identity_call(client, "GetIdentityPoolRoles", {"IdentityPoolId": cognito.identity_pool_id})
    assert got.json == {"IdentityPoolId": cognito.identity_pool_id, "Roles": roles}
    assert broker.identity_pool_roles(cognito.identity_pool_id) == roles


def test_other_requests_pass_through_to_moto(client: Client) -> None:
    assert client.get("/").get_data() == b"moto"
    other = client.post("/", data="{}", headers={"X-Amz-Target": "AWSCognitoIdentityService.ListIdentityPools"})
    assert other.get_data() == b"moto"
    assert client.post("/", data="{}", headers={"X-Amz-Target": "DynamoDB_20120810.GetItem"}).get_data() == b"moto"


def test_a_body_that_is_not_json_is_a_serialization_error(client: Client) -> None:
    got = client.post("/", data="{nope", headers={"X-Amz-Target": "AWSCognitoIdentityService.GetId"})
    assert got.status_code == 400
    assert json.loads(got.get_data())["__type"] == "SerializationException"


# -- static principals and policies ---------------------------------------------------------------------------
def test_static_principal_is_found_by_its_access_key() -> None:
    broker = CredentialsBroker()
    role = f"arn:aws:iam::{ACCOUNT}:role/operator"
    broker.add_static_principal("AKIAOPERATOR", "s3cret", role, f"arn:aws:sts::{ACCOUNT}:assumed-role/operator/ops")
    principal = broker.lookup("AKIAOPERATOR")
    assert principal is not None and principal.secret_key == "s3cret" and principal.role_arn == role
    assert principal.session_token is None and principal.expiration is None
    assert principal.caller.endswith(":ops")
    assert broker.lookup("AKIAUNKNOWN") is None


def test_role_policies_given_by_the_deployer_decide(aws: None) -> None:
    broker = CredentialsBroker()
    role = f"arn:aws:iam::{ACCOUNT}:role/operator"
    principal = broker.add_static_principal("AKIAOP2", "s", role, f"arn:aws:sts::{ACCOUNT}:assumed-role/operator/x")
    arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:abc123/prod/PUT/state/app"
    assert not broker.is_allowed(principal, "execute-api:Invoke", arn)
    allowed = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:abc123/prod/*/state/*"
    broker.set_role_policies("operator", [json.dumps(_invoke_policy(allowed))])
    assert broker.is_allowed(principal, "execute-api:Invoke", arn)
    assert not broker.is_allowed(principal, "execute-api:Invoke", arn.replace("abc123", "other1"))


def test_role_policies_are_read_live_from_iam_when_not_given(aws: None) -> None:
    iam = boto3.client("iam", region_name=REGION)
    iam.create_role(RoleName="live-role", AssumeRolePolicyDocument=json.dumps(_TRUST))
    inline = _invoke_policy(f"arn:aws:execute-api:{REGION}:{ACCOUNT}:api1/prod/GET/*")
    iam.put_role_policy(RoleName="live-role", PolicyName="inline", PolicyDocument=json.dumps(inline))
    managed = iam.create_policy(PolicyName="managed", PolicyDocument=json.dumps(
        _invoke_policy(f"arn:aws:execute-api:{REGION}:{ACCOUNT}:api2/prod/POST/comments/*")))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="live-role", PolicyArn=managed)
    broker = CredentialsBroker()
    principal = broker.add_static_principal("AKIALIVE", "s", f"arn:aws:iam::{ACCOUNT}:role/live-role", "u")
    assert broker.is_allowed(principal, "execute-api:Invoke", f"arn:aws:execute-api:{REGION}:{ACCOUNT}:api1/prod/GET/x")
    assert broker.is_allowed(principal, "execute-api:Invoke",
                             f"arn:aws:execute-api:{REGION}:{ACCOUNT}:api2/prod/POST/comments/p1")
    assert not broker.is_allowed(principal, "execute-api:Invoke",
                                 f"arn:aws:execute-api:{REGION}:{ACCOUNT}:api2/prod/GET/comments/p1")


def _invoke_policy(resource: str) -> dict[str, Any]:
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": resource}]}


# -- the IAM evaluator ---------------------------------------------------------------------------------------------
def test_iam__explicit_deny_wins_over_allow() -> None:
    docs = [
        {"Statement": [{"Effect": "Allow", "Action": "execute-api:*", "Resource": "arn:aws:execute-api:*"}]},
        {"Statement": {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*/PUT/*"}},
    ]
    assert evaluate(docs, "execute-api:Invoke", "arn:aws:execute-api:r:1:a/prod/PUT/state/x") is Decision.EXPLICIT_DENY
    assert evaluate(docs, "execute-api:Invoke", "arn:aws:execute-api:r:1:a/prod/GET/state/x") is Decision.ALLOW
    assert evaluate([], "execute-api:Invoke", "arn:aws:execute-api:r:1:a/prod/GET/x") is Decision.IMPLICIT_DENY


def test_iam__actions_match_case_insensitively_and_resources_exactly() -> None:
    doc = {"Statement": [{"Effect": "Allow", "Action": ["dynamodb:GetItem"],
                          "Resource": "arn:aws:dynamodb:us-east-1:1:table/AppConfig"}]}
    assert evaluate([doc], "DynamoDB:getitem", "arn:aws:dynamodb:us-east-1:1:table/AppConfig") is Decision.ALLOW
    table = "arn:aws:dynamodb:us-east-1:1:table/"
    assert evaluate([doc], "dynamodb:GetItem", table + "appconfig") is Decision.IMPLICIT_DENY
    assert evaluate([doc], "dynamodb:GetItems", table + "AppConfig") is Decision.IMPLICIT_DENY


def test_iam__wildcards_span_slashes_and_question_mark_is_one_character() -> None:
    api = "arn:aws:execute-api:r:1:api/prod"
    assert wildcard_match(f"{api}/GET/comments/*", f"{api}/GET/comments/a/b")
    assert not wildcard_match(f"{api}/GET/comments/*", f"{api}/GET/photos")
    assert wildcard_match("table/T?", "table/T1") and not wildcard_match("table/T?", "table/T12")
    assert wildcard_match("a.b+c", "a.b+c") and not wildcard_match("a.b+c", "aXb+c")  # regex characters are literal


def test_iam__not_action_and_conditions() -> None:
    doc = {"Statement": [
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]}
    assert evaluate([doc], "s3:GetObject", "x", {"aws:SecureTransport": "true"}) is Decision.ALLOW
    assert evaluate([doc], "s3:GetObject", "x", {"aws:SecureTransport": "false"}) is Decision.EXPLICIT_DENY
    assert evaluate([doc], "iam:PassRole", "x") is Decision.IMPLICIT_DENY
    conditional = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                                  "Condition": {"StringEquals": {"aws:PrincipalTag/team": "ops"}}}]}
    assert evaluate([conditional], "s3:GetObject", "x") is Decision.IMPLICIT_DENY  # unknown key never grants


# -- principal tags and the role's trust policy (STS AssumeRoleWithWebIdentity) -------------------------------
def trusted_role(cognito: CognitoSetup, name: str, *, tag_session: bool = True, audience: str | None = None) -> str:
    """A role whose trust policy is the program's (`components.identity.authenticated_trust_policy`) or
    leaves out sts:TagSession / names another identity pool."""
    from components.identity import authenticated_trust_policy

    trust = json.loads(authenticated_trust_policy(audience or cognito.identity_pool_id))
    if not tag_session:
        trust["Statement"][0]["Action"] = "sts:AssumeRoleWithWebIdentity"
    iam = boto3.client("iam", region_name=REGION)
    try:
        iam.delete_role(RoleName=name)
    except iam.exceptions.NoSuchEntityException:
        pass
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def tagged_broker(
    cognito: CognitoSetup, role_arn: str, tags: dict[str, str] | None, use_defaults: bool
) -> CredentialsBroker:
    broker = CredentialsBroker()
    broker.set_identity_pool_roles(cognito.identity_pool_id, {"authenticated": role_arn})
    broker.set_principal_tags(cognito.identity_pool_id, cognito.provider, tags, use_defaults)
    return broker


def test_principal_tags__the_default_mapping_tags_username_with_sub_and_client_with_aud(cognito: CognitoSetup) -> None:
    broker = tagged_broker(cognito, trusted_role(cognito, "tagged"), None, use_defaults=True)
    _, creds = sign_in_identity(Client(broker.middleware(passthrough_app)), cognito, "alice")
    claims = jwt.decode(cognito.id_token("alice"), jwk.KeySet.import_key_set(
        load_resource("cognitoidp/resources/jwks-public.json"))).claims
    principal = broker.lookup(creds["AccessKeyId"])
    assert principal is not None
    assert principal.principal_tags == {"username": claims["sub"], "client": cognito.client_id}


def test_principal_tags__a_custom_map_tags_the_claims_it_names(cognito: CognitoSetup) -> None:
    broker = tagged_broker(cognito, trusted_role(cognito, "tagged"), {"owner": "cognito:username", "none": "nope"},
                           use_defaults=False)
    identity_id, creds = sign_in_identity(Client(broker.middleware(passthrough_app)), cognito, "alice")
    principal = broker.lookup(creds["AccessKeyId"])
    assert principal is not None and principal.principal_tags == {"owner": "alice"}  # absent claims: no tag
    keys = broker.context_keys(principal)
    assert keys["aws:PrincipalTag/owner"] == "alice"
    assert keys["cognito-identity.amazonaws.com:sub"] == identity_id
    assert keys["cognito-identity.amazonaws.com:aud"] == cognito.identity_pool_id
    assert keys["cognito-identity.amazonaws.com:amr"][:2] == ["authenticated", cognito.provider]
    assert keys["aws:PrincipalArn"] == principal.role_arn and keys["aws:userid"] == principal.caller


def test_principal_tags__are_policy_variables_in_execute_api_decisions(cognito: CognitoSetup) -> None:
    broker = tagged_broker(cognito, trusted_role(cognito, "tagged"), {"owner": "cognito:username"}, False)
    _, creds = sign_in_identity(Client(broker.middleware(passthrough_app)), cognito, "alice")
    principal = broker.lookup(creds["AccessKeyId"])
    assert principal is not None
    api = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:api/prod"
    broker.set_role_policies(principal.role_arn, [json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke",
                                                "Resource": f"{api}/*/photos/${{aws:PrincipalTag/owner}}/*"}]})])
    source = {"aws:SourceIp": "127.0.0.1"}  # what execute-api passes; the broker adds the principal's keys
    assert broker.is_allowed(principal, "execute-api:Invoke", f"{api}/GET/photos/alice/p1", source)
    assert not broker.is_allowed(principal, "execute-api:Invoke", f"{api}/GET/photos/bob/p1")


def test_trust__session_tags_need_sts_tag_session_in_the_trust_policy(cognito: CognitoSetup) -> None:
    role = trusted_role(cognito, "no-tag-session", tag_session=False)
    refused = tagged_broker(cognito, role, {"owner": "cognito:username"}, False)
    logins = {cognito.provider: cognito.id_token("alice")}
    client = Client(refused.middleware(passthrough_app))
    identity_id = identity_call(client, "GetId", {"IdentityPoolId": cognito.identity_pool_id,
                                                  "Logins": logins}).json["IdentityId"]
    got = identity_call(client, "GetCredentialsForIdentity", {"IdentityId": identity_id, "Logins": logins})
    assert got.status_code == 400 and got.json["__type"] == "InvalidIdentityPoolConfigurationException"
    assert got.json["message"] == "Invalid identity pool configuration. Check assigned IAM roles for this pool."
    # without session tags the same trust policy is enough
    untagged = CredentialsBroker()
    untagged.set_identity_pool_roles(cognito.identity_pool_id, {"authenticated": role})
    assert sign_in_identity(Client(untagged.middleware(passthrough_app)), cognito, "alice")[1]["AccessKeyId"]


def test_trust__a_role_that_trusts_another_identity_pool_cannot_be_assumed(cognito: CognitoSetup) -> None:
    broker = CredentialsBroker()
    broker.set_identity_pool_roles(cognito.identity_pool_id, {
        "authenticated": trusted_role(cognito, "other-pool", audience="us-east-1:another-pool")})
    client = Client(broker.middleware(passthrough_app))
    logins = {cognito.provider: cognito.id_token("alice")}
    identity_id = identity_call(client, "GetId", {"IdentityPoolId": cognito.identity_pool_id,
                                                  "Logins": logins}).json["IdentityId"]
    got = identity_call(client, "GetCredentialsForIdentity", {"IdentityId": identity_id, "Logins": logins})
    assert got.json["__type"] == "InvalidIdentityPoolConfigurationException"


def test_principal_tag_maps_can_be_set_and_read_through_the_api(cognito: CognitoSetup) -> None:
    broker = CredentialsBroker()
    client = Client(broker.middleware(passthrough_app))
    request = {"IdentityPoolId": cognito.identity_pool_id, "IdentityProviderName": cognito.provider,
               "PrincipalTags": {"owner": "cognito:username"}, "UseDefaults": False}
    assert identity_call(client, "SetPrincipalTagAttributeMap", request).status_code == 200
    got = identity_call(client, "GetPrincipalTagAttributeMap", {
        "IdentityPoolId": cognito.identity_pool_id, "IdentityProviderName": cognito.provider})
    assert got.json["PrincipalTags"] == {"owner": "cognito:username"} and got.json["UseDefaults"] is False
