"""The web app builds API paths and object keys from webapp/src/contract.json, generated from the route
table: the file must say what the program deploys."""

from __future__ import annotations

import json
import re

from components.contract import USERNAME_PATTERN, photo_key
from components.routes import PHOTO_ID_PATTERN, PHOTOS_ROUTES, WEBAPP_CONTRACT, client_contract, client_contract_json


def test_the_web_apps_contract_file_is_in_sync_with_the_route_table() -> None:
    assert WEBAPP_CONTRACT.read_text(encoding="utf-8") == client_contract_json(), (
        "webapp/src/contract.json is stale: regenerate it with `.venv/bin/python -m components.routes --write`"
    )


def test_the_contract_names_every_photos_route_and_only_those() -> None:
    routes = json.loads(WEBAPP_CONTRACT.read_text())["routes"]
    assert routes == {r.name: {"method": r.method, "path": r.path} for r in PHOTOS_ROUTES}
    assert routes["registerPhoto"] == {"method": "POST", "path": "/users/{owner}/photos"}
    assert routes["postComment"] == {"method": "POST", "path": "/users/{owner}/comments/{photoId}"}


def test_the_contracts_photo_key_template_is_the_programs_photo_key() -> None:
    template = client_contract()["photoKey"]
    assert template.format(owner="alice", photoId="p1") == photo_key("alice", "p1") == "public/alice/p1"


def test_usernames_the_app_accepts_are_valid_tag_values_key_segments_and_path_segments() -> None:
    accepted = re.compile(USERNAME_PATTERN)
    for name in ("alice", "bob.smith", "carol_2", "d-e", "0day", "a" * 64):
        assert accepted.match(name), name
    # '/' would reach into another owner's prefix (alice/x writes under public/alice/), '*'/'?' are IAM
    # wildcards, '$' '{' '}' policy-variable syntax, upper case a second spelling of a case-insensitive name.
    for name in ("alice/x", "a*", "a?", "${x}", "Alice", "", ".hidden", "-x", "a b", "é", "a" * 65, "a@b", "a:b"):
        assert not accepted.match(name), name
    assert json.loads(WEBAPP_CONTRACT.read_text())["usernamePattern"] == USERNAME_PATTERN
    assert json.loads(WEBAPP_CONTRACT.read_text())["photoIdPattern"] == PHOTO_ID_PATTERN
