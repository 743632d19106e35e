"""One request as it travels API Gateway's pipeline, the answer it gets, and the gateway's own errors.

Each stage reads what the stages before it learned (the API, the route, the caller) from the
`Invocation` and adds its own; an error API Gateway itself answers is raised as `GatewayError`
and rendered by the gateway responses stage.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import vtl
from sandbox.apigateway.parameters import lookup
from sandbox.credentials import Principal

log = logging.getLogger(__name__)

JSON = "application/json"


class GatewayError(Exception):
    """An answer produced by the gateway itself (a gateway response type), e.g. ACCESS_DENIED."""

    def __init__(self, response_type: str, message: str, validation_error: str = ""):
        super().__init__(message)
        self.response_type, self.message, self.validation_error = response_type, message, validation_error


def configuration_error() -> GatewayError:
    """What API Gateway answers when the API itself is broken (a template fails, no response matches)."""
    return GatewayError("API_CONFIGURATION_ERROR", "Internal server error")


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Invocation:
    """One request: what was sent, then what each stage learned."""

    method: str
    api_id: str
    stage_name: str
    raw_path: str  # the full path as sent (signature input)
    segments: list[str]  # decoded path segments under the stage ("%2F" stays inside its segment)
    query_string: str
    headers: dict[str, str]  # name -> value, names as received (title-cased by WSGI)
    body: bytes
    source_ip: str
    region_hint: str | None  # the region whose port received the request, if any
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.time)
    # learned on the way
    api: Any = None  # moto's RestApi
    region: str = ""
    resource: Any = None  # moto's Resource
    api_method: Any = None  # moto's Method
    path_params: dict[str, str] = field(default_factory=dict)
    principal: Principal | None = None
    context: dict[str, Any] = field(default_factory=dict)  # $context

    @property
    def path(self) -> str:
        """The resource path under the stage, e.g. "/comments/abc" (decoded)."""
        return "/" + "/".join(self.segments)

    def header(self, name: str) -> str:
        """A request header by case-insensitive name, "" when absent."""
        return lookup(self.headers, name) or ""

    @property
    def querystring(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string, keep_blank_values=True))  # the last value wins, as API Gateway

    @property
    def content_type(self) -> str:
        """The media type of the body; API Gateway assumes JSON when the header is absent."""
        return (self.header("content-type").split(";", 1)[0].strip().lower()) or JSON

    @property
    def params(self) -> dict[str, dict[str, str]]:
        """The method request parameters, as templates and parameter mappings see them."""
        return {"path": dict(self.path_params), "querystring": self.querystring, "header": dict(self.headers)}

    @property
    def stage_variables(self) -> dict[str, str]:
        stage = self.api.stages.get(self.stage_name) if self.api is not None else None
        return dict(getattr(stage, "variables", None) or {})

    @property
    def extended_request_id(self) -> str:
        """$context.extendedRequestId, also sent as x-amz-apigw-id."""
        return self.request_id.replace("-", "")[:16]

    def request_id_headers(self) -> dict[str, str]:
        return {"x-amzn-RequestId": self.request_id, "x-amz-apigw-id": self.extended_request_id}


def context_variables(invocation: Invocation, account: str) -> dict[str, Any]:
    """$context as known before routing (resourcePath, identity and error come later)."""
    host = invocation.header("host")
    return {
        "requestId": invocation.request_id,
        "extendedRequestId": invocation.extended_request_id,
        **vtl.time_variables(invocation.started),
        "httpMethod": invocation.method,
        "resourcePath": "",
        "resourceId": "",
        "path": f"/{invocation.stage_name}{invocation.path}",
        "stage": invocation.stage_name,
        "apiId": invocation.api_id,
        "accountId": account,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "protocol": "HTTP/1.1",
    }


def response_template(templates: Mapping[str, str] | None) -> str | None:
    """The template of a response (integration or gateway response): the JSON one, else the first."""
    templates = templates or {}
    return templates.get(JSON, next(iter(templates.values()), None))


def render_mapping_template(invocation: Invocation, which: str, template: str, body: str,
                            reading: vtl.Reading) -> vtl.Rendered:
    """A request or response mapping template, rendered for this request; one that fails is the API's
    fault: 500, as API Gateway's "Execution failed due to configuration error: Unable to transform ..."."""
    try:
        return vtl.render(template, body=body, params=invocation.params, context=invocation.context,
                          stage_variables=invocation.stage_variables, reading=reading)
    except vtl.VtlError as error:
        log.error("execute-api: %s template of %s %s failed: %s", which, invocation.method,
                  invocation.context.get("resourcePath"), error)
        raise configuration_error() from None
