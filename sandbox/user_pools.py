"""What Cognito user pools refuse and moto lets through, and whether a token a pool issued still stands.

`refusing(UserPoolRules(account).refusal)` (sandbox/frontdoor.py) wraps moto (every port, under the backend lock):

- `SignUp` on a pool whose `AdminCreateUserConfig.AllowAdminCreateUserOnly` is true is refused with
  400 NotAuthorizedException "SignUp is not permitted for this user pool"; nothing is created
  (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-admin-create-user-policy.html);
- `ConfirmSignUp` needs the code Cognito sent. The sandbox sends no message, so no code is right:
  an UNCONFIRMED user gets 400 CodeMismatchException "Invalid verification code provided, please try
  again.", a user in any other status NotAuthorizedException "User cannot be confirmed. Current status
  is <status>", and nobody is confirmed (administrators use AdminConfirmSignUp). moto confirms any code.

`token_standing(account, region, pool_id, claims)` says why Cognito would no longer honour an id token
it issued (its user deleted, disabled, or signed out globally), for the identity pools' server-side
token check (sandbox/credentials.py). moto revokes a user's refresh tokens on GlobalSignOut and
AdminUserGlobalSignOut but keeps their id tokens: a token stands while the refresh token of the
sign-in it came from (its `origin_jti`) does.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from moto.backends import get_backend

from sandbox import aws_errors
from sandbox.aws_errors import Protocol, Response
from sandbox.frontdoor import buffer_body

_TARGET_PREFIX = "AWSCognitoIdentityProviderService."
SIGN_UP_REFUSED = "SignUp is not permitted for this user pool"
CODE_MISMATCH = "Invalid verification code provided, please try again."
UNCONFIRMED = "UNCONFIRMED"


class UserPoolRules:
    """The user pool refusals moto lacks; see the module docstring."""

    def __init__(self, account: str) -> None:
        self.account = account
        self._checks = {"SignUp": self._sign_up, "ConfirmSignUp": self._confirm_sign_up}

    def refusal(self, environ: dict[str, Any]) -> Response | None:
        """Cognito's refusal of this user pool call, or None to let moto serve it."""
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        check = self._checks.get(target.removeprefix(_TARGET_PREFIX)) if target.startswith(_TARGET_PREFIX) else None
        if check is None or environ.get("REQUEST_METHOD") != "POST":
            return None
        return check(_json_body(environ), environ.get("sandbox.region"))

    def _sign_up(self, params: Mapping[str, Any], region: str | None) -> Response | None:
        pool = self._pool_of_client(params.get("ClientId"), region)
        if pool is None:
            return None  # moto answers ResourceNotFoundException
        admin = pool.extended_config.get("AdminCreateUserConfig") or {}
        if admin.get("AllowAdminCreateUserOnly"):
            return _error("NotAuthorizedException", SIGN_UP_REFUSED)
        return None

    def _confirm_sign_up(self, params: Mapping[str, Any], region: str | None) -> Response | None:
        pool = self._pool_of_client(params.get("ClientId"), region)
        if pool is None:
            return None
        user = pool._get_user(str(params.get("Username") or ""))
        status = _status(user) if user is not None else UNCONFIRMED
        if status != UNCONFIRMED:
            return _error("NotAuthorizedException", f"User cannot be confirmed. Current status is {status}")
        return _error("CodeMismatchException", CODE_MISMATCH)

    def _pool_of_client(self, client_id: Any, region: str | None) -> Any:
        """The user pool that holds app client `client_id`: in the region port's region, else any (as moto)."""
        if not isinstance(client_id, str) or not client_id:
            return None
        backends = get_backend("cognito-idp")[self.account]
        for name in [region] if region else [r for r in list(backends.keys()) if r != "global"]:
            for pool in backends[name].user_pools.values():
                if client_id in pool.clients:
                    return pool
        return None


def token_standing(account: str, region: str, user_pool_id: str, claims: Mapping[str, Any]) -> str | None:
    """None while the id token with `claims`, issued by `user_pool_id`, still stands; else why it does not."""
    pool = get_backend("cognito-idp")[account][region].user_pools.get(user_pool_id)
    user = pool._get_user(str(claims.get("cognito:username") or "")) if pool is not None else None
    if user is None or getattr(user, "id", None) != claims.get("sub"):
        return "the user no longer exists"
    if not getattr(user, "enabled", True):
        return "the user is disabled"
    origin = claims.get("origin_jti")
    live = {entry[2] for entry in pool.refresh_tokens.values() if entry is not None}
    if not origin or origin not in live:
        return "the user signed out (GlobalSignOut) after this token was issued"
    return None


def _status(user: Any) -> str:
    status = getattr(user, "status", UNCONFIRMED)
    return str(getattr(status, "value", status))


def _error(code: str, message: str) -> Response:
    return aws_errors.error(Protocol.JSON, 400, code, message, service="cognito-idp")


def _json_body(environ: dict[str, Any]) -> Mapping[str, Any]:
    """The request's JSON object ({} when it is not one); the body stays readable for moto."""
    buffer_body(environ)
    stream = environ.get("wsgi.input")
    try:
        parsed = json.loads((stream.getvalue() if isinstance(stream, io.BytesIO) else b"") or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
