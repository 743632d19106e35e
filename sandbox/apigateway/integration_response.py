"""Stage 8, integration response: the backend's answer becomes the method's response.

The integration response whose selection pattern (a regex) fully matches the backend's status wins,
else the one without a pattern; its status must be one of the method's responses. Its template
(by the JSON content type, else the first) renders the body, may override the status and headers
(`$context.responseOverride`); its response parameters set headers. No matching response, or a
template that fails, is the API's fault: 500, as API Gateway's "Unable to transform response".
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-integration-settings-integration-response.html
"""

from __future__ import annotations

import logging
import re
from typing import Any

import vtl
from sandbox.apigateway.integration import BackendAnswer
from sandbox.apigateway.invocation import (
    JSON,
    Invocation,
    Response,
    configuration_error,
    render_mapping_template,
    response_template,
)
from sandbox.apigateway.parameters import response_headers

log = logging.getLogger(__name__)


def select_response(integration: Any, backend_status: str) -> Any:
    """The integration response whose selection pattern fully matches the status, else the default."""
    default = None
    for response in (integration.integration_responses or {}).values():
        pattern = response.selection_pattern
        if pattern:
            if re.fullmatch(pattern, backend_status, re.DOTALL):
                return response
        elif default is None:
            default = response
    return default


def respond(invocation: Invocation, backend: BackendAnswer, reading: vtl.Reading) -> Response:
    method = invocation.api_method
    chosen = select_response(method.method_integration, backend.status)
    if chosen is None or str(chosen.status_code) not in (method.method_responses or {}):
        log.error("execute-api: no integration/method response for backend status %s on %s %s",
                  backend.status, invocation.method, invocation.context.get("resourcePath"))
        raise configuration_error()
    template = response_template(chosen.response_templates)
    status, body, overrides = int(chosen.status_code), backend.body, {}
    if template:
        rendered = render_mapping_template(invocation, "response", template, backend.body, reading)
        body, status = rendered.text, rendered.status_override or status
        overrides = dict(rendered.header_overrides or {})
    headers = {"Content-Type": JSON}
    headers.update(response_headers(chosen.response_parameters, invocation.params, backend.headers, backend.body))
    headers.update({str(k): str(v) for k, v in overrides.items()})
    headers.update(invocation.request_id_headers())
    return Response(int(status), body.encode("utf-8"), headers)
