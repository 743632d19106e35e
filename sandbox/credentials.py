"""A broker for identity-pool credentials: who is behind an access key, and what may they do.

moto hands every Cognito identity the same fixed keys and checks no token, so nothing could
be authorized per user. This broker sits in front of moto (a WSGI middleware on every port)
and answers the identity-pool calls a browser makes, as Cognito would:

- `GetId` verifies the id token in `Logins` (issued by a user pool the identity pool trusts,
  for the pool's client, signed with moto's key, not expired, one moto actually issued) and
  gives the same user the same identity id every time;
- for a provider with `ServerSideTokenCheck`, `GetId` and `GetCredentialsForIdentity` also ask the
  user pool whether the token still stands (`sandbox.user_pools.token_standing`: its user not
  deleted, not disabled, not signed out globally since) and answer NotAuthorizedException if not;
- `GetCredentialsForIdentity` checks the role's trust policy as STS would for
  AssumeRoleWithWebIdentity (and `sts:TagSession` when the pool maps claims to principal tags),
  then mints unique temporary credentials (1 h) for that identity and remembers the principal
  behind them: identity, pool, region, role, auth provider, session tags;
- `SetIdentityPoolRoles` / `GetIdentityPoolRoles` and `Set/GetPrincipalTagAttributeMap` (which
  moto lacks) hold the pool's roles and its claim -> principal tag map (attributes for access
  control: `useDefaults` maps `username` <- `sub` and `client` <- `aud`). These admin calls reach
  the broker only after the front door's IAM check (sandbox/access.py).

The front door and the execute-api emulator then ask `lookup(access_key)`, `policies(role)`,
`context_keys(principal)` and `is_allowed(principal, ...)`. A principal's permissions are the
role's policy documents: those given with `set_role_policies` (tests pin a role's policies so), else
the role's live inline and attached managed policies in moto's IAM, where the deployer puts them;
its trust policy is the role's in moto's IAM.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwk, jwt
from joserfc.errors import JoseError
from moto.backends import get_backend
from moto.utilities.utils import load_resource

from sandbox import iam_policy, user_pools

ACCOUNT = "123456789012"  # moto's default account
CREDENTIAL_TTL_SECONDS = 3600
EXPIRED_MEMORY_SECONDS = 24 * 3600
_TARGET_PREFIX = "AWSCognitoIdentityService."
_JSON = "application/x-amz-json-1.1"
_NOT_OIDC = "Invalid login token. Not a valid OpenId Connect identity token."
_NO_UNAUTH = "Unauthenticated access is not supported for this identity pool."
_BAD_POOL_ROLES = "Invalid identity pool configuration. Check assigned IAM roles for this pool."
# AWS documents a 400 Not Authorized error, not its wording.
SERVER_SIDE_CHECK = "The user pool no longer honours it (server-side token check)"
COGNITO_IDENTITY = "cognito-identity.amazonaws.com"
# Attributes for access control, "Default provider mappings": a user pool's `sub` and `aud` claims.
DEFAULT_PRINCIPAL_TAGS = {"username": "sub", "client": "aud"}
MAX_TAG_VALUE = 256

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class Principal:
    """Who signs with an access key: an identity-pool identity or a static (operator) key."""

    access_key: str
    secret_key: str
    role_arn: str
    user_arn: str
    """The caller's ARN as AWS reports it (assumed-role ARN for identity-pool credentials)."""
    caller: str
    """`$context.identity.caller`: "<role id>:<session name>" for assumed roles."""
    session_token: str | None = None
    """Required on signed requests when set (temporary credentials)."""
    expiration: float | None = None
    """Epoch seconds after which the credentials are refused; None for static keys."""
    identity_id: str = ""
    identity_pool_id: str = ""
    region: str = ""
    auth_provider: str = ""
    """`$context.identity.cognitoAuthenticationProvider`."""
    auth_type: str = ""
    """"authenticated", "unauthenticated", or "" for static keys."""
    account_id: str = ACCOUNT
    tags: tuple[tuple[str, str], ...] = ()
    """Session tags (identity pool principal tags): `aws:PrincipalTag/<key>` in every evaluation."""
    amr: tuple[str, ...] = ()
    """`cognito-identity.amazonaws.com:amr` of an identity-pool session."""
    issued_at: float | None = None

    @property
    def principal_tags(self) -> dict[str, str]:
        return dict(self.tags)


class CognitoError(Exception):
    """An error answered the way Cognito Identity does: HTTP 400 with a JSON `__type`."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class PrincipalTagMap:
    """An identity pool's claim -> principal tag map for one identity provider."""

    tags: Mapping[str, str] = field(default_factory=dict)  # tag key -> claim name
    use_defaults: bool = True

    def mapping(self) -> Mapping[str, str]:
        return DEFAULT_PRINCIPAL_TAGS if self.use_defaults else self.tags


@dataclass(frozen=True)
class _Identity:
    identity_id: str
    pool_id: str
    region: str
    logins: frozenset[tuple[str, str]]  # (provider name, sub); empty for unauthenticated identities


class CredentialsBroker:
    """Issues and resolves identity-pool credentials; see the module docstring."""

    def __init__(
        self,
        account: str = ACCOUNT,
        *,
        clock: Callable[[], float] = time.time,
        credential_ttl: float = CREDENTIAL_TTL_SECONDS,
    ):
        self.account = account
        self.clock = clock
        self.credential_ttl = credential_ttl
        self._lock = threading.RLock()
        self._principals: dict[str, Principal] = {}
        self._role_policies: dict[str, list[iam_policy.PolicyDocument]] = {}
        self._pool_roles: dict[str, dict[str, str]] = {}
        self._tag_maps: dict[tuple[str, str], PrincipalTagMap] = {}  # (pool id, provider name) -> map
        self._identities: dict[str, _Identity] = {}
        self._identity_by_login: dict[tuple[str, str, str], str] = {}  # (pool, provider, sub) -> identity id
        self._jwks = jwk.KeySet.import_key_set(load_resource("cognitoidp/resources/jwks-public.json"))

    # -- configuration -------------------------------------------------------------------
    def add_static_principal(self, access_key: str, secret: str, role_arn: str, user_arn: str) -> Principal:
        """Register long-lived keys (the operator's) acting as `role_arn`."""
        role_name = _role_name(role_arn)
        session = user_arn.rsplit("/", 1)[-1] if ":assumed-role/" in user_arn else access_key
        principal = Principal(
            access_key=access_key,
            secret_key=secret,
            role_arn=role_arn,
            user_arn=user_arn,
            caller=f"{self._role_id(role_name)}:{session}",
            account_id=self.account,
        )
        with self._lock:
            self._principals[access_key] = principal
        return principal

    def set_role_policies(self, role: str, documents: Iterable[iam_policy.PolicyDocument]) -> None:
        """The identity policies of a role (ARN or name), replacing the live IAM lookup for it."""
        parsed = [json.loads(d) if isinstance(d, str) else d for d in documents]
        with self._lock:
            self._role_policies[_role_name(role)] = parsed

    def set_identity_pool_roles(self, pool_id: str, roles: Mapping[str, str]) -> None:
        """{"authenticated": role ARN, "unauthenticated": role ARN} of an identity pool."""
        with self._lock:
            self._pool_roles[pool_id] = dict(roles)

    def identity_pool_roles(self, pool_id: str) -> dict[str, str]:
        with self._lock:
            return dict(self._pool_roles.get(pool_id, {}))

    def set_principal_tags(self, pool_id: str, provider: str, tags: Mapping[str, str] | None = None,
                           use_defaults: bool = True) -> None:
        """Which claims of `provider`'s tokens become session tags of `pool_id`'s credentials (tag -> claim)."""
        with self._lock:
            self._tag_maps[(pool_id, provider)] = PrincipalTagMap(dict(tags or {}), use_defaults)

    def principal_tag_map(self, pool_id: str, provider: str) -> PrincipalTagMap | None:
        with self._lock:
            return self._tag_maps.get((pool_id, provider))

    # -- queries -----------------------------------------------------------------------------
    def lookup(self, access_key: str) -> Principal | None:
        with self._lock:
            return self._principals.get(access_key)

    def policies(self, role: str) -> list[iam_policy.PolicyDocument]:
        """The policy documents in force for a role (ARN or name)."""
        name = _role_name(role)
        with self._lock:
            if name in self._role_policies:
                return list(self._role_policies[name])
        return list(self._live_policies(name))

    def is_allowed(
        self,
        principal: Principal,
        action: str,
        resource: str,
        context: Mapping[str, iam_policy.ContextValue] | None = None,
    ) -> bool:
        """The principal's identity policies allow `action` on `resource`, evaluated with the principal's own
        keys (tags, user id, Cognito keys), the time, aws:SecureTransport=true and `context`."""
        return self.role_allows(principal.role_arn, action, resource,
                                {**self.context_keys(principal), **(context or {})})

    def role_allows(self, role_arn: str, action: str, resource: str,
                    context: Mapping[str, iam_policy.ContextValue] | None = None) -> bool:
        """The role's identity policies allow `action` on `resource`, evaluated with the keys every request has
        (the time, aws:SecureTransport=true, aws:RequestedRegion of the resource) and `context`: also for a role
        acting without a sandbox-issued session (an API Gateway integration role)."""
        full = iam_policy.request_context(self.clock())
        parts = resource.split(":")
        if len(parts) > 3 and parts[3]:
            full["aws:RequestedRegion"] = parts[3]
        full.update(context or {})
        return iam_policy.is_allowed(self.policies(role_arn), action, resource, full)

    def context_keys(self, principal: Principal) -> dict[str, iam_policy.ContextValue]:
        """The request context keys a principal brings to every evaluation (IAM User Guide, "AWS global
        condition context keys"; Cognito's keys for web identity sessions)."""
        keys: dict[str, iam_policy.ContextValue] = {
            "aws:PrincipalArn": principal.role_arn,
            "aws:PrincipalAccount": principal.account_id,
            "aws:PrincipalType": "AssumedRole",
            "aws:userid": principal.caller,
            "aws:PrincipalIsAWSService": "false",
        }
        for key, value in principal.tags:
            keys[f"aws:PrincipalTag/{key}"] = value
        if principal.identity_id:
            keys.update(_web_identity_keys(principal.identity_pool_id, principal.identity_id, principal.amr))
        if principal.issued_at is not None:
            keys["aws:TokenIssueTime"] = iam_policy.iso_time(principal.issued_at)
        return keys

    def caller(self, principal: Principal) -> iam_policy.Caller:
        """The principal as a resource policy's `Principal` element names it."""
        return iam_policy.Caller(account=principal.account_id,
                                 arns=frozenset({principal.role_arn, principal.user_arn}))

    # -- the Cognito Identity operations ----------------------------------------------------
    def get_id(self, request: Mapping[str, Any], region: str | None = None) -> dict[str, Any]:
        pool_id = _required(request, "IdentityPoolId")
        pool, pool_region = self._identity_pool(pool_id, region)
        logins = request.get("Logins") or {}
        if not logins:
            if not pool.allow_unauthenticated_identities:
                raise CognitoError("NotAuthorizedException", _NO_UNAUTH)
            return {"IdentityId": self._new_identity(pool_id, pool_region, frozenset())}
        claims = self._verify_logins(pool, logins)
        verified = frozenset((provider, token_claims["sub"]) for provider, token_claims in claims.items())
        with self._lock:
            for provider, sub in verified:
                known = self._identity_by_login.get((pool_id, provider, sub))
                if known:
                    return {"IdentityId": known}
            identity_id = self._new_identity(pool_id, pool_region, verified)
            for provider, sub in verified:
                self._identity_by_login[(pool_id, provider, sub)] = identity_id
        return {"IdentityId": identity_id}

    def get_credentials_for_identity(self, request: Mapping[str, Any], region: str | None = None) -> dict[str, Any]:
        identity_id = _required(request, "IdentityId")
        with self._lock:
            identity = self._identities.get(identity_id)
        if identity is None or (region and identity.region != region):
            raise CognitoError("ResourceNotFoundException", f"Identity '{identity_id}' not found.")
        pool, _ = self._identity_pool(identity.pool_id, identity.region)
        logins = request.get("Logins") or {}
        claims: dict[str, dict[str, Any]] = {}
        if identity.logins:
            if not logins:
                raise CognitoError("NotAuthorizedException", f"Access to Identity '{identity_id}' is forbidden.")
            claims = {provider: c for provider, c in self._verify_logins(pool, logins).items()
                      if (provider, c["sub"]) in identity.logins}
            if not claims:
                raise CognitoError(
                    "NotAuthorizedException",
                    "Logins don't match. Please include at least one valid login for this identity or identity pool.",
                )
        auth_type = "authenticated" if identity.logins else "unauthenticated"
        role_arn = self.identity_pool_roles(identity.pool_id).get(auth_type)
        if not role_arn:
            raise CognitoError("InvalidIdentityPoolConfigurationException", _BAD_POOL_ROLES)
        tags = self._session_tags(identity.pool_id, claims)
        amr = _amr(identity, auth_type)
        self._check_trust(role_arn, identity, amr, tags)
        principal = self._mint(identity, role_arn, auth_type, tags, amr)
        return {
            "IdentityId": identity_id,
            "Credentials": {
                "AccessKeyId": principal.access_key,
                "SecretKey": principal.secret_key,
                "SessionToken": principal.session_token,
                "Expiration": principal.expiration,
            },
        }

    # -- WSGI ------------------------------------------------------------------------------------
    def middleware(self, app: WsgiApp) -> WsgiApp:
        """Wrap moto's WSGI app: identity-pool calls are answered here, the rest go through."""
        operations: dict[str, Callable[[Mapping[str, Any], str | None], dict[str, Any]]] = {
            "GetId": self.get_id,
            "GetCredentialsForIdentity": self.get_credentials_for_identity,
            "SetIdentityPoolRoles": self._set_identity_pool_roles_call,
            "GetIdentityPoolRoles": self._get_identity_pool_roles_call,
            "SetPrincipalTagAttributeMap": self._set_principal_tags_call,
            "GetPrincipalTagAttributeMap": self._get_principal_tags_call,
        }

        def broker_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            operation = operations.get(target.removeprefix(_TARGET_PREFIX))
            if not target.startswith(_TARGET_PREFIX) or operation is None or environ.get("REQUEST_METHOD") != "POST":
                return app(environ, start_response)
            status, payload = 200, {}
            try:
                request = json.loads(_read_body(environ) or b"{}")
                if not isinstance(request, dict):
                    raise ValueError("not an object")
                payload = operation(request, environ.get("sandbox.region"))
            except CognitoError as error:
                status, payload = error.status, {"__type": error.code, "message": error.message}
            except ValueError:
                status, payload = 400, {"__type": "SerializationException", "message": "Request body is not valid JSON"}
            return _respond(start_response, status, payload)

        return broker_app

    # -- internals --------------------------------------------------------------------------------
    def _set_identity_pool_roles_call(self, request: Mapping[str, Any], region: str | None) -> dict[str, Any]:
        pool_id = _required(request, "IdentityPoolId")
        self._identity_pool(pool_id, region)
        self.set_identity_pool_roles(pool_id, request.get("Roles") or {})
        return {}

    def _get_identity_pool_roles_call(self, request: Mapping[str, Any], region: str | None) -> dict[str, Any]:
        pool_id = _required(request, "IdentityPoolId")
        self._identity_pool(pool_id, region)
        return {"IdentityPoolId": pool_id, "Roles": self.identity_pool_roles(pool_id)}

    def _set_principal_tags_call(self, request: Mapping[str, Any], region: str | None) -> dict[str, Any]:
        pool_id, provider = _required(request, "IdentityPoolId"), _required(request, "IdentityProviderName")
        self._identity_pool(pool_id, region)
        tags = request.get("PrincipalTags") or {}
        use_defaults = bool(request.get("UseDefaults", False))
        self.set_principal_tags(pool_id, provider, tags, use_defaults)
        return {"IdentityPoolId": pool_id, "IdentityProviderName": provider, "UseDefaults": use_defaults,
                "PrincipalTags": tags}

    def _get_principal_tags_call(self, request: Mapping[str, Any], region: str | None) -> dict[str, Any]:
        pool_id, provider = _required(request, "IdentityPoolId"), _required(request, "IdentityProviderName")
        self._identity_pool(pool_id, region)
        mapping = self.principal_tag_map(pool_id, provider) or PrincipalTagMap({}, False)
        return {"IdentityPoolId": pool_id, "IdentityProviderName": provider, "UseDefaults": mapping.use_defaults,
                "PrincipalTags": dict(mapping.tags)}

    def _session_tags(self, pool_id: str, claims: Mapping[str, Mapping[str, Any]]) -> tuple[tuple[str, str], ...]:
        """Session tags from the verified tokens' claims, per the pool's tag map for each provider."""
        tags: dict[str, str] = {}
        for provider, token_claims in sorted(claims.items()):
            mapping = self.principal_tag_map(pool_id, provider)
            if mapping is None:
                continue
            for tag, claim in mapping.mapping().items():
                value = token_claims.get(claim)
                if isinstance(value, str) and value and len(value) <= MAX_TAG_VALUE:
                    tags[tag] = value
        return tuple(sorted(tags.items()))

    def _check_trust(self, role_arn: str, identity: _Identity, amr: tuple[str, ...],
                     tags: tuple[tuple[str, str], ...]) -> None:
        """As STS decides AssumeRoleWithWebIdentity for Cognito: the role's trust policy must allow the
        federated principal cognito-identity.amazonaws.com (with its aud/amr/sub keys), and sts:TagSession
        too when session tags are set; otherwise Cognito answers InvalidIdentityPoolConfigurationException."""
        trust = self._trust_policy(role_arn)
        context = _web_identity_keys(identity.pool_id, identity.identity_id, amr)
        if tags:
            context["aws:TagKeys"] = [key for key, _ in tags]
            context.update({f"aws:RequestTag/{key}": value for key, value in tags})
        caller = iam_policy.Caller(federated=COGNITO_IDENTITY)
        actions = ["sts:AssumeRoleWithWebIdentity", *(["sts:TagSession"] if tags else [])]
        for action in actions:
            if trust is None or not iam_policy.is_allowed([trust], action, role_arn, context, principal=caller):
                raise CognitoError("InvalidIdentityPoolConfigurationException", _BAD_POOL_ROLES)

    def _trust_policy(self, role_arn: str) -> iam_policy.PolicyDocument | None:
        try:
            document = self._iam().get_role(_role_name(role_arn)).assume_role_policy_document
        except Exception:
            return None
        return json.loads(document) if isinstance(document, str) else document

    def _identity_pool(self, pool_id: str, region: str | None) -> tuple[Any, str]:
        pool_region = pool_id.split(":", 1)[0]
        pools = get_backend("cognito-identity")[self.account][pool_region].identity_pools if ":" in pool_id else {}
        pool = pools.get(pool_id)
        if pool is None or (region and region != pool_region):
            raise CognitoError("ResourceNotFoundException", f"IdentityPool '{pool_id}' not found.")
        return pool, pool_region

    def _verify_logins(self, pool: Any, logins: Mapping[str, str]) -> dict[str, dict[str, Any]]:
        """Check every login token against the pool's providers; return {provider: verified claims}."""
        providers = {p["ProviderName"]: p for p in pool.cognito_identity_providers or []}
        verified = {}
        for provider, token in logins.items():
            if provider not in providers:
                raise CognitoError("NotAuthorizedException", "Invalid login token. Issuer doesn't match providerName")
            claims = self._verify_id_token(provider, providers[provider]["ClientId"], token)
            if str(providers[provider].get("ServerSideTokenCheck", "")).lower() == "true":
                region, user_pool_id = _user_pool_of(provider)
                refused = user_pools.token_standing(self.account, region, user_pool_id, claims)
                if refused:
                    raise CognitoError("NotAuthorizedException", f"Invalid login token. {SERVER_SIDE_CHECK}: {refused}")
            verified[provider] = claims
        return verified

    def _verify_id_token(self, provider: str, client_id: str, token: str) -> dict[str, Any]:
        """Return the token's claims if Cognito would accept it for this provider and client."""
        try:
            claims = jwt.decode(token, self._jwks, algorithms=["RS256"]).claims
        except (JoseError, ValueError, TypeError):
            raise CognitoError("NotAuthorizedException", _NOT_OIDC) from None
        if claims.get("iss") != f"https://{provider}":
            raise CognitoError("NotAuthorizedException", "Invalid login token. Issuer doesn't match providerName")
        if claims.get("token_use") != "id":
            raise CognitoError("NotAuthorizedException", _NOT_OIDC)
        if claims.get("aud") != client_id:
            raise CognitoError("NotAuthorizedException", "Invalid login token. Incorrect token audience.")
        if float(claims.get("exp", 0)) < self.clock():
            raise CognitoError("NotAuthorizedException", f"Invalid login token. Token expired: {claims.get('exp')}")
        # moto's signing key ships with moto, so a valid signature proves little: the pool must have issued it.
        region, user_pool_id = _user_pool_of(provider)
        user_pool = get_backend("cognito-idp")[self.account][region].user_pools.get(user_pool_id)
        if user_pool is None or token not in user_pool.id_tokens:
            raise CognitoError("NotAuthorizedException", _NOT_OIDC)
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise CognitoError("NotAuthorizedException", "Invalid login token. Missing a required claim: sub")
        return dict(claims)

    def _new_identity(self, pool_id: str, region: str, logins: frozenset[tuple[str, str]]) -> str:
        # Let moto create it so that ListIdentities / DescribeIdentityPool stay truthful.
        backend = get_backend("cognito-identity")[self.account][region]
        identity_id = json.loads(backend.get_id(pool_id))["IdentityId"]
        with self._lock:
            self._identities[identity_id] = _Identity(identity_id, pool_id, region, logins)
        return identity_id

    def _mint(self, identity: _Identity, role_arn: str, auth_type: str, tags: tuple[tuple[str, str], ...] = (),
              amr: tuple[str, ...] = ()) -> Principal:
        role_name = _role_name(role_arn)
        provider = ""
        if identity.logins:
            name, sub = sorted(identity.logins)[0]
            provider = f"{name},{name}:CognitoSignIn:{sub}"
        now = self.clock()
        principal = Principal(
            access_key="ASIA" + _random(16, string.ascii_uppercase + string.digits),
            secret_key=_random(40, string.ascii_letters + string.digits + "/+"),
            session_token=secrets.token_urlsafe(96),
            expiration=float(int(now + self.credential_ttl)),
            role_arn=role_arn,
            user_arn=f"arn:aws:sts::{self.account}:assumed-role/{role_name}/CognitoIdentityCredentials",
            caller=f"{self._role_id(role_name)}:CognitoIdentityCredentials",
            identity_id=identity.identity_id,
            identity_pool_id=identity.pool_id,
            region=identity.region,
            auth_provider=provider,
            auth_type=auth_type,
            account_id=self.account,
            tags=tags,
            amr=amr,
            issued_at=now,
        )
        with self._lock:
            # Forget long-expired credentials so the map stays bounded (recently expired ones still say "expired").
            stale = now - EXPIRED_MEMORY_SECONDS
            for key in [k for k, p in self._principals.items() if p.expiration is not None and p.expiration < stale]:
                del self._principals[key]
            self._principals[principal.access_key] = principal
        return principal

    def _iam(self) -> Any:
        return get_backend("iam")[self.account]["aws"]

    def _role_id(self, role_name: str) -> str:
        try:
            return self._iam().get_role(role_name).id
        except Exception:  # an unknown role (e.g. in unit tests): a stable stand-in id
            return "AROA" + "".join(c for c in role_name.upper() if c.isalnum())[:17].ljust(17, "X")

    def _live_policies(self, role_name: str) -> Iterator[iam_policy.PolicyDocument]:
        try:
            role = self._iam().get_role(role_name)
        except Exception:
            return
        yield from role.policies.values()
        for policy in role.managed_policies.values():
            for version in policy.versions:
                if version.version_id == policy.default_version_id:
                    yield version.document


def _amr(identity: _Identity, auth_type: str) -> tuple[str, ...]:
    """`cognito-identity.amazonaws.com:amr`: the auth type, then each provider and its CognitoSignIn entry."""
    values = [auth_type]
    for provider, sub in sorted(identity.logins):
        values += [provider, f"{provider}:CognitoSignIn:{sub}"]
    return tuple(values)


def _web_identity_keys(pool_id: str, identity_id: str, amr: tuple[str, ...]) -> dict[str, iam_policy.ContextValue]:
    """The keys of a Cognito identity: in the role's trust policy (AssumeRoleWithWebIdentity) and then in
    every evaluation of the session's calls."""
    return {
        "aws:FederatedProvider": COGNITO_IDENTITY,
        f"{COGNITO_IDENTITY}:sub": identity_id,
        f"{COGNITO_IDENTITY}:aud": pool_id,
        f"{COGNITO_IDENTITY}:amr": list(amr),
    }


def _user_pool_of(provider: str) -> tuple[str, str]:
    """(region, user pool id) of a provider name `cognito-idp.<region>.amazonaws.com/<pool id>`."""
    region, _, user_pool_id = provider.removeprefix("cognito-idp.").partition(".amazonaws.com/")
    return region, user_pool_id


def _role_name(role: str) -> str:
    """A role's name from its ARN (path included or not) or the name itself."""
    return role.rsplit("/", 1)[-1] if role.startswith("arn:") else role


def _required(request: Mapping[str, Any], key: str) -> str:
    value = request.get(key)
    if not isinstance(value, str) or not value:
        raise CognitoError(
            "InvalidParameterException",
            f"1 validation error detected: Value null at '{key}' failed to satisfy constraint: Member must not be null",
        )
    return value


def _random(length: int, alphabet: str) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _read_body(environ: Mapping[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _respond(start_response: Callable[..., Any], status: int, payload: Mapping[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    reason = {200: "OK", 400: "Bad Request"}.get(status, "Error")
    start_response(
        f"{status} {reason}",
        [
            ("Content-Type", _JSON),
            ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", secrets.token_hex(16)),
        ],
    )
    return [body]
