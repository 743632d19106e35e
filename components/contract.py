"""The names every part of the product agrees on: the program, `ops/`, the sandbox,
the web app's `uiConfig.json` and the tests.

Pure Python on purpose (no pulumi import): the operator CLI loads it in milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PROJECT = "multi-region-app"
STAGE = "prod"

# Routing state of the application, stored as one item in the AppConfig table.
STATES = ("active", "fenced", "failover")
REGION_ROLES = ("primary", "secondary")
# The only state in which each region accepts writes (server-side fencing).
WRITABLE_STATE = {"primary": "active", "secondary": "failover"}

# Photos live under this prefix in both buckets; only it is replicated and granted.
PHOTO_PREFIX = "public/"
# Partition of the photos index: every photo of the app, newest first by sort key.
GALLERY = "public"
# Partition of the photos table holding one uniqueness marker per registered photo id (sort key = the id):
# registration puts it with attribute_not_exists, so an id is registered once, by anyone, in either region.
PHOTO_IDS = "photo-ids"

# The owner of a photo or comment: the user-pool username (`cognito:username` claim), the same in both
# regions because `ops sync-users` copies users by username (docs/identity.md). Each identity pool maps
# the claim to the session's principal tag OWNER_TAG; IAM policies read it as OWNER_POLICY_VARIABLE.
OWNER_CLAIM = "cognito:username"
OWNER_TAG = "owner"
OWNER_POLICY_VARIABLE = "${aws:PrincipalTag/" + OWNER_TAG + "}"
# Usernames the app accepts: a principal-tag value, an S3 key segment and a URL path segment unchanged
# (no '/', no IAM wildcard, no character that needs URL encoding; lower case: the pools are case-insensitive).
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"


def photo_key(owner: str, photo_id: str) -> str:
    """Object key of a photo: under its owner's own prefix, so only the owner may create it."""
    return f"{PHOTO_PREFIX}{owner}/{photo_id}"


class GalleryItem:
    """The photos table's items, as the registration writes them (components/templates/photos-post.request.vtl;
    the tests check the template against these names and `photo_id_marker`): one gallery item per registered
    photo in the GALLERY partition, and one uniqueness marker per photo id in the PHOTO_IDS partition."""

    PARTITION = "gallery"  # S, hash key: GALLERY (gallery items) or PHOTO_IDS (uniqueness markers)
    SORT_KEY = "photoKey"  # S, range key: "<13-digit epoch ms>-<photoId>" (gallery item); the photo id (marker)
    PHOTO_ID = "photoId"  # S
    KEY = "key"  # S, the object key: photo_key(owner, photoId) (records of older releases: public/<photoId>)
    OWNER = "owner"  # S, the user-pool username (records of older releases: an identity id)
    CREATED_AT = "createdAt"  # N, epoch milliseconds (API Gateway's request time)
    SIZE = "size"  # N, bytes
    CONTENT_TYPE = "contentType"  # S
    ATTRIBUTES = (PARTITION, SORT_KEY, PHOTO_ID, KEY, OWNER, CREATED_AT, SIZE, CONTENT_TYPE)
    # The marker: who registered the id, and when. Put only if absent, so an id is registered once, by anyone.
    MARKER_ATTRIBUTES = (PARTITION, SORT_KEY, OWNER, CREATED_AT)
    MARKER_CONDITION = f"attribute_not_exists({SORT_KEY})"


def photo_id_marker(photo_id: str, owner: str, created_at_ms: str) -> dict[str, Any]:
    """The uniqueness marker of a registered photo id (DynamoDB JSON; `created_at_ms` a DynamoDB number string),
    put with GalleryItem.MARKER_CONDITION: by the registration in one transaction with its gallery item, and by
    `ops photos migrate` for the photos older releases registered without one."""
    return {
        GalleryItem.PARTITION: {"S": PHOTO_IDS},
        GalleryItem.SORT_KEY: {"S": photo_id},
        GalleryItem.OWNER: {"S": owner},
        GalleryItem.CREATED_AT: {"N": created_at_ms},
    }


class Table:
    """Logical table names (keys of the `tables` output) and their key schema."""

    APP_CONFIG = "appConfig"
    COMMENTS = "comments"
    PHOTOS = "photos"
    STATE_AUDIT = "stateAudit"

    # logical name -> (hash key, range key or None); every key attribute is a string.
    KEYS: dict[str, tuple[str, str | None]] = {
        APP_CONFIG: ("appId", None),
        # commentKey = "<13-digit epoch ms>-<commentId>": one Query, creation order.
        COMMENTS: ("photoId", "commentKey"),
        # photoKey = "<13-digit epoch ms>-<photoId>": one Query, newest first.
        PHOTOS: (GalleryItem.PARTITION, GalleryItem.SORT_KEY),
        # auditKey = "<13-digit epoch ms>-<unique>": one record per state switch, one Query newest first.
        STATE_AUDIT: ("appId", "auditKey"),
    }


class Out:
    """Stack output keys."""

    APP_ID = "appId"
    PRIMARY = "primary"  # RegionOut mapping for the primary region
    SECONDARY = "secondary"  # RegionOut mapping for the secondary region
    TABLES = "tables"  # {logical table name: physical name} (same in both regions)
    OPERATOR_ROLE_ARN = "operatorRoleArn"
    SITE_URL = "siteUrl"
    SITE_DISTRIBUTION_ID = "siteDistributionId"
    UI_CONFIG = "uiConfig"
    ALARM_TOPIC_ARNS = "alarmTopicArns"  # {region role: SNS topic every alarm of that region notifies}
    ALARM_NAMES = "alarmNames"  # {region role: [CloudWatch alarm names in that region]}
    DASHBOARD_NAME = "dashboardName"  # one CloudWatch dashboard per stack, both regions side by side
    DASHBOARD_URL = "dashboardUrl"
    AUTO_FAILOVER = "autoFailover"  # FailoverOut mapping; exported only with config autoFailover=true


class FailoverOut:
    """Keys of the `autoFailover` output mapping."""

    STATE_MACHINE_ARN = "stateMachineArn"  # in the secondary region
    HEALTH_CHECK_ID = "healthCheckId"  # Route 53 calculated health check of the primary's routing API
    ALARM_NAME = "alarmName"  # the alarm whose ALARM state starts the switch
    ALARM_REGION = "alarmRegion"  # us-east-1: where Route 53 publishes health-check metrics


# Who (updatedBy, and the audit record's `tool`) the automatic failover writes the state item as.
AUTO_FAILOVER_ACTOR = "auto-failover"


class RegionOut:
    """Keys of the per-region output mappings (`primary`, `secondary`)."""

    REGION = "region"
    STATE_URL = "stateUrl"  # <routing api>/prod/state/<appId>
    ROUTING_API = "routingApi"  # invoke URL of the routing API's stage
    PHOTOS_API = "photosApi"  # invoke URL of the photos API's stage
    ROUTING_API_ID = "routingApiId"
    PHOTOS_API_ID = "photosApiId"
    BUCKET = "objectStoreBucketName"
    SITE_BUCKET = "siteBucketName"
    USER_POOL_ID = "userPoolId"
    USER_POOL_CLIENT_ID = "userPoolClientId"
    IDENTITY_POOL_ID = "identityPoolId"
    AUTH_ROLE_ARN = "authenticatedRoleArn"


class StateItem:
    """The routing-state item (AppConfig table): only what clients read, so it keeps one size forever.

    Every switch bumps `version` (optimistic locking) and writes its audit record (`AuditRecord`) in
    the same transaction (`switch_transaction`)."""

    APP_ID = "appId"
    STATE = "state"
    VERSION = "version"  # N, raised by one at every switch
    UPDATED_AT = "updatedAt"  # N, epoch milliseconds
    UPDATED_BY = "updatedBy"  # S, the caller's ARN (or AUTO_FAILOVER_ACTOR)
    ATTRIBUTES = (APP_ID, STATE, VERSION, UPDATED_AT, UPDATED_BY)
    # The list older releases appended to on every switch; `ops state migrate` moves it to audit records.
    LEGACY_HISTORY = "history"


class AuditRecord:
    """One item per state switch in the replicated `stateAudit` table (hash appId, range auditKey)."""

    APP_ID = "appId"
    AUDIT_KEY = "auditKey"  # S, audit_key(at, unique): sorts by time
    TO = "to"  # S, the new state
    FROM_VERSION = "fromVersion"  # N, the version the switch was conditioned on; the new one is + 1
    AT = "at"  # N, epoch milliseconds
    BY = "by"  # S, the caller's ARN (or AUTO_FAILOVER_ACTOR)
    TOOL = "tool"  # S, which writer: one of TOOLS
    VIA = "via"  # S, the region role written through: "primary" | "secondary"
    FROM = "from"  # S, optional: the state read before the switch (the operator API does not read it)
    REASON = "reason"  # S, optional: why, as the operator wrote it
    FORCED = "forced"  # BOOL, optional: a straight active <-> failover jump taken with --force
    MIGRATED = "migrated"  # BOOL, optional: moved out of a legacy `history` list by `ops state migrate`
    REQUIRED = (APP_ID, AUDIT_KEY, TO, FROM_VERSION, AT, BY, TOOL, VIA)
    OPTIONAL = (FROM, REASON, FORCED, MIGRATED)
    # The writers (`tool`): `ops state set`, the operator API (PUT /state, state-put.request.vtl), the state machine.
    OPS_TOOL = "ops"
    API_TOOL = "api"
    TOOLS = (OPS_TOOL, API_TOOL, AUTO_FAILOVER_ACTOR)


def audit_key(at_ms: int, unique: str) -> str:
    """The audit record's sort key: 13-digit epoch milliseconds, then something unique to the switch."""
    return f"{at_ms:013d}-{unique}"


def switch_transaction(
    *,
    state_table: str,
    audit_table: str,
    app_id: str,
    to: str,
    expected_version: str | None,
    at: str,
    by: str,
    tool: str,
    via: str,
    key: str,
    from_state: str | None = None,
    reason: str | None = None,
    forced: bool = False,
) -> dict[str, Any]:
    """The one write of a state switch, as a DynamoDB TransactWriteItems request (DynamoDB JSON).

    Every writer follows it: `ops state set` calls it, the state machine of components/auto_failover.py
    builds its Arguments with it (values are JSONata expressions there), and the operator API's
    template (components/templates/state-put.request.vtl) is checked against it by the tests. Numbers
    (`expected_version`, `at`) are DynamoDB number strings; `key` is `audit_key(...)`.

    The state item changes only if its version is still `expected_version` (and, when given, its
    state still `from_state`); `expected_version` None is the legacy item without a version. The
    audit record is put first: a cancelled transaction names the state item's condition as its second
    reason, which the APIs' error template maps to 409 CONFLICT (the first reason is the fence).
    """
    record: dict[str, Any] = {
        AuditRecord.APP_ID: {"S": app_id},
        AuditRecord.AUDIT_KEY: {"S": key},
        AuditRecord.TO: {"S": to},
        AuditRecord.FROM_VERSION: {"N": "0" if expected_version is None else expected_version},
        AuditRecord.AT: {"N": at},
        AuditRecord.BY: {"S": by},
        AuditRecord.TOOL: {"S": tool},
        AuditRecord.VIA: {"S": via},
    }
    if from_state is not None:
        record[AuditRecord.FROM] = {"S": from_state}
    if reason is not None:
        record[AuditRecord.REASON] = {"S": reason}
    if forced:
        record[AuditRecord.FORCED] = {"BOOL": True}
    names = {
        "#state": StateItem.STATE,
        "#version": StateItem.VERSION,
        "#updatedAt": StateItem.UPDATED_AT,
        "#updatedBy": StateItem.UPDATED_BY,
    }
    values: dict[str, Any] = {
        ":to": {"S": to},
        ":zero": {"N": "0"},
        ":one": {"N": "1"},
        ":at": {"N": at},
        ":by": {"S": by},
    }
    if expected_version is None:
        names["#appId"] = StateItem.APP_ID
        condition = "attribute_exists(#appId) AND attribute_not_exists(#version)"
    else:
        condition = "#version = :expected"
        values[":expected"] = {"N": expected_version}
    if from_state is not None:
        condition += " AND #state = :from"
        values[":from"] = {"S": from_state}
    return {
        "TransactItems": [
            {
                "Put": {
                    "TableName": audit_table,
                    "Item": record,
                    "ConditionExpression": "attribute_not_exists(#auditKey)",
                    "ExpressionAttributeNames": {"#auditKey": AuditRecord.AUDIT_KEY},
                }
            },
            {
                "Update": {
                    "TableName": state_table,
                    "Key": {StateItem.APP_ID: {"S": app_id}},
                    "UpdateExpression": "SET #state = :to, #version = if_not_exists(#version, :zero) + :one, "
                    "#updatedAt = :at, #updatedBy = :by",
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            },
        ]
    }


# Exit codes of both command-line tools (`python -m ops`, `python -m sandbox`): one table, documented
# once (README.md "Exit codes") and printed by both `--help`.
class Exit:
    OK = 0
    FAILED = 1  # the operation ran and failed (AWS refused it, pulumi up failed, a drill aborted ...)
    USAGE = 2  # bad arguments or configuration, no target, stack not deployed
    CONFLICT = 3  # refused or conflicting: state changed concurrently, risky jump, drill pre-flight
    UNREACHABLE = 4  # a region or endpoint did not answer (connection error, timeout, 5xx)
    NO_SANDBOX = 5  # no local sandbox running (no session file, or nothing answers at its endpoint)


EXIT_CODES: dict[int, str] = {
    Exit.OK: "ok",
    Exit.FAILED: "operation failed",
    Exit.USAGE: "usage or configuration error (bad option, no target, stack not deployed)",
    Exit.CONFLICT: "conflict or refused (state changed concurrently, risky jump without --force, drill pre-flight)",
    Exit.UNREACHABLE: "region or endpoint unreachable",
    Exit.NO_SANDBOX: "no sandbox running (start it with make demo)",
}


def exit_code_table() -> str:
    """The exit codes as help text, one line each."""
    return "\n".join(f"  {code}  {meaning}" for code, meaning in EXIT_CODES.items())


# Keys of a region that the web app needs; the rest are for operators.
_UI_REGION_KEYS = (
    RegionOut.REGION,
    RegionOut.STATE_URL,
    RegionOut.PHOTOS_API,
    RegionOut.BUCKET,
    RegionOut.USER_POOL_ID,
    RegionOut.USER_POOL_CLIENT_ID,
    RegionOut.IDENTITY_POOL_ID,
)


def ui_config(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Build `uiConfig.json` from stack outputs.

    A superset of the original solution's shape: the top-level Cognito ids are the
    primary's (as before), and each region carries its own Cognito ids so that sign-in
    keeps working while the primary region is down.
    """
    missing = [k for k in (Out.APP_ID, Out.PRIMARY, Out.SECONDARY) if not outputs.get(k)]
    if missing:
        raise ValueError(f"stack outputs lack {', '.join(missing)}: is the stack deployed?")
    regions = {}
    for role in REGION_ROLES:
        region = outputs[role]
        absent = [k for k in _UI_REGION_KEYS if not region.get(k)]
        if absent:
            raise ValueError(f"stack output '{role}' lacks {', '.join(absent)}")
        regions[role] = {k: region[k] for k in _UI_REGION_KEYS}
    primary = regions["primary"]
    return {
        "appId": outputs[Out.APP_ID],
        "uiRegion": primary[RegionOut.REGION],
        "identityPoolId": primary[RegionOut.IDENTITY_POOL_ID],
        "userPoolId": primary[RegionOut.USER_POOL_ID],
        "userPoolClientId": primary[RegionOut.USER_POOL_CLIENT_ID],
        "primary": regions["primary"],
        "secondary": regions["secondary"],
    }
