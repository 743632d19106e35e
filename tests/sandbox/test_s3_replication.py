"""S3 replication in the local cloud follows each bucket's stored replication configuration.

GIVEN versioned buckets in both regions with replication configurations set through boto3,
WHEN objects are written, tagged and deleted over HTTP,
THEN copies, statuses, filters, delete markers and loops behave as in S3.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.cloud import LocalCloud
from tests.sandbox.cloud_support import LAG, MARGIN, PRIMARY, SECONDARY, eventually, unique

ROLE = "arn:aws:iam::123456789012:role/replication"


def rule(
    destination: str,
    prefix: str = "",
    *,
    priority: int = 1,
    status: str = "Enabled",
    delete_markers: bool = True,
    replica_modifications: bool = False,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    if tags:
        tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
        condition: dict[str, Any] = {"And": {"Prefix": prefix, "Tags": tag_list}}
    else:
        condition = {"Prefix": prefix}
    result: dict[str, Any] = {
        "ID": unique("rule"),
        "Priority": priority,
        "Status": status,
        "Filter": condition,
        "DeleteMarkerReplication": {"Status": "Enabled" if delete_markers else "Disabled"},
        "Destination": {"Bucket": f"arn:aws:s3:::{destination}"},
    }
    if replica_modifications:
        result["SourceSelectionCriteria"] = {"ReplicaModifications": {"Status": "Enabled"}}
    return result


class Buckets:
    """A versioned bucket per region (`a` in the primary, `b` in the secondary) and their clients."""

    def __init__(self, aws_client: Callable[..., Any]):
        self.s3 = {PRIMARY: aws_client("s3", PRIMARY), SECONDARY: aws_client("s3", SECONDARY)}
        self.a, self.b = unique("photos-use1"), unique("photos-apne1")
        self.s3[PRIMARY].create_bucket(Bucket=self.a)
        self.s3[SECONDARY].create_bucket(
            Bucket=self.b, CreateBucketConfiguration={"LocationConstraint": SECONDARY}
        )
        for name, region in ((self.a, PRIMARY), (self.b, SECONDARY)):
            self.s3[region].put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})

    def client(self, bucket: str) -> Any:
        return self.s3[PRIMARY if bucket == self.a else SECONDARY]

    def other(self, bucket: str) -> str:
        return self.b if bucket == self.a else self.a

    def replicate(self, source: str, *rules: dict[str, Any]) -> None:
        self.client(source).put_bucket_replication(
            Bucket=source, ReplicationConfiguration={"Role": ROLE, "Rules": list(rules)}
        )

    def two_way(self, **options: Any) -> Buckets:
        self.replicate(self.a, rule(self.b, **options))
        self.replicate(self.b, rule(self.a, **options))
        return self

    def head(self, bucket: str, key: str, **kwargs: Any) -> dict[str, Any] | None:
        try:
            return self.client(bucket).head_object(Bucket=bucket, Key=key, **kwargs)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey", "405"):
                return None
            raise

    def versions(self, bucket: str, key: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        listing = self.client(bucket).list_object_versions(Bucket=bucket, Prefix=key)
        versions = [v for v in listing.get("Versions", []) if v["Key"] == key]
        markers = [m for m in listing.get("DeleteMarkers", []) if m["Key"] == key]
        return versions, markers


@pytest.fixture()
def buckets(aws_client: Callable[..., Any]) -> Buckets:
    return Buckets(aws_client)


def settle(cloud: LocalCloud) -> None:
    assert cloud.wait_replication_idle(LAG + MARGIN), "replication did not go idle"


@pytest.mark.parametrize("direction", ["primary_to_secondary", "secondary_to_primary"])
def test_object_put_in_either_region_appears_in_the_other_with_same_bytes_type_metadata_tags(
    buckets: Buckets, direction: str
) -> None:
    buckets.two_way()
    source = buckets.a if direction == "primary_to_secondary" else buckets.b
    destination = buckets.other(source)
    body = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    put = buckets.client(source).put_object(
        Bucket=source, Key="photos/cat.png", Body=body, ContentType="image/png",
        Metadata={"owner": "alice"}, Tagging="kind=photo",
    )

    eventually(lambda: buckets.head(destination, "photos/cat.png"))
    got = buckets.client(destination).get_object(Bucket=destination, Key="photos/cat.png")
    assert got["Body"].read() == body
    assert got["ContentType"] == "image/png"
    assert got["Metadata"] == {"owner": "alice"}
    assert got["VersionId"] == put["VersionId"]  # replicas keep the source's version id
    tags = buckets.client(destination).get_object_tagging(Bucket=destination, Key="photos/cat.png")["TagSet"]
    assert tags == [{"Key": "kind", "Value": "photo"}]


def test_replication_is_asynchronous_and_arrives_after_the_configured_lag(
    buckets: Buckets, local_cloud: LocalCloud
) -> None:
    buckets.two_way()
    written = time.monotonic()
    buckets.client(buckets.a).put_object(Bucket=buckets.a, Key="late.txt", Body=b"x")
    assert buckets.head(buckets.b, "late.txt") is None  # not synchronous

    eventually(lambda: buckets.head(buckets.b, "late.txt"))
    assert time.monotonic() - written >= LAG * 0.9


def test_source_reads_pending_then_completed_and_the_copy_reads_replica(
    buckets: Buckets, local_cloud: LocalCloud
) -> None:
    buckets.two_way()
    buckets.client(buckets.a).put_object(Bucket=buckets.a, Key="status.txt", Body=b"x")
    assert buckets.head(buckets.a, "status.txt")["ReplicationStatus"] == "PENDING"

    settle(local_cloud)
    assert buckets.head(buckets.a, "status.txt")["ReplicationStatus"] == "COMPLETED"
    assert buckets.head(buckets.b, "status.txt")["ReplicationStatus"] == "REPLICA"


def test_two_way_replication_does_not_ping_pong(buckets: Buckets, local_cloud: LocalCloud) -> None:
    buckets.two_way()
    before = local_cloud.replication_stats()["s3"]["queued"]
    buckets.client(buckets.a).put_object(Bucket=buckets.a, Key="once.txt", Body=b"a")
    buckets.client(buckets.b).put_object(Bucket=buckets.b, Key="twice.txt", Body=b"b")
    settle(local_cloud)
    time.sleep(LAG * 2)  # a loop would show up as more events and versions by now
    settle(local_cloud)

    for key in ("once.txt", "twice.txt"):
        for bucket in (buckets.a, buckets.b):
            versions, _ = buckets.versions(bucket, key)
            assert len(versions) == 1, (bucket, key, versions)
    assert local_cloud.replication_stats()["s3"]["queued"] - before == 2


def test_prefix_filter_replicates_only_matching_keys(buckets: Buckets, local_cloud: LocalCloud) -> None:
    buckets.replicate(buckets.a, rule(buckets.b, prefix="photos/"))
    buckets.client(buckets.a).put_object(Bucket=buckets.a, Key="photos/in.jpg", Body=b"1")
    buckets.client(buckets.a).put_object(Bucket=buckets.a, Key="private/out.jpg", Body=b"2")
    settle(local_cloud)

    assert buckets.head(buckets.b, "photos/in.jpg") is not None
    assert buckets.head(buckets.b, "private/out.jpg") is None
    assert "ReplicationStatus" not in buckets.head(buckets.a, "private/out.jpg")


def test_tag_filter_replicates_only_objects_carrying_the_tag(buckets: Buckets, local_cloud: LocalCloud) -> None:
    buckets.replicate(buckets.a, rule(buckets.b, prefix="docs/", tags={"share": "yes"}, delete_markers=False))
    buckets.client(buckets.a).put_object(Bucket=buckets.a, Key="docs/tagged", Body=b"1", Tagging="share=yes")
    buckets.client(buckets.a).put_object(Bucket=buckets.a, Key="docs/untagged", Body=b"2", Tagging="share=no")
    settle(local_cloud)

    assert buckets.head(buckets.b, "docs/tagged") is not None
    assert buckets.head(buckets.b, "docs/untagged") is None


def test_highest_priority_matching_rule_decides_even_when_disabled(buckets: Buckets, local_cloud: LocalCloud) -> None:
    buckets.replicate(
        buckets.a,
        rule(buckets.b, prefix="", priority=1),
        rule(buckets.b, prefix="drafts/", priority=5, status="Disabled"),
    )
    buckets.client(buckets.a).put_object(Bucket=buckets.a, Key="drafts/x", Body=b"1")
    buckets.client(buckets.a).put_object(Bucket=buckets.a, Key="final/x", Body=b"2")
    settle(local_cloud)

    assert buckets.head(buckets.b, "drafts/x") is None
    assert buckets.head(buckets.b, "final/x") is not None


def test_copy_and_multipart_uploads_are_replicated(buckets: Buckets, local_cloud: LocalCloud) -> None:
    buckets.two_way()
    s3 = buckets.client(buckets.a)
    s3.put_object(Bucket=buckets.a, Key="orig", Body=b"copy me", ContentType="text/plain")
    s3.copy_object(Bucket=buckets.a, Key="copied", CopySource={"Bucket": buckets.a, "Key": "orig"})
    upload = s3.create_multipart_upload(Bucket=buckets.a, Key="big.bin", ContentType="application/x-big")
    part = s3.upload_part(Bucket=buckets.a, Key="big.bin", UploadId=upload["UploadId"], PartNumber=1, Body=b"z" * 1024)
    s3.complete_multipart_upload(
        Bucket=buckets.a, Key="big.bin", UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    settle(local_cloud)

    other = buckets.client(buckets.b)
    assert other.get_object(Bucket=buckets.b, Key="copied")["Body"].read() == b"copy me"
    big = other.get_object(Bucket=buckets.b, Key="big.bin")
    assert big["Body"].read() == b"z" * 1024
    assert big["ContentType"] == "application/x-big"


def test_delete_marker_is_replicated_when_enabled(buckets: Buckets, local_cloud: LocalCloud) -> None:
    buckets.two_way(delete_markers=True)
    buckets.client(buckets.a).put_object(Bucket=buckets.a, Key="gone.txt", Body=b"x")
    settle(local_cloud)
    marker = buckets.client(buckets.a).delete_object(Bucket=buckets.a, Key="gone.txt")
    settle(local_cloud)

    assert buckets.head(buckets.b, "gone.txt") is None
    versions, markers = buckets.versions(buckets.b, "gone.txt")
    assert len(versions) == 1 and [m["VersionId"] for m in markers] == [marker["VersionId"]]
    _, source_markers = buckets.versions(buckets.a, "gone.txt")
    assert len(source_markers) == 1  # the replicated marker did not come back


def test_delete_marker_is_not_replicated_when_disabled(buckets: Buckets, local_cloud: LocalCloud) -> None:
    buckets.two_way(delete_markers=False)
    buckets.client(buckets.a).put_object(Bucket=buckets.a, Key="kept.txt", Body=b"x")
    settle(local_cloud)
    buckets.client(buckets.a).delete_object(Bucket=buckets.a, Key="kept.txt")
    settle(local_cloud)

    assert buckets.head(buckets.a, "kept.txt") is None
    assert buckets.head(buckets.b, "kept.txt") is not None
    assert buckets.versions(buckets.b, "kept.txt")[1] == []


def test_deleting_a_specific_version_is_not_replicated(buckets: Buckets, local_cloud: LocalCloud) -> None:
    buckets.two_way(delete_markers=True)
    put = buckets.client(buckets.a).put_object(Bucket=buckets.a, Key="v.txt", Body=b"x")
    settle(local_cloud)
    buckets.client(buckets.a).delete_object(Bucket=buckets.a, Key="v.txt", VersionId=put["VersionId"])
    settle(local_cloud)

    assert buckets.versions(buckets.a, "v.txt") == ([], [])
    assert [v["VersionId"] for v in buckets.versions(buckets.b, "v.txt")[0]] == [put["VersionId"]]


@pytest.mark.parametrize("sync_enabled", [True, False])
def test_tag_change_on_a_replica_goes_back_only_with_replica_modification_sync(
    buckets: Buckets, local_cloud: LocalCloud, sync_enabled: bool
) -> None:
    buckets.two_way(replica_modifications=sync_enabled)
    buckets.client(buckets.a).put_object(Bucket=buckets.a, Key="t.txt", Body=b"x", Tagging="v=1")
    settle(local_cloud)
    buckets.client(buckets.b).put_object_tagging(
        Bucket=buckets.b, Key="t.txt", Tagging={"TagSet": [{"Key": "v", "Value": "2"}]}
    )
    settle(local_cloud)

    tags = buckets.client(buckets.a).get_object_tagging(Bucket=buckets.a, Key="t.txt")["TagSet"]
    assert tags == [{"Key": "v", "Value": "2" if sync_enabled else "1"}]


def test_tag_change_on_a_source_object_follows_it(buckets: Buckets, local_cloud: LocalCloud) -> None:
    buckets.replicate(buckets.a, rule(buckets.b))
    buckets.client(buckets.a).put_object(Bucket=buckets.a, Key="s.txt", Body=b"x", Tagging="v=1")
    settle(local_cloud)
    buckets.client(buckets.a).put_object_tagging(
        Bucket=buckets.a, Key="s.txt", Tagging={"TagSet": [{"Key": "v", "Value": "3"}]}
    )
    settle(local_cloud)

    tags = buckets.client(buckets.b).get_object_tagging(Bucket=buckets.b, Key="s.txt")["TagSet"]
    assert tags == [{"Key": "v", "Value": "3"}]


def test_concurrent_writes_of_one_key_converge_on_the_last_writer(buckets: Buckets, local_cloud: LocalCloud) -> None:
    buckets.two_way()
    buckets.client(buckets.a).put_object(Bucket=buckets.a, Key="race.txt", Body=b"first")
    buckets.client(buckets.b).put_object(Bucket=buckets.b, Key="race.txt", Body=b"second")  # within the lag
    settle(local_cloud)

    for bucket in (buckets.a, buckets.b):
        assert buckets.client(bucket).get_object(Bucket=bucket, Key="race.txt")["Body"].read() == b"second"
        assert len(buckets.versions(bucket, "race.txt")[0]) == 2


def test_missing_destination_bucket_marks_the_source_failed(buckets: Buckets, local_cloud: LocalCloud) -> None:
    buckets.replicate(buckets.a, rule(unique("no-such-bucket")))
    buckets.client(buckets.a).put_object(Bucket=buckets.a, Key="f.txt", Body=b"x")
    settle(local_cloud)

    assert buckets.head(buckets.a, "f.txt")["ReplicationStatus"] == "FAILED"
