"""`status`: state, counts and the replication probe per region."""

from __future__ import annotations

import json

from ops.status import _count


def add_photos(world, role, n, gallery="public"):
    for i in range(n):
        world.ddb(role).put_item(TableName=world.table("photos"), Item={
            "gallery": {"S": gallery}, "photoKey": {"S": f"{1700000000000 + i}-p{i}"}, "photoId": {"S": f"p{i}"},
        })


def add_comments(world, role, n):
    for i in range(n):
        world.ddb(role).put_item(TableName=world.table("comments"), Item={
            "photoId": {"S": f"p{i % 2}"}, "commentKey": {"S": f"{1700000000000 + i}-c{i}"},
        })


def replicate_probes(world):
    """What global tables would do for the probe item: copy the newest write to the other region."""
    key = {"appId": {"S": f"{world.outputs['appId']}#probe"}}
    items = {}
    for role in ("primary", "secondary"):
        items[role] = world.ddb(role).get_item(TableName=world.table("appConfig"), Key=key).get("Item")
    newest = max((i for i in items.values() if i), key=lambda i: int(i["writtenAt"]["N"]), default=None)
    if newest:
        for role in ("primary", "secondary"):
            world.ddb(role).put_item(TableName=world.table("appConfig"), Item=newest)


def test_status_counts_photos_of_the_gallery_and_comments_per_region(ops, world):
    add_photos(world, "primary", 3)
    add_photos(world, "primary", 2, gallery="elsewhere")
    add_comments(world, "primary", 4)
    add_photos(world, "secondary", 1)
    world.put_state("secondary", "fenced", 2)
    result = ops("status", "--probe-timeout", "0", "--json")
    assert result.exit_code == 0, result.output
    regions = json.loads(result.stdout)["regions"]
    assert regions["primary"]["photos"] == {"count": 3, "complete": True, "error": None}
    assert regions["primary"]["comments"] == {"count": 4, "complete": True, "error": None}
    assert regions["secondary"]["photos"]["count"] == 1 and regions["secondary"]["comments"]["count"] == 0
    assert (regions["primary"]["state"]["state"], regions["secondary"]["state"]["state"]) == ("active", "fenced")


def test_status_probe_measures_replication_in_both_directions(ops, world):
    world.factory.on_sleep = lambda _: replicate_probes(world)
    result = ops("status", "--json")
    assert result.exit_code == 0, result.output
    probes = json.loads(result.stdout)["replication"]
    assert [(p["source"], p["destination"], p["replicated"], p["lagMs"]) for p in probes] == [
        ("primary", "secondary", True, 100), ("secondary", "primary", True, 100)
    ]
    assert f"probing replication {world.primary} -> {world.secondary} (up to 10 s)..." in result.stderr


def test_status_probe_reports_no_replication_within_the_bound(ops, world):
    result = ops("status", "--probe-timeout", "0.5")
    assert result.exit_code == 0
    assert f"replication {world.primary} -> {world.secondary}: not replicated within 0.5 s" in result.stderr
    assert f"replication {world.secondary} -> {world.primary}: not replicated within 0.5 s" in result.stderr
    assert sum(world.factory.slept) < 1.5  # bounded: about 0.5 s of polling per direction
    # The probe is its own item: the state item is untouched.
    assert world.state_item("primary")["state"] == "active" and "token" not in world.state_item("primary")


def test_status_reports_an_unreachable_region_and_skips_the_probe(ops, world):
    world.factory.down.add(world.secondary)
    result = ops("status", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["regions"]["secondary"]["reachable"] is False and data["replication"] == []
    assert data["regions"]["primary"]["state"]["state"] == "active"
    assert "warning: replication probe skipped: a region is unreachable" in result.stderr


def test_counting_stops_after_the_page_limit_and_says_so():
    pages = [{"Count": 5, "LastEvaluatedKey": {"k": 1}}] * 3 + [{"Count": 2}]
    bounded = _count(iter(pages), 2)
    assert (bounded.count, bounded.complete, bounded.text()) == (10, False, ">= 10 (stopped after the page limit)")
    full = _count(iter(pages), 10)
    assert (full.count, full.complete) == (17, True)
