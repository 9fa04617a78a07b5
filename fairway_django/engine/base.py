"""The engine interface: an ordered, transactional key-value store shaped like FoundationDB.

Everything Fairway keeps is written against these two classes, so the embedded engine (the
default) and the FoundationDB engine run the same code above them. Reads are synchronous and
return values directly; results only known at commit (versionstamps, watches) are
``concurrent.futures.Future`` objects, as they are futures in FDB's own bindings.

Semantics are FDB's: a transaction reads a consistent snapshot at its read version and sees
its own writes; commit fails with :class:`~.errors.NotCommitted` when another transaction that
committed after that read version wrote a key inside one of its read-conflict ranges.
"""

from __future__ import annotations

import functools
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from typing import Concatenate, NamedTuple, ParamSpec, TypeVar

from .errors import FDBError, InvalidOptionValue, TransactionTimedOut
from .keys import strinc, versionstamp_operand
from .retry import RetryPolicy

T = TypeVar("T")
P = ParamSpec("P")

#: The longest timeout FDB accepts: its option takes [0, 2**31 - 1] milliseconds.
MAX_TIMEOUT_MILLISECONDS = 2**31 - 1


class KeyValue(NamedTuple):
    key: bytes
    value: bytes


class ReadTransaction(ABC):
    """The read side of a transaction; a transaction's ``snapshot`` offers only this."""

    __slots__ = ()  # engines may give their transactions slots

    @abstractmethod
    def get(self, key: bytes) -> bytes | None:
        """The value at ``key``, or None when absent."""

    @abstractmethod
    def get_range(
        self, begin: bytes, end: bytes, limit: int = 0, reverse: bool = False
    ) -> Iterator[KeyValue]:
        """Stream the pairs with ``begin <= key < end`` in key order (descending if ``reverse``).

        ``limit`` (0 = none) caps the count. Only the part of the range actually read becomes a
        read-conflict range: a limited read that stops early does not conflict on the rest.
        """

    def get_many(self, keys: Sequence[bytes]) -> list[bytes | None]:
        """The values at ``keys``, in their order (None where absent), as ``get`` reads them.

        One request for many keys: FDB's bindings then have them all in flight at once, the
        embedded engine looks them up in one call. What a read through an index needs: the
        index yields positions, the log holds the events.
        """
        return [self.get(key) for key in keys]

    def get_range_startswith(
        self, prefix: bytes, limit: int = 0, reverse: bool = False
    ) -> Iterator[KeyValue]:
        return self.get_range(prefix, strinc(prefix), limit, reverse)

    @abstractmethod
    def get_read_version(self) -> int:
        """The version this transaction reads at (fetched on first use, as FDB does)."""


class Transaction(ReadTransaction):
    """One attempt at an atomic unit of reads and writes. Use it from one thread at a time."""

    __slots__ = ()

    @property
    @abstractmethod
    def snapshot(self) -> ReadTransaction:
        """Reads through this view add no read-conflict ranges, so they never cause conflicts."""

    def disable_read_cache(self) -> None:
        """Say that what this transaction reads will not be read again soon: it is part of a
        long scan. FDB's ``read_server_side_cache_disable`` option: its storage servers then
        keep their cache for other reads. The embedded engine, as such reads add up, releases
        the store's pages mapped into the process (see ``engine.embedded.residency``); other
        reads never do, so that a process's working set stays mapped.
        """

    def defer_durable_reads(self) -> None:
        """Say that nothing this transaction reads leaves it except through how it ends (its
        commit, or the error ``transact`` raises), as with a conditional append: its reads
        may then see commits whose sync is still under way, and its commit or cancel waits
        until they are synced. FDB's reads are always of durable data, so there this does
        nothing. The embedded engine at ``durability=full`` otherwise makes every new snapshot
        wait for the syncs of the commits it holds, which is FDB's guarantee; deferred, a
        writing transaction's own sync covers them (see ``engine.embedded.durable``).
        """

    @abstractmethod
    def set(self, key: bytes, value: bytes) -> None: ...

    @abstractmethod
    def clear(self, key: bytes) -> None: ...

    @abstractmethod
    def clear_range(self, begin: bytes, end: bytes) -> None: ...

    @abstractmethod
    def add(self, key: bytes, param: bytes) -> None:
        """Atomic little-endian addition applied at commit: concurrent adds never conflict."""

    @abstractmethod
    def set_versionstamped_key(self, key: bytes, value: bytes) -> None:
        """Set a key containing a 10-byte placeholder replaced by the commit's versionstamp.

        The last four bytes of ``key`` are the little-endian offset of the placeholder (FDB API
        version 520 and later), exactly as ``fdb.tuple.pack_with_versionstamp`` produces them.
        """

    def set_versionstamped_keys(self, entries: Sequence[tuple[bytes, bytes, bytes]]) -> None:
        """For each ``(before, after, value)``, in order: set the key ``before`` + the commit's
        versionstamp + ``after`` to ``value``, as :meth:`set_versionstamped_key` does with its
        placeholder right after ``before``. An event store's append sets eight such keys per
        event: in one call, an engine checks and records them all at once, and at commit puts
        the versionstamp between two parts instead of finding each key's placeholder."""
        for before, after, value in entries:
            self.set_versionstamped_key(versionstamp_operand(before, after), value)

    @abstractmethod
    def set_versionstamped_value(self, key: bytes, value: bytes) -> None:
        """Like :meth:`set_versionstamped_key`, with the placeholder and offset in ``value``."""

    @abstractmethod
    def add_read_conflict_range(self, begin: bytes, end: bytes) -> None: ...

    def add_read_conflict_key(self, key: bytes) -> None:
        self.add_read_conflict_range(key, key + b"\x00")

    @abstractmethod
    def add_write_conflict_range(self, begin: bytes, end: bytes) -> None: ...

    def add_write_conflict_key(self, key: bytes) -> None:
        self.add_write_conflict_range(key, key + b"\x00")

    @abstractmethod
    def watch(self, key: bytes) -> Future[None]:
        """A future that completes once ``key``'s value differs from what this transaction saw.

        The watch reads ``key`` at once, as ``get`` does (a read-conflict range included), and
        completes as soon as this transaction writes another value to it; otherwise it starts
        when the transaction commits, and fails with the commit's error if the commit fails.
        Created once the commit started, it fails with used_during_commit (2017). Cancel the
        future to stop watching.
        """

    @abstractmethod
    def get_versionstamp(self) -> Future[bytes]:
        """The 10-byte versionstamp of this transaction's commit, known once it commits.

        Ask before ``commit()``, as FDB requires: asked after, the future fails with
        used_during_commit (2017).
        """

    @abstractmethod
    def commit(self) -> None:
        """Commit; a read-only transaction commits without checking conflicts, as in FDB."""

    @abstractmethod
    def get_committed_version(self) -> int:
        """The version this transaction committed at (-1 when read-only)."""

    @abstractmethod
    def cancel(self) -> None:
        """Abandon the transaction and release what it holds; later use raises 1025."""


class Database(ABC):
    """A handle on a store. Thread-safe; open one per process and share it."""

    def __init__(self, url: str, retry: RetryPolicy | None = None) -> None:
        self.url = url
        self.retry = retry or RetryPolicy()

    @abstractmethod
    def create_transaction(self, *, timeout: float | None = None) -> Transaction:
        """A new transaction; after ``timeout`` seconds its operations raise 1031."""

    @abstractmethod
    def close(self) -> None: ...

    def transact(
        self,
        fn: Callable[[Transaction], T],
        *,
        retry_limit: int | None = None,
        timeout: float | None = None,
    ) -> T:
        """Run ``fn`` in a transaction and commit it, re-running both on retryable errors.

        This is FDB's retry loop: ``fn`` may run several times, so it must not have side
        effects outside the transaction. Retries back off as FDB's ``on_error`` does (see
        :mod:`.retry`) and stop after ``retry_limit`` re-runs (the database's policy when
        None); the last error is then raised. ``timeout`` bounds the whole loop, as FDB's
        timeout option does.
        """
        # One loop, inline: it wraps every unit of work, so its own cost counts.
        policy = self.retry if retry_limit is None else self.retry.with_limit(retry_limit)
        deadline = None if timeout is None else time.monotonic() + check_timeout(timeout)
        backoff = None
        attempt = 0
        while True:
            if deadline is None:
                tr = self.create_transaction()
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TransactionTimedOut(f"gave up after {timeout}s and {attempt} retries")
                tr = self.create_transaction(timeout=remaining)
            try:
                result = fn(tr)
                tr.commit()
                return result
            except FDBError as error:
                tr.cancel()
                if not policy.retries(error, attempt):
                    raise
                if backoff is None:
                    backoff = policy.backoff()
                pause = backoff.after(error)
            except BaseException:
                tr.cancel()
                raise
            attempt += 1
            self._pause(pause)

    def turn(self) -> AbstractContextManager[object]:
        """A section of store work that this process's threads run one at a time.

        A hint, as ``Transaction.disable_read_cache`` is: the event store takes a turn around
        each chunk it reads and each append, work that runs none of its caller's code. The
        embedded engine runs LMDB in the calling thread, and py-lmdb lets the GIL go inside
        every call: threads that take turns wait for one another asleep, rather than handing
        the GIL back and forth call by call (see ``engine.embedded.turn``). The engine sets the
        turn aside while it waits (for a lock, a sync, a retry's pause). FoundationDB's client
        works on a thread of its own, so there this does nothing. Never hold a turn around
        code that may wait for another thread.
        """
        return nullcontext()

    def _pause(self, seconds: float) -> None:
        """Sleep between two attempts of ``transact`` (engines let other threads work)."""
        time.sleep(seconds)

    def ping(self, timeout: float | None = None) -> int:
        """Prove that the store answers: its current read version, within ``timeout`` seconds.

        Raises :class:`~.errors.EngineConfigurationError` when the store is misconfigured (a
        bad path, a malformed cluster file) and an :class:`~.errors.FDBError` when it does not
        answer in time, with a message that names the store. For health checks and start-up.
        """
        return self.transact(lambda tr: tr.get_read_version(), timeout=timeout)

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"


def check_timeout(timeout: float) -> float:
    """``timeout`` (seconds) if FDB's timeout option can take it, else InvalidOptionValue (2006).

    FDB takes whole milliseconds from 0 to 2**31 - 1; infinite, NaN and negative timeouts are
    refused the same way on every engine, instead of failing on the way to the client library.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or None, not {timeout!r}")
    if not math.isfinite(timeout) or timeout < 0 or timeout * 1000 > MAX_TIMEOUT_MILLISECONDS:
        raise InvalidOptionValue(
            f"timeout={timeout!r}: a timeout is a finite number of seconds from 0 to "
            f"{MAX_TIMEOUT_MILLISECONDS / 1000} (FDB takes up to 2**31 - 1 milliseconds); "
            "use None for no timeout"
        )
    return float(timeout)


def timeout_milliseconds(timeout: float) -> int:
    """The checked ``timeout`` in FDB's whole milliseconds, at least 1 (0 means none to FDB)."""
    return max(1, math.ceil(check_timeout(timeout) * 1000))


def transactional(
    fn: Callable[Concatenate[Transaction, P], T],
) -> Callable[Concatenate[Database | Transaction, P], T]:
    """Let ``fn(tr, ...)`` be called with a database (own retry loop) or a transaction (reused).

    This is how transactional functions compose, as with ``@fdb.transactional``: a function
    given a caller's transaction joins it instead of committing on its own.
    """

    @functools.wraps(fn)
    def wrapper(db_or_tr: Database | Transaction, /, *args: P.args, **kwargs: P.kwargs) -> T:
        if isinstance(db_or_tr, Transaction):
            return fn(db_or_tr, *args, **kwargs)
        return db_or_tr.transact(lambda tr: fn(tr, *args, **kwargs))

    return wrapper
