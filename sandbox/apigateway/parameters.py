"""Response parameter mappings: the headers an integration response or a gateway response adds.

`method.response.header.X` (integration responses) and `gatewayresponse.header.X` (gateway
responses) take a static `'value'`, `integration.response.header.Y`, `integration.response.body`,
or `method.request.(header|path|querystring).Y` (how a gateway response may echo a request header).
https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-parameter-mapping-sources.html
"""

from __future__ import annotations

from collections.abc import Mapping

_TARGETS = ("method.response.header.", "gatewayresponse.header.")


def response_headers(
    mapping: Mapping[str, str] | None,
    params: Mapping[str, Mapping[str, str]],
    backend_headers: Mapping[str, str] | None = None,
    backend_body: str = "",
) -> dict[str, str]:
    """The headers `mapping` sets; sources without a value (an absent header) set nothing."""
    headers: dict[str, str] = {}
    for target, source in (mapping or {}).items():
        prefix = next((p for p in _TARGETS if target.startswith(p)), "")
        if not prefix:
            continue
        name, source = target[len(prefix):], str(source)
        value: str | None = None
        if len(source) >= 2 and source[0] == "'" and source[-1] == "'":
            value = source[1:-1]
        elif source.startswith("integration.response.header."):
            value = lookup(backend_headers or {}, source[len("integration.response.header."):])
        elif source == "integration.response.body":
            value = backend_body
        elif source.startswith("method.request."):
            where, _, wanted = source[len("method.request."):].partition(".")
            value = lookup(params.get(where, {}), wanted)
        if value is not None:
            headers[name] = value
    return headers


def lookup(mapping: Mapping[str, str], name: str) -> str | None:
    """A header's value by case-insensitive name."""
    lowered = name.lower()
    return next((v for k, v in mapping.items() if k.lower() == lowered), None)
