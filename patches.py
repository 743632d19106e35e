"""Every monkey-patch the project applies to a library it does not own, in one module.

Patching a library couples us to its internals: a new version may rename or reshape what we
replace and nothing would say so until a test far away fails strangely. So each patch is a
named function here, its targets are listed by purpose (`MOTO_TARGETS`, `AIRSPEED_TARGETS`),
`PINNED` says which version they were written against, and `tests/test_patches.py` fails loudly
when the installed version differs from that pin (or from constraints.txt) or when an attribute
we replace disappears or changes shape.

Patches are reversible: a `Patches` collects what it replaced and `restore()` puts it back
(the sandbox patches moto while a LocalCloud runs and restores it on stop; the VTL engine gives
airspeed Velocity's semantics for good, gated so that they apply only while it renders).

Sections: moto (the local cloud), airspeed (the VTL engine, vtl/engine.py). Libraries are imported
when a patch is applied, never by importing this module: `vtl` imports it without moto installed.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import StreamShard
    from moto.s3.models import FakeKey, S3Backend

# The versions these patches were written and tested against (tests/test_patches.py checks them): moto and
# airspeed-ext, whose internals are replaced here, and jsonpath-ng, whose parsed-path classes vtl/engine.py reads.
PINNED = {"moto": "5.2.5", "airspeed-ext": "0.6.9", "jsonpath-ng": "1.16.0"}

Target = tuple[str, str, str]  # (module, class in it or "" for the module itself, attribute replaced)
Owner = type | ModuleType


def resolve(target: Target) -> tuple[Owner, str]:
    """The object that holds a target's attribute (importing its module), and the attribute's name."""
    module_name, owner_name, name = target
    module = importlib.import_module(module_name)
    return (getattr(module, owner_name) if owner_name else module), name


class Patches:
    """Replace class (or module) attributes and put the originals back on `restore()`."""

    def __init__(self) -> None:
        self._saved: list[tuple[Owner, str, Any]] = []

    def replace(self, owner: Owner, name: str, make: Callable[[Any], Any]) -> Any:
        """Set `owner.name` to `make(original)` and return the original (as found on the class)."""
        original = owner.__dict__[name]
        self._saved.append((owner, name, original))
        setattr(owner, name, make(original))
        return original

    def original(self, owner: Owner, name: str) -> Any:
        """What the first replacement of `owner.name` found there."""
        return next(found for where, what, found in self._saved if where is owner and what == name)

    def restore(self) -> None:
        while self._saved:
            owner, name, original = self._saved.pop()
            setattr(owner, name, original)


# == moto =======================================================================================================
# purpose -> target: every moto attribute a function below replaces; tests/test_patches.py checks each exists.
MOTO_TARGETS: dict[str, Target] = {
    "cognito lookup by access token": ("moto.cognitoidp.models", "RegionAgnosticBackend",
                                       "_find_backend_by_access_token"),
    "cognito lookup by token or session": ("moto.cognitoidp.models", "RegionAgnosticBackend",
                                           "_find_backend_by_access_token_or_session"),
    "cognito lookup by client id": ("moto.cognitoidp.models", "RegionAgnosticBackend", "_find_backend_for_clientid"),
    "s3 put_object": ("moto.s3.models", "S3Backend", "put_object"),
    "s3 delete_object": ("moto.s3.models", "S3Backend", "delete_object"),
    "s3 put_object_tagging": ("moto.s3.models", "S3Backend", "put_object_tagging"),
    "s3 delete_object_tagging": ("moto.s3.models", "S3Backend", "delete_object_tagging"),
    "s3 object response headers": ("moto.s3.models", "FakeKey", "response_dict"),
    "s3 bucket policy check": ("moto.s3.models", "FakeBucket", "get_permission"),
    "dynamodb stream record": ("moto.dynamodb.models.table", "StreamShard", "add"),
    "dynamodb transactions": ("moto.dynamodb.models", "DynamoDBBackend", "transact_write_items"),
    "dynamodb backend's copy module": ("moto.dynamodb.models", "", "copy"),
}
COGNITO_LOOKUPS = tuple(purpose for purpose, target in MOTO_TARGETS.items() if purpose.startswith("cognito lookup"))
S3_WRITES = ("put_object", "delete_object", "put_object_tagging", "delete_object_tagging")


def pin_cognito_lookups(patches: Patches, region: Callable[[], str | None]) -> None:
    """moto serves Cognito's token and client-id calls from whichever region holds the token or client;
    AWS answers only from the endpoint's region. While `region()` names one, lookups answer from it."""

    from moto.cognitoidp.models import cognitoidp_backends

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def lookup(backend: Any, *args: Any) -> Any:
            pinned = region()
            if pinned is None:
                return original(backend, *args)
            return cognitoidp_backends[backend.account_id][pinned]

        return lookup

    for purpose in COGNITO_LOOKUPS:
        patches.replace(*resolve(MOTO_TARGETS[purpose]), make)


def after_s3_write(
    patches: Patches, name: str, after: Callable[[S3Backend, Any, dict[str, Any]], None], active: Callable[[], bool]
) -> Callable[..., Any]:
    """Call `after(backend, result, arguments by name)` once `S3Backend.<name>` returns, while `active()`.

    Returns moto's original method (a replicator writes through it, unhooked). `put_object` also
    serves copies and multipart completion, `delete_object` also serves DeleteObjects."""
    if name not in S3_WRITES:
        raise ValueError(f"name: expected one of {', '.join(S3_WRITES)}, got {name!r}")
    owner, _ = resolve(MOTO_TARGETS[f"s3 {name}"])
    original = owner.__dict__[name]
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

    return patches.replace(owner, name, make)


def extra_s3_object_headers(patches: Patches, headers_of: Callable[[FakeKey], dict[str, str]]) -> None:
    """Add `headers_of(key)` to the headers moto answers for an object (GET, HEAD): S3's
    `x-amz-replication-status`, which moto never sets."""

    def make(original: property) -> property:
        def response_dict(key: FakeKey) -> dict[str, Any]:
            headers = original.fget(key)
            headers.update(headers_of(key))
            return headers

        return property(response_dict)

    patches.replace(*resolve(MOTO_TARGETS["s3 object response headers"]), make)


def defer_s3_bucket_policies(patches: Patches, denied: Callable[[str, str], bool]) -> None:
    """moto applies bucket policies with their conditions ignored, so the program's
    `Deny s3:* if aws:SecureTransport is false` would refuse every object request. The sandbox's
    front door evaluates bucket policies itself, conditions included (sandbox/access.py); moto's
    own check answers only what the front door decided: DENIED where `denied(action, resource)` (the
    keys of a DeleteObjects the caller may not delete, which moto then reports one by one as S3 does),
    NEUTRAL everywhere else, so that the two never disagree."""
    from moto.iam.access_control import PermissionResult

    def make(_original: Callable[..., Any]) -> Callable[..., Any]:
        def get_permission(_bucket: Any, action: str, resource: str) -> Any:
            return PermissionResult.DENIED if denied(action, resource) else PermissionResult.NEUTRAL

        return get_permission

    patches.replace(*resolve(MOTO_TARGETS["s3 bucket policy check"]), make)


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

    patches.replace(*resolve(MOTO_TARGETS["dynamodb stream record"]), make)


def around_dynamodb_transactions(
    patches: Patches, around: Callable[[Callable[..., None], DynamoDBBackend, tuple[Any, ...], dict[str, Any]], None]
) -> None:
    """Run `around(original, backend, args, kwargs)` in place of `transact_write_items` (moto rolls a
    failed transaction back by restoring table copies: changes seen inside it must wait for success)."""

    def make(original: Callable[..., None]) -> Callable[..., None]:
        def transact_write_items(backend: DynamoDBBackend, *args: Any, **kwargs: Any) -> None:
            around(original, backend, args, kwargs)

        return transact_write_items

    patches.replace(*resolve(MOTO_TARGETS["dynamodb transactions"]), make)


def journal_dynamodb_transactions(patches: Patches) -> None:
    """moto backs a transaction up by deep-copying every table it names and restores the copies when it fails, so
    each write costs as much as those tables hold: the drills of `make bench` slowed down as their data grew.
    Instead keep a journal of what the transaction can change (a copy of each item it names, the length of each
    table's stream) and put that back when it fails: the same tables afterwards, at the cost of the items named.
    Apply before `around_dynamodb_transactions`, restore after it."""
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    journaling = threading.local()

    class TablesNotCopied:
        """The `copy` module as moto.dynamodb.models sees it: a table is not copied while a journal covers it."""

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
            if isinstance(value, Table) and getattr(journaling, "active", False):
                return value
            return copy.deepcopy(value, memo)

    def slot(table: Table, key: dict[str, Any]) -> tuple[dict[Any, Any], Any]:
        """The dict that holds the item with `key` (an AttributeValue map) in moto's table, and its key there."""
        hash_value = DynamoType(key[table.hash_key_attr])
        if table.range_key_attr is None:
            return table.items, hash_value
        return table.items[hash_value], DynamoType(key[table.range_key_attr])

    def journal(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[Callable[[], None]]:
        undo: list[Callable[[], None]] = []
        for table in {backend.tables.get(op.get("TableName")) for item in transact_items for op in item.values()}:
            if table is not None and table.stream_shard is not None:
                shard, length = table.stream_shard, len(table.stream_shard.items)
                undo.append(lambda shard=shard, length=length: shard.items.__delitem__(slice(length, None)))
        for item in transact_items:
            for kind, op in item.items():
                table = backend.tables.get(op.get("TableName"))
                key = op.get("Item") if kind == "Put" else op.get("Key")
                try:
                    holder, where = slot(table, key)
                except (AttributeError, KeyError, TypeError):
                    continue  # no such table, or no key: moto refuses that item and writes nothing for it
                saved = copy.deepcopy(holder.get(where))
                undo.append(lambda holder=holder, where=where, saved=saved: (
                    holder.pop(where, None) if saved is None else holder.__setitem__(where, saved)))
        return undo

    def make(original: Callable[..., None]) -> Callable[..., None]:
        def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]], *args: Any,
                                 **kwargs: Any) -> None:
            undo = journal(backend, transact_items)
            journaling.active = True
            try:
                original(backend, transact_items, *args, **kwargs)
            except BaseException:
                for step in reversed(undo):  # moto cancelled it: its writes so far are undone, newest first
                    step()
                raise
            finally:
                journaling.active = False

        return transact_write_items

    patches.replace(*resolve(MOTO_TARGETS["dynamodb backend's copy module"]), lambda _module: TablesNotCopied())
    patches.replace(*resolve(MOTO_TARGETS["dynamodb transactions"]), make)


# == airspeed ===================================================================================================
# purpose -> target: every airspeed-ext attribute `velocity_semantics_on_airspeed` replaces.
AIRSPEED_TARGETS: dict[str, Target] = {
    "text runs stop before #$": ("airspeed.operators", "Text", "parse"),
    "method calls and properties": ("airspeed.operators", "NameOrCall", "calculate"),
    "values rendered as text": ("airspeed.operators", "", "value_to_string"),
    "#if truthiness": ("airspeed.operators", "Condition", "calculate"),
    "! truthiness": ("airspeed.operators", "UnaryOperatorValue", "calculate"),
    "#set": ("airspeed.operators", "Assignment", "evaluate_raw"),
    "#foreach": ("airspeed.operators", "ForeachDirective", "evaluate_raw"),
    "binary operators": ("airspeed.operators", "BinaryOperator", "OPERATORS"),
}

# airspeed's Text swallows `#$` as literal text; this version stops a text run before `#$` (so `photo#$id` and
# `#${x}` interpolate, as in Velocity).
AIRSPEED_TEXT_PLAIN = re.compile(
    r"((?:[^\\\$#]+|\\[\$#])+|\$[^!\{a-z0-9_]|\$$|#$|#(?=\$)|#[^\{\}a-zA-Z0-9#\*\$]+|\\.)(.*)$", re.S | re.I
)


@dataclass(frozen=True)
class VelocitySemantics:
    """What a template evaluates to in place of airspeed's Python semantics (vtl/engine.py builds it on
    vtl/java.py: Velocity 1.7 on the JVM)."""

    invoke: Callable[[Any, str, list[Any]], Any]
    """`$value.method(arguments)`."""
    get_property: Callable[[Any, str], Any]
    """`$value.name` (Map key, getName/isName)."""
    get_index: Callable[[Any, Any], Any]
    """`$value[index]`."""
    to_string: Callable[[Any], str]
    """A value rendered into the output (and a `#set` path segment)."""
    truthy: Callable[[Any], bool]
    """`#if`, `!`."""
    operators: Mapping[str, Callable[[Any, Any], Any]]
    """Binary operators by airspeed's spelling ("==", "eq", "&&", "+", ...)."""


def velocity_semantics_on_airspeed(patches: Patches, semantics: VelocitySemantics, active: Callable[[], bool]) -> None:
    """Evaluate (and parse) templates with `semantics` while `active()`; airspeed's own semantics otherwise, so other
    airspeed users in the process are untouched. Also: `#set` of null leaves the variable unchanged (Velocity 1.7),
    sets inside `#foreach` persist after it, `#foreach` over a map iterates its values and skips non-collections."""
    ops = importlib.import_module("airspeed.operators")

    def target(purpose: str) -> tuple[Owner, str]:
        return resolve(AIRSPEED_TARGETS[purpose])

    def gated(method: Callable[..., Any]) -> Callable[[Any], Callable[..., Any]]:
        """make(original): `method(original, ...)` while active, the original otherwise."""

        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            def apply(*args: Any) -> Any:
                return method(original, *args) if active() else original(*args)

            return apply

        return make

    def text_parse(_original: Callable[..., Any], text: Any) -> None:
        (found,) = text.identity_match(AIRSPEED_TEXT_PLAIN)
        text.text = text.ESCAPED_CHAR.sub(lambda m: m.group(1), found)

    def name_or_call(original: Callable[..., Any], node: Any, current: Any, loader: Any, top: Any) -> Any:
        if isinstance(current, ops.LocalNamespace):
            return original(node, current, loader, top)
        if node.parameters is not None:
            return semantics.invoke(current, node.name, node.parameters.calculate(top, loader))
        value = semantics.get_property(current, node.name)
        if node.index is not None:
            value = semantics.get_index(value, node.index.calculate(top, loader))
        return value

    def condition(_original: Callable[..., Any], node: Any, namespace: Any, loader: Any) -> bool:
        return semantics.truthy(node.expression.calculate(namespace, loader))

    def unary(_original: Callable[..., Any], node: Any, namespace: Any, loader: Any) -> bool:
        return not semantics.truthy(node.value.calculate(namespace, loader))

    def top_namespace(namespace: Any) -> Any:
        while isinstance(getattr(namespace, "parent", None), ops.LocalNamespace):
            namespace = namespace.parent
        return namespace

    def assign(_original: Callable[..., Any], node: Any, stream: Any, namespace: Any, loader: Any) -> None:
        value = node.value.calculate(namespace, loader)
        if value is None:
            return  # Velocity 1.7: "RHS of #set statement is null. Context will not be modified."
        if not node.terms:
            scope = namespace.find_outermost(node.root_term) if isinstance(namespace, ops.LocalNamespace) else None
            (scope if scope is not None else top_namespace(namespace))[node.root_term] = value
            return
        try:
            owner = namespace[node.root_term]
        except KeyError:
            owner = None
        for term in node.terms[:-1]:
            owner = semantics.get_property(owner, semantics.to_string(term.calculate(namespace, loader)))
        if isinstance(owner, dict):
            owner[node.terms[-1].calculate(namespace, loader)] = value

    def foreach(_original: Callable[..., Any], node: Any, stream: Any, namespace: Any, loader: Any) -> None:
        iterable = node.value.calculate(namespace, loader)
        if isinstance(iterable, dict):
            items = list(iterable.values())  # Velocity iterates a Map's values
        elif isinstance(iterable, (list, tuple, range)):
            items = list(iterable)
        else:
            return  # null or not a collection: Velocity skips the loop
        count = len(items)
        for index, item in enumerate(items):
            local = ops.LocalNamespace(namespace)
            local["velocityCount"] = index + 1
            local["velocityHasNext"] = index + 1 < count
            local["foreach"] = {"count": index + 1, "index": index, "hasNext": index + 1 < count,
                                "first": index == 0, "last": index == count - 1}
            local[node.loop_var_name] = item
            node.block.evaluate(stream, local, loader)

    def operators(original: dict[str, Callable[[Any, Any], Any]]) -> dict[str, Callable[[Any, Any], Any]]:
        def operator(name: str, fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
            if name not in semantics.operators:
                return fn
            return gated(lambda _original, a, b: semantics.operators[name](a, b))(fn)

        return {name: operator(name, fn) for name, fn in original.items()}

    patches.replace(*target("text runs stop before #$"), gated(text_parse))
    patches.replace(*target("method calls and properties"), gated(name_or_call))
    patches.replace(*target("values rendered as text"), gated(lambda _original, value: semantics.to_string(value)))
    patches.replace(*target("#if truthiness"), gated(condition))
    patches.replace(*target("! truthiness"), gated(unary))
    patches.replace(*target("#set"), gated(assign))
    patches.replace(*target("#foreach"), gated(foreach))
    patches.replace(*target("binary operators"), operators)
