"""Stage 2, route: the API and stage, then the resource and method the request is for.

The API is looked up live in moto's apigateway backend (only in the region whose port got the
request, when there is one). Resources match the path segment by segment; the most specific wins
(a literal segment beats `{param}`, which beats `{proxy+}`), and that resource alone decides: its
method, else its ANY, else API Gateway's 403 "Missing Authentication Token".
"""

from __future__ import annotations

from typing import Any

from moto.backends import get_backend

from sandbox.apigateway.invocation import GatewayError, Invocation


def find_api(account: str, api_id: str, region: str | None) -> tuple[Any, str]:
    """(moto's RestApi, its region), or (None, "") when no region (or not the given one) has it."""
    backends = get_backend("apigateway")[account]
    regions = [region] if region else list(backends.keys())
    for name in regions:
        api = backends[name].apis.get(api_id)
        if api is not None:
            return api, name
    return None, ""


def route(invocation: Invocation) -> None:
    """Set the invocation's resource, method and path parameters, or raise MISSING_AUTHENTICATION_TOKEN."""
    candidates = []
    for resource in list(invocation.api.resources.values()):
        matched = match(resource.get_path(), invocation.segments)
        if matched is not None:
            rank, params = matched
            candidates.append((rank, resource, params))
    for _, resource, params in sorted(candidates, key=lambda c: c[0]):
        methods = resource.resource_methods or {}
        method = methods.get(invocation.method) or methods.get("ANY")
        if method is None:
            break  # the best-matching resource decides, as in API Gateway
        invocation.resource, invocation.api_method, invocation.path_params = resource, method, params
        invocation.context.update(resourcePath=resource.get_path(), resourceId=resource.id)
        return
    raise GatewayError("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")


def match(resource_path: str, segments: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """(specificity rank, params) when the resource path matches; literal=0 < {param}=1 < {proxy+}=2 per segment."""
    template = [s for s in resource_path.split("/") if s]
    params: dict[str, str] = {}
    rank: list[int] = []
    for i, part in enumerate(template):
        if part.startswith("{") and part.endswith("+}"):
            if i != len(template) - 1 or len(segments) <= i:
                return None
            params[part[1:-2]] = "/".join(segments[i:])
            return (*rank, 2), params
        if i >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = segments[i]
            rank.append(1)
        elif part == segments[i]:
            rank.append(0)
        else:
            return None
    if len(template) != len(segments):
        return None
    return tuple(rank), params
