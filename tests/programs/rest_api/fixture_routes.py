"""The fixture route table of tests/programs/rest_api/fixture_api.py, shared with tests/test_rest_api.py."""

from __future__ import annotations

from components.route import Route

BODY = {"type": "object", "required": ["value"], "properties": {"value": {"type": "string"}}}
TABLES = {"appConfig": "fixture-app-config", "comments": "fixture-notes", "photos": "fixture-feed",
          "stateAudit": "fixture-audit"}


def fixture_routes(variant: str = "base") -> tuple[Route, ...]:
    """/items/{itemId} GET + PUT (operator only), /items/{itemId}/notes GET + POST, /feed GET.

    "route-changed" adds a query parameter to GET /feed; "duplicate-route" repeats GET /items/{itemId}.
    """
    routes = [
        Route("GET", "/items/{itemId}", "GetItem", "state-get.request.vtl", "state-get.response.vtl",
              grants=(("dynamodb:GetItem", "appConfig"),)),
        Route("PUT", "/items/{itemId}", "UpdateItem", "state-put.request.vtl", "state-put.response.vtl",
              grants=(("dynamodb:UpdateItem", "appConfig"),), body_model=BODY, operator_only=True),
        Route("GET", "/items/{itemId}/notes", "Query", "comments-get.request.vtl", "comments-get.response.vtl",
              grants=(("dynamodb:Query", "comments"),)),
        Route("POST", "/items/{itemId}/notes", "TransactWriteItems", "comments-post.request.vtl",
              "comments-post.response.vtl",
              grants=(("dynamodb:ConditionCheckItem", "appConfig"), ("dynamodb:PutItem", "comments")),
              body_model=BODY),
        Route("GET", "/feed", "Query", "photos-get.request.vtl", "photos-get.response.vtl",
              grants=(("dynamodb:Query", "photos"),),
              query_params=("limit", "cursor", "order") if variant == "route-changed" else ("limit", "cursor")),
    ]
    if variant == "duplicate-route":
        routes.append(routes[0])
    return tuple(routes)


def fixture_tables(variant: str = "base") -> dict[str, str]:
    """Logical -> physical table names; "value-changed" renames the comments table."""
    return {**TABLES, "comments": "fixture-notes-v2"} if variant == "value-changed" else dict(TABLES)
