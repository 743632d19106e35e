"""Who may do what on the sandbox's AWS endpoints: authentication and IAM on every call.

`AccessControl.check(request)` runs in the front door before moto sees a request:

1. The request's credential: SigV4 in the Authorization header, SigV4 query parameters (a presigned
   URL), Signature Version 2, or none.
2. Keys the sandbox issued (identity-pool credentials, the operator's keys; `Principals.lookup`) are
   verified as AWS verifies them (`sandbox.sigv4`: botocore's signer, credential scope of the
   endpoint's service and region, 15-minute skew, the session token, presigned expiry) and their
   expiry is checked; then every permission the operation needs (`sandbox.iam_actions`) is decided
   by IAM's same-account logic (`sandbox.iam_policy.authorize`) over the principal's identity
   policies and, for S3, the bucket's policy as stored in moto. A denial answers the service's own
   error and the request never reaches moto. An operation without a known mapping is refused.
3. Any other key is the account's administrator (moto's default), so scripts and tests can set up
   data; the front door refuses those keys from a browser page of a foreign origin.
4. Unsigned requests: the operations AWS itself serves unsigned pass (Cognito sign-in, GetId...);
   S3 decides them as the anonymous principal against the bucket policy; everything else is refused
   the way the service refuses a request without credentials.

The request context every evaluation sees: aws:SecureTransport=true (the sandbox stands in for
AWS's HTTPS endpoints, see docs/sandbox-fidelity.md), aws:SourceIp, aws:CurrentTime,
aws:EpochTime, aws:RequestedRegion, aws:UserAgent, the principal's keys (aws:PrincipalArn,
aws:userid, aws:PrincipalTag/*, cognito-identity.amazonaws.com:*), and the operation's own keys.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote

from moto.backends import get_backend

from sandbox import aws_errors, iam_actions, iam_policy, sigv4
from sandbox.aws_errors import Response
from sandbox.iam_actions import AwsCall, UnmappedError

ADMIN = "admin"  # a key the sandbox did not issue: the account's administrator
ANONYMOUS = "anonymous"


class Principals(Protocol):
    """The credentials broker as the front door uses it."""

    def lookup(self, access_key: str) -> Any: ...

    def policies(self, role: str) -> list[iam_policy.PolicyDocument]: ...

    def context_keys(self, principal: Any) -> dict[str, iam_policy.ContextValue]: ...

    def caller(self, principal: Any) -> iam_policy.Caller: ...


@dataclass
class Outcome:
    """What the front door does with a request: refuse it, answer it itself, or let moto serve it."""

    call: AwsCall
    who: str = ADMIN  # ADMIN | ANONYMOUS | the issued principal's user ARN
    refusal: Response | None = None  # a refusal in the service's own error format
    answer: Response | None = None  # answered by the front door (STS GetCallerIdentity of an issued key)
    denied_deletes: frozenset[str] = frozenset()  # DeleteObjects: object ARNs refused key by key, in a 200


@dataclass(frozen=True)
class Incoming:
    """An AWS request as it arrived on a port."""

    method: str
    path: str  # decoded
    raw_path: str  # as sent (percent-encoded)
    query_string: str
    headers: Mapping[str, str]
    body: bytes
    source_ip: str
    port_region: str | None  # the region a region port stands for; None on the generic port


class AccessControl:
    """Authenticates and authorises every AWS call the front door serves; see the module docstring."""

    def __init__(self, account: str, principals: Principals | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.account = account
        self.principals = principals
        self.clock = clock

    def check(self, request: Incoming) -> Outcome:
        headers = request.headers
        authorization = sigv4.header(headers, "authorization")
        query = dict(parse_qsl(request.query_string, keep_blank_values=True))
        signed = sigv4.SignedRequest(request.method, request.raw_path, request.query_string, headers, request.body)
        credential: sigv4.Credential | None = None
        parse_error: sigv4.SigV4Error | None = None
        try:
            credential = sigv4.credential_of(signed)
        except sigv4.SigV4Error as failure:
            parse_error = failure
        call = iam_actions.classify(request.method, request.path, request.query_string, headers, request.body,
                                    credential.service if credential else "")
        sigv2_key = _sigv2_key(authorization, query)
        if parse_error is not None:
            if authorization.startswith("AWS ") and sigv2_key:
                return self._sigv2(call, sigv2_key)
            return Outcome(call, refusal=aws_errors.signature_error(call.protocol, call.service, parse_error))
        if credential is None:
            if sigv2_key:
                return self._sigv2(call, sigv2_key)
            return self._unsigned(call, request)
        principal = self.principals.lookup(credential.access_key) if self.principals else None
        if principal is None:
            return Outcome(call, who=ADMIN)
        return self._issued(call, request, signed, credential, principal)

    def role_may(self, role_arn: str, action: str, resource: str, bucket: str) -> bool:
        """Whether a service acting as `role_arn` (S3 replication) may do `action` on an S3 `resource`: the
        role's identity policies and the bucket's policy, same-account rules."""
        if self.principals is None:
            return False
        context = {**iam_policy.request_context(self.clock()), "aws:PrincipalArn": role_arn,
                   "aws:PrincipalAccount": self.account}
        caller = iam_policy.Caller(account=self.account, arns=frozenset({role_arn}))
        verdict = iam_policy.authorize(self.principals.policies(role_arn),
                                       bucket_policies(bucket_of(self.account, bucket)), action, resource, context,
                                       caller)
        return verdict.allowed

    def signed_by_operator(self, request: Incoming, service: str, regions: Sequence[str]) -> bool:
        """True when `request` carries a valid SigV4 signature by long-lived keys the sandbox issued (the
        operator's), scoped to `service` in one of `regions`."""
        signed = sigv4.SignedRequest(request.method, request.raw_path, request.query_string, request.headers,
                                     request.body)
        try:
            credential = sigv4.credential_of(signed)
        except sigv4.SigV4Error:
            return False
        if credential is None or self.principals is None or credential.region not in regions:
            return False
        principal = self.principals.lookup(credential.access_key)
        if principal is None or principal.expiration is not None or not sigv4.header(request.headers, "authorization"):
            return False
        try:
            sigv4.verify(signed, secret_for=lambda _key: principal.secret_key, region=credential.region,
                         service=service, now=self.clock(), token_for=lambda _key: principal.session_token)
        except sigv4.SigV4Error:
            return False
        return True

    # -- the three kinds of caller ----------------------------------------------------------------------------
    def _sigv2(self, call: AwsCall, access_key: str) -> Outcome:
        if self.principals is not None and self.principals.lookup(access_key) is not None:
            return Outcome(call, refusal=aws_errors.sigv2_refused(call.protocol, call.service))
        return Outcome(call, who=ADMIN)

    def _unsigned(self, call: AwsCall, request: Incoming) -> Outcome:
        if call.public:
            return Outcome(call, who=ANONYMOUS)
        if call.service == "s3":
            return self._anonymous_s3(call, request)
        if call.service == "sts" and call.operation in ("AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"):
            # AWS serves these unsigned; the sandbox issues credentials only through Cognito identity pools.
            message = ("The sandbox does not verify web identity tokens for STS: get credentials from the "
                       "Cognito identity pool (GetCredentialsForIdentity)")
            return Outcome(call, who=ANONYMOUS, refusal=aws_errors.error(call.protocol, 400, "InvalidIdentityToken",
                                                                         message, service="sts"))
        return Outcome(call, who=ANONYMOUS, refusal=aws_errors.missing_authentication(call.protocol, call.service))

    def _anonymous_s3(self, call: AwsCall, request: Incoming) -> Outcome:
        """An unsigned S3 request is the anonymous principal: only a public bucket policy could allow it
        (and Block Public Access's RestrictPublicBuckets stops even that)."""
        try:
            wanted = iam_actions.permissions(call, request.port_region or "us-east-1", self.account)
        except UnmappedError:
            wanted = []
        denied = aws_errors.access_denied(call.protocol, "s3", "Access Denied")
        if not wanted:
            return Outcome(call, who=ANONYMOUS, refusal=denied)
        context = self._base_context(request, call, request.port_region or "")
        for permission in wanted:
            bucket = bucket_of(self.account, permission.bucket)
            if bucket is None or _restricts_public(bucket):
                return Outcome(call, who=ANONYMOUS, refusal=denied)
            verdict = iam_policy.authorize([], bucket_policies(bucket), permission.action, permission.resource,
                                           {**context, **permission.context}, iam_policy.ANONYMOUS)
            if not verdict.allowed:
                return Outcome(call, who=ANONYMOUS, refusal=denied)
        return Outcome(call, who=ANONYMOUS, refusal=self._absence_hidden(call, [], context, iam_policy.ANONYMOUS))

    def _issued(self, call: AwsCall, request: Incoming, signed: sigv4.SignedRequest, credential: sigv4.Credential,
                principal: Any) -> Outcome:
        assert self.principals is not None
        region = self._expected_region(call, request, credential)
        outcome = Outcome(call, who=principal.user_arn)
        if not call.service:
            message = (f"User: {principal.user_arn} is not authorized to perform this operation "
                       "(sandbox: no IAM mapping for this service)")
            outcome.refusal = aws_errors.access_denied(call.protocol, credential.service, message)
            return outcome
        presigned = not sigv4.header(request.headers, "authorization")
        check = sigv4.verify_presigned if presigned else sigv4.verify
        try:
            check(signed, secret_for=lambda _key: principal.secret_key, region=region, service=call.service,
                  now=self.clock(), token_for=lambda _key: principal.session_token)
        except sigv4.SigV4Error as failure:
            outcome.refusal = aws_errors.signature_error(call.protocol, call.service, failure, presigned=presigned)
            return outcome
        if principal.expiration is not None and principal.expiration < self.clock():
            outcome.refusal = aws_errors.expired_credentials(call.protocol, call.service)
            return outcome
        if call.service == "sts" and call.operation == "GetCallerIdentity":
            outcome.answer = _caller_identity(principal)
            return outcome
        try:
            wanted = iam_actions.permissions(call, region, self.account)
        except UnmappedError as unmapped:
            action = str(unmapped)
            message = (f"User: {principal.user_arn} is not authorized to perform: {action} on resource: * "
                       "(sandbox: no IAM mapping for this operation, so it is refused)")
            outcome.refusal = aws_errors.access_denied(call.protocol, call.service, message)
            return outcome
        context = {**self._base_context(request, call, region), **self.principals.context_keys(principal)}
        if presigned:
            context["s3:authType"] = "REST-QUERY-STRING"
        identity = self.principals.policies(principal.role_arn)
        caller = self.principals.caller(principal)
        denied_deletes = set()
        for permission in wanted:
            resource_policies = bucket_policies(bucket_of(self.account, permission.bucket)) if permission.bucket else []
            decided = iam_policy.authorize(identity, resource_policies, permission.action, permission.resource,
                                           {**context, **permission.context}, caller)
            if decided.allowed:
                continue
            if call.operation == "DeleteObjects":  # S3 deletes the others and reports each refused key
                denied_deletes.add(permission.resource)
                continue
            shown = f'"{permission.resource}"' if call.service == "s3" else permission.resource
            message = (f"User: {principal.user_arn} is not authorized to perform: {permission.action} on "
                       f"resource: {shown} {decided.reason(permission.action)}")
            outcome.refusal = aws_errors.access_denied(call.protocol, call.service, message)
            return outcome
        outcome.denied_deletes = frozenset(denied_deletes)
        outcome.refusal = self._absence_hidden(call, identity, context, caller)
        return outcome

    # -- helpers ---------------------------------------------------------------------------------------------
    def _absence_hidden(self, call: AwsCall, identity: Sequence[iam_policy.PolicyDocument],
                        context: Mapping[str, iam_policy.ContextValue], caller: iam_policy.Caller) -> Response | None:
        """GetObject/HeadObject of a key with no object: S3 answers 404 only to a caller that may list the bucket
        (s3:ListBucket, decided with this request's own context, which has no s3:prefix), else 403 AccessDenied."""
        if call.operation not in ("GetObject", "HeadObject"):
            return None
        bucket = bucket_of(self.account, call.bucket)
        if bucket is None:
            return None  # moto answers NoSuchBucket
        version = dict(call.query).get("versionId") or None
        if s3_backend(self.account).get_object(call.bucket, call.key, version_id=version) is not None:
            return None
        may_list = iam_policy.authorize(identity, bucket_policies(bucket), "s3:ListBucket",
                                        f"arn:aws:s3:::{call.bucket}", context, caller)
        return None if may_list.allowed else aws_errors.access_denied(call.protocol, "s3", "Access Denied")

    def _expected_region(self, call: AwsCall, request: Incoming, credential: sigv4.Credential) -> str:
        """The region a signature must be scoped to: the bucket's for S3 (S3 is global, buckets are not),
        else the region port's, else (generic port) the region the request was signed for."""
        if call.service == "s3" and call.bucket:
            bucket = bucket_of(self.account, call.bucket)
            if bucket is not None:
                return str(bucket.region_name)
        return request.port_region or credential.region

    def _base_context(self, request: Incoming, call: AwsCall, region: str) -> dict[str, iam_policy.ContextValue]:
        context = {**iam_policy.request_context(self.clock()), "aws:SourceIp": request.source_ip}
        if region:
            context["aws:RequestedRegion"] = region
        user_agent = sigv4.header(request.headers, "user-agent")
        if user_agent:
            context["aws:UserAgent"] = user_agent
        if call.service == "s3":
            context["s3:authType"] = "REST-HEADER"
            context["s3:signatureversion"] = "AWS4-HMAC-SHA256"
            sha = sigv4.header(request.headers, "x-amz-content-sha256")
            if sha:
                context["s3:x-amz-content-sha256"] = sha
        return context


def _caller_identity(principal: Any) -> Response:
    """STS GetCallerIdentity needs no permission and names the caller (the assumed-role session)."""
    user_id = getattr(principal, "caller", "") or principal.access_key
    body = (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
        f"<Arn>{principal.user_arn}</Arn><UserId>{user_id}</UserId><Account>{principal.account_id}</Account>"
        f"</GetCallerIdentityResult><ResponseMetadata><RequestId>{aws_errors.request_id()}</RequestId>"
        "</ResponseMetadata></GetCallerIdentityResponse>"
    ).encode()
    return "200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))], body


def _sigv2_key(authorization: str, query: Mapping[str, str]) -> str:
    if authorization.startswith("AWS ") and ":" in authorization:
        return authorization[4:].split(":", 1)[0].strip()
    if "AWSAccessKeyId" in query and "Signature" in query:
        return unquote(query["AWSAccessKeyId"])
    return ""


def s3_backend(account: str) -> Any:
    """moto's S3 backend of `account` (one for every region: S3's namespace is global)."""
    return get_backend("s3")[account]["aws"]


def bucket_of(account: str, name: str | None) -> Any:
    """moto's bucket `name` (None when there is none)."""
    if not name:
        return None
    return s3_backend(account).buckets.get(name)


def bucket_policies(bucket: Any) -> list[iam_policy.PolicyDocument]:
    """The policy stored on a moto bucket (none when it has none or it is not JSON)."""
    policy = getattr(bucket, "policy", None) if bucket is not None else None
    if not policy:
        return []
    try:
        return [json.loads(policy)]
    except ValueError:
        return []


def _restricts_public(bucket: Any) -> bool:
    block = getattr(bucket, "public_access_block", None)
    return bool(block is not None and str(getattr(block, "restrict_public_buckets", "")).lower() == "true")
