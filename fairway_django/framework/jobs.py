"""One automation's job queue, kept in the engine so that workers on any machine share it.

Every change is a few keys in one transaction, under ``keyspace_of(store).automation(name)``::

    ("c",)                    the watcher's cursor: the last position it turned into jobs
    ("f",)                    why the watcher stopped (a handler raised), until it goes on
    ("j", job_id)             a job: its key, data, attempts, lease and last error
    ("k", key, order)         each key's queue, in order -> job_id
    ("d", due_ms, job_id)     when the first job of each key is due -> its key and holder
    ("x", job_id)             dead letters: the job, its last error and traceback
    ("v",)                    bumped (atomic add) whenever a job may have become due
    ("n", "queued" | "dead")  counts (atomic adds), for status

A job's id is its event's position, so an event makes at most one job per automation. Only the
first job of each key's queue has a due entry: a job waiting out its backoff holds back the
later jobs of its own key (per-key order) and nothing else (no head-of-line blocking). Leasing a
job moves its due entry to the lease's expiry, so a dead worker's job falls due again by itself;
its holder moves it on while it works (heartbeats). Workers pick at random among the first due
entries and take a read conflict on the one they pick only, so they rarely conflict.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial

import msgspec

from fairway_django.dcb import DcbStore, Position
from fairway_django.engine import ReadTransaction, Transaction, keys
from fairway_django.engine.base import KeyValue

from .automations import (
    MAX_ERROR_BYTES, MAX_TRACEBACK_BYTES, Automation, DeadLetter, HeldJob, QueuedJob, QueueStats,
    shortened,
)
from .generations import Failure
from .keyspace import keyspace_of
from .leases import now_ms

#: A due entry is picked at random among this many of the first ones.
PICK_AMONG = 8
#: Dead letters replayed or discarded per transaction.
DEAD_LETTERS_PER_TRANSACTION = 100
#: Leased jobs that status lists, at most, among this many of the next due entries.
LEASED_LISTED = 100
DUE_ENTRIES_SCANNED = 10_000


class JobRecord(msgspec.Struct, frozen=True, omit_defaults=True):
    key: str
    data: msgspec.Raw
    #: Where the job sits in its key's queue.
    order: bytes
    #: When its due entry says it is due; None while it waits behind its key's first job.
    due_ms: int | None = None
    attempts: int = 0
    owner: str | None = None
    last_error: str | None = None


class DueEntry(msgspec.Struct, frozen=True, omit_defaults=True):
    key: str
    owner: str | None = None


class DeadRecord(msgspec.Struct, frozen=True):
    key: str
    data: msgspec.Raw
    attempts: int
    error: str
    traceback: str
    failed_ms: int


_encode = msgspec.json.encode
_decode_job = msgspec.json.Decoder(JobRecord).decode
_decode_due = msgspec.json.Decoder(DueEntry).decode
_decode_dead = msgspec.json.Decoder(DeadRecord).decode
_decode_failure = msgspec.json.Decoder(Failure).decode
_ONE = struct.pack("<q", 1)


@dataclass(frozen=True)
class LeasedJob:
    """A job a worker holds: attempt ``attempt`` of it is ``owner``'s to run."""

    position: Position
    key: str
    data: bytes
    attempt: int
    owner: str


class JobQueue:
    """The queue of ``automation`` (a class, or the name of one for status and dead letters)."""

    def __init__(self, store: DcbStore, automation: type[Automation] | str) -> None:
        cls = Automation if isinstance(automation, str) else automation
        self.name = automation if isinstance(automation, str) else automation.slice_name
        self.store = store
        self.max_attempts = cls.retry.attempts
        self.lease_ms = int(cls.job_lease_seconds * 1000)
        self.prefix = keyspace_of(store).automation(self.name)
        self.cursor_key = self._key("c")
        self.failure_key = self._key("f")
        self.changes_key = self._key("v")
        self._due = keys.range(("d",), self.prefix)
        self._dead = keys.range(("x",), self.prefix)

    # -- the watcher's side -------------------------------------------------------------------

    def cursor(self, tr: ReadTransaction) -> Position | None:
        raw = tr.get(self.cursor_key)
        return None if raw is None else Position(raw)

    def set_cursor(self, tr: Transaction, position: Position) -> None:
        tr.set(self.cursor_key, position.raw)

    def enqueue(self, tr: Transaction, jobs: list[tuple[Position, str, bytes]]) -> None:
        """Add each (position, key, encoded data) at the end of its key's queue, due now when it
        is the first."""
        now = now_ms()
        for position, key, data in jobs:
            first = self._first_of_key(tr, key) is None
            tr.set(self._key("k", key, position.raw), position.raw)
            record = JobRecord(key, msgspec.Raw(data), position.raw)
            self._write(tr, position.raw, record, due_ms=now if first else None)
        if jobs:
            self._count(tr, "queued", len(jobs))
            tr.add(self.changes_key, _ONE)

    def failure(self, tr: ReadTransaction) -> Failure | None:
        raw = tr.get(self.failure_key)
        return None if raw is None else _decode_failure(raw)

    def record_failure(self, tr: Transaction, failure: Failure) -> None:
        tr.set(self.failure_key, _encode(failure))

    def skip_failed_event(self) -> Failure | None:
        """Move the cursor past the event the watcher failed on (None: it has not failed)."""
        def skip(tr: Transaction) -> Failure | None:
            failure = self.failure(tr)
            if failure is not None:
                self.set_cursor(tr, Position.parse(failure.position))
                tr.clear(self.failure_key)
            return failure

        return self.store.database.transact(skip)

    # -- the workers' side --------------------------------------------------------------------

    def lease(self, tr: Transaction, owner: str) -> LeasedJob | None:
        """Lease a job that is due, if any. A job whose attempts all ended without a word (its
        workers died) is dead-lettered instead of being run once more."""
        now = now_ms()
        while True:
            due = list(tr.snapshot.get_range(self._due.begin, self._key("d", now + 1), PICK_AMONG))
            if not due:
                return None
            entry = random.choice(due)
            tr.add_read_conflict_key(entry.key)  # two workers picking one job: one commits
            job_id = self._job_id(entry)
            record = self._record(tr, job_id)
            if record.attempts < self.max_attempts:
                record = msgspec.structs.replace(record, attempts=record.attempts + 1, owner=owner)
                self._write(tr, job_id, record, due_ms=now + self.lease_ms)
                data = bytes(record.data)
                return LeasedJob(Position(job_id), record.key, data, record.attempts, owner)
            lost = f"attempt {record.attempts} never finished: its worker died or lost its lease"
            if record.last_error is not None:
                lost += f"; the error before: {record.last_error}"
            self._bury(tr, job_id, record, shortened(lost, MAX_ERROR_BYTES), "", now)

    def next_due_ms(self, tr: Transaction) -> int | None:
        """When the next job falls due (a backoff or a lease ending), or None with none queued."""
        first = next(iter(tr.snapshot.get_range(*self._due, limit=1)), None)
        return None if first is None else self._due_ms(first)

    def holds(self, tr: Transaction, job: LeasedJob) -> bool:
        """Whether ``job`` is still leased as it was (to ``job.owner``, for ``job.attempt``)."""
        record = self._get(tr, job.position.raw)
        return record is not None and _holds(record, job)

    def heartbeat(self, tr: Transaction, job: LeasedJob) -> bool:
        """Extend ``job``'s lease; False when it is no longer ``job.owner``'s."""
        record = self._get(tr, job.position.raw)
        if record is None or not _holds(record, job):
            return False
        self._write(tr, job.position.raw, record, due_ms=now_ms() + self.lease_ms)
        return True

    def complete(self, tr: Transaction, job: LeasedJob) -> bool:
        """Remove the job, done; False when another worker holds it now (it ran twice)."""
        record = self._get(tr, job.position.raw)
        if record is None:  # done already: by an earlier try of this commit, or by a takeover
            return True
        if not _holds(record, job):
            return False
        self._remove(tr, job.position.raw, record)
        return True

    def fail(
        self, tr: Transaction, job: LeasedJob, error: str, traceback: str, retry_at_ms: int
    ) -> bool:
        """Retry at ``retry_at_ms``, or dead-letter the job after its last attempt; False when
        another worker holds it now. Recognises its own earlier commit, if its result was lost."""
        job_id = job.position.raw
        record = self._get(tr, job_id)
        if record is None:
            dead = tr.get(self._key("x", job_id))
            return dead is not None and _decode_dead(dead).attempts == job.attempt
        if record.attempts == job.attempt and record.owner is None:
            return True  # retrying already
        if not _holds(record, job):
            return False
        error = shortened(error, MAX_ERROR_BYTES)
        if job.attempt >= self.max_attempts:
            self._bury(tr, job_id, record, error, traceback, now_ms())
            return True
        retrying = msgspec.structs.replace(record, owner=None, last_error=error)
        self._write(tr, job_id, retrying, due_ms=retry_at_ms)
        tr.add(self.changes_key, _ONE)  # sleeping workers wake by this due time
        return True

    def watch_changes(self, tr: Transaction) -> Future[None]:
        return tr.watch(self.changes_key)

    # -- dead letters and status --------------------------------------------------------------

    def jobs(self, after: Position | None = None, limit: int = 50) -> list[QueuedJob]:
        """Queued jobs in event order (``after``: the last one of the previous page)."""
        def read(tr: Transaction) -> list[QueuedJob]:
            begin = self._after(("j",), after)
            found = tr.snapshot.get_range(begin, keys.range(("j",), self.prefix).end, limit)
            return [_queued(self._job_id(kv), _decode_job(kv.value)) for kv in found]

        return self.store.database.transact(read)

    def dead_letters(self, after: Position | None = None, limit: int = 50) -> list[DeadLetter]:
        def read(tr: Transaction) -> list[DeadLetter]:
            found = tr.snapshot.get_range(self._after(("x",), after), self._dead.end, limit)
            return [_dead_letter(self._job_id(kv), _decode_dead(kv.value)) for kv in found]

        return self.store.database.transact(read)

    def replay(self, position: Position) -> bool:
        """Queue a dead letter again, attempts from zero, at the end of its key's queue."""
        return self.store.database.transact(lambda tr: self._replay(tr, position.raw))

    def discard(self, position: Position) -> bool:
        return self.store.database.transact(lambda tr: self._discard(tr, position.raw))

    def replay_all(self) -> int:
        return self._each_dead_letter(self._replay)

    def discard_all(self) -> int:
        return self._each_dead_letter(self._discard)

    def stats(self) -> QueueStats:
        def read(tr: Transaction) -> QueueStats:
            snapshot = tr.snapshot
            now = now_ms()
            leased = []
            due = snapshot.get_range(self._key("d", now + 1), self._due.end, DUE_ENTRIES_SCANNED)
            for kv in due:
                entry = _decode_due(kv.value)
                if entry.owner is not None:
                    position = Position(self._job_id(kv))
                    leased.append(HeldJob(position, entry.key, entry.owner, self._due_ms(kv)))
                    if len(leased) == LEASED_LISTED:
                        break
            return QueueStats(
                self.cursor(snapshot), self._counter(snapshot, "queued"),
                self._counter(snapshot, "dead"), leased, self.failure(snapshot),
            )

        return self.store.database.transact(read)

    # -- inside -------------------------------------------------------------------------------

    def _key(self, *items: keys.TupleElement) -> bytes:
        return keys.pack(items, self.prefix)

    def _after(self, items: tuple[str], after: Position | None) -> bytes:
        if after is None:
            return keys.range(items, self.prefix).begin
        return self._key(*items, after.raw) + b"\x00"

    def _job_id(self, kv: KeyValue) -> bytes:
        job_id = keys.unpack(kv.key, len(self.prefix))[-1]
        assert isinstance(job_id, bytes)
        return job_id

    def _due_ms(self, kv: KeyValue) -> int:
        due_ms = keys.unpack(kv.key, len(self.prefix))[1]
        assert isinstance(due_ms, int)
        return due_ms

    def _get(self, tr: ReadTransaction, job_id: bytes) -> JobRecord | None:
        raw = tr.get(self._key("j", job_id))
        return None if raw is None else _decode_job(raw)

    def _record(self, tr: ReadTransaction, job_id: bytes) -> JobRecord:
        record = self._get(tr, job_id)
        if record is None:
            raise RuntimeError(f"{self.name}: job {job_id.hex()} is queued but has no record")
        return record

    def _write(self, tr: Transaction, job_id: bytes, record: JobRecord, due_ms: int | None) -> None:
        """Write ``record``, due at ``due_ms`` (None: not due, behind its key's first job)."""
        if record.due_ms is not None:
            tr.clear(self._key("d", record.due_ms, job_id))
        if due_ms is not None:
            tr.set(self._key("d", due_ms, job_id), _encode(DueEntry(record.key, record.owner)))
        tr.set(self._key("j", job_id), _encode(msgspec.structs.replace(record, due_ms=due_ms)))

    def _first_of_key(self, tr: Transaction, key: str) -> KeyValue | None:
        return next(iter(tr.get_range(*keys.range(("k", key), self.prefix), limit=1)), None)

    def _remove(self, tr: Transaction, job_id: bytes, record: JobRecord) -> None:
        """Take the job out of the queue; the next job of its key falls due now."""
        tr.clear(self._key("j", job_id))
        tr.clear(self._key("k", record.key, record.order))
        if record.due_ms is not None:
            tr.clear(self._key("d", record.due_ms, job_id))
        self._count(tr, "queued", -1)
        following = self._first_of_key(tr, record.key)
        if following is not None:
            self._write(tr, following.value, self._record(tr, following.value), due_ms=now_ms())
            tr.add(self.changes_key, _ONE)

    def _bury(
        self, tr: Transaction, job_id: bytes, record: JobRecord, error: str, traceback: str,
        now: int,
    ) -> None:
        self._remove(tr, job_id, record)
        tb = shortened(traceback, MAX_TRACEBACK_BYTES, keep_end=True)
        dead = DeadRecord(record.key, record.data, record.attempts, error, tb, now)
        tr.set(self._key("x", job_id), _encode(dead))
        self._count(tr, "dead", 1)

    def _replay(self, tr: Transaction, job_id: bytes) -> bool:
        raw = tr.get(self._key("x", job_id))
        if raw is None:
            return False
        dead = _decode_dead(raw)
        queue = keys.range(("k", dead.key), self.prefix)
        last = next(iter(tr.get_range(*queue, limit=1, reverse=True)), None)
        order = job_id
        if last is not None:  # sort after the key's last job, and before any the watcher adds
            last_order = keys.unpack(last.key, len(self.prefix))[-1]
            assert isinstance(last_order, bytes)
            order = max(job_id, last_order + b"\x00")
        tr.set(self._key("k", dead.key, order), job_id)
        self._write(tr, job_id, JobRecord(dead.key, dead.data, order),
                    due_ms=now_ms() if last is None else None)
        tr.clear(self._key("x", job_id))
        self._count(tr, "dead", -1)
        self._count(tr, "queued", 1)
        tr.add(self.changes_key, _ONE)
        return True

    def _discard(self, tr: Transaction, job_id: bytes) -> bool:
        if tr.get(self._key("x", job_id)) is None:
            return False
        tr.clear(self._key("x", job_id))
        self._count(tr, "dead", -1)
        return True

    def _each_dead_letter(self, action: Callable[[Transaction, bytes], bool]) -> int:
        """Apply ``action`` to every dead letter, a batch per transaction; count where it did."""
        done = 0
        begin = self._dead.begin
        while True:
            batch = partial(self._dead_batch, begin=begin, action=action)
            last, count = self.store.database.transact(batch)
            if last is None:
                return done
            done += count
            begin = self._key("x", last) + b"\x00"

    def _dead_batch(
        self, tr: Transaction, begin: bytes, action: Callable[[Transaction, bytes], bool]
    ) -> tuple[bytes | None, int]:
        found = tr.snapshot.get_range(begin, self._dead.end, DEAD_LETTERS_PER_TRANSACTION)
        ids = [self._job_id(kv) for kv in found]
        return (ids[-1] if ids else None), sum(action(tr, job_id) for job_id in ids)

    def _count(self, tr: Transaction, name: str, by: int) -> None:
        tr.add(self._key("n", name), struct.pack("<q", by))

    def _counter(self, tr: ReadTransaction, name: str) -> int:
        raw = tr.get(self._key("n", name))
        return 0 if raw is None else int.from_bytes(raw, "little", signed=True)


def _holds(record: JobRecord, job: LeasedJob) -> bool:
    return record.owner == job.owner and record.attempts == job.attempt


def _queued(job_id: bytes, record: JobRecord) -> QueuedJob:
    return QueuedJob(Position(job_id), record.key, record.attempts, record.due_ms, record.owner,
                     record.last_error)


def _dead_letter(job_id: bytes, dead: DeadRecord) -> DeadLetter:
    return DeadLetter(Position(job_id), dead.key, msgspec.json.decode(dead.data), dead.attempts,
                      dead.error, dead.traceback, dead.failed_ms)
