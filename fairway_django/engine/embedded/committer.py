"""Group commit and conflict resolution: the embedded engine's commit path.

Threads of one process hand their transactions to a queue; whichever thread finds no commit in
progress leads: it opens one LMDB write transaction on the data (LMDB's writer lock, fair
across processes, orders it against every other process), resolves each queued transaction
against the conflict log, applies the ones that pass, appends their written ranges to the log
(in the unsynced coordination environment, committed first) and writes the whole batch's
journal record (see journal). Under full durability it then syncs the journal once the writer
lock is released, a sync that may cover other processes' batches too (see durable). Batching is
what FDB's commit proxies do; it lets several threads share the cost of one fsync without any
waiting window.

The commit version is the LMDB write transaction's id, which LMDB increments with every
committed write transaction across all processes, and read versions are the ids of LMDB read
snapshots: so "committed after my read version" is a plain integer comparison. A transaction's
10-byte versionstamp is that version (8 bytes) and its order in the batch (2 bytes), as FDB's.
"""

from __future__ import annotations

import dataclasses
import struct
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

import lmdb

from ..errors import (
    CommitUnknownResult,
    FDBError,
    NotCommitted,
    StorageFull,
    TransactionTimedOut,
    TransactionTooOld,
)
from ..limits import MVCC_WINDOW_SECONDS, VERSIONSTAMP_SIZE
from . import conflicts, journal
from .conflicts import Range, RangeSet, Written
from .faults import Fault
from .journal import Run
from .keyspace import SHORT_KEY_LIMIT
from .mutations import Mutation, Op, add, stamp
from .space import storage_full

if TYPE_CHECKING:
    from .environment import Environment

_VERSION = struct.Struct(">Q")
_VERSIONSTAMP = struct.Struct(">QH")
_HORIZON_KEY = b"log_horizon"
#: Transactions one batch takes at most, so that no LMDB write transaction grows unbounded.
BATCH_LIMIT = 256
#: Conflict-log entries older than the MVCC window plus this margin are pruned...
_PRUNE_MARGIN_SECONDS = 1.0
#: ...by each process about this often: pruning on every commit would double its pages.
_PRUNE_INTERVAL_SECONDS = 1.0


@dataclasses.dataclass(slots=True, eq=False)
class CommitRequest:
    """One transaction's commit: what it read (at which version) and what it writes.

    Compared by identity: two transactions writing the same thing are still two commits.
    """

    read_version: int | None
    read_started: float | None
    reads: RangeSet
    mutations: list[Mutation]
    write_conflicts: list[Range]
    size: int  # bytes of its keys, values and conflict ranges
    fault: Fault | None = None
    version: int = -1
    versionstamp: bytes = b""
    error: BaseException | None = None
    finished: bool = False
    wakeup: threading.Event | None = None  # set when it waits for another thread's batch


class Committer:
    def __init__(self, environment: Environment) -> None:
        self._environment = environment
        self._lock = threading.Lock()
        self._queue: list[CommitRequest] = []
        self._leading = False
        self._next_prune = 0.0
        self.batch_limit = BATCH_LIMIT

    @property
    def busy(self) -> bool:
        """A batch is being committed (a fork must not close the environment under it)."""
        return self._leading

    def commit(self, request: CommitRequest) -> None:
        """Commit ``request`` (possibly in another thread's batch); raise its error if any.

        A thread that finds a batch in progress queues its request and sleeps on an event of
        its own. The leader wakes exactly the threads it committed for, and hands the lead to
        the first one still queued: waking every waiting thread after every batch would make
        them all fight over the GIL for nothing.
        """
        with self._lock:
            leads = not self._leading
            if leads:
                self._leading = True
            else:
                request.wakeup = threading.Event()
                self._queue.append(request)
        if not leads:
            assert request.wakeup is not None
            with self._environment.turn.set_aside():
                request.wakeup.wait()  # its batch is done, or the lead was handed to it
        if not request.finished:
            with self._lock:
                batch = [request, *self._queue[: self.batch_limit - 1]]
                del self._queue[: self.batch_limit - 1]
            try:
                try:
                    written = self._process(batch)
                finally:  # the next batch may commit while this one is being synced
                    with self._lock:
                        following = self._queue.pop(0) if self._queue else None
                        if following is None:
                            self._leading = False
                    if following is not None:
                        assert following.wakeup is not None
                        following.wakeup.set()
                self._make_durable(batch)
                if written:  # looked up after the commit: no watch registered meanwhile is missed
                    registry = self._environment.watch_registry
                    registry.notify(registry.watchers_of(written))
            finally:
                for committed in batch[1:]:
                    assert committed.wakeup is not None
                    committed.wakeup.set()
        if request.error is not None:
            raise request.error

    def _make_durable(self, batch: list[CommitRequest]) -> None:
        """Under full durability, sync the journal through the batch's version (unless a sync
        by this or another process already covered it), after the writer lock is released."""
        durable = self._environment.durable
        version = max(request.version for request in batch)
        if durable is None or version < 0:
            return
        try:
            durable.wait_for(version)
        except Exception as error:  # committed in LMDB, yet perhaps never on disk
            self._fail_all(batch, CommitUnknownResult(f"syncing the journal failed: {error!r}"))

    def _process(self, batch: list[CommitRequest]) -> Written:
        """Commit the batch in LMDB, its journal record written (not synced); what it wrote."""
        environment = self._environment
        written = Written()
        rotated = journaled = False
        try:
            # The data's writer lock first, always: it orders commits across processes. The
            # log entry commits before the data, so a later commit never misses it (an entry
            # whose data commit then fails only makes for a spurious conflict). The journal
            # record is written before the data commits; under full durability it is synced
            # once the writer lock is released, before any reader sees it (see durable).
            with environment.turn.set_aside():  # another process may hold the writer lock
                txn = environment.env.begin(write=True)
            with txn:  # counted by ``busy``
                environment.space.reserve(
                    sum(m.key_count for r in batch for m in r.mutations),
                    sum(r.size for r in batch),
                )
                runs: list[Run] = []
                with (
                    environment.turn,
                    environment.coordination.env.begin(write=True) as log_txn,
                ):
                    self._resolve_batch(txn, log_txn, batch, runs, written)
                    if written:
                        self._log(log_txn, txn.id(), written)
                # A commit of write-conflict ranges alone writes no data, yet it logged a
                # conflict at this version, so it must take the version as FDB's would: its
                # (empty) record makes LMDB commit, and later reads happen at or after it.
                if runs or written:
                    rotated = environment.journal.append(
                        txn, txn.id(), runs, environment.data_size
                    )
                    journaled = True
        except BaseException as error:  # the batch's write transaction was aborted
            written = Written()
            if journaled:  # yet its record is in the journal, and a rebuild would apply it
                failure: BaseException = CommitUnknownResult(f"committing failed: {error!r}")
            elif isinstance(error, lmdb.MapFullError):
                failure = StorageFull(environment.full_message())
            else:  # a disk too full for the coordination's file to grow, or any other error
                failure = storage_full(error, environment.path) or error
            self._fail_all(batch, failure)
        finally:
            for request in batch:
                request.finished = True
        if rotated:
            environment.checkpoint_soon()
        return written

    def _resolve_batch(
        self, txn: lmdb.Transaction, log_txn: lmdb.Transaction, batch: list[CommitRequest],
        runs: list[Run], written: Written,
    ) -> None:
        version = txn.id()
        oldest = min((r.read_version for r in batch if r.read_version is not None and r.reads),
                     default=None)
        horizon = 0 if oldest is None else self._horizon(log_txn)
        log = [] if oldest is None else self._log_after(log_txn, oldest)
        order = 0  # the last two bytes of the versionstamp: commit order within the batch
        for request in batch:
            try:
                self._resolve(request, horizon, log, written)
                self._inject(request)
            except FDBError as error:
                request.error = error
                continue
            versionstamp = _VERSIONSTAMP.pack(version, order)
            self._apply(txn, request, versionstamp, runs, written)
            request.version, request.versionstamp = version, versionstamp
            order += 1

    def _resolve(
        self, request: CommitRequest, horizon: int, log: list[tuple[int, bytes]],
        written: Written,
    ) -> None:
        if request.read_version is None or request.read_started is None:
            return  # it never read, so nothing it saw can have changed
        if (
            time.monotonic() - request.read_started > MVCC_WINDOW_SECONDS
            or request.read_version < horizon
        ):
            raise TransactionTooOld("the transaction's read version is older than 5 seconds")
        for version, entry in log:
            if version > request.read_version and conflicts.entry_conflicts(
                entry, request.reads
            ):
                raise NotCommitted("a key this transaction read was written after it read it")
        if written.conflicts_with(request.reads):
            raise NotCommitted("a key this transaction read was written by an earlier commit")

    @staticmethod
    def _inject(request: CommitRequest) -> None:
        fault = request.fault
        if fault is Fault.NOT_COMMITTED:
            raise NotCommitted("injected fault")
        if fault is Fault.TRANSACTION_TOO_OLD:
            raise TransactionTooOld("injected fault")
        if fault is Fault.UNKNOWN_RESULT_NOT_APPLIED:
            raise CommitUnknownResult("injected fault; this commit was not applied")
        if fault is Fault.UNKNOWN_RESULT_APPLIED:
            request.error = CommitUnknownResult("injected fault; this commit was applied")
        if fault is Fault.TIMED_OUT_APPLIED:
            request.error = TransactionTimedOut(
                "injected fault: the timeout expired during commit; this commit was applied"
            )

    def _apply(
        self, txn: lmdb.Transaction, request: CommitRequest, versionstamp: bytes,
        runs: list[Run], written: Written,
    ) -> None:
        """Apply the mutations in order, noting their resolved effects for the journal.

        Sets (plain, versionstamped and the results of atomic operations) are gathered into
        runs that go to LMDB, the journal and the conflict log in one C call each: an event
        store's append sets thousands of keys.
        """
        keyspace = self._environment.keyspace
        pairs: list[tuple[bytes, bytes]] = []
        for op, key, param, entries in request.mutations:
            if op is Op.SET_VERSIONSTAMPED_KEYS:
                pairs += [
                    (before + versionstamp + after, value) for before, after, value in entries
                ]
            elif op is Op.SET_VERSIONSTAMPED_KEY:
                offset = int.from_bytes(key[-4:], "little")  # checked when recorded
                pairs.append(
                    (key[:offset] + versionstamp + key[offset + VERSIONSTAMP_SIZE : -4], param)
                )
            elif op is Op.SET:
                pairs.append((key, param))
            elif op is Op.SET_VERSIONSTAMPED_VALUE:
                pairs.append((key, stamp(param, versionstamp)))
            else:  # reads the store, or removes from it: what is gathered goes first
                pairs = self._put(txn, pairs, runs, written)
                if op is Op.ADD:
                    pairs.append((key, add(keyspace.get(txn, key), param)))
                elif op is Op.CLEAR:
                    keyspace.delete(txn, key)
                    runs.append((journal.DELETE, [(key, b"")]))
                    written.add_keys([key])
                else:
                    keyspace.clear_range(txn, key, param)
                    runs.append((journal.CLEAR_RANGE, [(key, param)]))
                    written.ranges.append((key, param))
        self._put(txn, pairs, runs, written)
        written.ranges += request.write_conflicts

    def _put(
        self, txn: lmdb.Transaction, pairs: list[tuple[bytes, bytes]], runs: list[Run],
        written: Written,
    ) -> list[tuple[bytes, bytes]]:
        """Set ``pairs`` in order; returns a new list to gather the next run in."""
        if not pairs:
            return pairs
        keys = [key for key, _ in pairs]
        if min(map(len, keys)) > 0 and max(map(len, keys)) <= SHORT_KEY_LIMIT:
            txn.cursor().putmulti(pairs)  # LMDB's main database, one C loop
        else:
            keyspace = self._environment.keyspace
            for key, value in pairs:
                keyspace.put(txn, key, value)
        if runs and runs[-1][0] == journal.SET:
            runs[-1][1].extend(pairs)
        else:
            runs.append((journal.SET, pairs))
        written.add_keys(keys)
        return []

    def _log(self, txn: lmdb.Transaction, version: int, written: Written) -> None:
        now = time.time()
        log = self._environment.coordination.log
        txn.put(_VERSION.pack(version), written.encode_entry(now), db=log)
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + _PRUNE_INTERVAL_SECONDS
            self._prune(txn, now - (MVCC_WINDOW_SECONDS + _PRUNE_MARGIN_SECONDS))
            # Snapshots of killed processes would pin old pages and grow the files.
            self._environment.env.reader_check()
            self._environment.coordination.env.reader_check()

    def _prune(self, txn: lmdb.Transaction, cutoff: float) -> None:
        """Drop entries older than ``cutoff``; later, transactions older than them are too old."""
        cursor = txn.cursor(db=self._environment.coordination.log)
        horizon = None
        while cursor.first() and conflicts.entry_timestamp(bytes(cursor.value())) < cutoff:
            horizon = _VERSION.unpack(cursor.key())[0]
            cursor.delete()
        if horizon is not None:
            txn.put(_HORIZON_KEY, _VERSION.pack(horizon), db=self._environment.coordination.meta)

    def _horizon(self, txn: lmdb.Transaction) -> int:
        raw = txn.get(_HORIZON_KEY, db=self._environment.coordination.meta)
        return 0 if raw is None else int(_VERSION.unpack(raw)[0])

    def _log_after(self, txn: lmdb.Transaction, version: int) -> list[tuple[int, bytes]]:
        cursor = txn.cursor(db=self._environment.coordination.log)
        if not cursor.set_range(_VERSION.pack(version + 1)):
            return []
        entries = cast("Iterator[tuple[bytes, bytes]]", cursor.iternext())
        return [(_VERSION.unpack(key)[0], value) for key, value in entries]

    @staticmethod
    def _fail_all(batch: list[CommitRequest], error: BaseException) -> None:
        for request in batch:
            if request.error is None or request.version >= 0:
                request.error = error
                request.version, request.versionstamp = -1, b""

