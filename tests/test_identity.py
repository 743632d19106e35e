"""Identity: a Cognito user pool, client, identity pool and least-privilege role in EACH region;
operator access: the only principal that can switch the routing state."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pulumi
import pytest

from components.contract import STAGE, Out
from components.identity import IdentityArgs
from components.identity import _validate as validate_identity
from components.operator import NOBODY_WARNING
from components.routes import PHOTOS_ROUTES, ROUTING_ROUTES
from components.settings import ConfigError, config_schema, load_settings
from harness.fake_cloud import FakeCloud
from harness.program import ProgramRun, run_program, stack_config
from tests.conftest import PRIMARY, ROOT, SECONDARY

REGIONS = {"primary": PRIMARY, "secondary": SECONDARY}
USER_POOL = "aws:cognito/userPool:UserPool"
CLIENT = "aws:cognito/userPoolClient:UserPoolClient"
IDENTITY_POOL = "aws:cognito/identityPool:IdentityPool"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PRINCIPAL_TAG = "aws:cognito/identityPoolProviderPrincipalTag:IdentityPoolProviderPrincipalTag"
EXECUTE_API_ARN = re.compile(
    r"^arn:aws:execute-api:(?P<region>[a-z0-9-]+):\d{12}:(?P<api>[A-Za-z0-9]+)/(?P<stage>[^/]+)/(?P<method>[A-Z]+)/(?P<path>.+)$"
)

# Given to the identity-only test program (tests/programs/identity_only.py).
APP_ARNS = [
    f"arn:aws:execute-api:{PRIMARY}:123456789012:abc123/prod/GET/comments/*",
    f"arn:aws:execute-api:{SECONDARY}:123456789012:def456/prod/POST/comments/*",
]
STATE_PUT_ARNS = [
    f"arn:aws:execute-api:{PRIMARY}:123456789012:ghi789/prod/PUT/state/*",
    f"arn:aws:execute-api:{SECONDARY}:123456789012:jkl012/prod/PUT/state/*",
]
OWNER_ARNS = [f"arn:aws:execute-api:{PRIMARY}:123456789012:abc123/prod/POST/users/${{aws:PrincipalTag/owner}}/photos"]
OPERATORS = ["arn:aws:iam::123456789012:role/ops-oncall", "arn:aws:iam::210987654321:user/path/alice"]


def document(reg) -> dict:
    return json.loads(reg.inputs.get("policy") or reg.inputs["assumeRolePolicy"])


def statements_by_sid(reg) -> dict[str, dict]:
    return {s["Sid"]: s for s in document(reg)["Statement"]}


def as_list(value) -> list:
    return [value] if isinstance(value, str) else list(value)


def app_user_policies(run: ProgramRun) -> dict[str, object]:
    return {role: run.one(ROLE_POLICY, f"identity-{role}-authenticated-policy") for role in REGIONS}


def photo_bucket_arns(run: ProgramRun) -> list[str]:
    return [run.one("aws:s3/bucket:Bucket", f"photos-{role}").outputs["arn"] for role in REGIONS]


@pytest.fixture(scope="module")
def known_arns() -> ProgramRun:
    """Identity and OperatorAccess given known execute-api ARNs (a duplicate included)."""
    config = stack_config("prod")
    config["multi-region-app:testInvokeArns"] = json.dumps([*APP_ARNS, APP_ARNS[0]])
    config["multi-region-app:testOperatorInvokeArns"] = json.dumps([*APP_ARNS, *STATE_PUT_ARNS])
    config["multi-region-app:testOwnerInvokeArns"] = json.dumps(OWNER_ARNS)
    return run_program(FakeCloud(), config, program=ROOT / "tests" / "programs" / "identity_only.py")


def test_each_region_has_its_own_user_pool_with_admin_only_users_and_a_strong_password_policy(prod):
    for role, region in REGIONS.items():
        pool = prod.one(USER_POOL, f"identity-{role}")
        assert pool.region == region
        assert pool.inputs["adminCreateUserConfig"] == {"allowAdminCreateUserOnly": True}
        assert pool.inputs["passwordPolicy"] == {
            "minimumLength": 12.0,
            "requireUppercase": True,
            "requireLowercase": True,
            "requireNumbers": True,
            "requireSymbols": True,
            "temporaryPasswordValidityDays": 365.0,  # Cognito's maximum: see ops sync-users
        }
        assert pool.inputs["usernameConfiguration"] == {"caseSensitive": False}
        assert pool.inputs["autoVerifiedAttributes"] == ["email"]
        assert pool.inputs["accountRecoverySetting"] == {
            "recoveryMechanisms": [{"name": "verified_email", "priority": 1.0}]
        }


def test_user_pools_are_deletion_protected_and_kept_only_when_data_is_retained(prod, run_config):
    throwaway = run_config(retainData="false")
    for role in REGIONS:
        kept, dropped = prod.one(USER_POOL, f"identity-{role}"), throwaway.one(USER_POOL, f"identity-{role}")
        assert kept.inputs["deletionProtection"] == "ACTIVE"
        assert kept.options["retain_on_delete"] is True
        assert dropped.inputs["deletionProtection"] == "INACTIVE"
        assert dropped.options["retain_on_delete"] is False


def test_web_client_has_no_secret_and_signs_in_by_srp_password_and_refresh_token(prod):
    for role, region in REGIONS.items():
        client = prod.one(CLIENT, f"identity-{role}")
        pool = prod.one(USER_POOL, f"identity-{role}")
        assert client.region == region
        assert client.inputs["userPoolId"] == pool.id
        assert client.inputs["generateSecret"] is False
        assert sorted(client.inputs["explicitAuthFlows"]) == [
            "ALLOW_REFRESH_TOKEN_AUTH",
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_USER_SRP_AUTH",
        ]
        assert client.inputs["preventUserExistenceErrors"] == "ENABLED"


def test_identity_pool_admits_only_signed_in_users_of_the_same_regions_user_pool(prod):
    for role, region in REGIONS.items():
        identities = prod.one(IDENTITY_POOL, f"identity-{role}")
        pool, client = prod.one(USER_POOL, f"identity-{role}"), prod.one(CLIENT, f"identity-{role}")
        assert identities.region == region
        assert identities.inputs["allowUnauthenticatedIdentities"] is False
        assert identities.inputs["cognitoIdentityProviders"] == [
            {"providerName": pool.outputs["endpoint"], "clientId": client.id, "serverSideTokenCheck": True}
        ]
        assert pool.outputs["endpoint"] == f"cognito-idp.{region}.amazonaws.com/{pool.id}"


def test_authenticated_role_trusts_only_signed_in_identities_of_its_own_identity_pool(prod):
    names = set()
    for role in REGIONS:
        identity_pool_id = prod.one(IDENTITY_POOL, f"identity-{role}").id
        trust_role = prod.one(ROLE, f"identity-{role}-authenticated")
        names.add(trust_role.inputs["name"])
        assert len(trust_role.inputs["name"]) <= 64
        [statement] = document(trust_role)["Statement"]
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] == {"Federated": "cognito-identity.amazonaws.com"}
        assert sorted(statement["Action"]) == ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]
        assert statement["Condition"] == {
            "StringEquals": {"cognito-identity.amazonaws.com:aud": identity_pool_id},
            "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
        }
    assert len(names) == 2, "IAM names are global: one role name per region"


def test_identity_pool_maps_signed_in_users_to_the_authenticated_role_only(prod):
    for role in REGIONS:
        attachment = prod.one("aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment", f"identity-{role}")
        assert attachment.inputs["identityPoolId"] == prod.one(IDENTITY_POOL, f"identity-{role}").id
        assert attachment.inputs["roles"] == {
            "authenticated": prod.one(ROLE, f"identity-{role}-authenticated").outputs["arn"]
        }


def test_app_users_read_public_photos_and_create_only_new_objects_under_their_own_prefix(prod):
    buckets = photo_bucket_arns(prod)
    for role, policy in app_user_policies(prod).items():
        assert policy.inputs["role"] == prod.one(ROLE, f"identity-{role}-authenticated").outputs["name"]
        statements = statements_by_sid(policy)
        assert statements["ReadPhotos"] == {
            "Sid": "ReadPhotos",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [f"{arn}/public/*" for arn in buckets],
        }
        assert statements["CreateOwnPhotos"] == {
            "Sid": "CreateOwnPhotos",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": [f"{arn}/public/${{aws:PrincipalTag/owner}}/*" for arn in buckets],
            # Present and exactly "*": If-None-Match, S3's create-only write.
            "Condition": {"Null": {"s3:if-none-match": "false"}, "StringEquals": {"s3:if-none-match": "*"}},
        }
        # ... and, with customer managed keys, the keys of those photos (tests/test_hardened.py).
        assert set(statements) - {"UsePhotoKey1", "UsePhotoKey2"} == {
            "ReadPhotos", "CreateOwnPhotos", "InvokeAppRoutes", "InvokeOwnRoutes"}


def test_app_users_cannot_list_any_prefix_so_nobody_learns_an_unregistered_upload(prod, known_arns):
    # Registration front-running: a lister would see a fresh public/<owner>/<photoId> and register the id first.
    for run in (prod, known_arns):
        for policy in app_user_policies(run).values():
            actions = {a for s in document(policy)["Statement"] for a in as_list(s["Action"])}
            assert not {a for a in actions if a.startswith("s3:List") or a in ("s3:*", "*")}, actions


def test_app_users_may_not_delete_overwrite_or_write_outside_their_own_prefix(prod, known_arns):
    for run in (prod, known_arns):
        for policy in app_user_policies(run).values():
            for statement in document(policy)["Statement"]:
                actions = as_list(statement["Action"])
                assert set(actions) <= {"s3:GetObject", "s3:PutObject", "execute-api:Invoke",
                                        "kms:Decrypt", "kms:GenerateDataKey"}
                if "s3:PutObject" in actions:
                    # The only write: under public/<own owner tag>/, conditional on If-None-Match.
                    assert actions == ["s3:PutObject"]
                    assert all(r.endswith("/public/${aws:PrincipalTag/owner}/*") for r in statement["Resource"])
                    assert statement["Condition"]["Null"] == {"s3:if-none-match": "false"}


def test_each_identity_pool_tags_sessions_with_the_user_pool_username_as_owner(prod):
    for role, region in REGIONS.items():
        tag = prod.one(PRINCIPAL_TAG, f"identity-{role}")
        pool, identities = prod.one(USER_POOL, f"identity-{role}"), prod.one(IDENTITY_POOL, f"identity-{role}")
        assert tag.region == region
        assert tag.inputs == {
            "identityPoolId": identities.id,
            "identityProviderName": pool.outputs["endpoint"],
            "principalTags": {"owner": "cognito:username"},
            "useDefaults": False,
        }
        # No credentials are handed out before the tag map exists: an untagged session could not write.
        attachment = prod.one("aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment", f"identity-{role}")
        assert tag.urn in attachment.options["depends_on"]


def test_app_users_may_invoke_the_reads_and_only_their_own_owner_scoped_writes_in_both_regions(prod):
    api_region = {api.id: api.region for api in prod.of_type("aws:apigateway/restApi:RestApi")}
    reads = {
        (region, route.method, route.arn_path)
        for region in REGIONS.values()
        for route in (*ROUTING_ROUTES, *PHOTOS_ROUTES)
        if not route.operator_only and route.owner_param is None
    }
    writes = {
        (region, "POST", path)
        for region in REGIONS.values()
        for path in ("users/${aws:PrincipalTag/owner}/photos", "users/${aws:PrincipalTag/owner}/comments/*")
    }
    for policy in app_user_policies(prod).values():
        statements = statements_by_sid(policy)
        for sid, expected in (("InvokeAppRoutes", reads), ("InvokeOwnRoutes", writes)):
            granted = []
            for arn in as_list(statements[sid]["Resource"]):
                match = EXECUTE_API_ARN.match(arn)
                assert match, arn
                assert match["stage"] == STAGE
                assert api_region[match["api"]] == match["region"], arn
                granted.append((match["region"], match["method"], match["path"]))
            assert len(granted) == len(set(granted))
            assert set(granted) == expected, sid
        # No write route without the owner segment, no operator route.
        everything = " ".join(as_list(statements["InvokeAppRoutes"]["Resource"]))
        assert "/POST/" not in everything and "/PUT/" not in everything


def test_app_users_invoke_permission_is_exactly_the_given_routes_without_duplicates(known_arns):
    for role in REGIONS:
        statements = statements_by_sid(known_arns.one(ROLE_POLICY, f"identity-{role}-authenticated-policy"))
        assert statements["InvokeAppRoutes"] == {
            "Sid": "InvokeAppRoutes",
            "Effect": "Allow",
            "Action": "execute-api:Invoke",
            "Resource": APP_ARNS,
        }
        # The owner-scoped routes stand apart: IAM may drop a statement whose variable does not resolve.
        assert statements["InvokeOwnRoutes"] == {
            "Sid": "InvokeOwnRoutes",
            "Effect": "Allow",
            "Action": "execute-api:Invoke",
            "Resource": OWNER_ARNS,
        }


def test_operator_policy_switches_state_in_both_regions_and_the_app_users_cannot(prod, known_arns):
    table = prod.outputs[Out.TABLES]["appConfig"]
    statements = statements_by_sid(prod.one("aws:iam/policy:Policy", "operator"))
    assert statements["SwitchState"]["Action"] == ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    assert sorted(statements["SwitchState"]["Resource"]) == sorted(
        f"arn:aws:dynamodb:{region}:123456789012:table/{table}" for region in REGIONS.values()
    )
    # The operator may call every route, including PUT /state; the app users' role may not.
    operator_routes = statements_by_sid(known_arns.one("aws:iam/policy:Policy", "operator"))["InvokeEveryRoute"]
    assert operator_routes["Resource"] == [*APP_ARNS, *STATE_PUT_ARNS]
    for run in (prod, known_arns):
        for policy in app_user_policies(run).values():
            for statement in document(policy)["Statement"]:
                assert not any(a.startswith("dynamodb:") for a in as_list(statement["Action"]))
                assert not any("/PUT/" in r or ":table/" in r for r in as_list(statement["Resource"]))


def test_operator_policy_lets_ops_status_count_and_sync_users_copy_into_the_secondary(prod):
    statements = statements_by_sid(prod.one("aws:iam/policy:Policy", "operator"))
    tables = prod.outputs[Out.TABLES]
    assert statements["CountItems"]["Action"] == ["dynamodb:Query", "dynamodb:Scan"]
    assert sorted(statements["CountItems"]["Resource"]) == sorted(
        f"arn:aws:dynamodb:{region}:123456789012:table/{tables[name]}"
        for region in REGIONS.values() for name in ("comments", "photos"))
    pools = {role: prod.outputs[role]["userPoolId"] for role in ("primary", "secondary")}
    assert [r.rsplit("/", 1)[-1] for r in statements["ListUsers"]["Resource"]] == [pools["primary"], pools["secondary"]]
    assert statements["SyncUsers"]["Action"] == ["cognito-idp:AdminCreateUser", "cognito-idp:AdminDisableUser"]
    assert [r.rsplit("/", 1)[-1] for r in statements["SyncUsers"]["Resource"]] == [pools["secondary"]]


def test_operator_policy_lets_the_photo_sweep_list_and_delete_under_public_only(prod):
    statements = statements_by_sid(prod.one("aws:iam/policy:Policy", "operator"))
    buckets = photo_bucket_arns(prod)
    assert statements["ListPhotoObjects"] == {
        "Sid": "ListPhotoObjects", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": buckets,
        "Condition": {"StringLike": {"s3:prefix": ["public/", "public/*"]}}}
    assert statements["SweepUnregisteredPhotos"] == {
        "Sid": "SweepUnregisteredPhotos", "Effect": "Allow", "Action": ["s3:DeleteObject"],
        "Resource": [f"{arn}/public/*" for arn in buckets]}
    # Nothing else on S3: no read, no write, no version delete (the noncurrent version stays restorable).
    s3_actions = {a for st in statements.values() for a in as_list(st["Action"]) if a.startswith("s3:")}
    assert s3_actions == {"s3:ListBucket", "s3:DeleteObject"}
    # The sweep reads the registrations with the photos table's Query (CountItems).
    assert "dynamodb:Query" in statements["CountItems"]["Action"]


def test_operator_role_trusts_only_the_configured_principals_with_mfa_for_an_hour(prod):
    role = prod.one(ROLE, "operator-role")
    policy = prod.one("aws:iam/policy:Policy", "operator")
    assert role.region == policy.region == PRIMARY
    assert role.inputs["maxSessionDuration"] == 3600.0
    # Pulumi.prod.yaml's example: one role, MFA required.
    assert document(role)["Statement"] == [
        {"Sid": "TrustNamedOperators", "Effect": "Allow",
         "Principal": {"AWS": ["arn:aws:iam::123456789012:role/ops-oncall"]}, "Action": "sts:AssumeRole",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}
    ]
    assert "root" not in json.dumps(document(role))
    attachment = prod.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "operator")
    assert attachment.inputs == {"role": role.outputs["name"], "policyArn": policy.outputs["arn"]}
    assert prod.outputs[Out.OPERATOR_ROLE_ARN] == role.outputs["arn"]


def test_operator_role_trusts_exactly_the_named_principals_and_mfa_only_when_required(run_config):
    run = run_config(operatorPrincipals=json.dumps([*OPERATORS, OPERATORS[0]]), operatorRequireMfa="false")
    [statement] = document(run.one(ROLE, "operator-role"))["Statement"]
    assert statement == {"Sid": "TrustNamedOperators", "Effect": "Allow", "Principal": {"AWS": OPERATORS},
                         "Action": "sts:AssumeRole"}


def test_operator_role_trusts_nobody_and_warns_once_when_no_principal_is_configured(run_config, monkeypatch):
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    run = run_config(operatorPrincipals="[]")
    assert document(run.one(ROLE, "operator-role"))["Statement"] == [
        {"Sid": "TrustNobody", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
    ]
    assert [w for w in warnings if "operatorPrincipals" in w] == [NOBODY_WARNING]
    assert "nobody can assume the operator role" in NOBODY_WARNING


@pytest.mark.parametrize("principal", [
    "arn:aws:iam::123456789012:root",
    "arn:aws:iam::123456789012:role/*",
    "arn:aws:iam::123456789012:role/ops-*",
    "arn:aws:iam::*:role/ops",
    "arn:aws:sts::123456789012:assumed-role/ops/alice",
    "arn:aws:iam::12345:role/ops",
    "*",
    "ops-oncall",
])
def test_operator_principals_must_be_exact_role_or_user_arns(principal):
    with pytest.raises(ConfigError, match="operatorPrincipals"):
        load_settings({"secondaryRegion": SECONDARY, "operatorPrincipals": json.dumps([principal])}.get,
                      PRIMARY, "multi-region-app", "prod")


def test_operator_config_defaults_to_nobody_with_mfa_and_keeps_each_principal_once():
    schema = config_schema()
    assert schema["operatorPrincipals"]["type"] == "array" and schema["operatorPrincipals"]["default"] == []
    assert schema["operatorRequireMfa"]["type"] == "boolean" and schema["operatorRequireMfa"]["default"] is True
    defaults = load_settings({"secondaryRegion": SECONDARY}.get, PRIMARY, "multi-region-app", "dev")
    assert (defaults.operator_principals, defaults.operator_require_mfa) == ((), True)
    values = {"secondaryRegion": SECONDARY, "operatorPrincipals": json.dumps([*OPERATORS, OPERATORS[0]]),
              "operatorRequireMfa": "false"}
    configured = load_settings(values.get, PRIMARY, "multi-region-app", "dev")
    assert (configured.operator_principals, configured.operator_require_mfa) == (tuple(OPERATORS), False)
    with pytest.raises(ConfigError, match="operatorRequireMfa must be true or false"):
        load_settings({"secondaryRegion": SECONDARY, "operatorRequireMfa": "yes"}.get, PRIMARY, "multi-region-app",
                      "dev")


def test_operator_cannot_write_photos_or_comments_as_anybody(prod):
    statements = statements_by_sid(prod.one("aws:iam/policy:Policy", "operator"))
    routes = " ".join(as_list(statements["InvokeEveryRoute"]["Resource"]))
    assert "/PUT/state/" in routes and "/GET/photos" in routes
    assert "/POST/" not in routes and "PrincipalTag" not in routes


def test_identity_and_operator_policies_grant_no_wildcard_action_or_resource(prod, known_arns):
    for run in (prod, known_arns):
        regs = [*app_user_policies(run).values(), run.one("aws:iam/policy:Policy", "operator")]
        regs += [run.one(ROLE, "operator-role"), *(run.one(ROLE, f"identity-{r}-authenticated") for r in REGIONS)]
        for reg in regs:
            for statement in document(reg)["Statement"]:
                assert all("*" not in action for action in as_list(statement["Action"])), reg.name
                assert "*" not in as_list(statement.get("Resource", [])), reg.name


def test_stack_outputs_carry_each_regions_own_cognito_ids(prod):
    for role in REGIONS:
        values = prod.outputs[role]
        assert values["userPoolId"] == prod.one(USER_POOL, f"identity-{role}").id
        assert values["userPoolClientId"] == prod.one(CLIENT, f"identity-{role}").id
        assert values["identityPoolId"] == prod.one(IDENTITY_POOL, f"identity-{role}").id
        assert values["authenticatedRoleArn"] == prod.one(ROLE, f"identity-{role}-authenticated").outputs["arn"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"prefix": "p" * 60}, "IdentityArgs.prefix"),
        ({"bucket_arns": []}, "IdentityArgs.bucket_arns"),
    ],
)
def test_invalid_identity_args_raise_naming_the_argument(changes, message):
    region = SimpleNamespace(role="primary", name=PRIMARY, provider=None)
    args = IdentityArgs(prefix="app-prod", region=region, bucket_arns=["arn:aws:s3:::b"], invoke_arns=[])
    for key, value in changes.items():
        setattr(args, key, value)
    with pytest.raises(ValueError, match=message):
        validate_identity(args)
