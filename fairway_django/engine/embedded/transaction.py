"""The embedded engine's transaction: an LMDB read snapshot, a write map, conflict ranges.

Reads go to an LMDB read transaction begun at the first read; its id is the read version, so
every read of the transaction sees one consistent snapshot (MVCC) for as long as it lives,
which is at most FDB's five seconds. Writes stay local until commit, when the committer checks
the recorded read-conflict ranges and applies the mutations atomically.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from functools import partial
from itertools import chain, islice
from operator import add
from typing import TYPE_CHECKING, cast

import lmdb

from ..base import KeyValue, ReadTransaction, Transaction, check_timeout
from ..errors import (
    FDBError,
    NoCommitVersion,
    TransactionCancelled,
    TransactionTimedOut,
    TransactionTooLarge,
    TransactionTooOld,
    UsedDuringCommit,
)
from ..limits import (
    KEY_SIZE_LIMIT,
    MVCC_WINDOW_SECONDS,
    TRANSACTION_SIZE_LIMIT,
    VALUE_SIZE_LIMIT,
    VERSIONSTAMP_SIZE,
)
from . import conflicts, validation
from .committer import CommitRequest
from .conflicts import NO_READS, Range, RangeSet
from .keyspace import SHORT_KEY_LIMIT
from .mutations import Mutation, Op, split_versionstamp_operand
from .writes import UNKNOWN, PendingAdds, WriteMap

#: A versionstamped key's operand: the key (the 10-byte placeholder at least) and its offset.
_VERSIONSTAMP_MIN_OPERAND = VERSIONSTAMP_SIZE + 4
_VERSIONSTAMP_MAX_OPERAND = KEY_SIZE_LIMIT + 4
_VERSIONSTAMP_MAX_VALUE_OPERAND = VALUE_SIZE_LIMIT + 4
#: The longest a versionstamped key's parts may be together, around its versionstamp.
_STAMPED_PARTS_LIMIT = KEY_SIZE_LIMIT - VERSIONSTAMP_SIZE

if TYPE_CHECKING:
    from .database import EmbeddedDatabase
    from .environment import Environment

_OPEN, _COMMITTING, _COMMITTED, _CANCELLED, _FAILED = range(5)
#: Range reads hand out batches of pairs growing from the first size to the largest.
_FIRST_BATCH, _MAX_BATCH = 16, 4096
#: Makes a KeyValue from a (key, value) pair in C, skipping NamedTuple's Python ``__new__``.
_key_value = cast("Callable[[tuple[bytes, bytes]], KeyValue]", partial(tuple.__new__, KeyValue))


#: A watch: its key, the value it compares with (what the transaction saw), its future.
_Watch = tuple[bytes, bytes | None, Future[None]]


class _RangeRead:
    """The part of a range read that became a read-conflict range: what was fetched."""

    __slots__ = ("begin", "end", "reverse", "last", "complete")

    def __init__(self, begin: bytes, end: bytes, reverse: bool) -> None:
        self.begin, self.end, self.reverse = begin, end, reverse
        self.last: bytes | None = None
        self.complete = False

    def conflict_range(self) -> Range | None:
        if self.complete:
            return (self.begin, self.end)
        if self.last is None:
            return None
        return (self.last, self.end) if self.reverse else (self.begin, self.last + b"\x00")


class EmbeddedTransaction(Transaction):
    # Slots: a transaction is made for every unit of work, and slot attributes are the
    # cheapest to create and to read.
    __slots__ = (
        "_database",
        "_environment",
        "_deadline",
        "_snapshot_txn",
        "_read_version",
        "_read_started",
        "_state",
        "_commit_started",
        "_scanning",
        "_deferred",
        "_error",
        "_writes",
        "_read_keys",
        "_read_ranges",
        "_explicit_reads",
        "_write_conflicts",
        "_watches",
        "_versionstamp",
        "_committed_version",
        "_committed_stamp",
    )

    def __init__(
        self, database: EmbeddedDatabase, environment: Environment, timeout: float | None
    ) -> None:
        self._database = database
        self._environment = environment
        self._deadline = None if timeout is None else time.monotonic() + check_timeout(timeout)
        self._snapshot_txn: lmdb.Transaction | None = None
        self._read_version: int | None = None
        self._read_started = 0.0
        self._state = _OPEN
        self._commit_started = False
        self._scanning = False  # set by disable_read_cache: reads count towards residency
        self._deferred = False  # set by defer_durable_reads: snapshots do not wait
        self._error: FDBError | None = None
        # What a transaction may never need stays None until first used.
        self._writes: WriteMap | None = None
        self._read_keys: list[bytes] | None = None
        self._read_ranges: list[_RangeRead] | None = None
        self._explicit_reads: list[Range] | None = None
        self._write_conflicts: list[Range] | None = None
        self._watches: list[_Watch] | None = None
        self._versionstamp: Future[bytes] | None = None
        self._committed_version = -1
        self._committed_stamp = b""

    # -- reads -------------------------------------------------------------------------------

    @property
    def snapshot(self) -> ReadTransaction:
        return _SnapshotView(self)

    def get_read_version(self) -> int:
        self._reader()
        self._await_durable_reads()  # a version is only ever given out durable
        version = self._version_read_at()
        assert version is not None
        return version

    def _version_read_at(self) -> int | None:
        """The snapshot's id, asked for lazily (py-lmdb's ``id()`` is not free); None if the
        transaction never read."""
        if self._read_version is None and self._snapshot_txn is not None:
            self._read_version = self._snapshot_txn.id()
        return self._read_version

    def get_range(
        self, begin: bytes, end: bytes, limit: int = 0, reverse: bool = False
    ) -> Iterator[KeyValue]:
        return self._get_range(begin, end, limit, reverse, snapshot=False)

    def get(self, key: bytes, _snapshot: bool = False) -> bytes | None:
        # The hottest path of every layer above: checks are inlined, the rare cases delegated.
        if type(key) is not bytes or key >= b"\xff":
            validation.read_key(key)  # raises the precise error
        txn = self._snapshot_txn
        if txn is None and self._deadline is None and self._state == _OPEN:
            txn = self._snapshot_txn = self._environment.snapshot(wait_durable=not self._deferred)
            self._read_started = time.monotonic()
        elif (
            txn is None
            or self._deadline is not None
            or self._state != _OPEN
            or time.monotonic() - self._read_started > MVCC_WINDOW_SECONDS
        ):
            txn = self._reader()
        writes = self._writes
        entry = UNKNOWN if writes is None else writes.lookup(key)
        if entry is not UNKNOWN and not isinstance(entry, PendingAdds):
            return entry  # type: ignore[return-value]  # known locally: no conflict
        if not _snapshot:
            if self._read_keys is None:
                self._read_keys = [key]
            else:
                self._read_keys.append(key)
        if 0 < len(key) <= SHORT_KEY_LIMIT:  # a single LMDB call: no turn of its own
            stored: bytes | None = txn.get(key)  # type: ignore[assignment]  # main database
        else:
            stored = self._environment.keyspace.get(txn, key)
        return stored if entry is UNKNOWN else entry.resolve(stored)  # type: ignore[attr-defined]

    def get_many(self, keys: Sequence[bytes], _snapshot: bool = False) -> list[bytes | None]:
        """All of ``keys`` in one C loop, when none is special and nothing was written here
        yet (otherwise ``get`` for each, which knows those cases).

        The loop maps LMDB's ``get`` over the keys rather than using a cursor's ``getmulti``:
        py-lmdb lets the GIL go twice per key in ``getmulti`` (the seek, then touching the
        value's pages) and once in ``get``, and builds no (key, value) pair. Reading an
        entity's 100 scattered events got 12% faster, and threads hand the GIL over less.
        """
        if (
            self._writes is not None
            or not keys
            or set(map(type, keys)) != {bytes}
            or min(map(len, keys)) == 0
            or max(map(len, keys)) > SHORT_KEY_LIMIT
            or max(keys) >= b"\xff"
        ):
            return [self.get(key, _snapshot) for key in keys]
        txn = self._reader()
        if not _snapshot:
            if self._read_keys is None:
                self._read_keys = list(keys)
            else:
                self._read_keys.extend(keys)
        with self._environment.turn:
            values: list[bytes | None] = list(map(txn.get, keys))  # type: ignore[arg-type]
        if self._scanning:
            self._environment.residency.scanned(len(keys))
        return values

    def _get_range(
        self, begin: bytes, end: bytes, limit: int, reverse: bool, snapshot: bool
    ) -> Iterator[KeyValue]:
        validation.key_range(begin, end, inverted_is_error=False)
        if not isinstance(limit, int) or limit < 0:
            raise ValueError(f"limit must be a whole number (0 for none), not {limit!r}")
        txn = self._reader()
        if begin >= end:
            return iter(())
        with self._environment.turn:
            items = self._environment.keyspace.iterate(txn, begin, end, reverse)
        if self._writes is not None and self._writes.touches(begin, end):
            items = self._writes.overlay(items, begin, end, reverse)
        record = None
        if not snapshot:
            record = _RangeRead(begin, end, reverse)
            if self._read_ranges is None:
                self._read_ranges = []
            self._read_ranges.append(record)
        # FDB's bindings request the first batch when the read is made, so a read made before
        # commit still returns its first batch afterwards (the commit waits for it), while any
        # later batch is refused: fetch the first one now, and check before each of the others.
        batches = self._batches(items, limit, record)
        return chain(next(batches), chain.from_iterable(batches))

    def _batches(
        self, items: Iterator[tuple[bytes, bytes]], limit: int, record: _RangeRead | None
    ) -> Iterator[list[KeyValue]]:
        """The range in batches that grow as they are consumed, as FDB's iterator mode does.

        Within a batch no Python runs per pair. Between batches the transaction is checked
        (cancelled, too old, timed out), and each batch fetched joins the read-conflict range,
        as in FDB: a read abandoned part-way conflicts on what it fetched, a limited read
        exactly up to its last pair.
        """
        size, remaining = _FIRST_BATCH, limit
        residency, turn = self._environment.residency, self._environment.turn
        while True:
            want = min(size, remaining) if limit else size
            with turn:
                batch = list(map(_key_value, islice(items, want)))
            if self._scanning:
                residency.scanned(len(batch))
            if record is not None and batch:
                record.last = batch[-1][0]
            yield batch
            if len(batch) < want:
                if record is not None:
                    record.complete = True
                return
            remaining -= want
            if limit and not remaining:
                return
            size = min(2 * size, _MAX_BATCH)
            self._reader()  # still usable, not too old, not timed out: else raises why

    def _reader(self) -> lmdb.Transaction:
        """The snapshot to read from, after checking this transaction may still read."""
        if self._state != _OPEN:
            raise self._unusable()
        now = time.monotonic()
        if self._deadline is not None and now > self._deadline:
            self._fail(TransactionTimedOut("the transaction's timeout expired"))
        txn = self._snapshot_txn
        if txn is None:
            txn = self._snapshot_txn = self._environment.snapshot(wait_durable=not self._deferred)
            self._read_started = now
        elif now - self._read_started > MVCC_WINDOW_SECONDS:
            self._fail(TransactionTooOld("the transaction's read version is over 5 seconds old"))
        return txn

    def disable_read_cache(self) -> None:
        self._scanning = True

    def defer_durable_reads(self) -> None:
        self._deferred = True

    def _await_durable_reads(self) -> None:
        """Before anything read by a deferring transaction leaves it: what it saw is synced."""
        if self._deferred and self._snapshot_txn is not None:
            self._environment.await_durable(self._snapshot_txn)

    # -- writes ------------------------------------------------------------------------------

    def set(self, key: bytes, value: bytes) -> None:
        if (  # one test on the hot path; the precise error comes from validation
            type(key) is not bytes
            or type(value) is not bytes
            or len(key) > KEY_SIZE_LIMIT
            or len(value) > VALUE_SIZE_LIMIT
            or key >= b"\xff"
        ):
            validation.write_key(key)
            validation.value(value)
        self._record(Mutation(Op.SET, key, value))

    def clear(self, key: bytes) -> None:
        validation.write_key(key)
        self._record(Mutation(Op.CLEAR, key, b""))

    def clear_range(self, begin: bytes, end: bytes) -> None:
        validation.key_range(begin, end, inverted_is_error=True)
        if begin < end:
            self._record(Mutation(Op.CLEAR_RANGE, begin, end))

    def add(self, key: bytes, param: bytes) -> None:
        validation.write_key(key)
        validation.value(param)
        self._record(Mutation(Op.ADD, key, param))

    def set_versionstamped_key(self, key: bytes, value: bytes) -> None:
        writes = self._writes
        if (  # event stores write many of these: the common case checked inline
            writes is None
            or self._state != _OPEN
            or type(key) is not bytes
            or type(value) is not bytes
            or not _VERSIONSTAMP_MIN_OPERAND <= len(key) <= _VERSIONSTAMP_MAX_OPERAND
            or len(value) > VALUE_SIZE_LIMIT
            or key >= b"\xff"
            or int.from_bytes(key[-4:], "little") + VERSIONSTAMP_SIZE > len(key) - 4
        ):
            validation.require_bytes(key, "key")
            body, _ = split_versionstamp_operand(key, "key")
            validation.write_key(body)
            validation.value(value)
            self._record(Mutation(Op.SET_VERSIONSTAMPED_KEY, key, value))
        else:  # leaves no entry a read could see (see WriteMap.record)
            writes.mutations.append(Mutation(Op.SET_VERSIONSTAMPED_KEY, key, value))
            writes.size += len(key) + len(value)

    def set_versionstamped_keys(self, entries: Sequence[tuple[bytes, bytes, bytes]]) -> None:
        """All of ``entries`` checked with a few passes in C and recorded as one mutation; any
        entry out of the common case sends them all the one-by-one way, for its precise error.
        Versionstamped keys are unknown until commit: they leave nothing a read could see."""
        if self._state != _OPEN or not entries or set(map(len, entries)) != {3}:
            super().set_versionstamped_keys(entries)
            return
        befores, afters, values = zip(*entries)
        if (
            {*map(type, befores), *map(type, afters), *map(type, values)} != {bytes}
            or max(map(add, map(len, befores), map(len, afters))) > _STAMPED_PARTS_LIMIT
            or max(map(len, values)) > VALUE_SIZE_LIMIT
            or max(befores) >= b"\xff"
        ):
            super().set_versionstamped_keys(entries)
            return
        if self._writes is None:
            self._writes = WriteMap()
        writes = self._writes
        writes.mutations.append(
            Mutation(Op.SET_VERSIONSTAMPED_KEYS, b"", b"", tuple(entries))
        )
        writes.size += (
            sum(map(len, befores)) + sum(map(len, afters)) + sum(map(len, values))
            + len(entries) * VERSIONSTAMP_SIZE
        )

    def set_versionstamped_value(self, key: bytes, value: bytes) -> None:
        if (  # one test for the common case, as in set_versionstamped_key
            type(key) is not bytes
            or type(value) is not bytes
            or len(key) > KEY_SIZE_LIMIT
            or key >= b"\xff"
            or not _VERSIONSTAMP_MIN_OPERAND <= len(value) <= _VERSIONSTAMP_MAX_VALUE_OPERAND
            or int.from_bytes(value[-4:], "little") + VERSIONSTAMP_SIZE > len(value) - 4
        ):
            validation.write_key(key)
            validation.require_bytes(value, "value")
            body, _ = split_versionstamp_operand(value, "value")
            validation.value(body)
        self._record(Mutation(Op.SET_VERSIONSTAMPED_VALUE, key, value))

    def add_read_conflict_range(self, begin: bytes, end: bytes) -> None:
        validation.key_range(begin, end, inverted_is_error=True)
        self._reader()  # the range is checked against commits after this read version
        if self._explicit_reads is None:
            self._explicit_reads = []
        self._explicit_reads.append((begin, end))

    def add_write_conflict_range(self, begin: bytes, end: bytes) -> None:
        validation.key_range(begin, end, inverted_is_error=True)
        self._require_open()
        if begin < end:
            if self._write_conflicts is None:
                self._write_conflicts = []
            self._write_conflicts.append((begin, end))

    def _record(self, mutation: Mutation) -> None:
        if self._state != _OPEN:
            raise self._unusable()
        if self._writes is None:
            self._writes = WriteMap()
        self._writes.record(mutation)
        if self._watches is not None:
            self._trigger_watches(mutation)

    def _trigger_watches(self, mutation: Mutation) -> None:
        """Fire the watches whose key this transaction's own write changes, as FDB's do at once.

        A write whose value is not known before commit (an atomic add, a versionstamped value)
        fires them too. Versionstamped keys are unknown before commit and fire nothing.
        """
        op, key, param, _ = mutation
        assert self._watches is not None
        for watched, expected, future in self._watches:
            if future.done():
                continue
            if op is Op.CLEAR_RANGE:
                changed = key <= watched < param and expected is not None
            elif watched != key:
                continue
            elif op is Op.SET:
                changed = param != expected
            elif op is Op.CLEAR:
                changed = expected is not None
            else:
                changed = op is not Op.SET_VERSIONSTAMPED_KEY
            if changed and future.set_running_or_notify_cancel():
                future.set_result(None)

    # -- commit and its results --------------------------------------------------------------

    def watch(self, key: bytes) -> Future[None]:
        """As FDB's: reads ``key`` now, with a read-conflict range, and compares with that.

        Errors reach the future, as they do in FDB's bindings: a watch of a transaction that
        was committed, cancelled or failed fails with that reason.
        """
        validation.write_key(key)
        future: Future[None] = Future()
        if self._state != _OPEN:
            future.set_exception(self._unusable())
            return future
        try:
            expected = self.get(key)
        except FDBError as error:  # timed out, too old, a versionstamped value (1036)
            future.set_exception(error)
            return future
        if self._watches is None:
            self._watches = []
        self._watches.append((key, expected, future))
        return future

    def get_versionstamp(self) -> Future[bytes]:
        """Ask before commit: asked after, it fails with used_during_commit, as in FDB."""
        if self._state != _OPEN:
            refused: Future[bytes] = Future()
            refused.set_exception(self._unusable())
            return refused
        if self._versionstamp is None:
            self._versionstamp = Future()
        return self._versionstamp

    def get_committed_version(self) -> int:
        return self._committed_version

    def commit(self) -> None:
        if self._state != _OPEN:
            raise self._unusable()
        if self._deadline is not None and time.monotonic() > self._deadline:
            self._fail(TransactionTimedOut("the transaction's timeout expired"))
        self._commit_started = True
        mutations = self._writes.mutations if self._writes is not None else []
        if not mutations:  # no sync of its own will cover what it read
            self._await_durable_reads()
        if self._writes is None and self._write_conflicts is None and self._watches is None:
            if self._snapshot_txn is not None:  # read-only: nothing to check, as in FDB
                self._snapshot_txn.abort()
                self._snapshot_txn = None
            self._state = _COMMITTED
            if self._versionstamp is not None:
                self._settle_versionstamp()
            return
        watches = [watch for watch in self._watches or () if not watch[2].done()]
        self._state = _COMMITTING
        try:
            if mutations or self._write_conflicts:
                self._commit_writes(mutations)
        except FDBError as error:
            self._fail(error)
        finally:
            self._release_snapshot()
        self._state = _COMMITTED
        if self._versionstamp is not None:
            self._settle_versionstamp()
        hub = self._environment.watch_hub
        for key, value, future in watches:
            hub.add(key, value, future)

    def _commit_writes(self, mutations: list[Mutation]) -> None:
        reads = RangeSet(self._conflict_reads()) if self._snapshot_txn is not None else NO_READS
        write_conflicts = self._write_conflicts or []
        size = self._writes.size if self._writes is not None else 0
        for begin, end in (*reads.ranges, *write_conflicts):
            size += len(begin) + len(end)
        if size > TRANSACTION_SIZE_LIMIT:
            raise TransactionTooLarge(
                f"the transaction's mutations and conflict ranges take {size} bytes; the limit "
                f"is {TRANSACTION_SIZE_LIMIT}: split the work into several transactions"
            )
        request = CommitRequest(
            read_version=self._version_read_at(),
            read_started=self._read_started,
            reads=reads,
            mutations=mutations,
            write_conflicts=write_conflicts,
            size=size,
            fault=(
                self._database.faults.draw_for(can_time_out=self._deadline is not None)
                if self._database.faults.rate
                else None
            ),
        )
        self._release_snapshot()
        self._environment.committer.commit(request)
        self._committed_version = request.version
        self._committed_stamp = request.versionstamp

    def _settle_versionstamp(self) -> None:
        assert self._versionstamp is not None
        if self._committed_version < 0:
            self._versionstamp.set_exception(
                NoCommitVersion("a read-only transaction has no versionstamp")
            )
        else:
            self._versionstamp.set_result(self._committed_stamp)

    def _conflict_reads(self) -> list[Range]:
        ranges = [conflicts.point(key) for key in self._read_keys or ()]
        ranges += self._explicit_reads or ()
        for record in self._read_ranges or ():
            read = record.conflict_range()
            if read is not None:
                ranges.append(read)
        return ranges

    def cancel(self) -> None:
        if self._state in (_OPEN, _COMMITTING):
            if self._state == _OPEN:  # the error transact raises may tell what was read
                self._await_durable_reads()
            self._fail_quietly(TransactionCancelled("the transaction was cancelled"))
            self._state = _CANCELLED

    # -- lifecycle ---------------------------------------------------------------------------

    def _require_open(self) -> None:
        if self._state != _OPEN:
            raise self._unusable()

    def _unusable(self) -> FDBError:
        if self._commit_started:  # FDB: until reset, whether the commit succeeded or failed
            return UsedDuringCommit(
                "the transaction's commit was started; it cannot be used any more, start a new "
                "one (was a range read or a future kept past its transaction?)"
            )
        if self._state == _CANCELLED:
            return TransactionCancelled("the transaction was cancelled")
        if self._state == _FAILED and self._error is not None:
            return self._error
        return UsedDuringCommit("the transaction has been committed; start a new one")

    def _fail(self, error: FDBError) -> None:
        self._fail_quietly(error)
        raise error

    def _fail_quietly(self, error: FDBError) -> None:
        self._state = _FAILED
        self._error = error
        self._release_snapshot()
        for future in (self._versionstamp, *(f for _, _, f in self._watches or ())):
            if future is not None and not future.done():
                future.set_exception(error)

    def _release_snapshot(self) -> None:
        if self._snapshot_txn is not None:
            self._snapshot_txn.abort()
            self._snapshot_txn = None



class _SnapshotView(ReadTransaction):
    """Reads that add no conflict ranges (FDB's ``tr.snapshot``)."""

    __slots__ = ("_transaction",)

    def __init__(self, transaction: EmbeddedTransaction) -> None:
        self._transaction = transaction

    def get(self, key: bytes) -> bytes | None:
        return self._transaction.get(key, _snapshot=True)

    def get_many(self, keys: Sequence[bytes]) -> list[bytes | None]:
        return self._transaction.get_many(keys, _snapshot=True)

    def get_range(
        self, begin: bytes, end: bytes, limit: int = 0, reverse: bool = False
    ) -> Iterator[KeyValue]:
        return self._transaction._get_range(begin, end, limit, reverse, snapshot=True)

    def get_read_version(self) -> int:
        return self._transaction.get_read_version()
