"""Stage 1, parse: a WSGI request to `/execute-api/<restApiId>/<stage>/<path>` becomes an `Invocation`.

The path is kept exactly as sent (the signature covers it), its segments decoded one by one (an
encoded slash stays inside its segment), and at most `MAX_PAYLOAD_BYTES` + 1 bytes of body are read:
enough to know that a request is over API Gateway's payload limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from sandbox.apigateway.invocation import Invocation

PREFIX = "/execute-api/"
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's request payload limit (10 MB)


def parse(environ: Mapping[str, Any]) -> Invocation | None:
    """The invocation, or None when the path names no API and stage."""
    # The signature covers the path exactly as sent: prefer the raw request target over PATH_INFO.
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    if raw_uri.startswith(("http://", "https://")):  # absolute-form request target
        target = urlsplit(raw_uri)
        raw_uri = target.path + (f"?{target.query}" if target.query else "")
    raw_path, _, raw_query = raw_uri.partition("?")
    if not raw_path.startswith("/"):
        raw_path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
        raw_query = environ.get("QUERY_STRING", "")
    if not raw_path.startswith(PREFIX):
        return None
    api_id, _, rest = raw_path[len(PREFIX):].partition("/")
    stage, _, sub_path = rest.partition("/")
    if not api_id or not stage:
        return None
    return Invocation(
        method=environ.get("REQUEST_METHOD", "GET").upper(),
        api_id=api_id,
        stage_name=stage,
        raw_path=raw_path,
        segments=[unquote(s) for s in sub_path.split("/") if s],
        query_string=raw_query or environ.get("QUERY_STRING", ""),
        headers=_headers(environ),
        body=_body(environ),
        source_ip=environ.get("REMOTE_ADDR", "127.0.0.1"),
        region_hint=environ.get("sandbox.region"),
    )


def _headers(environ: Mapping[str, Any]) -> dict[str, str]:
    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").title()] = value
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").title()] = environ[key]
    return headers


def _body(environ: Mapping[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(min(length, MAX_PAYLOAD_BYTES + 1)) if length > 0 else b""
