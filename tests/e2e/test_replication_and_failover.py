"""Replication in both directions and the failover runbook, against the deployed sandbox over HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from components.contract import photo_key
from ops.appclient import AppUser, new_photo_id
from ops.cli import app
from ops.factory import Factory
from sandbox.up import Sandbox
from tests.e2e.conftest import WAIT, set_state_everywhere
from tests.sandbox.cloud_support import eventually as eventually_within

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def eventually(check: Callable[[], Any]) -> Any:
    return eventually_within(check, timeout=WAIT, interval=0.05)


@pytest.fixture
def ops(session_file: Path) -> Callable[..., Result]:
    def invoke(*args: str) -> Result:
        return CliRunner().invoke(app, ["--sandbox", *args], obj=Factory(session_file=session_file))

    return invoke


def _other(role: str) -> str:
    return "secondary" if role == "primary" else "primary"


@pytest.mark.parametrize("writer", ["primary", "secondary"])
def test_comments_photo_records_and_bytes_replicate_to_the_other_region(
        sandbox: Sandbox, user: AppUser, writer: str) -> None:
    if writer == "secondary":
        set_state_everywhere(sandbox, "failover")
    photo = new_photo_id(f"repl-{writer}-")
    started = time.monotonic()
    user.upload_photo(writer, photo, PNG)
    user.post_comment(writer, photo, f"written in the {writer}")
    reader = _other(writer)
    eventually(lambda: [c for c in user.comments(reader, photo) if c["message"] == f"written in the {writer}"])
    eventually(lambda: any(p["photoId"] == photo for p in user.photos(reader)))
    eventually(lambda: user.get_object(reader, photo).status == 200)
    assert user.get_object(reader, photo).body == PNG
    # Asynchronous, like AWS: nothing arrives before the configured lag.
    assert time.monotonic() - started >= sandbox.cloud.replication_lag * 0.9


def test_replication_is_asynchronous(sandbox: Sandbox, user: AppUser) -> None:
    photo = new_photo_id("async-")
    user.post_comment("primary", photo, "not yet there")
    assert user.comments("secondary", photo) == []
    eventually(lambda: user.comments("secondary", photo))


def test_ops_state_set_walks_the_runbook_and_the_apis_follow(sandbox: Sandbox, user: AppUser, ops) -> None:
    assert ops("state", "set", "failover").exit_code == 3  # the risky jump is refused
    assert ops("state", "set", "fenced", "--reason", "drill").exit_code == 0
    eventually(lambda: user.state("secondary").body["state"] == "fenced")
    assert user.send_comment("primary", "rb", "x").status == 409
    assert ops("state", "set", "failover", "--via", "secondary").exit_code == 0
    eventually(lambda: user.state("primary").body["state"] == "failover")
    assert user.send_comment("secondary", "rb", "in failover").status == 200
    assert user.send_comment("primary", "rb", "x").status == 409
    got = ops("state", "get", "--json")
    assert got.exit_code == 0, got.output
    answer = json.loads(got.stdout)
    assert answer["consistent"] and {r["state"] for r in answer["regions"].values()} == {"failover"}


def test_primary_outage_drill_loses_no_acknowledged_write(sandbox: Sandbox, user: AppUser, ops) -> None:
    acknowledged: list[tuple[str, str]] = []  # (photoId, message)

    def write(role: str, n: int) -> None:
        photo = new_photo_id("drill-")
        user.post_comment(role, photo, f"write {n} in {role}")
        acknowledged.append((photo, f"write {n} in {role}"))

    for n in range(3):
        write("primary", n)
    sandbox.cloud.set_outage("primary", True)
    assert user.state("primary").status in (0, 503)
    result = ops("state", "set", "fenced")  # auto: the primary does not answer, written through the secondary
    assert result.exit_code == 0, result.output
    assert "secondary" in result.output
    assert ops("state", "set", "failover", "--via", "secondary").exit_code == 0
    for n in range(3, 6):
        write("secondary", n)
    sandbox.cloud.set_outage("primary", False)
    eventually(lambda: user.state("primary").body["state"] == "failover")
    assert ops("state", "set", "fenced", "--via", "secondary").exit_code == 0
    assert sandbox.cloud.wait_replication_idle(WAIT)
    assert ops("state", "set", "active", "--via", "primary").exit_code == 0
    eventually(lambda: user.state("secondary").body["state"] == "active")
    user.post_comment("primary", "after-failback", "writes are back in the primary")
    for role in ("primary", "secondary"):
        for photo, message in acknowledged:
            assert [c["message"] for c in user.comments(role, photo)] == [message], (role, photo)


def test_the_state_history_records_who_and_why_in_both_regions(sandbox: Sandbox, ops) -> None:
    assert ops("state", "set", "fenced", "--reason", "maintenance window").exit_code == 0
    item = sandbox.client("dynamodb", "us-east-1").get_item(
        TableName=sandbox.outputs["tables"]["appConfig"], Key={"appId": {"S": sandbox.outputs["appId"]}})["Item"]
    assert "history" not in item
    [last] = json.loads(ops("state", "history", "--limit", "1", "--json").stdout)["records"]
    assert (last["from"], last["to"], last["reason"]) == ("active", "fenced", "maintenance window")
    assert last["by"].startswith("arn:aws:")  # the caller (sts:GetCallerIdentity)
    # The audit table is a global table: the record reaches the secondary too.
    audit = sandbox.outputs["tables"]["stateAudit"]
    eventually(lambda: sandbox.client("dynamodb", "ap-northeast-1").get_item(
        TableName=audit, Key={"appId": {"S": last["appId"]}, "auditKey": {"S": last["auditKey"]}}).get("Item"))


def test_one_person_is_one_author_in_both_regions_across_a_failover(sandbox: Sandbox, user: AppUser, ops) -> None:
    photo = new_photo_id("one-person-")
    user.upload_photo("primary", photo, PNG)
    user.post_comment("primary", photo, "posted through the primary")
    assert ops("state", "set", "fenced", "--reason", "one person").exit_code == 0
    assert sandbox.cloud.wait_replication_idle(WAIT)
    assert ops("state", "set", "failover", "--via", "secondary").exit_code == 0

    # The same person signs in through the SECONDARY's user pool and identity pool: another identity id, the
    # same owner value.
    demo = sandbox.demo_user
    there = AppUser.sign_in(sandbox.ui_config, demo["username"], demo["password"], role="secondary")
    assert there.identity_id != user.identity_id
    assert there.identity_id.startswith(sandbox.ui_config["secondary"]["region"] + ":")
    assert there.owner == user.owner == demo["username"]
    [record] = [p for p in there.photos("secondary") if p["photoId"] == photo]
    assert (record["owner"], record["key"]) == (there.owner, photo_key(there.owner, photo))
    assert there.get_object("secondary", photo).body == PNG
    assert [(c["message"], c["user"]) for c in there.comments("secondary", photo)] == [
        ("posted through the primary", there.owner)]

    # What they post there carries the same owner value, in both regions once replicated.
    second = new_photo_id("one-person-there-")
    there.upload_photo("secondary", second, PNG)
    there.post_comment("secondary", photo, "posted through the secondary")
    expected = [("posted through the primary", user.owner), ("posted through the secondary", user.owner)]
    for role in ("secondary", "primary"):
        eventually(lambda role=role: [(c["message"], c["user"]) for c in there.comments(role, photo)] == expected)
        eventually(lambda role=role: [(p["owner"], p["key"]) for p in user.photos(role) if p["photoId"] == second]
                   == [(user.owner, photo_key(user.owner, second))])
    eventually(lambda: user.get_object("primary", second).body == PNG)  # the primary's session reads it as its own
