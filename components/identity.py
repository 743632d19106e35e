"""App users' identity in one region: a Cognito user pool, its client, an identity pool,
and the least-privilege role its signed-in users get.

`__main__` makes one per region, so users can sign in while the other region is down
(the reference kept Cognito in the primary only). Each region's role may use the photo
buckets and app routes of BOTH regions: after a failover the web app talks to the
secondary's resources with whichever pool the user signed in to.

One person is one owner in both regions: each identity pool tags the session with the user-pool
username (`cognito:username` -> principal tag `owner`), and the role's write grants name
`${aws:PrincipalTag/owner}`: the owner's own S3 prefix (new objects only) and the API paths whose
owner segment is theirs. docs/identity.md explains the choice. When the photo buckets encrypt with
customer managed keys (config kmsEnabled), the role may also use each bucket's key, only through S3 in
that key's region and only for `public/` photos (uploads generate data keys, reads decrypt).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.contract import OWNER_CLAIM, OWNER_POLICY_VARIABLE, OWNER_TAG, PHOTO_PREFIX
from components.kms import KeyedBucket, s3_key_grant
from components.regions import Region

MAX_ROLE_NAME = 64  # IAM's limit
PASSWORD_MIN_LENGTH = 12
# Cognito's maximum (PasswordPolicyType.TemporaryPasswordValidityDays, 0..365): users that `ops sync-users`
# copies into the secondary pool get a temporary password; they may first need it months later, at a failover.
TEMPORARY_PASSWORD_DAYS = 365
# USER_PASSWORD_AUTH: the sandbox and tests sign in with it (moto's SRP accepts wrong passwords).
AUTH_FLOWS = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
PHOTO_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]
COGNITO_IDENTITY = "cognito-identity.amazonaws.com"
# Claim of the user pool's id token -> session tag: the owner value every write grant names.
PRINCIPAL_TAGS = {OWNER_TAG: OWNER_CLAIM}
# S3 conditional writes: PutObject must carry `If-None-Match: *` (create, never overwrite). Both keys are
# checked so the grant holds under either reading of the condition (present, and exactly "*"):
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes-enforce.html
CREATE_ONLY = {"Null": {"s3:if-none-match": "false"}, "StringEquals": {"s3:if-none-match": "*"}}


@dataclass(frozen=True)
class PhotoKey:
    """The key a photo bucket encrypts with, and where (resolved: kms.KeyedBucket)."""

    region_name: str
    bucket_arn: pulumi.Input[str]
    key_arn: pulumi.Input[str]


@dataclass
class IdentityArgs:
    prefix: str
    """Prefix of every physical name (project-stack); required."""
    region: Region
    """The region of this user pool, identity pool and role; required."""
    bucket_arns: Sequence[pulumi.Input[str]]
    """ARNs of the photo buckets of both regions; required, at least one."""
    invoke_arns: Sequence[pulumi.Input[str]]
    """execute-api ARNs of exactly the app users' routes of both regions; required (may be empty)."""
    owner_invoke_arns: Sequence[pulumi.Input[str]] = ()
    """execute-api ARNs of the owner-scoped write routes (their owner segment is `${aws:PrincipalTag/owner}`)."""
    photo_keys: Sequence[PhotoKey] = field(default_factory=list)
    """The customer managed key of each photo bucket (kmsEnabled); default none: SSE-S3 buckets need no key."""
    retain_data: bool = True
    """Protect the user pool from deletion and keep it on `pulumi destroy`; default True."""
    adopt_retained: bool = False
    """Import the user pool kept by an earlier keep-data destroy (found by its name) instead of creating
    one; default False."""


def user_pool_name(prefix: str, region_role: str) -> str:
    return f"{prefix}-users-{region_role}"


def retained_pool_id(prefix: str, region: Region) -> str | None:
    """The id of this stack's user pool in `region` if one exists (kept by a keep-data destroy), for
    config adoptRetained. User pool ids are random: looked up by the pool's deterministic name."""
    found = aws.cognito.get_user_pools(name=user_pool_name(prefix, region.role), opts=region.invoke_opts()).ids
    if len(found) > 1:
        raise ValueError(f"{len(found)} user pools named {user_pool_name(prefix, region.role)} in {region.name}: "
                         "adopt one by hand (pulumi import)")
    return found[0] if found else None


def role_name(prefix: str, region_name: str) -> str:
    """IAM names are global: one app-users role per stack (prefix) and region."""
    return f"{prefix}-app-users-{region_name}"


def role_arn(account_id: str, prefix: str, region_name: str) -> str:
    """The app-users role's ARN, known before the role exists (the photo buckets' policies name it)."""
    return f"arn:aws:iam::{account_id}:role/{role_name(prefix, region_name)}"


def identity_pool_name(prefix: str, region_role: str) -> str:
    """Identity pool names allow only letters, digits, '_' and spaces."""
    return f"{prefix}_{region_role}".replace("-", "_")


def authenticated_trust_policy(identity_pool_id: str) -> str:
    """Only identities of this identity pool that signed in may assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": COGNITO_IDENTITY},
                    "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
                    "Condition": {
                        "StringEquals": {f"{COGNITO_IDENTITY}:aud": identity_pool_id},
                        "ForAnyValue:StringLike": {f"{COGNITO_IDENTITY}:amr": "authenticated"},
                    },
                }
            ],
        }
    )


def app_user_policy(
    bucket_arns: Sequence[str],
    invoke_arns: Sequence[str],
    owner_invoke_arns: Sequence[str] = (),
    photo_keys: Sequence[KeyedBucket] = (),
) -> str:
    """Read `public/` of every bucket; create (never overwrite, never delete) objects under the caller's own
    `public/<owner>/` only; call the app's read routes and the caller's own write routes; with `photo_keys`
    (one per encrypted bucket) use each bucket's key for its photos.

    No listing, of any prefix: an upload's key must stay unknown to others until its photo id is registered
    (a lister could register it first); nothing the app does lists (the gallery is the API's).

    Statements that name the owner variable stand apart: IAM may drop a statement whose variable does not
    resolve, and a session without the tag must still read."""
    statements: list[dict] = [
        {
            "Sid": "ReadPhotos",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [f"{arn}/{PHOTO_PREFIX}*" for arn in bucket_arns],
        },
        {
            "Sid": "CreateOwnPhotos",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": [f"{arn}/{PHOTO_PREFIX}{OWNER_POLICY_VARIABLE}/*" for arn in bucket_arns],
            "Condition": CREATE_ONLY,
        },
    ]
    statements += [
        s3_key_grant(f"UsePhotoKey{index}", PHOTO_KEY_ACTIONS, keyed, PHOTO_PREFIX)
        for index, keyed in enumerate(photo_keys, start=1)
    ]
    # IAM rejects a statement without resources: no routes, no statement.
    for sid, arns in (("InvokeAppRoutes", invoke_arns), ("InvokeOwnRoutes", owner_invoke_arns)):
        routes = list(dict.fromkeys(arns))  # dedupe, keep order
        if routes:
            statements.append({"Sid": sid, "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": routes})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _validate(args: IdentityArgs) -> None:
    if not args.prefix:
        raise ValueError("IdentityArgs.prefix must not be empty")
    if not list(args.bucket_arns):
        raise ValueError("IdentityArgs.bucket_arns needs the photo bucket ARNs (both regions)")
    name = role_name(args.prefix, args.region.name)
    if len(name) > MAX_ROLE_NAME:
        raise ValueError(f"IdentityArgs.prefix {args.prefix!r} makes the role name {name!r} over {MAX_ROLE_NAME} chars")


class Identity(pulumi.ComponentResource):
    """User pool + client + identity pool + authenticated role, in one region."""

    user_pool_id: pulumi.Output[str]
    user_pool_client_id: pulumi.Output[str]
    identity_pool_id: pulumi.Output[str]
    authenticated_role_arn: pulumi.Output[str]
    user_pool: aws.cognito.UserPool
    user_pool_client: aws.cognito.UserPoolClient
    identity_pool: aws.cognito.IdentityPool
    authenticated_role: aws.iam.Role
    principal_tags: aws.cognito.IdentityPoolProviderPrincipalTag

    def __init__(self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multi-region-app:identity:Identity", name, None, opts)
        _validate(args)
        region = args.region

        self.user_pool = aws.cognito.UserPool(
            f"{name}-users",
            name=user_pool_name(args.prefix, region.role),
            # Users are created by operators (ops CLI), never by sign-up.
            admin_create_user_config=aws.cognito.UserPoolAdminCreateUserConfigArgs(allow_admin_create_user_only=True),
            password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
                minimum_length=PASSWORD_MIN_LENGTH,
                require_uppercase=True,
                require_lowercase=True,
                require_numbers=True,
                require_symbols=True,
                temporary_password_validity_days=TEMPORARY_PASSWORD_DAYS,
            ),
            username_configuration=aws.cognito.UserPoolUsernameConfigurationArgs(case_sensitive=False),
            auto_verified_attributes=["email"],
            account_recovery_setting=aws.cognito.UserPoolAccountRecoverySettingArgs(
                recovery_mechanisms=[
                    aws.cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs(name="verified_email", priority=1)
                ]
            ),
            mfa_configuration="OFF",
            deletion_protection="ACTIVE" if args.retain_data else "INACTIVE",
            # A protected pool cannot be deleted: leave it (and its users) behind on destroy.
            opts=region.opts(self, retain_on_delete=args.retain_data,
                             import_=retained_pool_id(args.prefix, region) if args.adopt_retained else None),
        )
        self.user_pool_client = aws.cognito.UserPoolClient(
            f"{name}-client",
            name=f"{args.prefix}-web-{region.role}",
            user_pool_id=self.user_pool.id,
            # A browser cannot keep a secret.
            generate_secret=False,
            explicit_auth_flows=AUTH_FLOWS,
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            opts=region.opts(self),
        )
        self.identity_pool = aws.cognito.IdentityPool(
            f"{name}-identities",
            identity_pool_name=identity_pool_name(args.prefix, region.role),
            allow_unauthenticated_identities=False,
            allow_classic_flow=False,
            cognito_identity_providers=[
                aws.cognito.IdentityPoolCognitoIdentityProviderArgs(
                    provider_name=self.user_pool.endpoint,
                    client_id=self.user_pool_client.id,
                    # Cognito checks that the token was not revoked (signed out) before issuing credentials.
                    server_side_token_check=True,
                )
            ],
            opts=region.opts(self),
        )
        # IAM is global; this region's provider creates it.
        self.authenticated_role = aws.iam.Role(
            f"{name}-authenticated",
            name=role_name(args.prefix, region.name),
            description=f"Signed-in app users of the {region.name} identity pool",
            assume_role_policy=self.identity_pool.id.apply(authenticated_trust_policy),
            opts=region.opts(self),
        )
        aws.iam.RolePolicy(
            f"{name}-authenticated-policy",
            role=self.authenticated_role.name,
            policy=pulumi.Output.all(
                pulumi.Output.all(*args.bucket_arns),
                pulumi.Output.all(*args.invoke_arns),
                pulumi.Output.all(*args.owner_invoke_arns),
                pulumi.Output.all(*(pulumi.Output.all(k.region_name, k.bucket_arn, k.key_arn)
                                    for k in args.photo_keys)),
            ).apply(lambda arns: app_user_policy(arns[0], arns[1], arns[2], [KeyedBucket(*k) for k in arns[3]])),
            opts=region.opts(self),
        )
        # The session's `owner` tag is this pool's user-pool username, nothing else (no default mappings).
        self.principal_tags = aws.cognito.IdentityPoolProviderPrincipalTag(
            f"{name}-principal-tags",
            identity_pool_id=self.identity_pool.id,
            identity_provider_name=self.user_pool.endpoint,
            principal_tags=PRINCIPAL_TAGS,
            use_defaults=False,
            opts=region.opts(self),
        )
        aws.cognito.IdentityPoolRoleAttachment(
            f"{name}-roles",
            identity_pool_id=self.identity_pool.id,
            roles={"authenticated": self.authenticated_role.arn},
            # No credentials before the owner tag is mapped: an untagged session could not write.
            opts=region.opts(self, depends_on=[self.principal_tags]),
        )

        self.user_pool_id = self.user_pool.id
        self.user_pool_arn = self.user_pool.arn
        self.user_pool_client_id = self.user_pool_client.id
        self.identity_pool_id = self.identity_pool.id
        self.authenticated_role_arn = self.authenticated_role.arn
        self.register_outputs(
            {
                "userPoolId": self.user_pool_id,
                "userPoolClientId": self.user_pool_client_id,
                "identityPoolId": self.identity_pool_id,
                "authenticatedRoleArn": self.authenticated_role_arn,
            }
        )
