"""Last stage, gateway responses: every error API Gateway itself answers, as the API declares it.

The API's gateway response for the error's type, else its DEFAULT_4XX / DEFAULT_5XX (by the type's
status), else API Gateway's own `{"message": $context.error.messageString}`. The status is the
response's own, else the type's default; the headers come from its `gatewayresponse.header.*`
parameters. The body template is NOT run through VTL: API Gateway only substitutes `$context`,
`$stageVariables` and method request parameters in it (`vtl.substitute`), so a VTL gateway template
comes out here exactly as broken as on AWS.
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-gatewayResponse-definition.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
"""

from __future__ import annotations

import vtl
from sandbox.apigateway.invocation import JSON, GatewayError, Invocation, Response, response_template
from sandbox.apigateway.parameters import response_headers

# The default status of each gateway response type (DEFAULT_4XX/DEFAULT_5XX have none).
RESPONSE_STATUS = {
    "ACCESS_DENIED": 403,
    "API_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_FAILURE": 500,
    "BAD_REQUEST_BODY": 400,
    "BAD_REQUEST_PARAMETERS": 400,
    "EXPIRED_TOKEN": 403,
    "INTEGRATION_FAILURE": 504,
    "INTEGRATION_TIMEOUT": 504,
    "INVALID_API_KEY": 403,
    "INVALID_SIGNATURE": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "QUOTA_EXCEEDED": 429,
    "REQUEST_TOO_LARGE": 413,
    "RESOURCE_NOT_FOUND": 404,
    "THROTTLED": 429,
    "UNAUTHORIZED": 401,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "WAF_FILTERED": 403,
}
DEFAULT_TEMPLATE = '{"message":$context.error.messageString}'  # API Gateway's, when the API declares none

# x-amzn-ErrorType of the types whose exception name is not the generic one.
_ERROR_TYPES = {
    "ACCESS_DENIED": "AccessDeniedException",
    "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
    "INVALID_SIGNATURE": "InvalidSignatureException",
    "EXPIRED_TOKEN": "ExpiredTokenException",
    "UNSUPPORTED_MEDIA_TYPE": "UnsupportedMediaTypeException",
    "THROTTLED": "TooManyRequestsException",
    "QUOTA_EXCEEDED": "LimitExceededException",
    "REQUEST_TOO_LARGE": "RequestTooLongException",
}


def error_context(error: GatewayError) -> dict[str, str]:
    """$context.error of a gateway response (`vtl.build_context` derives messageString from message)."""
    return {
        "message": error.message,
        "responseType": error.response_type,
        "validationErrorString": error.validation_error,
    }


def render(invocation: Invocation, error: GatewayError) -> Response:
    defined = invocation.api.gateway_responses or {}
    specific = defined.get(error.response_type)
    status = RESPONSE_STATUS.get(error.response_type, 500)
    if specific is not None and specific.status_code:
        status = int(specific.status_code)
    chosen = specific or defined.get("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX")
    template = response_template(chosen.response_templates) if chosen is not None else None
    invocation.context["error"] = error_context(error)
    body = vtl.substitute(template or DEFAULT_TEMPLATE, context=invocation.context,
                          stage_variables=invocation.stage_variables, params=invocation.params)
    headers = {"Content-Type": JSON, "x-amzn-ErrorType": error_type(error.response_type, status)}
    if chosen is not None:
        headers.update(response_headers(chosen.response_parameters, invocation.params))
    headers.update(invocation.request_id_headers())
    return Response(status, body.encode("utf-8"), headers)


def error_type(response_type: str, status: int) -> str:
    return _ERROR_TYPES.get(response_type, "InternalServerErrorException" if status >= 500 else "BadRequestException")
