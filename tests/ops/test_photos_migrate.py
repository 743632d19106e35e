"""`photos migrate`: the uniqueness markers of photos registered before markers existed, written conditionally in
the primary's photos table (moto); the marker's one definition (contract.photo_id_marker) against the registration
template; the operator's grant for it, least privilege, under mocks and IAM's evaluation rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

import vtl
from components.contract import GALLERY, PHOTO_IDS, GalleryItem, Out, Table, photo_id_marker, photo_key
from components.routes import fill_template, load_template, template_values
from harness.program import ProgramRun
from ops import photos
from sandbox.iam_policy import is_allowed
from tests.ops.conftest import World

LEGACY_AT = 1_700_000_000_000  # epoch ms: registered by an older release, before markers existed
EPOCH = 1_767_225_600_123


# -- the marker's shape is the registration template's ----------------------------------------------------------


def test_the_registration_template_puts_the_contracts_marker_and_gallery_item() -> None:
    tables = {Table.APP_CONFIG: "app", Table.COMMENTS: "comments", Table.PHOTOS: "photos", Table.STATE_AUDIT: "a"}
    text = fill_template(load_template("photos-post.request.vtl"), template_values("app-id", tables, "primary"))
    rendered = vtl.render(text, body=json.dumps({"photoId": "p1", "size": 5, "contentType": "image/png"}),
                          params={"path": {"owner": "alice"}, "querystring": {}, "header": {}},
                          context={"requestId": "r1", "requestTimeEpoch": EPOCH})
    marker, gallery = (item["Put"] for item in json.loads(rendered.text)["TransactItems"][1:])
    assert marker == {"TableName": "photos", "Item": photo_id_marker("p1", "alice", str(EPOCH)),
                      "ConditionExpression": GalleryItem.MARKER_CONDITION}
    assert tuple(marker["Item"]) == GalleryItem.MARKER_ATTRIBUTES
    assert set(gallery["Item"]) == set(GalleryItem.ATTRIBUTES)
    assert gallery["Item"][GalleryItem.PARTITION] == {"S": GALLERY}
    assert gallery["Item"][GalleryItem.KEY] == {"S": photo_key("alice", "p1")}
    assert gallery["Item"][GalleryItem.SORT_KEY] == {"S": f"{EPOCH}-p1"}


# -- the command, against moto ---------------------------------------------------------------------------------


def register(world: World, photo_id: str, owner: str, at: int = LEGACY_AT, *, marker: bool = False,
             role: str = "primary") -> None:
    """A gallery item as the registration writes it (an older release's: key public/<photoId>, no marker)."""
    ddb, table = world.ddb(role), world.table(Table.PHOTOS)
    ddb.put_item(TableName=table, Item={
        GalleryItem.PARTITION: {"S": GALLERY}, GalleryItem.SORT_KEY: {"S": f"{at}-{photo_id}"},
        GalleryItem.PHOTO_ID: {"S": photo_id}, GalleryItem.KEY: {"S": f"public/{photo_id}"},
        GalleryItem.OWNER: {"S": owner}, GalleryItem.CREATED_AT: {"N": str(at)}, GalleryItem.SIZE: {"N": "5"},
        GalleryItem.CONTENT_TYPE: {"S": "image/png"}})
    if marker:
        ddb.put_item(TableName=table, Item=photo_id_marker(photo_id, owner, str(at)))


def markers(world: World, role: str = "primary") -> dict[str, dict[str, Any]]:
    items = world.ddb(role).query(
        TableName=world.table(Table.PHOTOS), KeyConditionExpression="#p = :p",
        ExpressionAttributeNames={"#p": GalleryItem.PARTITION}, ExpressionAttributeValues={":p": {"S": PHOTO_IDS}},
        ConsistentRead=True)["Items"]
    return {item[GalleryItem.SORT_KEY]["S"]: item for item in items}


def test_migrate_dry_run_lists_registered_photos_without_a_marker_and_writes_nothing(ops, world):
    register(world, "legacy1", "us-east-1:identity-1")
    register(world, "new1", "alice", EPOCH, marker=True)
    result = ops("photos", "migrate", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["dryRun"] is True and answer["role"] == "primary" and answer["region"] == world.primary
    assert (answer["registrations"], answer["markers"]) == (2, 1)
    assert [(m["photoId"], m["owner"], m["createdAt"]) for m in answer["missing"]] == [
        ("legacy1", "us-east-1:identity-1", LEGACY_AT)]
    assert set(markers(world)) == {"new1"}
    assert "dry run: 1 marker(s) would be written; run again with --apply" in result.stderr
    assert f"read in the primary region ({world.primary}) only: the photos table is a global table" in result.stderr


def test_migrate_apply_writes_the_contracts_marker_and_a_second_run_finds_nothing(ops, world):
    register(world, "legacy1", "us-east-1:identity-1")
    register(world, "legacy2", "bob", LEGACY_AT + 5)
    result = ops("photos", "migrate", "--apply")
    assert result.exit_code == 0, result.output
    assert "wrote 2 marker(s); 0 already there" in result.stderr
    found = markers(world)
    assert found["legacy1"] == photo_id_marker("legacy1", "us-east-1:identity-1", str(LEGACY_AT))
    assert found["legacy2"] == photo_id_marker("legacy2", "bob", str(LEGACY_AT + 5))
    again = ops("photos", "migrate", "--apply", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["missing"] == []
    assert "nothing to migrate" in again.stderr


def test_migrate_never_overwrites_a_marker_written_meanwhile(ops, world, monkeypatch):
    register(world, "legacy1", "us-east-1:identity-1")
    table = world.table(Table.PHOTOS)
    read = photos.partition

    def read_then_someone_registers(*args: Any, **kwargs: Any) -> Any:
        items = read(*args, **kwargs)
        if args[2] == PHOTO_IDS:  # after the markers were read, before the put
            world.ddb("primary").put_item(TableName=table, Item=photo_id_marker("legacy1", "carol", str(EPOCH)))
        return items

    monkeypatch.setattr(photos, "partition", read_then_someone_registers)
    result = ops("photos", "migrate", "--apply", "--json")
    assert result.exit_code == 0, result.output
    [missing] = json.loads(result.stdout)["missing"]
    assert missing["alreadyThere"] is True and missing["written"] is False
    assert markers(world)["legacy1"] == photo_id_marker("legacy1", "carol", str(EPOCH))  # as it was written


def test_an_id_an_older_release_registered_twice_gets_its_first_registrations_marker(ops, world):
    register(world, "dup", "first-owner", LEGACY_AT)
    register(world, "dup", "second-owner", LEGACY_AT + 1000)
    result = ops("photos", "migrate", "--apply", "--json")
    assert result.exit_code == 0, result.output
    [missing] = json.loads(result.stdout)["missing"]
    assert (missing["owner"], missing["registrations"], missing["written"]) == ("first-owner", 2, True)
    assert markers(world)["dup"][GalleryItem.OWNER] == {"S": "first-owner"}


def test_migrate_reads_and_writes_the_primary_only(ops, world):
    register(world, "only-in-secondary", "bob", role="secondary")  # not replicated in moto: not the primary's
    register(world, "legacy1", "alice")
    result = ops("photos", "migrate", "--apply", "--json")
    assert [m["photoId"] for m in json.loads(result.stdout)["missing"]] == ["legacy1"]
    assert markers(world, "secondary") == {}


def test_migrate_with_the_primary_down_exits_4_and_writes_nothing(ops, world):
    register(world, "legacy1", "alice")
    world.factory.down.add(world.primary)
    result = ops("photos", "migrate", "--apply")
    assert result.exit_code == 4
    assert result.stderr.endswith("nothing written; run it again once the primary answers\n")
    assert "could not read the photo registrations of " + world.primary in result.stderr


# -- the operator's grant --------------------------------------------------------------------------------------


def operator_statements(run: ProgramRun) -> dict[str, dict[str, Any]]:
    policy = json.loads(run.one("aws:iam/policy:Policy", "operator").inputs["policy"])
    return {s["Sid"]: s for s in policy["Statement"]}


def photos_table_arn(run: ProgramRun, role: str) -> str:
    region = run.outputs[role]["region"]
    return f"arn:aws:dynamodb:{region}:123456789012:table/{run.outputs[Out.TABLES][Table.PHOTOS]}"


def test_operator_may_put_markers_only_in_the_primarys_marker_partition(prod: ProgramRun) -> None:
    statements = operator_statements(prod)
    primary = photos_table_arn(prod, "primary")
    assert statements["MigratePhotoIdMarkers"] == {
        "Sid": "MigratePhotoIdMarkers", "Effect": "Allow", "Action": ["dynamodb:PutItem"], "Resource": [primary],
        "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [PHOTO_IDS]}}}
    policy = prod.one("aws:iam/policy:Policy", "operator").inputs["policy"]
    # As IAM evaluates it, with the partition key values DynamoDB puts in dynamodb:LeadingKeys:
    assert is_allowed([policy], "dynamodb:PutItem", primary, {"dynamodb:LeadingKeys": [PHOTO_IDS]})
    assert not is_allowed([policy], "dynamodb:PutItem", primary, {"dynamodb:LeadingKeys": [GALLERY]})
    assert not is_allowed([policy], "dynamodb:PutItem", photos_table_arn(prod, "secondary"),
                          {"dynamodb:LeadingKeys": [PHOTO_IDS]})
    for action in ("dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"):
        assert not is_allowed([policy], action, primary, {"dynamodb:LeadingKeys": [PHOTO_IDS]}), action


@pytest.mark.parametrize("leading", [[GALLERY], [PHOTO_IDS, GALLERY]])
def test_operator_cannot_write_a_gallery_item(prod: ProgramRun, leading: list[str]) -> None:
    policy = prod.one("aws:iam/policy:Policy", "operator").inputs["policy"]
    assert not is_allowed([policy], "dynamodb:PutItem", photos_table_arn(prod, "primary"),
                          {"dynamodb:LeadingKeys": leading})
