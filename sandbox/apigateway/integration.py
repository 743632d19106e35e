"""Stage 7, integration: call the backend with the integration request's body.

- MOCK: the backend "answers" the status code the request template names (`{"statusCode": 200}`).
- AWS, DynamoDB actions (`arn:aws:apigateway:<region>:dynamodb:action/<Action>`): moto's DynamoDB
  of that region, called in-process with DynamoDB's JSON protocol. First, as IAM would, the
  integration's role (or the caller, for "invoke with caller credentials") must be allowed every
  permission the call needs, mapped by `sandbox.iam_actions` as for any DynamoDB request (one place
  says which action a transaction item needs); if not, or if the sandbox cannot map the call,
  DynamoDB's AccessDeniedException comes back as the backend's answer (400), as on AWS.
Other integration types are not emulated: 500 and a log line naming them.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.core.request import Request as MotoRequest
from moto.dynamodb.responses import DynamoHandler

from sandbox import iam_actions
from sandbox.apigateway.invocation import Invocation, configuration_error
from sandbox.credentials import CredentialsBroker, Principal

log = logging.getLogger(__name__)

_DYNAMODB_URI = re.compile(r"^arn:aws:apigateway:(?P<region>[a-z0-9-]+):dynamodb:action/(?P<action>[A-Za-z]+)$")
_DYNAMODB_TARGET = "DynamoDB_20120810"


@dataclass
class BackendAnswer:
    """What the integration endpoint answered: the status as text (what selection patterns match)."""

    status: str
    body: str
    headers: dict[str, str] = field(default_factory=dict)


class Integrations:
    """The backends an API's methods can be integrated with."""

    def __init__(self, broker: CredentialsBroker, account: str, check_integration_role: bool = True):
        self.broker = broker
        self.account = account
        self.check_integration_role = check_integration_role

    def call(self, invocation: Invocation, request_body: str) -> BackendAnswer:
        integration = invocation.api_method.method_integration
        kind = (integration.integration_type or "").upper()
        if kind == "MOCK":
            return mock(request_body)
        if kind == "AWS":
            return self.dynamodb(integration, request_body, invocation.principal)
        log.error("execute-api: integration type %s is not emulated (%s %s)", kind, invocation.method, invocation.path)
        raise configuration_error()

    def dynamodb(self, integration: Any, body: str, principal: Principal | None) -> BackendAnswer:
        match = _DYNAMODB_URI.match(integration.uri or "")
        if not match:
            log.error("execute-api: AWS integration %r is not emulated (DynamoDB actions only)", integration.uri)
            raise configuration_error()
        region, action = match.group("region"), match.group("action")
        try:
            json.loads(body)
        except ValueError as error:
            # What DynamoDB answers to a body that is not JSON (a template bug, or an injection attempt).
            return BackendAnswer("400", json.dumps({
                "__type": "com.amazon.coral.service#SerializationException",
                "Message": f"Start of structure or map found where not expected. ({error})"}))
        if self.check_integration_role and integration.credentials:
            denied = self._denied(integration.credentials, principal, region, action, body)
            if denied:
                return BackendAnswer("400", json.dumps({"__type": "com.amazon.coral.service#AccessDeniedException",
                                                        "Message": denied}))
        status, headers, response_body = _dispatch_dynamodb(region, action, body)
        text = response_body.decode("utf-8") if isinstance(response_body, bytes) else str(response_body or "")
        return BackendAnswer(str(status), text, {str(k): str(v) for k, v in (headers or {}).items()})

    def _denied(self, credentials: str, principal: Principal | None, region: str, action: str,
                body: str) -> str | None:
        """AccessDenied message when the integration role may not make this DynamoDB call, else None."""
        caller = ":user/*" in credentials  # "invoke with caller credentials": the caller's own session decides
        if caller:
            if principal is None:
                return "The security token included in the request is invalid."
            role, user_arn = principal.role_arn, principal.user_arn
        else:
            role = credentials
            role_name = credentials.rsplit("/", 1)[-1]
            user_arn = f"arn:aws:sts::{self.account}:assumed-role/{role_name}/BackplaneAssumeRoleSession"
        call = iam_actions.classify("POST", "/", "", {"X-Amz-Target": f"{_DYNAMODB_TARGET}.{action}"}, body.encode())
        try:
            wanted = iam_actions.permissions(call, region, self.account)
        except iam_actions.UnmappedError as unmapped:
            return (f"User: {user_arn} is not authorized to perform: {unmapped} on resource: * "
                    "(sandbox: no IAM mapping for this operation, so it is refused)")
        for permission in wanted:
            allowed = (self.broker.is_allowed(principal, permission.action, permission.resource, permission.context)
                       if caller else
                       self.broker.role_allows(role, permission.action, permission.resource, permission.context))
            if not allowed:
                return (f"User: {user_arn} is not authorized to perform: {permission.action} on resource: "
                        f"{permission.resource} because no identity-based policy allows the {permission.action} "
                        "action")
        return None


def mock(request_body: str) -> BackendAnswer:
    """A MOCK integration answers the `statusCode` of its request template (200 when there is none)."""
    try:
        status = str(int(json.loads(request_body or '{"statusCode": 200}').get("statusCode", 200)))
    except (ValueError, AttributeError, TypeError):
        raise configuration_error() from None
    return BackendAnswer(status, "")


def _dispatch_dynamodb(region: str, action: str, body: str) -> tuple[int, dict[str, Any], Any]:
    """Call moto's DynamoDB handler in-process, as a signed client of that region would."""
    now = datetime.now(UTC)
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": f"{_DYNAMODB_TARGET}.{action}",
        "X-Amz-Date": now.strftime("%Y%m%dT%H%M%SZ"),
        # moto routes by the credential scope; the signature itself is not checked.
        "Authorization": f"AWS4-HMAC-SHA256 Credential=apigateway/{now:%Y%m%d}/{region}/dynamodb/aws4_request, "
                         "SignedHeaders=host;x-amz-date;x-amz-target, Signature=0",
    }
    request = MotoRequest.from_primitives("POST", f"https://dynamodb.{region}.amazonaws.com/", headers, body.encode())
    status, response_headers, response_body = DynamoHandler.dispatch(request)
    return int(status), dict(response_headers or {}), response_body
