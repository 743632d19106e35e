"""`sync-users`: create in the secondary user pool the users of the primary pool it lacks.

What can honestly be copied: the username, `email`, `email_verified` and whether the user is
enabled. Passwords cannot (Cognito never reveals them): a copied user gets a temporary
password from Cognito and, by default, Cognito's invitation e-mail with it, so they can sign
in to the secondary region during a failover (and must choose a new password then). The
secondary pool keeps temporary passwords valid for Cognito's maximum, 365 days
(components/identity.py); `--resend` sends a fresh invitation (new temporary password, new
365 days) to every copied user still in FORCE_CHANGE_PASSWORD: the failover runbook runs it.
With --suppress-invite no message is sent and the user cannot sign in there until an operator
sets a password (`aws cognito-idp admin-set-user-password`). Users only in the secondary pool
are counted, never deleted. Running it again creates nothing new (idempotent).

Only usernames the app can use are copied (components.contract.USERNAME_PATTERN: the username is the owner
value, used unchanged as a principal-tag value, an S3 key segment and a URL path segment; docs/identity.md).
Any other is reported by name, not copied, and the command exits 1: Cognito cannot rename a user, so an
operator recreates it with a valid username.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

import typer
from botocore.exceptions import ClientError

from components.contract import USERNAME_PATTERN, RegionOut
from ops.context import cli_of
from ops.errors import OpsError, UsageError, describe
from ops.factory import Factory, Target
from ops.output import JsonOption, emit_json, say

COPIED_ATTRIBUTES = ("email", "email_verified")
NOT_SIGNED_IN_YET = "FORCE_CHANGE_PASSWORD"  # created by an admin, temporary password never changed


@dataclass
class SyncResult:
    dryRun: bool  # noqa: N815 (JSON names)
    created: list[str] = field(default_factory=list)  # or "would create" with dryRun
    skipped: int = 0  # already in the secondary pool
    onlyInSecondary: int = 0  # noqa: N815
    withoutInvite: list[str] = field(default_factory=list)  # noqa: N815 (no e-mail to send it to)
    resent: list[str] = field(default_factory=list)  # --resend: invitations sent again (or "would", dryRun)
    failed: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # usernames the app cannot use: never copied


def username_problem(username: str) -> str | None:
    """Why the app cannot use `username` as an owner value (None when it can)."""
    if re.fullmatch(USERNAME_PATTERN, username):
        return None
    return (f"username {username!r} does not match {USERNAME_PATTERN} (lower-case letters, digits, '.', '_' and "
            "'-', at most 64, starting with a letter or digit)")


def list_users(client: Any, pool_id: str) -> dict[str, dict[str, Any]]:
    """Every user of a pool by username (ListUsers pages hold at most 60)."""
    users: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("list_users").paginate(UserPoolId=pool_id, PaginationConfig={"PageSize": 60}):
        for user in page.get("Users", []):
            users[user["Username"]] = user
    return users


def _attributes(user: dict[str, Any]) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in user.get("Attributes", []) if a["Name"] in COPIED_ATTRIBUTES}


def resend_invitations(destination: Any, pool_id: str, wanted: dict[str, dict[str, Any]],
                       present: dict[str, dict[str, Any]], result: SyncResult) -> None:
    """A fresh invitation (temporary password, validity restarted) for every copied user of the secondary pool
    who never signed in there; users without an e-mail address cannot get one and are listed."""
    for username in sorted(wanted.keys() & present.keys()):
        user = present[username]
        if user.get("UserStatus") != NOT_SIGNED_IN_YET or not user.get("Enabled", True):
            continue
        if "email" not in _attributes(user):
            result.withoutInvite.append(username)
            continue
        if not result.dryRun:
            try:
                destination.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="RESEND",
                                              DesiredDeliveryMediums=["EMAIL"])
            except ClientError as error:
                result.failed[username] = describe(error)
                continue
        result.resent.append(username)


def sync_users(factory: Factory, target: Target, *, dry_run: bool, suppress_invite: bool,
               resend: bool = False) -> SyncResult:
    pools = {role: target.region_value(role, RegionOut.USER_POOL_ID) for role in ("primary", "secondary")}
    source = factory.client(target, "cognito-idp", target.region("primary"))
    destination = factory.client(target, "cognito-idp", target.region("secondary"))
    wanted, present = list_users(source, pools["primary"]), list_users(destination, pools["secondary"])
    result = SyncResult(dryRun=dry_run, onlyInSecondary=len(present.keys() - wanted.keys()))
    for username in sorted(wanted):
        problem = username_problem(username)
        if problem:
            result.refused[username] = problem
            del wanted[username]
    result.skipped = len(wanted.keys() & present.keys())
    for username in sorted(wanted.keys() - present.keys()):
        user = wanted[username]
        attributes = _attributes(user)
        invite = not suppress_invite and "email" in attributes
        if not suppress_invite and not invite:
            result.withoutInvite.append(username)
        if dry_run:
            result.created.append(username)
            continue
        request: dict[str, Any] = {
            "UserPoolId": pools["secondary"],
            "Username": username,
            "UserAttributes": [{"Name": k, "Value": v} for k, v in attributes.items()],
        }
        if invite:
            request["DesiredDeliveryMediums"] = ["EMAIL"]
        else:
            request["MessageAction"] = "SUPPRESS"
        try:
            destination.admin_create_user(**request)
            if not user.get("Enabled", True):
                destination.admin_disable_user(UserPoolId=pools["secondary"], Username=username)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "UsernameExistsException":
                result.skipped += 1  # created meanwhile (another run): nothing to do
                continue
            result.failed[username] = describe(error)
            continue
        result.created.append(username)
    if resend:
        resend_invitations(destination, pools["secondary"], wanted, present, result)
    return result


def sync_users_command(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say which users would be created.")] = False,
    suppress_invite: Annotated[
        bool, typer.Option("--suppress-invite", help="Send no invitation; users cannot sign in there until an "
                                                     "operator sets their password.")
    ] = False,
    resend: Annotated[
        bool, typer.Option("--resend", help="Also send a fresh invitation to copied users who never signed in to "
                                            "the secondary (FORCE_CHANGE_PASSWORD): new temporary password, valid "
                                            "365 days.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create the users of the primary user pool that the secondary pool lacks (idempotent).

    Copies username, email, email_verified and the enabled flag, never passwords: by default
    Cognito e-mails each new user a temporary password for the secondary region (valid 365 days;
    --resend renews it for those who have not used it)."""
    if resend and suppress_invite:
        raise UsageError("--resend sends invitations, --suppress-invite sends none: choose one")
    cli = cli_of(ctx)
    target = cli.target()
    target.check()
    result = sync_users(cli.factory, target, dry_run=dry_run, suppress_invite=suppress_invite, resend=resend)
    if as_json:
        emit_json(asdict(result))
    verb = "would create" if dry_run else "created"
    say(f"{verb} {len(result.created)}, skipped {result.skipped} (already in the secondary pool), "
        f"{result.onlyInSecondary} only in the secondary pool (left alone)")
    if result.created and not as_json:
        say(f"{verb}: {', '.join(result.created)}")
    if resend:
        names = f": {', '.join(result.resent)}" if result.resent and not as_json else ""
        say(f"{'would resend' if dry_run else 'resent'} {len(result.resent)} invitation(s) to users who never "
            f"signed in to the secondary pool{names}")
    if result.withoutInvite:
        say(f"no invitation for {len(result.withoutInvite)} user(s) without an e-mail address: "
            f"{', '.join(result.withoutInvite)}")
    for reason in result.refused.values():
        say(f"refused: {reason}")
    for username, reason in result.failed.items():
        say(f"failed: {username}: {reason}")
    problems = []
    if result.refused:
        problems.append(f"{len(result.refused)} user(s) of the primary pool have usernames the app cannot use "
                        "(not copied; recreate them with a valid username)")
    if result.failed:
        problems.append(f"{len(result.failed)} user(s) could not be created in the secondary pool")
    if problems:
        raise OpsError("; ".join(problems))
