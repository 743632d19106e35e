"""S3 replication for the local cloud, following each bucket's stored replication configuration.

moto stores `PutBucketReplication` and copies nothing. This replicator hooks the S3
backend (`put_object` also serves copy and multipart completion, `delete_object` also
serves `DeleteObjects`, and the tagging calls) and, after the configured lag, does what
S3 does:

- new object versions go to each destination named by the highest-priority rule that
  matches (prefix, tags, `And`), when that rule is Enabled; bytes, metadata (content type
  included), tags, version id and last-modified time are kept;
- the source version reads `x-amz-replication-status: PENDING`, then COMPLETED (or FAILED
  when the destination is missing or unversioned); replicas read REPLICA and are never
  replicated again, so two-way configurations do not loop;
- delete markers (a DELETE without a version id) replicate when the rule's
  `DeleteMarkerReplication` is Enabled (always for V1 rules without `Filter`); deleting a
  specific version never replicates;
- tag changes follow the object; tag changes on a replica go back only when the replica's
  bucket has a rule with `SourceSelectionCriteria.ReplicaModifications` Enabled;
- in the destination, versions are ordered by their original time, so concurrent writes
  of one key in two buckets converge on the newest one in both (last writer wins);
- with `authorize` set (the sandbox sets it), S3 acts as the configuration's replication role: the
  role must be allowed s3:GetReplicationConfiguration and s3:ListBucket on the source bucket,
  s3:GetObjectVersionForReplication (and GetObjectVersionTagging for tags) on the source object and
  s3:ReplicateObject / ReplicateDelete / ReplicateTags on the destination object ("Setting up
  permissions for live replication"); otherwise the version is marked FAILED and nothing is copied.

The stored configuration is read from the backend (`bucket.replication`, parsed XML), not
through `GetBucketReplication`, which drops fields.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from moto.s3.models import FakeBucket, FakeDeleteMarker, FakeKey, S3Backend

import patches
from sandbox.replication import LagQueue, applying, defer, is_applying

log = logging.getLogger(__name__)

Kind = Literal["object", "marker", "tags"]
# (role ARN, action, resource ARN, bucket the resource is in) -> allowed
Authorize = Callable[[str, str, str, str], bool]
STATUS_HEADER = "x-amz-replication-status"
PENDING, COMPLETED, FAILED, REPLICA = "PENDING", "COMPLETED", "FAILED", "REPLICA"


@dataclass(frozen=True)
class Target:
    """One destination of an event and the rule that sends it there."""

    bucket: str
    rule: dict[str, Any]


@dataclass
class S3Event:
    kind: Kind
    backend: S3Backend
    bucket: str  # source bucket
    version: FakeKey | FakeDeleteMarker
    targets: list[Target]
    captured_at: float = field(default_factory=time.time)


class S3Replicator:
    """Copies object versions, delete markers and tag changes between buckets, asynchronously."""

    def __init__(self, lag: float, lock: threading.RLock, is_up: Callable[[str], bool]) -> None:
        self.lock = lock
        self._is_up = is_up
        self.queue: LagQueue[S3Event] = LagQueue("s3-replication", lag, self._apply, ready=self._ready)
        self._status: weakref.WeakKeyDictionary[FakeKey, str] = weakref.WeakKeyDictionary()
        self._replica_markers: weakref.WeakSet[FakeDeleteMarker] = weakref.WeakSet()
        self._patches = patches.Patches()
        self._originals: dict[str, Callable[..., Any]] = {}
        self.authorize: Authorize | None = None  # None: the replication role is not checked

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        hooks = {"put_object": self._after_put, "delete_object": self._after_delete,
                 "put_object_tagging": self._after_put_tagging, "delete_object_tagging": self._after_delete_tagging}
        for name, after in hooks.items():
            self._originals[name] = patches.after_s3_write(self._patches, name, after, active=lambda: not is_applying())
        status = self._status
        patches.extra_s3_object_headers(
            self._patches, lambda key: {STATUS_HEADER: status[key]} if key in status else {}
        )
        self.queue.start()

    def stop(self) -> None:
        self.queue.stop()
        self._patches.restore()

    # -- hooks (run in the request thread, inside the backend lock) ------------------------------------
    def _after_put(self, backend: S3Backend, key: FakeKey, _params: dict[str, Any]) -> None:
        # metadata and tags are set by the handler after put_object: decide when the request ends
        defer(lambda: self._on_new_version(backend, key))

    def _after_delete(self, backend: S3Backend, result: tuple[bool, dict[str, Any]], params: dict[str, Any]) -> None:
        deleted, meta = result
        if not deleted or params["version_id"] is not None or meta.get("delete-marker") != "true":
            return  # only a new delete marker replicates; deleting a version does not (as S3)
        bucket_name, key_name = params["bucket_name"], params["key_name"]
        marker = backend.buckets[bucket_name].keys.get(key_name)
        if isinstance(marker, FakeDeleteMarker):
            defer(lambda: self._on_delete_marker(backend, bucket_name, marker))

    def _after_put_tagging(self, backend: S3Backend, key: FakeKey, _params: dict[str, Any]) -> None:
        defer(lambda: self._on_tags(backend, key))

    def _after_delete_tagging(self, backend: S3Backend, _result: None, params: dict[str, Any]) -> None:
        key = backend.get_object(params["bucket_name"], params["key_name"], version_id=params["version_id"])
        if key is not None:
            defer(lambda: self._on_tags(backend, key))

    # -- events ------------------------------------------------------------------------------------------
    def _on_new_version(self, backend: S3Backend, key: FakeKey) -> None:
        with self.lock:
            bucket = backend.buckets.get(key.bucket_name or "")
            if bucket is None or self._status.get(key) == REPLICA:
                return
            targets = targets_for(bucket, key.name, _tags(backend, key), "object")
            if targets:
                self._status[key] = PENDING
                self.queue.put(S3Event("object", backend, bucket.name, key, targets))

    def _on_delete_marker(self, backend: S3Backend, bucket_name: str, marker: FakeDeleteMarker) -> None:
        with self.lock:
            bucket = backend.buckets.get(bucket_name)
            if bucket is None or marker in self._replica_markers:
                return
            targets = targets_for(bucket, marker.name, {}, "marker")
            if targets:
                self.queue.put(S3Event("marker", backend, bucket_name, marker, targets))

    def _on_tags(self, backend: S3Backend, key: FakeKey) -> None:
        with self.lock:
            status = self._status.get(key)
            bucket = backend.buckets.get(key.bucket_name or "")
            if bucket is None or status in (None, PENDING):
                return  # not replicated, or the pending copy will carry the current tags
            kind: Kind = "tags"
            targets = targets_for(bucket, key.name, _tags(backend, key), kind, replica=status == REPLICA)
            if targets:
                self.queue.put(S3Event(kind, backend, bucket.name, key, targets))

    # -- the worker ------------------------------------------------------------------------------------
    def _ready(self, event: S3Event) -> bool:
        """Hold replication while the source or a destination region is down."""
        regions = {_region(event.backend, event.bucket)} | {_region(event.backend, t.bucket) for t in event.targets}
        return all(self._is_up(region) for region in regions if region)

    def _apply(self, event: S3Event) -> None:
        with self.lock, applying():
            if event.kind == "object":
                assert isinstance(event.version, FakeKey)
                ok = all([self._permitted(event, t) and self._copy_object(event.backend, event.version, t)
                          for t in event.targets])
                self._status[event.version] = COMPLETED if ok else FAILED
            elif event.kind == "marker":
                assert isinstance(event.version, FakeDeleteMarker)
                for target in (t for t in event.targets if self._permitted(event, t)):
                    self._copy_marker(event.backend, event.version, target)
            else:
                assert isinstance(event.version, FakeKey)
                for target in (t for t in event.targets if self._permitted(event, t)):
                    self._copy_tags(event.backend, event.version, target)

    def _permitted(self, event: S3Event, target: Target) -> bool:
        """The replication role may read this version from the source and write it to the destination."""
        if self.authorize is None:
            return True
        config = getattr(event.backend.buckets.get(event.bucket), "replication", None) or {}
        role = str(config.get("Role") or "")
        name = event.version.name
        source, destination = f"arn:aws:s3:::{event.bucket}", f"arn:aws:s3:::{target.bucket}"
        wanted = [("s3:GetReplicationConfiguration", source, event.bucket), ("s3:ListBucket", source, event.bucket)]
        if event.kind == "object":
            wanted += [("s3:GetObjectVersionForReplication", f"{source}/{name}", event.bucket),
                       ("s3:ReplicateObject", f"{destination}/{name}", target.bucket)]
            if isinstance(event.version, FakeKey) and _tags(event.backend, event.version):
                wanted += [("s3:GetObjectVersionTagging", f"{source}/{name}", event.bucket),
                           ("s3:ReplicateTags", f"{destination}/{name}", target.bucket)]
        elif event.kind == "marker":
            wanted.append(("s3:ReplicateDelete", f"{destination}/{name}", target.bucket))
        else:
            wanted += [("s3:GetObjectVersionTagging", f"{source}/{name}", event.bucket),
                       ("s3:ReplicateTags", f"{destination}/{name}", target.bucket)]
        denied = [action for action, resource, bucket in wanted
                  if not role or not self.authorize(role, action, resource, bucket)]
        if denied:
            log.warning("S3 replication %s -> %s of %s: role %r may not %s", event.bucket, target.bucket, name,
                        role, ", ".join(denied))
        return not denied

    def _destination(self, backend: S3Backend, target: Target) -> FakeBucket | None:
        bucket = backend.buckets.get(target.bucket)
        if bucket is None or not bucket.is_versioned:
            log.warning("S3 replication: destination bucket %s is missing or not versioned", target.bucket)
            return None
        return bucket

    def _copy_object(self, backend: S3Backend, source: FakeKey, target: Target) -> bool:
        bucket = self._destination(backend, target)
        if bucket is None or source.disposed:
            return False
        if _find_version(bucket, source.name, source.version_id) is not None:
            return True  # already there
        storage = (target.rule.get("Destination") or {}).get("StorageClass") or source.storage_class
        replica: FakeKey = self._originals["put_object"](
            backend, bucket.name, source.name, source.value, storage=storage, disable_notification=True
        )
        replica._version_id = source.version_id  # replicas keep the source's version id
        replica.last_modified = source.last_modified
        replica.set_metadata(dict(source.metadata))
        replica.website_redirect_location = source.website_redirect_location
        replica.checksum_algorithm, replica.checksum_value = source.checksum_algorithm, source.checksum_value
        _set_tags(backend, replica, _tags(backend, source))
        _order_versions(bucket, source.name)
        self._status[replica] = REPLICA
        return True

    def _copy_marker(self, backend: S3Backend, source: FakeDeleteMarker, target: Target) -> None:
        bucket = self._destination(backend, target)
        if bucket is None or _find_version(bucket, source.name, source.version_id) is not None:
            return
        versions = bucket.keys.getlist(source.name, [])
        marker = FakeDeleteMarker(key=versions[-1] if versions else source.key)
        marker._version_id = source.version_id
        marker.last_modified = source.last_modified
        bucket.keys.setlist(source.name, [*versions, marker])
        _order_versions(bucket, source.name)
        self._replica_markers.add(marker)

    def _copy_tags(self, backend: S3Backend, source: FakeKey, target: Target) -> None:
        bucket = self._destination(backend, target)
        counterpart = bucket and _find_version(bucket, source.name, source.version_id)
        if isinstance(counterpart, FakeKey):
            _set_tags(backend, counterpart, _tags(backend, source))


# -- rules --------------------------------------------------------------------------------------------------
def targets_for(
    bucket: FakeBucket, key_name: str, tags: dict[str, str], kind: Kind, replica: bool = False
) -> list[Target]:
    """Where an event on `key_name` in `bucket` goes under the bucket's replication rules.

    Per destination, the matching rule with the highest priority decides; it must be Enabled,
    allow delete markers for a marker, and allow replica modifications for a change on a replica.
    """
    config = getattr(bucket, "replication", None)
    if not config or not bucket.is_versioned:
        return []
    best: dict[str, tuple[int, dict[str, Any]]] = {}
    for rule in _as_list(config.get("Rule")):
        if not rule_matches(rule, key_name, tags):
            continue
        destination = bucket_from_arn(str((rule.get("Destination") or {}).get("Bucket", "")))
        priority = int(rule.get("Priority") or 0)
        if destination and (destination not in best or priority > best[destination][0]):
            best[destination] = (priority, rule)
    targets = []
    for destination, (_, rule) in best.items():
        if rule.get("Status") != "Enabled" or destination == bucket.name:
            continue
        if kind == "marker" and not replicates_delete_markers(rule):
            continue
        if replica and _status(rule, "SourceSelectionCriteria", "ReplicaModifications") != "Enabled":
            continue
        targets.append(Target(destination, rule))
    return targets


def rule_matches(rule: dict[str, Any], key_name: str, tags: dict[str, str]) -> bool:
    """The rule's filter (V2 `Filter` with Prefix/Tag/And, or V1 rule-level Prefix) matches."""
    if "Filter" in rule:
        condition = rule.get("Filter") or {}
        if "And" in condition:
            condition = condition.get("And") or {}
        prefix = condition.get("Prefix") or ""
        wanted = {t["Key"]: t.get("Value") or "" for t in _as_list(condition.get("Tag"))}
    else:
        prefix, wanted = rule.get("Prefix") or "", {}
    return key_name.startswith(prefix) and all(tags.get(k) == v for k, v in wanted.items())


def replicates_delete_markers(rule: dict[str, Any]) -> bool:
    """V2 rules (with `Filter`) replicate delete markers only when told; V1 rules always do."""
    if "Filter" not in rule:
        return True
    return _status(rule, "DeleteMarkerReplication") == "Enabled"


def bucket_from_arn(arn: str) -> str:
    return arn.removeprefix("arn:aws:s3:::").split("/", 1)[0] if arn.startswith("arn:") else arn


# -- helpers ------------------------------------------------------------------------------------------------
def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _status(rule: dict[str, Any], *path: str) -> str | None:
    """rule[path...]["Status"], None when any step is missing."""
    node: Any = rule
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    return node.get("Status") if isinstance(node, dict) else None


def _region(backend: S3Backend, bucket_name: str) -> str | None:
    bucket = backend.buckets.get(bucket_name)
    return bucket.region_name if bucket is not None else None


def _tags(backend: S3Backend, key: FakeKey) -> dict[str, str]:
    return dict(backend.tagger.get_tag_dict_for_resource(key.arn))


def _set_tags(backend: S3Backend, key: FakeKey, tags: dict[str, str]) -> None:
    backend.tagger.delete_all_tags_for_resource(key.arn)
    if tags:
        backend.tagger.tag_resource(key.arn, [{"Key": k, "Value": v} for k, v in tags.items()])


def _find_version(bucket: FakeBucket, key_name: str, version_id: str) -> FakeKey | FakeDeleteMarker | None:
    return next((v for v in bucket.keys.getlist(key_name, []) if str(v.version_id) == str(version_id)), None)


def _order_versions(bucket: FakeBucket, key_name: str) -> None:
    """Newest original time last (= current), so the last writer wins in every bucket."""
    versions: Iterable[Any] = bucket.keys.getlist(key_name, [])
    bucket.keys.setlist(key_name, sorted(versions, key=lambda v: v.last_modified))
