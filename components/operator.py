"""Operator access: the only principal that may switch the routing state.

A managed policy (attachable to an existing operators' group as well) and a role that only the
configured principals may assume (`operatorPrincipals`, with MFA unless `operatorRequireMfa` is
false); with none configured the role trusts nobody. It grants every shared route of every API
(including `PUT /state`), the conditional UpdateItem on the AppConfig table and the audit record's
PutItem (one transaction) in BOTH regions, so the state can be switched through whichever region is
still up, reading the audit trail, removing unregistered photo objects (`ops photos sweep`: list and
delete under `public/` only; the app users' bucket-policy denials name their roles, not this one), and
writing the uniqueness markers older registrations lack (`ops photos migrate`: PutItem in the primary's
photos table, marker partition only). The app users' role gets none of this, and the operator writes no
photo, gallery item or comment: those routes are owner-scoped (docs/identity.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.contract import PHOTO_IDS, PHOTO_PREFIX
from components.regions import Region

MAX_IAM_NAME = 64  # roles; managed policy names allow 128
SESSION_SECONDS = 3600
STATE_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
# `ops state set` puts the switch's audit record in the same transaction (TransactWriteItems is authorised
# per item); `ops state history` queries the records; `ops state migrate` puts the legacy history's.
AUDIT_TABLE_ACTIONS = ["dynamodb:PutItem", "dynamodb:Query"]
# `ops status` counts photos (Query) and comments (Scan, Select=COUNT).
COUNT_ACTIONS = ["dynamodb:Query", "dynamodb:Scan"]
# `ops sync-users` lists both pools and creates (then disables, if disabled in the primary) in the other.
LIST_USERS_ACTIONS = ["cognito-idp:ListUsers"]
SYNC_USERS_ACTIONS = ["cognito-idp:AdminCreateUser", "cognito-idp:AdminDisableUser"]
# `ops photos sweep` lists the photo objects and deletes the unregistered ones (reading the registrations is
# the photos table's Query, CountItems): under the photo prefix only, no write, no version deletes.
SWEEP_LIST_CONDITION = {"StringLike": {"s3:prefix": [PHOTO_PREFIX, f"{PHOTO_PREFIX}*"]}}
SWEEP_DELETE_ACTIONS = ["s3:DeleteObject"]
# `ops photos migrate` puts the uniqueness markers of photos registered before markers existed: PutItem on the
# photos table, only in the marker partition (DynamoDB's fine-grained access: the request's partition key values
# must all be PHOTO_IDS, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html),
# so no gallery item can be written or replaced. IAM cannot require the ConditionExpression: the command puts each
# marker only if absent.
MARKER_ACTIONS = ["dynamodb:PutItem"]
MARKER_CONDITION = {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [PHOTO_IDS]}}


@dataclass
class OperatorAccessArgs:
    prefix: str
    """Prefix of every physical name (project-stack); required."""
    region: Region
    """Region whose provider creates the (global) IAM resources: the primary; required."""
    invoke_arns: Sequence[pulumi.Input[str]]
    """execute-api ARNs of every route of every API of both regions; required (may be empty)."""
    app_config_table_arns: Sequence[pulumi.Input[str]]
    """ARNs of the AppConfig table in both regions; required, at least one."""
    data_table_arns: Sequence[pulumi.Input[str]] = ()
    """ARNs of the tables `ops status` counts (comments, photos) in both regions."""
    audit_table_arns: Sequence[pulumi.Input[str]] = ()
    """ARNs of the stateAudit table in both regions: every switch writes its record there."""
    user_pool_arns: Sequence[pulumi.Input[str]] = ()
    """User pool ARNs, primary first: `ops sync-users` lists both and creates users in the others."""
    photo_bucket_arns: Sequence[pulumi.Input[str]] = ()
    """ARNs of the photo buckets of both regions: `ops photos sweep` lists and deletes under the photo prefix."""
    marker_table_arns: Sequence[pulumi.Input[str]] = ()
    """ARN of the photos table `ops photos migrate` writes uniqueness markers into (the primary's: it replicates)."""
    trusted_principals: Sequence[str] = ()
    """Exact IAM role/user ARNs that may assume the role; empty: nobody may (a warning says so)."""
    require_mfa: bool = True
    """Assuming the role requires MFA (aws:MultiFactorAuthPresent true); default True."""


def operator_name(prefix: str) -> str:
    return f"{prefix}-operator"


def operator_policy(invoke_arns: Sequence[str], app_config_table_arns: Sequence[str],
                    data_table_arns: Sequence[str] = (), user_pool_arns: Sequence[str] = (),
                    audit_table_arns: Sequence[str] = (), photo_bucket_arns: Sequence[str] = (),
                    marker_table_arns: Sequence[str] = ()) -> str:
    """Call every route; read and (conditionally) update the state item in either region, with its audit
    record; count items and copy users for `ops status` and `ops sync-users`; list the photo objects and delete
    unregistered ones for `ops photos sweep`; put missing photo id markers for `ops photos migrate`."""
    statements = []
    routes = list(dict.fromkeys(invoke_arns))
    # IAM rejects a statement without resources: no routes, no statement.
    if routes:
        statements.append({"Sid": "InvokeEveryRoute", "Effect": "Allow", "Action": "execute-api:Invoke",
                           "Resource": routes})
    statements.append(
        {
            "Sid": "SwitchState",
            "Effect": "Allow",
            "Action": STATE_TABLE_ACTIONS,
            "Resource": list(dict.fromkeys(app_config_table_arns)),
        }
    )
    if audit_table_arns:
        statements.append({"Sid": "AuditSwitches", "Effect": "Allow", "Action": AUDIT_TABLE_ACTIONS,
                           "Resource": list(dict.fromkeys(audit_table_arns))})
    if data_table_arns:
        statements.append({"Sid": "CountItems", "Effect": "Allow", "Action": COUNT_ACTIONS,
                           "Resource": list(dict.fromkeys(data_table_arns))})
    if user_pool_arns:
        statements.append({"Sid": "ListUsers", "Effect": "Allow", "Action": LIST_USERS_ACTIONS,
                           "Resource": list(dict.fromkeys(user_pool_arns))})
    if len(user_pool_arns) > 1:
        statements.append({"Sid": "SyncUsers", "Effect": "Allow", "Action": SYNC_USERS_ACTIONS,
                           "Resource": list(dict.fromkeys(user_pool_arns[1:]))})
    buckets = list(dict.fromkeys(photo_bucket_arns))
    if buckets:
        statements.append({"Sid": "ListPhotoObjects", "Effect": "Allow", "Action": "s3:ListBucket",
                           "Resource": buckets, "Condition": SWEEP_LIST_CONDITION})
        statements.append({"Sid": "SweepUnregisteredPhotos", "Effect": "Allow", "Action": SWEEP_DELETE_ACTIONS,
                           "Resource": [f"{arn}/{PHOTO_PREFIX}*" for arn in buckets]})
    if marker_table_arns:
        statements.append({"Sid": "MigratePhotoIdMarkers", "Effect": "Allow", "Action": MARKER_ACTIONS,
                           "Resource": list(dict.fromkeys(marker_table_arns)), "Condition": MARKER_CONDITION})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def operator_trust_policy(principals: Sequence[str], require_mfa: bool = True) -> str:
    """Exactly `principals` may assume the role (with MFA when required); with none, nobody may.

    An absent aws:MultiFactorAuthPresent (long-term access keys) does not match Bool true: without MFA
    the AssumeRole is refused."""
    named = list(dict.fromkeys(principals))
    if not named:
        # A trust policy must hold a statement: this one denies everybody, and nothing allows anybody.
        statement: dict = {"Sid": "TrustNobody", "Effect": "Deny", "Principal": {"AWS": "*"},
                           "Action": "sts:AssumeRole"}
    else:
        statement = {"Sid": "TrustNamedOperators", "Effect": "Allow", "Principal": {"AWS": named},
                     "Action": "sts:AssumeRole"}
        if require_mfa:
            statement["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


NOBODY_WARNING = (
    "operatorPrincipals is empty: nobody can assume the operator role (switch the routing state, sync users); "
    "set it with: pulumi config set --path 'operatorPrincipals[0]' arn:aws:iam::<account>:role/<operators>"
)


def _validate(args: OperatorAccessArgs) -> None:
    if not args.prefix:
        raise ValueError("OperatorAccessArgs.prefix must not be empty")
    if len(operator_name(args.prefix)) > MAX_IAM_NAME:
        raise ValueError(f"OperatorAccessArgs.prefix {args.prefix!r} makes IAM names longer than {MAX_IAM_NAME}")
    if not list(args.app_config_table_arns):
        raise ValueError("OperatorAccessArgs.app_config_table_arns needs the AppConfig table ARNs (both regions)")
    wildcards = [p for p in args.trusted_principals if "*" in p or "?" in p]
    if wildcards:
        raise ValueError(f"OperatorAccessArgs.trusted_principals must name principals exactly, got {wildcards}")


class OperatorAccess(pulumi.ComponentResource):
    """Managed operator policy + an assumable role with it attached."""

    role_arn: pulumi.Output[str]
    policy_arn: pulumi.Output[str]
    role: aws.iam.Role
    policy: aws.iam.Policy

    def __init__(self, name: str, args: OperatorAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multi-region-app:identity:OperatorAccess", name, None, opts)
        _validate(args)
        region = args.region
        if not args.trusted_principals:
            pulumi.log.warn(NOBODY_WARNING, resource=self)

        self.policy = aws.iam.Policy(
            f"{name}-policy",
            name=operator_name(args.prefix),
            description="Operate the multi-region app: routing state, status counts, user sync",
            policy=pulumi.Output.all(
                pulumi.Output.all(*args.invoke_arns),
                pulumi.Output.all(*args.app_config_table_arns),
                pulumi.Output.all(*args.data_table_arns),
                pulumi.Output.all(*args.user_pool_arns),
                pulumi.Output.all(*args.audit_table_arns),
                pulumi.Output.all(*args.photo_bucket_arns),
                pulumi.Output.all(*args.marker_table_arns),
            ).apply(lambda arns: operator_policy(*arns)),
            opts=region.opts(self),
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            name=operator_name(args.prefix),
            description="Assumed by operators (ops CLI) to read and switch the routing state",
            assume_role_policy=operator_trust_policy(args.trusted_principals, args.require_mfa),
            max_session_duration=SESSION_SECONDS,
            opts=region.opts(self),
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-role-policy",
            role=self.role.name,
            policy_arn=self.policy.arn,
            opts=region.opts(self),
        )

        self.role_arn = self.role.arn
        self.policy_arn = self.policy.arn
        self.register_outputs({"roleArn": self.role_arn, "policyArn": self.policy_arn})
