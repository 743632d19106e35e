"""DynamoDB global-table replication for the local cloud (version 2019.11.21 semantics).

moto accepts `ReplicaUpdates` and does nothing. Every mutation of a moto table goes
through its stream shard (`StreamShard.add(old, new)`: puts, updates, deletes, batch
writes, transactions, PartiQL), so that is the one hook. For a table declared with
`add_table(name, regions)` each change is captured with its new image (or none for a
delete) and a write stamp, and applied in the other regions after the lag:

- last writer wins: a region keeps the stamp of the last write it holds for each item,
  and a replicated change older than that stamp is skipped there (so two concurrent
  writes converge on the later one everywhere);
- no ping-pong: writes made by the replicator are not captured;
- transactions: moto rolls a failed transaction back by restoring table copies, so the
  changes captured inside `transact_write_items` are kept only if it succeeds.

Like AWS, declaring replicas turns the table's stream on (NEW_AND_OLD_IMAGES) when off.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from moto.backends import get_backend
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamShard, Table

import patches
from sandbox.replication import LagQueue, applying, defer, is_applying

log = logging.getLogger(__name__)

StampKey = tuple[str, str, str]  # (region, table, item key as JSON)


@dataclass(frozen=True)
class ItemChange:
    """One committed write of one item in one region."""

    account: str
    region: str
    table: str
    key: dict[str, Any]  # the item's key attributes, DynamoDB JSON
    image: dict[str, Any] | None  # the item after the write; None for a delete
    stamp: int = 0
    captured_at: float = field(default_factory=time.time)

    @property
    def key_id(self) -> str:
        return json.dumps(self.key, sort_keys=True)


class DynamoReplicator:
    """Replicates item changes of declared global tables between regions, last writer wins."""

    def __init__(self, lag: float, lock: threading.RLock, is_up: Callable[[str], bool], account: str) -> None:
        self.lock = lock
        self.account = account
        self._is_up = is_up
        self.queue: LagQueue[ItemChange] = LagQueue("dynamodb-replication", lag, self._apply, ready=self._ready)
        self._tables: dict[str, frozenset[str]] = {}
        self._stamps: dict[StampKey, int] = {}
        self._last_stamp = 0
        self._local = threading.local()  # .transaction: changes captured inside transact_write_items
        self._patches = patches.Patches()
        self.counters = {"captured": 0, "skippedOlder": 0, "missingTable": 0}

    # -- lifecycle / declarations -------------------------------------------------------------------
    def start(self) -> None:
        patches.after_dynamodb_stream_record(self._patches, self._on_stream_record, active=lambda: not is_applying())
        patches.around_dynamodb_transactions(self._patches, self._transaction)
        self.queue.start()

    def stop(self) -> None:
        self.queue.stop()
        self._patches.restore()

    def add_table(self, name: str, regions: Iterable[str]) -> None:
        """Declare `name` replicated across `regions`; the table must exist in each of them."""
        regions = frozenset(regions)
        if len(regions) < 2:
            raise ValueError(f"regions: a global table needs at least two regions, got {sorted(regions)}")
        with self.lock:
            for region in sorted(regions):
                table = self._backend(region).tables.get(name)
                if table is None:
                    raise ValueError(f"regions: table {name!r} does not exist in {region}")
                if not (table.stream_specification or {}).get("StreamEnabled"):
                    table.set_stream_specification({"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
            self._tables[name] = regions | self._tables.get(name, frozenset())

    @property
    def tables(self) -> dict[str, frozenset[str]]:
        return dict(self._tables)

    # -- hooks (request threads, inside the backend lock) ----------------------------------------------
    def _on_stream_record(self, shard: StreamShard, old: Item | None, new: Item | None) -> None:
        self._capture(shard.table, old, new)

    def _transaction(
        self, original: Callable[..., None], backend: DynamoDBBackend, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        if getattr(self._local, "transaction", None) is not None:
            original(backend, *args, **kwargs)
            return
        self._local.transaction = []
        try:
            original(backend, *args, **kwargs)
            changes = self._local.transaction
        finally:
            self._local.transaction = None  # on failure moto restored the tables: drop the changes
        for change in changes:
            self._commit(change)

    def _capture(self, table: Table, old: Item | None, new: Item | None) -> None:
        if table.account_id != self.account or table.region_name not in self._tables.get(table.name, ()):
            return
        record = new if new is not None else old
        if record is None:
            return
        key = {table.hash_key_attr: record.hash_key.to_json()}
        if table.range_key_attr is not None and record.range_key is not None:
            key[table.range_key_attr] = record.range_key.to_json()
        image = copy.deepcopy(new.to_json()["Attributes"]) if new is not None else None
        change = ItemChange(table.account_id, table.region_name, table.name, key, image)
        transaction = getattr(self._local, "transaction", None)
        if transaction is not None:
            transaction.append(change)
        else:
            self._commit(change)

    def _commit(self, change: ItemChange) -> None:
        """Stamp a committed local write and queue it once the request is over."""
        with self.lock:
            self._last_stamp = max(time.time_ns(), self._last_stamp + 1)  # strictly increasing: no ties
            stamped = ItemChange(
                change.account, change.region, change.table, change.key, change.image, self._last_stamp
            )
            self._stamps[(change.region, change.table, change.key_id)] = stamped.stamp
            self.counters["captured"] += 1
        defer(lambda: self.queue.put(stamped))

    # -- the worker ------------------------------------------------------------------------------------
    def _ready(self, change: ItemChange) -> bool:
        """Hold replication while any region of the table is down."""
        return all(self._is_up(region) for region in self._tables.get(change.table, ()))

    def _apply(self, change: ItemChange) -> None:
        with self.lock, applying():
            for region in sorted(self._tables.get(change.table, frozenset()) - {change.region}):
                self._apply_in(region, change)

    def _apply_in(self, region: str, change: ItemChange) -> None:
        table = self._backend(region).tables.get(change.table)
        if table is None:
            self.counters["missingTable"] += 1
            log.warning("DynamoDB replication: table %s is missing in %s", change.table, region)
            return
        stamp_key = (region, change.table, change.key_id)
        if self._stamps.get(stamp_key, 0) >= change.stamp:
            self.counters["skippedOlder"] += 1  # the region holds a newer write of this item
            return
        if change.image is None:
            range_value = change.key.get(table.range_key_attr) if table.range_key_attr else None
            table.delete_item(
                DynamoType(change.key[table.hash_key_attr]), DynamoType(range_value) if range_value else None
            )
        else:
            table.put_item(copy.deepcopy(change.image), overwrite=True)
        self._stamps[stamp_key] = change.stamp

    def _backend(self, region: str) -> DynamoDBBackend:
        return get_backend("dynamodb")[self.account][region]
