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
When the retries end on an error after which a commit may have happened (commit_unknown_result,
or a timeout, which can cancel a commit still in flight), the id is looked up once more in a
fresh transaction that also fences off such a commit (``engine.outcome``): so an append returns
its position or raises an error that says it did not happen, never one that leaves it open.

An append may also carry an idempotency key (``append_once``): its transaction looks the key up
first, and when an earlier append recorded it, returns that append's position and writes
nothing. The append's own id is looked up before the key, so a retry after an unknown commit
result tells its own earlier commit (not a duplicate) from another caller's (a duplicate).
"""

from __future__ import annotations

import random
import struct
import time
from collections.abc import Iterable
from concurrent.futures import Future
from typing import NamedTuple

from fairway_django.engine import (
    CommitUnknownResult,
    Database,
    FDBError,
    NotCommitted,
    ReadTransaction,
    Transaction,
    TransactionTimedOut,
    keys,
)
from fairway_django.engine.outcome import mark, settle

from .codec import decode, encode
from .errors import AppendConditionFailed, EventTooLarge, InvalidAppend
from .events import Event, check_event, utf8_size
from .keyspace import (
    DcbKeyspace,
    EventSpace,
    Indexes,
    position_of,
    versionstamped_position,
)
from .layout import Layout
from .names import Name, names_of
from .limits import MAX_APPEND_BYTES, MAX_EVENT_BYTES, MAX_EVENTS_PER_APPEND
from .plan import Planner
from .position import POSITION_BYTES, Position
from .query import AppendCondition
from .reader import logged_record

#: How long an append's id is kept for its retries to find.
APPEND_ID_TTL_SECONDS = 300.0
#: An append gives up (TransactionTimedOut) after retrying this long; well inside the TTL.
APPEND_TIMEOUT_SECONDS = 60.0
#: How long an append whose outcome is unknown looks for its id (see _definite_outcome).
SETTLE_TIMEOUT_SECONDS = 10.0
#: How often one process clears expired ids, inside one of its appends.
PRUNE_INTERVAL_SECONDS = 5.0
#: Most expired idempotency keys one append clears; a full batch makes the next append prune too.
PRUNE_KEYS_BATCH = 256
#: Longest idempotency key, in UTF-8 bytes.
MAX_IDEMPOTENCY_KEY_BYTES = 200
#: Index prefixes kept per type and tag set; the cache starts afresh when full.
_CACHED_INDEXES = 16_384
_ORDER = struct.Struct(">H")
_MILLIS = struct.Struct(">Q")


class Appended(NamedTuple):
    """What ``append_once`` did: the position of the append's last event, and ``duplicate``:
    True when an earlier append had recorded the key (this call wrote nothing)."""

    position: Position
    duplicate: bool


class IdempotencyKey(NamedTuple):
    """An idempotency key's entries: ``("k", key)`` holds the last position and the expiry,
    ``("x", expiry, key)`` lets expired keys be found and cleared."""

    key: bytes
    expiry_key: bytes
    expiry: bytes  # milliseconds since the epoch, 8 bytes big-endian

    def recorded(self, tr: ReadTransaction) -> Position | None:
        """The position recorded under this key, unless absent or expired (a conflicting read:
        a concurrent append recording the same key makes one of the two retry)."""
        value = tr.get(self.key)
        if value is None or _recorded_expiry(value) <= _MILLIS.pack(time.time_ns() // 1_000_000):
            return None
        return Position(value[:POSITION_BYTES])

    def record(self, tr: Transaction, last_order: int) -> None:
        tr.set_versionstamped_value(self.key, versionstamped_position(last_order, self.expiry))
        tr.set(self.expiry_key, b"")


class _Prepared(NamedTuple):
    """An append's events, encoded, with the indexes each goes into."""

    records: list[bytes]
    #: Each event's type and tags, as written.
    combinations: list[tuple[str, tuple[str, ...]]]


class Appender:
    def __init__(
        self, database: Database, keyspace: DcbKeyspace, layout: Layout, planner: Planner
    ) -> None:
        self._database = database
        self._keyspace = keyspace
        self._layout = layout
        self._planner = planner
        self._next_prune = 0.0
        self._indexes: dict[tuple[str, tuple[str, ...]], Indexes] = {}

    def append(
        self, events: Iterable[Event], condition: AppendCondition | None,
        once: IdempotencyKey | None = None,
    ) -> Appended:
        space = self._layout.events()
        prepared = self._prepare(events, space)
        if condition is not None and not isinstance(condition, AppendCondition):
            raise InvalidAppend(
                f"condition must be an AppendCondition or None, not {type(condition).__name__}"
            )
        marker = self._keyspace.marker(_new_append_id())
        attempts = 0
        numbered: dict[Name, int] = {}  # the names the last attempt numbered

        def attempt(tr: Transaction) -> Appended | Future[bytes]:
            nonlocal attempts, numbered
            attempts += 1
            # What it reads leaves only as the append's outcome: a success is synced after
            # what it read, a failure waits for that (so processes share syncs, docs/dcb.md).
            tr.defer_durable_reads()
            mark(tr, marker)  # lets _definite_outcome fence off a commit of it still in flight
            if attempts > 1:  # the previous attempt's commit may have happened after all
                done = tr.get(marker)
                if done is not None:
                    return Appended(Position(done), duplicate=False)
            if once is not None:  # after our own id: our earlier commit is not a duplicate
                recorded = once.recorded(tr)
                if recorded is not None:
                    return Appended(recorded, duplicate=True)
            if condition is not None:
                self._check(tr, condition, space)
            # After the check: its dictionary lookups must not see the numbers written here,
            # and would keep them (Dictionary.lookup) though this transaction may not commit.
            indexes, numbered = self._indexes_of(tr, space, prepared.combinations)
            _check_size(space, prepared.records, indexes)
            self._write(tr, prepared.records, indexes, marker, space)
            if once is not None:
                once.record(tr, len(prepared.records) - 1)
            return tr.get_versionstamp()

        # Prepared before the turn: ``events`` may be the caller's generator.
        with self._database.turn():
            try:
                outcome = self._database.transact(attempt, timeout=APPEND_TIMEOUT_SECONDS)
            except FDBError as error:
                if attempts > 1 or isinstance(error, (CommitUnknownResult, TransactionTimedOut)):
                    # An attempt's commit may have happened: find out, not report a failure.
                    position = _definite_outcome(self._database, marker, error)
                    return Appended(position, duplicate=False)
                raise
        if isinstance(outcome, Appended):
            return outcome
        self._layout.names.committed(numbered)
        return Appended(
            Position(outcome.result() + _ORDER.pack(len(prepared.records) - 1)), False
        )

    def idempotency_key(self, key: str, ttl: float) -> IdempotencyKey:
        """The entries of ``key``, expiring ``ttl`` seconds from now; InvalidAppend if malformed."""
        if not isinstance(key, str) or not 1 <= utf8_size(key, "key", InvalidAppend) <= (
            MAX_IDEMPOTENCY_KEY_BYTES
        ):
            raise InvalidAppend(
                f"an idempotency key is 1 to {MAX_IDEMPOTENCY_KEY_BYTES} bytes of UTF-8 text, "
                f"not {key!r:.60}"
            )
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not 0 < ttl < 1e9:
            raise InvalidAppend(f"ttl is a positive number of seconds, not {ttl!r}")
        expiry_ms = int((time.time() + ttl) * 1000)
        return IdempotencyKey(
            self._keyspace.idempotency_key(key),
            self._keyspace.key_expiry(expiry_ms, key),
            _MILLIS.pack(expiry_ms),
        )

    def _prepare(self, events: Iterable[Event], space: EventSpace) -> _Prepared:
        """The events encoded, with their types and tags; InvalidAppend or EventTooLarge, with
        nothing appended, if any is invalid. (The append's size is checked in its transaction,
        once its new names have numbers: a number's length is part of every key.)"""
        if isinstance(events, Event) or not isinstance(events, Iterable):
            raise InvalidAppend("append takes a list of events; wrap a single event in a list")
        encoded = [(event, encode(event)) for event in map(check_event, events)]
        if not encoded:
            raise InvalidAppend("an append needs at least one event")
        if len(encoded) > MAX_EVENTS_PER_APPEND:
            raise InvalidAppend(
                f"an append takes at most {MAX_EVENTS_PER_APPEND:,} events, not {len(encoded):,}"
            )
        for order, (event, record) in enumerate(encoded):
            if len(record) > MAX_EVENT_BYTES:
                raise EventTooLarge(
                    f"event {order} ({event.type!r}) takes {len(record):,} bytes encoded; the "
                    f"limit is {MAX_EVENT_BYTES:,} (type, tags, metadata and data together). "
                    "Keep large payloads elsewhere and put a reference in the event."
                )
        records = [record for _, record in encoded]
        return _Prepared(records, [(event[0], event[2]) for event, _ in encoded])  # type, tags

    def _indexes_of(
        self, tr: Transaction, space: EventSpace, combinations: list[tuple[str, tuple[str, ...]]]
    ) -> tuple[list[Indexes], dict[Name, int]]:
        """Each event's indexes, and the names ``tr`` numbers (``names.Numbered.written``).

        Indexes are cached by type and tags as written: most appends repeat combinations
        already seen, and then need neither the dictionary nor a sort. Those of a combination
        with a name this transaction numbers are not cached until it commits."""
        cache = self._indexes
        found = list(map(cache.get, combinations))
        if None not in found:
            return found, {}  # type: ignore[return-value]  # no None left
        missed = list(dict.fromkeys(c for c, got in zip(combinations, found) if got is None))
        numbered = self._layout.names.number_in(
            tr, (name for combination in missed for name in names_of(*combination))
        )
        made: dict[tuple[str, tuple[str, ...]], Indexes] = {}
        for combination in missed:
            wanted = names_of(*combination)
            tags = tuple(sorted([numbered.numbers[name] for name in wanted[1:]]))
            made[combination] = space.indexes(numbered.numbers[wanted[0]], tags)
            if not any(name in numbered.written for name in wanted):
                if len(cache) >= _CACHED_INDEXES:
                    cache.clear()
                cache[combination] = made[combination]
        return [got or made[c] for c, got in zip(combinations, found)], numbered.written

    def _check(self, tr: Transaction, condition: AppendCondition, space: EventSpace) -> None:
        """Raise AppendConditionFailed if a matching event exists after the condition's position.

        Reads only the matching index ranges (with conflicts), stopping at the first match.
        """
        after = None if condition.after is None else condition.after.raw
        for scan in self._planner.scans(tr, condition.fail_if_events_match):
            limit = 0 if scan.also_tags else 1
            for key, record in tr.get_range(*scan.bounds(after, False), limit=limit):
                raw = position_of(key)
                if scan.also_tags:
                    if not scan.admits(decode(record or logged_record(tr, space.log, raw))):
                        continue  # lacks the item's other tags; what was read still conflicts
                raise AppendConditionFailed(condition, Position(raw))

    def _write(
        self, tr: Transaction, records: list[bytes], indexes: list[Indexes], marker: bytes,
        space: EventSpace,
    ) -> None:
        log = space.log
        entries: list[tuple[bytes, bytes, bytes]] = []
        for order, (record, event_indexes) in enumerate(zip(records, indexes)):
            order_bytes = _ORDER.pack(order)  # a position: the versionstamp, then the order
            entries.append((log, order_bytes, record))
            entries += [(prefix, order_bytes, b"") for prefix in event_indexes.prefixes]
        tr.set_versionstamped_keys(entries)
        last = versionstamped_position(len(records) - 1)
        tr.set_versionstamped_value(marker, last)
        tr.set_versionstamped_value(self._keyspace.head, last)
        now = time.time()
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_INTERVAL_SECONDS
            expired = _MILLIS.pack(int((now - APPEND_ID_TTL_SECONDS) * 1000)).hex()
            tr.clear_range(*self._keyspace.markers_before(expired))
            self._prune_keys(tr, int(now * 1000))

    def _prune_keys(self, tr: Transaction, now_ms: int) -> None:
        """Clear idempotency keys that expired before ``now_ms``, a batch at a time. A key
        recorded again since (its value holds a later expiry) keeps its new record."""
        begin, end = self._keyspace.key_expiries_before(now_ms)
        found = 0
        for entry, _ in tr.snapshot.get_range(begin, end, limit=PRUNE_KEYS_BATCH):
            found += 1
            expiry_ms, key = keys.unpack(entry, len(self._keyspace.key_expiries))
            assert isinstance(expiry_ms, int) and isinstance(key, str)
            key_entry = self._keyspace.idempotency_key(key)
            value = tr.get(key_entry)
            if value is not None and _recorded_expiry(value) == _MILLIS.pack(expiry_ms):
                tr.clear(key_entry)
            tr.clear(entry)
        if found == PRUNE_KEYS_BATCH:
            self._next_prune = 0.0  # more may have expired: the next append continues


def _check_size(space: EventSpace, records: list[bytes], indexes: list[Indexes]) -> None:
    """InvalidAppend if the events, with their index entries, exceed what one append writes."""
    size = len(records) * (len(space.log) + POSITION_BYTES) + sum(map(len, records))
    size += sum(found.key_bytes for found in indexes)
    if size > MAX_APPEND_BYTES:
        raise InvalidAppend(
            f"these {len(records):,} events take {size:,} bytes with their index entries; "
            f"one append writes at most {MAX_APPEND_BYTES:,}: split it into smaller appends"
        )


def _recorded_expiry(value: bytes) -> bytes:
    return value[POSITION_BYTES:]


def _definite_outcome(database: Database, marker: bytes, error: FDBError) -> Position:
    """The position of an append that failed with ``error``, if one of its commits happened
    after all; if none did, an error that says so (and that none can any more).

    ``error`` ends the retries of an append whose commits may have happened: after
    commit_unknown_result, or a timeout (which can cancel a commit in flight). The append's id
    is looked up, and fenced off, in a fresh transaction (see ``engine.outcome``). Only when
    that lookup fails too is the outcome unknown: CommitUnknownResult.
    """
    try:
        done = settle(database, marker, timeout=SETTLE_TIMEOUT_SECONDS)
    except FDBError as lookup:
        raise CommitUnknownResult(
            f"the append failed ({error.name}: {error.message}), and whether it happened "
            f"could not be found out ({lookup.name}: {lookup.message}); read the log before "
            "appending it again"
        ) from error
    if done is not None:
        return Position(done)
    gone = "its id is not in the store and can no longer appear there: appending again is safe"
    if isinstance(error, TransactionTimedOut):
        raise TransactionTimedOut(
            f"the append did not happen: it timed out ({error.message}); {gone}"
        ) from error
    if isinstance(error, CommitUnknownResult):
        raise NotCommitted(
            "the append did not happen: its commits ended with commit_unknown_result until "
            f"its retries ran out; {gone}"
        ) from error
    raise error


def _new_append_id() -> str:
    """Unique, and beginning with its creation time so that expired ids form one key range.

    The random part comes from ``random``'s generator, seeded from the OS and seeded again in
    every forked child, rather than ``os.urandom``: a system call per append was 3% of a
    decision."""
    return (_MILLIS.pack(time.time_ns() // 1_000_000) + random.randbytes(8)).hex()
