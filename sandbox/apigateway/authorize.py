"""Stage 4, authorise: AWS_IAM methods need a SigV4 signature and an IAM Allow of execute-api:Invoke.

The signature is verified with the secret the credentials broker knows for the access key (service
execute-api, the API's region, 15 minutes of clock skew, the session token of temporary keys,
their expiry); then the principal's policies must allow `execute-api:Invoke` on the method's ARN,
`arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>`. Errors are API Gateway's:
MISSING_AUTHENTICATION_TOKEN, INVALID_SIGNATURE, EXPIRED_TOKEN (403 each), ACCESS_DENIED (403).
"""

from __future__ import annotations

from collections.abc import Callable

from sandbox import sigv4
from sandbox.apigateway.invocation import GatewayError, Invocation
from sandbox.credentials import CredentialsBroker, Principal


def requires_iam(invocation: Invocation) -> bool:
    return (invocation.api_method.authorization_type or "NONE").upper() == "AWS_IAM"


def authenticate(invocation: Invocation, broker: CredentialsBroker, now: Callable[[], float]) -> Principal:
    """The principal whose valid signature the request carries."""
    authorization = invocation.header("authorization")
    if not authorization:
        raise GatewayError("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
    try:
        credential, _, _ = sigv4.parse_authorization(authorization)
    except sigv4.SigV4Error as error:
        raise GatewayError(error.response_type, error.message) from None
    principal = broker.lookup(credential.access_key)
    if principal is not None and principal.session_token:
        if invocation.header("x-amz-security-token") != principal.session_token:
            principal = None  # temporary keys are only valid with their own session token
    request = sigv4.SignedRequest(invocation.method, invocation.raw_path, invocation.query_string,
                                  invocation.headers, invocation.body)
    try:
        sigv4.verify(
            request,
            secret_for=lambda _key: principal.secret_key if principal else None,
            region=invocation.region,
            now=now(),
        )
    except sigv4.SigV4Error as error:
        raise GatewayError(error.response_type, error.message) from None
    assert principal is not None  # verify() refuses unknown keys
    if principal.expiration is not None and principal.expiration < now():
        raise GatewayError("EXPIRED_TOKEN", "The security token included in the request is expired")
    return principal


def invoke_arn(invocation: Invocation, account: str) -> str:
    resource = f"{invocation.api_id}/{invocation.stage_name}/{invocation.method}/{invocation.path.lstrip('/')}"
    return f"arn:aws:execute-api:{invocation.region}:{account}:{resource}"


def authorize(invocation: Invocation, broker: CredentialsBroker, principal: Principal, account: str) -> None:
    """Raise ACCESS_DENIED unless the principal's policies allow execute-api:Invoke on this method."""
    arn = invoke_arn(invocation, account)
    if not broker.is_allowed(principal, "execute-api:Invoke", arn, {"aws:SourceIp": invocation.source_ip}):
        raise GatewayError(
            "ACCESS_DENIED",
            f"User: {principal.user_arn} is not authorized to perform: execute-api:Invoke on resource: {arn}",
        )


def identity(invocation: Invocation, principal: Principal | None) -> dict[str, str]:
    """$context.identity: the caller's Cognito identity and IAM principal, its IP and user agent
    (`vtl.build_context` leaves the variables the request does not set empty)."""
    variables = {"sourceIp": invocation.source_ip, "userAgent": invocation.header("user-agent")}
    if principal is not None:
        variables.update(
            cognitoIdentityId=principal.identity_id,
            cognitoIdentityPoolId=principal.identity_pool_id,
            cognitoAuthenticationProvider=principal.auth_provider,
            cognitoAuthenticationType=principal.auth_type,
            userArn=principal.user_arn,
            caller=principal.caller,
            user=principal.caller,
            accountId=principal.account_id,
            accessKey=principal.access_key,
        )
    return variables


def run(invocation: Invocation, broker: CredentialsBroker, account: str, now: Callable[[], float]) -> None:
    """The stage: authenticate and authorise AWS_IAM methods; $context.identity for every method."""
    invocation.context["identity"] = identity(invocation, None)
    if not requires_iam(invocation):
        return
    principal = authenticate(invocation, broker, now)
    invocation.principal = principal
    invocation.context["identity"] = identity(invocation, principal)
    authorize(invocation, broker, principal, account)
