"""The routes of the two REST APIs, and the templates they render (components/templates/).

Mapping templates are VTL files (`*.vtl`); the gateway response template is `*.subst`, because API
Gateway does not run VTL on gateway responses, it only substitutes `$context`/`$stageVariables`
variables. Templates have `{{placeholder}}` slots for deployment values (table names, the app id,
the region's writable state); `fill_template` fills them, `template_values` gives the values of one
region. Caller input and DynamoDB strings are always escaped in the templates themselves.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from components.contract import (
    GALLERY,
    OWNER_TAG,
    PHOTO_IDS,
    PHOTO_PREFIX,
    STATES,
    USERNAME_PATTERN,
    WRITABLE_STATE,
    Table,
    photo_key,
)
from components.route import TEMPLATES_DIR_NAME, Route

if TYPE_CHECKING:  # pulumi only for type hints: ops/appclient imports the routes without loading the SDK
    import pulumi

TEMPLATES_DIR = Path(__file__).resolve().parent / TEMPLATES_DIR_NAME

# Shared templates (not tied to one route).
DYNAMODB_ERROR_TEMPLATE = "dynamodb-error.vtl"
"""Response template of the 4xx/5xx integration responses: DynamoDB errors -> {"code", "message"}."""
GATEWAY_ERROR_TEMPLATE = "gateway-error.subst"
"""Gateway responses DEFAULT_4XX and DEFAULT_5XX: every error API Gateway itself answers -> {"code", "message"}.
Substitution only (no VTL); `$context.error.validationErrorString` is left out, as AWS does not say it is
JSON-escaped (and it holds quotes)."""
CORS_PREFLIGHT_TEMPLATE = "cors-preflight.request.vtl"
"""Request template of the OPTIONS MOCK integration."""
SHARED_TEMPLATES = (DYNAMODB_ERROR_TEMPLATE, GATEWAY_ERROR_TEMPLATE, CORS_PREFLIGHT_TEMPLATE)

# GET /photos page size, and the cursor's decoded form (contract: photoKey = "<13-digit ms>-<photoId>").
PHOTOS_PAGE_DEFAULT = 24
PHOTOS_PAGE_MAX = 100
PHOTO_ID_PATTERN = "^[A-Za-z0-9_-]{1,64}$"
MAX_PHOTO_BYTES = 10 * 1024 * 1024

_DRAFT4 = "http://json-schema.org/draft-04/schema#"

# The version a state switch is conditioned on. Below 10^7 so that every reading of the JSON number by
# API Gateway (Integer, Long, Double: "9999999.0", String) renders a plain DynamoDB number in the template.
MAX_STATE_VERSION = 9_999_999
MAX_REASON_LENGTH = 200

STATE_MODEL = {
    "$schema": _DRAFT4,
    "title": "StateChange",
    "type": "object",
    # expectedVersion is required: the switch is a transaction (state item + audit record), which
    # returns no item, so it is always conditioned on the version the caller read.
    "required": ["state", "expectedVersion"],
    "properties": {
        "state": {"type": "string", "enum": list(STATES)},
        "expectedVersion": {"type": "integer", "minimum": 0, "maximum": MAX_STATE_VERSION},
        "reason": {"type": "string", "minLength": 1, "maxLength": MAX_REASON_LENGTH},
    },
}

COMMENT_MODEL = {
    "$schema": _DRAFT4,
    "title": "NewComment",
    "type": "object",
    "required": ["message"],
    # Other fields are allowed but never read: user and photoId come from the caller and the path.
    "properties": {"message": {"type": "string", "minLength": 1, "maxLength": 1000}},
}

PHOTO_MODEL = {
    "$schema": _DRAFT4,
    "title": "NewPhoto",
    "type": "object",
    "required": ["photoId", "size", "contentType"],
    "properties": {
        "photoId": {"type": "string", "pattern": PHOTO_ID_PATTERN},
        "size": {"type": "integer", "minimum": 1, "maximum": MAX_PHOTO_BYTES},
        "contentType": {"type": "string", "pattern": "^image/[a-z0-9.+-]{1,50}$"},
    },
}

_APP = Table.APP_CONFIG
_COMMENTS = Table.COMMENTS
_PHOTOS = Table.PHOTOS
_AUDIT = Table.STATE_AUDIT

ROUTING_ROUTES: tuple[Route, ...] = (
    Route(
        method="GET",
        path="/state/{appId}",
        action="GetItem",
        request_template="state-get.request.vtl",
        response_template="state-get.response.vtl",
        grants=(("dynamodb:GetItem", _APP),),
        summary="Routing state of the application (404 for an unknown app id).",
    ),
    Route(
        method="PUT",
        path="/state/{appId}",
        action="TransactWriteItems",
        request_template="state-put.request.vtl",
        response_template="state-put.response.vtl",
        grants=(("dynamodb:PutItem", _AUDIT), ("dynamodb:UpdateItem", _APP)),
        body_model=STATE_MODEL,
        operator_only=True,
        summary="Switch the routing state (operator only): conditional on expectedVersion, with its audit record.",
    ),
)

# The caller's owner value is a path segment of the write routes: API Gateway's $context carries no
# principal tags, so IAM verifies the segment (invoke granted on `${aws:PrincipalTag/owner}` only).
OWNER_PARAM = OWNER_TAG

PHOTOS_ROUTES: tuple[Route, ...] = (
    Route(
        method="GET",
        path="/comments/{photoId}",
        action="Query",
        request_template="comments-get.request.vtl",
        response_template="comments-get.response.vtl",
        grants=(("dynamodb:Query", _COMMENTS),),
        name="listComments",
        summary="Comments of a photo, oldest first.",
    ),
    Route(
        method="POST",
        path=f"/users/{{{OWNER_PARAM}}}/comments/{{photoId}}",
        action="TransactWriteItems",
        request_template="comments-post.request.vtl",
        response_template="comments-post.response.vtl",
        grants=(("dynamodb:ConditionCheckItem", _APP), ("dynamodb:PutItem", _COMMENTS)),
        body_model=COMMENT_MODEL,
        owner_param=OWNER_PARAM,
        name="postComment",
        summary="Add a comment as the caller (the path's owner, verified by IAM), only while this region is writable.",
    ),
    Route(
        method="GET",
        path="/photos",
        action="Query",
        request_template="photos-get.request.vtl",
        response_template="photos-get.response.vtl",
        grants=(("dynamodb:Query", _PHOTOS),),
        query_params=("limit", "cursor"),
        name="listPhotos",
        summary="Photos, newest first, a page at a time (limit 1..100, default 24; cursor from `next`).",
    ),
    Route(
        method="POST",
        path=f"/users/{{{OWNER_PARAM}}}/photos",
        action="TransactWriteItems",
        request_template="photos-post.request.vtl",
        response_template="photos-post.response.vtl",
        grants=(("dynamodb:ConditionCheckItem", _APP), ("dynamodb:PutItem", _PHOTOS)),
        body_model=PHOTO_MODEL,
        owner_param=OWNER_PARAM,
        name="registerPhoto",
        summary="Register a photo uploaded to public/<owner>/<photoId>: once per id, only while writable.",
    ),
)


def route_named(name: str, routes: tuple[Route, ...] = PHOTOS_ROUTES) -> Route:
    """The route whose `name` is `name`; KeyError naming the known ones otherwise."""
    for route in routes:
        if route.name == name:
            return route
    raise KeyError(f"no route named {name!r}; known: {', '.join(r.name for r in routes if r.name)}")


_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}")
# Filled values land inside JSON strings and single-quoted string literals of VTL: nothing that JSON or Velocity
# would interpret (braces and brackets are plain text in both without a `$` or `#` before them; both are refused).
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:/@+=,{}\[\]-]*$")


@cache
def load_template(name: str) -> str:
    """The text of components/templates/<name>."""
    path = TEMPLATES_DIR / name
    if path.parent != TEMPLATES_DIR or not path.is_file():
        raise ValueError(f"template {name!r}: no such file in {TEMPLATES_DIR}")
    return path.read_text(encoding="utf-8")


def placeholders(text: str) -> set[str]:
    """Names of the {{placeholders}} of a template."""
    return set(_PLACEHOLDER.findall(text))


def fill_template(text: str, values: Mapping[str, str]) -> str:
    """Replace every {{name}} with values[name].

    Raises ValueError naming the placeholders without a value, and the values that are not plain
    identifiers (a quote, backslash, `$` or `#` would change the JSON or the VTL around the slot).
    """
    missing = sorted(placeholders(text) - set(values))
    if missing:
        raise ValueError(f"template placeholders without a value: {', '.join(missing)}")
    unsafe = sorted(name for name in placeholders(text) if not _SAFE_VALUE.match(str(values[name])))
    if unsafe:
        raise ValueError(f"template values with characters not allowed in a template: {', '.join(unsafe)}")
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)


def whole_match(pattern: str) -> str:
    """A `^...$` pattern as the templates' `$value.matches('...')` takes it: Java's String.matches already matches
    the whole string (a trailing newline included), and a `$` in a template value would be VTL (fill_template
    refuses it, and any quote or backslash)."""
    if not (pattern.startswith("^") and pattern.endswith("$")):
        raise ValueError(f"pattern {pattern!r} must be anchored with ^ and $")
    return pattern[1:-1]


def template_values(
    app_id: str, table_names: Mapping[str, pulumi.Input[str]], role: str
) -> dict[str, pulumi.Input[str]]:
    """The placeholder values of one region's templates (resolve with Output.all(**values))."""
    if role not in WRITABLE_STATE:
        raise ValueError(f"role must be one of {', '.join(WRITABLE_STATE)}, got {role!r}")
    absent = [name for name in (_APP, _COMMENTS, _PHOTOS, _AUDIT) if name not in table_names]
    if absent:
        raise ValueError(f"table_names lacks {', '.join(absent)}")
    return {
        "appId": app_id,
        "appConfigTable": table_names[_APP],
        "commentsTable": table_names[_COMMENTS],
        "photosTable": table_names[_PHOTOS],
        "stateAuditTable": table_names[_AUDIT],
        "regionRole": role,
        "writableState": WRITABLE_STATE[role],
        "gallery": GALLERY,
        "photoIds": PHOTO_IDS,
        "photoPrefix": PHOTO_PREFIX,
        # dynamodb-error.vtl tells a taken photo id (PHOTO_EXISTS) from other conflicts on this route.
        "photoRegistrationPath": route_named("registerPhoto").path,
        # The write templates refuse an owner or photo id outside its pattern (one definition each).
        "usernamePattern": whole_match(USERNAME_PATTERN),
        "photoIdPattern": whole_match(PHOTO_ID_PATTERN),
    }


def route_templates(routes: tuple[Route, ...]) -> set[str]:
    """File names of the request and response templates of `routes`."""
    return {name for route in routes for name in (route.request_template, route.response_template)}


# -- what the web app needs to know of the API (webapp/src/contract.json, checked in sync by a test) --------------
WEBAPP_CONTRACT = Path(__file__).resolve().parent.parent / "webapp" / "src" / "contract.json"


def client_contract(routes: tuple[Route, ...] = PHOTOS_ROUTES) -> dict[str, Any]:
    """The named routes (method, path template), the object key template and the patterns of the ids
    the web app builds paths and keys from: one source for the program and the web app."""
    return {
        "routes": {r.name: {"method": r.method, "path": r.path} for r in routes if r.name},
        "photoKey": photo_key(f"{{{OWNER_PARAM}}}", "{photoId}"),
        "photoIdPattern": PHOTO_ID_PATTERN,
        "usernamePattern": USERNAME_PATTERN,
        "maxPhotoBytes": MAX_PHOTO_BYTES,
    }


def client_contract_json() -> str:
    return json.dumps(client_contract(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":  # python -m components.routes --write: regenerate webapp/src/contract.json
    if sys.argv[1:] == ["--write"]:
        WEBAPP_CONTRACT.write_text(client_contract_json(), encoding="utf-8")
    else:
        sys.stdout.write(client_contract_json())
