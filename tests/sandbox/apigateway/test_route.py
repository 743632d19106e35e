"""Stage route: API and stage, then the most specific resource and its method, as API Gateway routes."""

from __future__ import annotations

import pytest

from sandbox.apigateway.route import match
from tests.sandbox.apigateway.conftest import REGION, World


@pytest.mark.parametrize(
    ("resource_path", "segments", "expected"),
    [
        ("/state/{appId}", ["state", "app"], ((0, 1), {"appId": "app"})),
        ("/state/current", ["state", "current"], ((0, 0), {})),
        ("/files/{path+}", ["files", "a", "b"], ((0, 2), {"path": "a/b"})),
        ("/files/{path+}", ["files"], None),  # a greedy parameter needs at least one segment
        ("/state/{appId}", ["state"], None),
        ("/state/{appId}", ["state", "a", "b"], None),
        ("/", [], ((), {})),
    ],
)
def test_resource_paths_match_segment_by_segment(resource_path: str, segments: list[str], expected: object) -> None:
    assert match(resource_path, segments) == expected


def test_a_literal_resource_wins_over_a_path_parameter(world: World) -> None:
    got = world.call("GET", "/state/current")
    assert got.status_code == 200 and got.json == {"which": "literal"}


def test_unknown_path_or_method_is_403_missing_authentication_token(world: World) -> None:
    for method, path in (("GET", "/nowhere"), ("GET", "/state"), ("DELETE", "/state/app"), ("GET", "/state/a/b")):
        got = world.call(method, path, signer=world.operator)
        assert got.status_code == 403, (method, path)
        assert got.json == {"code": "MISSING_AUTHENTICATION_TOKEN", "message": "Missing Authentication Token"}


def test_unknown_api_or_stage_is_a_bare_403_forbidden(world: World) -> None:
    assert world.call("GET", "/state/app", signer=world.user, api_id="nope123456").status_code == 403
    got = world.call("GET", "/state/app", signer=world.user, stage="dev")
    assert got.status_code == 403 and got.json == {"message": "Forbidden"}


def test_an_api_is_served_only_on_its_own_regions_port(world: World) -> None:
    mine = world.call("GET", "/state/app", signer=world.user, environ={"sandbox.region": REGION})
    other = world.call("GET", "/state/app", signer=world.user, environ={"sandbox.region": "ap-northeast-1"})
    assert mine.status_code == 200
    assert other.status_code == 403 and other.json == {"message": "Forbidden"}
