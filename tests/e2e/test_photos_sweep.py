"""`python -m ops photos sweep` and `photos migrate` against the deployed sandbox, with the operator's keys (the
operator policy as deployed, enforced by the sandbox): unregistered objects older than the cut-off go, in both
regions, registered ones never do; the operator's S3 grants are exactly what the sweep needs. Photo ids an older
release registered without a marker get one, and nobody can register them again."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from typer.testing import CliRunner, Result

from components.contract import (
    GALLERY,
    PHOTO_IDS,
    PHOTO_PREFIX,
    REGION_ROLES,
    GalleryItem,
    Out,
    RegionOut,
    Table,
    photo_id_marker,
    photo_key,
)
from ops.appclient import AppUser, new_photo_id
from ops.cli import app
from ops.factory import Factory
from ops.photos import HOUR_MS
from sandbox.up import Sandbox
from tests.e2e.conftest import WAIT

S3V4 = Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1})


@dataclass
class Later(Factory):
    """The operator's CLI on a clock `hours` ahead: what was uploaded now is that old for the sweep."""

    hours: int = 25

    def now_ms(self) -> int:
        return super().now_ms() + self.hours * HOUR_MS


@pytest.fixture
def sweep(session_file: Path) -> Callable[..., Result]:
    def invoke(*args: str, hours_later: int = 0) -> Result:
        factory = Later(session_file=session_file, hours=hours_later)
        return CliRunner().invoke(app, ["--sandbox", "photos", "sweep", *args], obj=factory)

    return invoke


def versions(sandbox: Sandbox, role: str, key: str) -> tuple[int, int]:
    """(versions, delete markers) of `key` in `role`'s photo bucket, read as the administrator."""
    admin = sandbox.client("s3", sandbox.ui_config[role][RegionOut.REGION])
    listing = admin.list_object_versions(Bucket=sandbox.ui_config[role][RegionOut.BUCKET], Prefix=key)
    return (len([v for v in listing.get("Versions", []) if v["Key"] == key]),
            len([m for m in listing.get("DeleteMarkers", []) if m["Key"] == key]))


def current(sandbox: Sandbox, role: str, key: str) -> bool:
    admin = sandbox.client("s3", sandbox.ui_config[role][RegionOut.REGION])
    try:
        admin.head_object(Bucket=sandbox.ui_config[role][RegionOut.BUCKET], Key=key)
    except ClientError:
        return False
    return True


def stray_keys(result: Result) -> dict[str, set[str]]:
    assert result.exit_code == 0, result.output
    strays = json.loads(result.stdout)["strays"]
    return {role: {s["key"] for s in strays if s["role"] == role} for role in REGION_ROLES}


@pytest.fixture
def registered_and_not(sandbox: Sandbox, user: AppUser) -> tuple[str, str]:
    """(a registered photo's key, an unregistered object's key), both replicated to the secondary."""
    registered, unregistered = new_photo_id("sweep-kept-"), new_photo_id("sweep-stray-")
    user.upload_photo("primary", registered, b"\x89PNG registered")
    assert user.put_object("primary", unregistered, b"\x89PNG never registered", "image/png").status == 200
    assert sandbox.cloud.wait_replication_idle(WAIT)
    keys = photo_key(user.owner, registered), photo_key(user.owner, unregistered)
    assert all(current(sandbox, role, key) for role in REGION_ROLES for key in keys)
    return keys


def test_the_sweep_deletes_only_unregistered_objects_older_than_the_cutoff_in_both_regions(
        sandbox: Sandbox, user: AppUser, sweep: Callable[..., Result], registered_and_not: tuple[str, str]) -> None:
    registered, unregistered = registered_and_not
    # Today both are younger than 24 hours: nothing to delete, the stray is counted as kept.
    today = sweep("--json")
    assert stray_keys(today) == {role: set() for role in REGION_ROLES}  # nothing in the sandbox is a day old
    assert json.loads(today.stdout)["younger"] >= 2

    # 25 hours later, a dry run lists the stray in both regions and deletes nothing.
    dry = sweep("--json", hours_later=25)
    listed = stray_keys(dry)
    assert all(unregistered in listed[role] and registered not in listed[role] for role in REGION_ROLES)
    assert json.loads(dry.stdout)["dryRun"] is True
    assert "run again with --apply" in dry.output
    registrations = {p["key"] for p in user.all_photos("primary") or []}
    assert not (listed["primary"] | listed["secondary"]) & registrations  # never a registered object
    assert all(current(sandbox, role, unregistered) for role in REGION_ROLES)

    # --apply deletes it in both regions (a delete marker; the bytes stay a noncurrent version).
    applied = sweep("--apply", "--json", hours_later=25)
    assert unregistered in stray_keys(applied)["primary"]
    report = json.loads(applied.stdout)
    assert report["failed"] == 0 and all(s["deleted"] for s in report["strays"])
    assert "delete marker" in applied.output
    assert sandbox.cloud.wait_replication_idle(WAIT)
    for role in REGION_ROLES:
        assert not current(sandbox, role, unregistered), role
        assert versions(sandbox, role, unregistered)[0] == 1 and versions(sandbox, role, unregistered)[1] >= 1
        assert current(sandbox, role, registered) and versions(sandbox, role, registered) == (1, 0), role
    assert user.get_object("primary", registered.rsplit("/", 1)[-1]).body == b"\x89PNG registered"

    # Nothing is left to sweep: a second run finds nothing of ours.
    again = stray_keys(sweep("--apply", "--json", hours_later=25))
    assert unregistered not in again["primary"] | again["secondary"]


def test_the_sweep_deletes_nothing_when_a_regions_registrations_cannot_be_read(
        sandbox: Sandbox, sweep: Callable[..., Result], registered_and_not: tuple[str, str]) -> None:
    _, unregistered = registered_and_not
    sandbox.cloud.set_outage("secondary", True)
    try:
        result = sweep("--apply", hours_later=25)
    finally:
        sandbox.cloud.set_outage("secondary", False)
    assert result.exit_code == 4, result.output
    assert "nothing deleted" in result.output
    assert all(current(sandbox, role, unregistered) for role in REGION_ROLES)


@pytest.mark.parametrize("args", [["--older-than-hours", "0"], ["--older-than-hours", "x"], ["--bogus"]])
def test_bad_sweep_arguments_are_usage_errors(sweep: Callable[..., Result], args: list[str]) -> None:
    result = sweep(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def operator_s3(sandbox: Sandbox, role: str) -> Any:
    keys = sandbox.operator
    region = sandbox.ui_config[role][RegionOut.REGION]
    return boto3.client("s3", region_name=region, endpoint_url=sandbox.cloud.region_endpoint(region),
                        aws_access_key_id=keys["accessKeyId"], aws_secret_access_key=keys["secretAccessKey"],
                        config=S3V4)


def refused(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


@pytest.mark.parametrize("role", REGION_ROLES)
def test_the_operator_may_list_and_delete_under_public_and_nothing_more(sandbox: Sandbox, user: AppUser,
                                                                         role: str) -> None:
    """Least privilege for the sweep; the app users' bucket-policy denials (which name their roles) do not
    stop the operator's delete."""
    s3, bucket = operator_s3(sandbox, role), sandbox.ui_config[role][RegionOut.BUCKET]
    admin = sandbox.client("s3", sandbox.ui_config[role][RegionOut.REGION])
    photo_id = new_photo_id("op-")
    assert user.put_object(role, photo_id, b"\x89PNG op", "image/png").status == 200
    key = photo_key(user.owner, photo_id)
    outside = f"private/{photo_id}"
    admin.put_object(Bucket=bucket, Key=outside, Body=b"not a photo")

    assert s3.list_objects_v2(Bucket=bucket, Prefix="public/")["KeyCount"] >= 1
    assert refused(lambda: s3.list_objects_v2(Bucket=bucket)) == (403, "AccessDenied")
    assert refused(lambda: s3.list_objects_v2(Bucket=bucket, Prefix="private/")) == (403, "AccessDenied")
    assert refused(lambda: s3.get_object(Bucket=bucket, Key=key)) == (403, "AccessDenied")
    assert refused(lambda: s3.put_object(Bucket=bucket, Key=f"public/op/{photo_id}", Body=b"x",
                                         IfNoneMatch="*")) == (403, "AccessDenied")
    assert refused(lambda: s3.delete_object(Bucket=bucket, Key=outside)) == (403, "AccessDenied")
    [version] = [v["VersionId"] for v in admin.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
                 if v["Key"] == key]
    assert refused(lambda: s3.delete_object(Bucket=bucket, Key=key, VersionId=version)) == (403, "AccessDenied")
    assert versions(sandbox, role, key) == (1, 0) and current(sandbox, role, outside)

    s3.delete_object(Bucket=bucket, Key=key)  # what the sweep does: a delete marker
    assert not current(sandbox, role, key) and versions(sandbox, role, key)[0] == 1
    admin.delete_object(Bucket=bucket, Key=outside)


# -- photos migrate: the markers older releases did not write ----------------------------------------------------


def migrate(session_file: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["--sandbox", "photos", "migrate", *args], obj=Factory(session_file=session_file))


def marker_in(sandbox: Sandbox, role: str, photo_id: str) -> dict[str, Any] | None:
    return sandbox.client("dynamodb", sandbox.ui_config[role][RegionOut.REGION]).get_item(
        TableName=sandbox.outputs[Out.TABLES][Table.PHOTOS], ConsistentRead=True,
        Key={GalleryItem.PARTITION: {"S": PHOTO_IDS}, GalleryItem.SORT_KEY: {"S": photo_id}}).get("Item")


def test_a_legacy_photo_id_cannot_be_registered_by_someone_else_once_migrated(
        sandbox: Sandbox, session_file: Path, other_user: AppUser) -> None:
    # A registration of an older release: a gallery item, no marker (written as the administrator).
    photo_id, owner, at = new_photo_id("legacy-"), "us-east-1:legacy-identity", 1_700_000_000_000
    sandbox.client("dynamodb", sandbox.ui_config["primary"][RegionOut.REGION]).put_item(
        TableName=sandbox.outputs[Out.TABLES][Table.PHOTOS], Item={
            GalleryItem.PARTITION: {"S": GALLERY}, GalleryItem.SORT_KEY: {"S": f"{at}-{photo_id}"},
            GalleryItem.PHOTO_ID: {"S": photo_id}, GalleryItem.KEY: {"S": f"{PHOTO_PREFIX}{photo_id}"},
            GalleryItem.OWNER: {"S": owner}, GalleryItem.CREATED_AT: {"N": str(at)}, GalleryItem.SIZE: {"N": "5"},
            GalleryItem.CONTENT_TYPE: {"S": "image/png"}})
    assert sandbox.cloud.wait_replication_idle(WAIT)

    dry = migrate(session_file, "--json")
    assert dry.exit_code == 0, dry.output
    assert photo_id in {m["photoId"] for m in json.loads(dry.stdout)["missing"]}
    assert marker_in(sandbox, "primary", photo_id) is None  # a dry run writes nothing

    applied = migrate(session_file, "--apply", "--json")  # the operator's keys, its policy enforced
    assert applied.exit_code == 0, applied.output
    [ours] = [m for m in json.loads(applied.stdout)["missing"] if m["photoId"] == photo_id]
    assert ours["written"] is True
    assert sandbox.cloud.wait_replication_idle(WAIT)
    for role in REGION_ROLES:  # written in the primary, replicated to the secondary
        assert marker_in(sandbox, role, photo_id) == photo_id_marker(photo_id, owner, str(at)), role

    answer = other_user.register_photo("primary", photo_id, 12)
    assert (answer.status, answer.body["code"]) == (409, "PHOTO_EXISTS")
    records = [p for p in other_user.all_photos("primary") or [] if p["photoId"] == photo_id]
    assert [(p["owner"], p["key"]) for p in records] == [(owner, f"{PHOTO_PREFIX}{photo_id}")]


def test_the_operator_may_put_markers_in_the_primarys_photos_table_only(sandbox: Sandbox) -> None:
    keys, table = sandbox.operator, sandbox.outputs[Out.TABLES][Table.PHOTOS]

    def operator_ddb(role: str) -> Any:
        region = sandbox.ui_config[role][RegionOut.REGION]
        return boto3.client("dynamodb", region_name=region, endpoint_url=sandbox.cloud.region_endpoint(region),
                            aws_access_key_id=keys["accessKeyId"], aws_secret_access_key=keys["secretAccessKey"],
                            config=Config(retries={"max_attempts": 1}))

    marker = photo_id_marker(new_photo_id("op-marker-"), "op", "1")
    key = {name: marker[name] for name in (GalleryItem.PARTITION, GalleryItem.SORT_KEY)}
    assert refused(lambda: operator_ddb("secondary").put_item(TableName=table, Item=marker)) == (
        400, "AccessDeniedException")
    assert refused(lambda: operator_ddb("primary").update_item(
        TableName=table, Key=key, UpdateExpression="SET #o = :o", ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": "x"}})) == (400, "AccessDeniedException")
    assert refused(lambda: operator_ddb("primary").delete_item(TableName=table, Key=key)) == (
        400, "AccessDeniedException")
    # Only the marker partition (dynamodb:LeadingKeys): a gallery item is refused even in the primary.
    gallery_item = {**marker, GalleryItem.PARTITION: {"S": GALLERY}}
    assert refused(lambda: operator_ddb("primary").put_item(TableName=table, Item=gallery_item)) == (
        400, "AccessDeniedException")
    operator_ddb("primary").put_item(TableName=table, Item=marker, ConditionExpression=GalleryItem.MARKER_CONDITION)
    sandbox.client("dynamodb", sandbox.ui_config["primary"][RegionOut.REGION]).delete_item(
        TableName=table, Key=key)  # tidy up as the administrator
