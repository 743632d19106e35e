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


class Table:
    """Logical table names (keys of the `tables` output) and their key schema."""

    APP_CONFIG = "appConfig"
    COMMENTS = "comments"
    PHOTOS = "photos"

    # logical name -> (hash key, range key or None); every key attribute is a string.
    KEYS: dict[str, tuple[str, str | None]] = {
        APP_CONFIG: ("appId", None),
        # commentKey = "<13-digit epoch ms>-<commentId>": one Query, creation order.
        COMMENTS: ("photoId", "commentKey"),
        # photoKey = "<13-digit epoch ms>-<photoId>": one Query, newest first.
        PHOTOS: ("gallery", "photoKey"),
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


# Who (updatedBy) and through what (history `via`) the automatic failover writes the state item.
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
