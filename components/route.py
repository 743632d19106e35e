"""A route of a REST API integrated directly with DynamoDB, declared as data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from components.contract import OWNER_POLICY_VARIABLE

TEMPLATES_DIR_NAME = "templates"  # components/templates/*.vtl


@dataclass(frozen=True)
class Route:
    """One method of an API: what it calls in DynamoDB and with which templates.

    Every route is `AWS_IAM`-authorized, answers CORS, maps DynamoDB errors through the
    shared error template, and grants its integration role exactly `grants`.
    """

    method: str
    """HTTP method: GET, POST or PUT."""
    path: str
    """Resource path with `{param}` segments, e.g. "/comments/{photoId}"."""
    action: str
    """DynamoDB API action called by the integration, e.g. "Query"."""
    request_template: str
    """File name (in components/templates) of the integration request template."""
    response_template: str
    """File name of the template of the success (HTTP 200) integration response."""
    grants: tuple[tuple[str, str], ...]
    """(IAM action, logical table name) pairs the integration role needs, e.g. ("dynamodb:Query", "comments")."""
    body_model: Mapping[str, Any] | None = None
    """JSON Schema (draft 4) the request body must match (validated before the integration), or None."""
    query_params: tuple[str, ...] = ()
    """Optional query-string parameters the route reads (declared on the method)."""
    operator_only: bool = False
    """True when only the operator role may invoke it (not the app users' role)."""
    owner_param: str | None = None
    """The path parameter that must equal the caller's verified owner: IAM grants invoke only on ARNs whose
    segment is the caller's principal tag (`${aws:PrincipalTag/owner}`), so the template may trust it."""
    name: str = field(default="", compare=False)
    """The operation's name for clients (e.g. "registerPhoto"); named routes are exported to the web app."""
    summary: str = field(default="", compare=False)
    """One line for docs and the preview."""

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(seg[1:-1] for seg in self.path.strip("/").split("/") if seg.startswith("{"))

    @property
    def arn_path(self) -> str:
        """The path as it appears in an execute-api ARN: each {param} becomes *, except the owner parameter,
        which becomes the caller's own owner value (an IAM policy variable)."""
        return "/".join(self._arn_segment(seg) for seg in self.path.strip("/").split("/"))

    def _arn_segment(self, segment: str) -> str:
        if not segment.startswith("{"):
            return segment
        return OWNER_POLICY_VARIABLE if segment[1:-1] == self.owner_param else "*"

    def url_path(self, **params: str) -> str:
        """The path with every {param} filled, each value percent-encoded as one segment."""
        missing = sorted(set(self.path_params) - set(params))
        if missing:
            raise ValueError(f"{self.method} {self.path} needs path parameters {', '.join(missing)}")
        return "/".join(
            quote(params[seg[1:-1]], safe="") if seg.startswith("{") else seg for seg in self.path.split("/")
        )
