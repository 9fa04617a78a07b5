"""Appending events: checks, index entries, the condition and exactly-once retries.

The condition check and the writes share one engine transaction. The check reads, after the
condition's position, exactly the index ranges that hold the events its query matches; so the
engine's conflict detection aborts this append only if a concurrent commit wrote one of those
events, and the retry then finds the event and fails the condition. Unrelated appends never
touch those ranges and never conflict.

A commit can end with commit_unknown_result: it may or may not have happened. Every append
therefore records its unique id with its last position, and each retry looks for that id first,
so a retried append returns the earlier success instead of appending twice or failing on its
own events. Ids are kept for ``APPEND_ID_TTL_SECONDS``, well beyond any append's retries.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Iterable
from concurrent.futures import Future
from typing import NamedTuple

from fairway_django.engine import Database, Transaction

from .codec import decode, encode
from .errors import AppendConditionFailed, EventTooLarge, InvalidAppend
from .events import Event, check_event
from .keyspace import (
    KEY_OVERHEAD,
    DcbKeyspace,
    operand_parts,
    position_of,
    versionstamped_position,
)
from .limits import (
    INLINE_BUDGET_BYTES,
    MAX_APPEND_BYTES,
    MAX_EVENT_BYTES,
    MAX_EVENTS_PER_APPEND,
)
from .plan import Planner
from .position import Position
from .query import AppendCondition
from .reader import logged_record

#: How long an append's id is kept for its retries to find.
APPEND_ID_TTL_SECONDS = 300.0
#: An append gives up (TransactionTimedOut) after retrying this long; well inside the TTL.
APPEND_TIMEOUT_SECONDS = 60.0
#: How often one process clears expired ids, inside one of its appends.
PRUNE_INTERVAL_SECONDS = 5.0
_ORDER = struct.Struct(">H")
_MILLIS = struct.Struct(">Q")


class _Prepared(NamedTuple):
    """One event, encoded, with the indexes it goes into and the value they hold."""

    record: bytes
    indexes: tuple[tuple[bytes, bytes], ...]  # each index's operand parts
    indexed: bytes


class Appender:
    def __init__(self, database: Database, keyspace: DcbKeyspace, planner: Planner) -> None:
        self._database = database
        self._keyspace = keyspace
        self._planner = planner
        self._log_parts = operand_parts(keyspace.log)
        self._next_prune = 0.0

    def append(self, events: Iterable[Event], condition: AppendCondition | None) -> Position:
        prepared = self._prepare(events)
        if condition is not None and not isinstance(condition, AppendCondition):
            raise InvalidAppend(
                f"condition must be an AppendCondition or None, not {type(condition).__name__}"
            )
        marker = self._keyspace.marker(_new_append_id())
        attempts = 0

        def attempt(tr: Transaction) -> Position | Future[bytes]:
            nonlocal attempts
            attempts += 1
            if attempts > 1:  # the previous attempt's commit may have happened after all
                done = tr.get(marker)
                if done is not None:
                    return Position(done)
            if condition is not None:
                self._check(tr, condition)
            self._write(tr, prepared, marker)
            return tr.get_versionstamp()

        outcome = self._database.transact(attempt, timeout=APPEND_TIMEOUT_SECONDS)
        if isinstance(outcome, Position):
            return outcome
        return Position(outcome.result() + _ORDER.pack(len(prepared) - 1))

    def _prepare(self, events: Iterable[Event]) -> list[_Prepared]:
        if isinstance(events, Event) or not isinstance(events, Iterable):
            raise InvalidAppend("append takes a list of events; wrap a single event in a list")
        prepared: list[_Prepared] = []
        size = 0
        index_operands = self._keyspace.index_operands
        log_key_size = len(self._keyspace.log) + KEY_OVERHEAD
        for order, given in enumerate(events):
            event = check_event(given)
            record = encode(event)
            if len(record) > MAX_EVENT_BYTES:
                raise EventTooLarge(
                    f"event {order} ({event.type!r}) takes {len(record):,} bytes encoded; the "
                    f"limit is {MAX_EVENT_BYTES:,} (type, tags, metadata and data together). "
                    "Keep large payloads elsewhere and put a reference in the event."
                )
            indexes, key_bytes = index_operands(event.type, tuple(sorted(event.tags)))
            indexed = record if len(record) * len(indexes) <= INLINE_BUDGET_BYTES else b""
            prepared.append(_Prepared(record, indexes, indexed))
            size += log_key_size + len(record) + key_bytes + len(indexes) * len(indexed)
        if not prepared:
            raise InvalidAppend("an append needs at least one event")
        if len(prepared) > MAX_EVENTS_PER_APPEND:
            raise InvalidAppend(
                f"an append takes at most {MAX_EVENTS_PER_APPEND:,} events, not {len(prepared):,}"
            )
        if size > MAX_APPEND_BYTES:
            raise InvalidAppend(
                f"these {len(prepared):,} events take {size:,} bytes with their index entries; "
                f"one append writes at most {MAX_APPEND_BYTES:,}: split it into smaller appends"
            )
        return prepared

    def _check(self, tr: Transaction, condition: AppendCondition) -> None:
        """Raise AppendConditionFailed if a matching event exists after the condition's position.

        Reads only the matching index ranges (with conflicts), stopping at the first match.
        """
        after = None if condition.after is None else condition.after.raw
        log = self._keyspace.log
        for scan in self._planner.scans(condition.fail_if_events_match):
            limit = 0 if scan.also_tags else 1
            for key, record in tr.get_range(*scan.bounds(after, False), limit=limit):
                raw = position_of(key)
                if scan.also_tags:
                    if not scan.admits(decode(record or logged_record(tr, log, raw))):
                        continue  # lacks the item's other tags; what was read still conflicts
                raise AppendConditionFailed(condition, Position(raw))

    def _write(self, tr: Transaction, prepared: list[_Prepared], marker: bytes) -> None:
        log_head, log_tail = self._log_parts
        write = tr.set_versionstamped_key
        for order, (record, indexes, indexed) in enumerate(prepared):
            order_bytes = _ORDER.pack(order)
            write(log_head + order_bytes + log_tail, record)
            for head, tail in indexes:
                write(head + order_bytes + tail, indexed)
        last = versionstamped_position(len(prepared) - 1)
        tr.set_versionstamped_value(marker, last)
        tr.set_versionstamped_value(self._keyspace.head, last)
        now = time.time()
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_INTERVAL_SECONDS
            expired = _MILLIS.pack(int((now - APPEND_ID_TTL_SECONDS) * 1000)).hex()
            tr.clear_range(*self._keyspace.markers_before(expired))


def _new_append_id() -> str:
    """Unique, and beginning with its creation time so that expired ids form one key range."""
    return (_MILLIS.pack(time.time_ns() // 1_000_000) + os.urandom(8)).hex()
