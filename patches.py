"""Every monkey-patch the project applies to a library it does not own, in one module.

Patching a library couples us to its internals: a new version may rename or reshape what we
replace and nothing would say so until a test far away fails strangely. So each patch is a
named function here, `PINNED` says which version they were written against, and
`tests/test_patches.py` fails loudly when the installed version differs from that pin (or from
constraints.txt) or when an attribute we replace disappears or changes shape.

Patches are reversible: a `Patches` collects what it replaced and `restore()` puts it back
(the sandbox patches moto while a LocalCloud runs and restores it on stop).

Sections: moto (the local cloud), airspeed (reserved: the VTL engine's patches move here).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from moto.cognitoidp.models import RegionAgnosticBackend, cognitoidp_backends
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard
from moto.s3.models import FakeBucket, FakeKey, S3Backend

# The versions these patches were written and tested against (tests/test_patches.py checks them).
PINNED = {"moto": "5.2.5"}


class Patches:
    """Replace class attributes and put the originals back on `restore()`."""

    def __init__(self) -> None:
        self._saved: list[tuple[type, str, Any]] = []

    def replace(self, owner: type, name: str, make: Callable[[Any], Any]) -> Any:
        """Set `owner.name` to `make(original)` and return the original (as found on the class)."""
        original = owner.__dict__[name]
        self._saved.append((owner, name, original))
        setattr(owner, name, make(original))
        return original

    def restore(self) -> None:
        while self._saved:
            owner, name, original = self._saved.pop()
            setattr(owner, name, original)


# == moto =======================================================================================================
# (owner, attribute): every moto attribute a function below replaces; tests/test_patches.py checks each exists.
MOTO_TARGETS: dict[str, tuple[type, str]] = {
    "cognito lookup by access token": (RegionAgnosticBackend, "_find_backend_by_access_token"),
    "cognito lookup by token or session": (RegionAgnosticBackend, "_find_backend_by_access_token_or_session"),
    "cognito lookup by client id": (RegionAgnosticBackend, "_find_backend_for_clientid"),
    "s3 put_object": (S3Backend, "put_object"),
    "s3 delete_object": (S3Backend, "delete_object"),
    "s3 put_object_tagging": (S3Backend, "put_object_tagging"),
    "s3 delete_object_tagging": (S3Backend, "delete_object_tagging"),
    "s3 object response headers": (FakeKey, "response_dict"),
    "s3 bucket policy check": (FakeBucket, "get_permission"),
    "dynamodb stream record": (StreamShard, "add"),
    "dynamodb transactions": (DynamoDBBackend, "transact_write_items"),
}
COGNITO_LOOKUPS = tuple(name for owner, name in MOTO_TARGETS.values() if owner is RegionAgnosticBackend)
S3_WRITES = ("put_object", "delete_object", "put_object_tagging", "delete_object_tagging")


def pin_cognito_lookups(patches: Patches, region: Callable[[], str | None]) -> None:
    """moto serves Cognito's token and client-id calls from whichever region holds the token or client;
    AWS answers only from the endpoint's region. While `region()` names one, lookups answer from it."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def lookup(backend: RegionAgnosticBackend, *args: Any) -> Any:
            pinned = region()
            if pinned is None:
                return original(backend, *args)
            return cognitoidp_backends[backend.account_id][pinned]

        return lookup

    for name in COGNITO_LOOKUPS:
        patches.replace(RegionAgnosticBackend, name, make)


def after_s3_write(
    patches: Patches, name: str, after: Callable[[S3Backend, Any, dict[str, Any]], None], active: Callable[[], bool]
) -> Callable[..., Any]:
    """Call `after(backend, result, arguments by name)` once `S3Backend.<name>` returns, while `active()`.

    Returns moto's original method (a replicator writes through it, unhooked). `put_object` also
    serves copies and multipart completion, `delete_object` also serves DeleteObjects."""
    if name not in S3_WRITES:
        raise ValueError(f"name: expected one of {', '.join(S3_WRITES)}, got {name!r}")
    original = S3Backend.__dict__[name]
    signature = inspect.signature(original)

    def make(found: Callable[..., Any]) -> Callable[..., Any]:
        def hooked(backend: S3Backend, *args: Any, **kwargs: Any) -> Any:
            result = found(backend, *args, **kwargs)
            if active():
                bound = signature.bind(backend, *args, **kwargs)
                bound.apply_defaults()
                after(backend, result, bound.arguments)
            return result

        return hooked

    return patches.replace(S3Backend, name, make)


def extra_s3_object_headers(patches: Patches, headers_of: Callable[[FakeKey], dict[str, str]]) -> None:
    """Add `headers_of(key)` to the headers moto answers for an object (GET, HEAD): S3's
    `x-amz-replication-status`, which moto never sets."""

    def make(original: property) -> property:
        def response_dict(key: FakeKey) -> dict[str, Any]:
            headers = original.fget(key)
            headers.update(headers_of(key))
            return headers

        return property(response_dict)

    patches.replace(FakeKey, "response_dict", make)


def ignore_s3_bucket_policies(patches: Patches) -> None:
    """moto applies bucket policies with their conditions ignored, so the program's
    `Deny s3:* if aws:SecureTransport is false` would refuse every object request. The sandbox's
    front door evaluates bucket policies itself, conditions included (sandbox/access.py); moto's
    own check must stay neutral so that the two never disagree."""
    from moto.iam.access_control import PermissionResult

    patches.replace(FakeBucket, "get_permission", lambda _original: lambda _bucket, _action, _resource: (
        PermissionResult.NEUTRAL
    ))


def after_dynamodb_stream_record(
    patches: Patches, after: Callable[[StreamShard, Any, Any], None], active: Callable[[], bool]
) -> None:
    """Call `after(shard, old item, new item)` for every change moto records on a table's stream
    (puts, updates, deletes, batch writes, transactions, PartiQL all go through it), while `active()`."""

    def make(original: Callable[..., None]) -> Callable[..., None]:
        def add(shard: StreamShard, old: Any, new: Any) -> None:
            original(shard, old, new)
            if active():
                after(shard, old, new)

        return add

    patches.replace(StreamShard, "add", make)


def around_dynamodb_transactions(
    patches: Patches, around: Callable[[Callable[..., None], DynamoDBBackend, tuple[Any, ...], dict[str, Any]], None]
) -> None:
    """Run `around(original, backend, args, kwargs)` in place of `transact_write_items` (moto rolls a
    failed transaction back by restoring table copies: changes seen inside it must wait for success)."""

    def make(original: Callable[..., None]) -> Callable[..., None]:
        def transact_write_items(backend: DynamoDBBackend, *args: Any, **kwargs: Any) -> None:
            around(original, backend, args, kwargs)

        return transact_write_items

    patches.replace(DynamoDBBackend, "transact_write_items", make)


# == airspeed ===================================================================================================
# Reserved: the VTL engine's patches of airspeed (vtl/engine.py) move here, with their targets and pin.
