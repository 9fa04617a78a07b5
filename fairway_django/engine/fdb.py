"""The FoundationDB engine: the engine interface over FDB's own Python bindings.

Nothing here runs at import time. The bindings (``foundationdb``, pinned to the client version
below) load libfdb_c and start FDB's network thread, once per process, and that thread does
not survive ``fork``: a process that forks workers (gunicorn's master, ``multiprocessing`` with
the fork start method) must not have started FDB, and each forked child starts its own. So the
API version is selected on first use and each process opens the database on its own first
``create_transaction()``; a handle inherited across ``fork`` is never used. A child of a
process that had already started FDB cannot start it again (the client library allows one
network per process), so it gets an error that says why instead of hanging on a network
thread that does not exist.

Errors raised by the bindings (``fdb.FDBError``) become the engine's own classes from
:mod:`.errors`, from every read, iteration, commit and future, so the retry loop and the layers
above handle both engines alike.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, InvalidStateError
from typing import Any, Concatenate, NamedTuple, ParamSpec, TypeVar

from . import errors
from .base import Database, KeyValue, ReadTransaction, Transaction
from .errors import EngineConfigurationError
from .retry import RetryPolicy
from .url import StoreURL

__all__ = [
    "API_VERSION",
    "CLIENT_VERSION",
    "FDBClient",
    "FDBDatabase",
    "FDBReadTransaction",
    "FDBTransaction",
    "load_client",
]

#: The FDB API version Fairway is written against.
API_VERSION = 730
#: The client version the ``foundationdb`` bindings are pinned to; libfdb_c must match it.
CLIENT_VERSION = "7.3.69"

_INSTALL_HINT = (
    f"install the FoundationDB clients package {CLIENT_VERSION} (foundationdb-clients .deb or "
    f".rpm on Linux, the FoundationDB installer on macOS) from "
    f"https://github.com/apple/foundationdb/releases/tag/{CLIENT_VERSION}, or use the embedded "
    f"engine (embedded:///path/to/store-dir)"
)

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R", bound="FDBReadTransaction")


class FDBClient:
    """The loaded bindings (the ``fdb`` module at API version 730) and this process's use.

    :func:`load_client` makes the one instance a process has. Tests build others around a
    stand-in for the bindings, since the real ones need libfdb_c and a cluster.
    """

    def __init__(self, fdb: Any) -> None:
        self.fdb = fdb
        self.error_type: type[BaseException] = fdb.FDBError
        #: The process that started FDB's network thread through us (None: not started yet).
        self.network_pid: int | None = None

    def translate(self, error: Any) -> errors.FDBError:
        """The engine error for a bindings error, with FDB's own word on whether to retry.

        Codes without a class of their own (future_version, process_behind, ...) keep their
        code, and the client library's ``retryable`` predicate marks those FDB's retry loop
        would re-run, so the shared loop re-runs them too.
        """
        translated = errors.error_for_code(int(error.code), self._description(error))
        if not translated.retryable and self.fdb.predicates.is_retryable(error):
            translated.retryable = True
        return translated

    def open(self, cluster_file: str | None) -> Any:
        """Open a database, starting FDB's network thread if this process has none yet."""
        pid = os.getpid()
        if (self.network_pid is not None and self.network_pid != pid) or self._network_lost():
            raise EngineConfigurationError(
                f"FoundationDB's client was started in a parent of this process (pid {pid}) "
                "before it forked, and FDB's network thread does not survive fork, so this "
                "process cannot use FoundationDB. Touch the store only after forking: no "
                "transactions at import time or in a process that forks workers (gunicorn "
                "--preload, multiprocessing's 'fork' start method; use 'spawn' instead)"
            )
        if cluster_file is not None and not os.path.isfile(cluster_file):
            raise EngineConfigurationError(
                f"the FoundationDB cluster file {cluster_file} does not exist; give the path "
                "of an existing fdb.cluster, or fdb:// for the default cluster file"
            )
        try:
            database = self.fdb.open(cluster_file)
        except self.error_type as error:
            where = cluster_file or "the default cluster file"
            cause = self.translate(error)
            raise EngineConfigurationError(
                f"could not open FoundationDB with {where}: {cause.message} (FDB error "
                f"{cause.code})"
            ) from error
        self.network_pid = pid
        return database

    @staticmethod
    def _description(error: Any) -> str:
        # The C library hands the description over as bytes.
        description = error.description
        if isinstance(description, bytes):
            return description.decode("utf-8", "replace")
        return str(description)

    def _network_lost(self) -> bool:
        """Whether someone else started FDB's network thread and it is gone (lost in a fork)."""
        thread = getattr(getattr(self.fdb, "impl", None), "_network_thread", None)
        return thread is not None and not thread.is_alive()


# One lock for selecting the API version and for opening databases. Both happen once per
# process, so one lock costs nothing; it is replaced in a forked child, where a copy held by
# another thread of the parent at the moment of fork would never be released.
_lock = threading.RLock()
_client: FDBClient | None = None


def _reset_lock_in_child() -> None:
    global _lock
    _lock = threading.RLock()


os.register_at_fork(after_in_child=_reset_lock_in_child)


def load_client() -> FDBClient:
    """Import the bindings and select API version 730: once per process, on first use.

    Never called at import time, because loading libfdb_c is the first step towards the
    network thread that must not exist before a fork. Raises
    :class:`~.errors.EngineConfigurationError` with install instructions when the bindings or
    the client library are missing.
    """
    global _client
    with _lock:
        if _client is None:
            _client = FDBClient(_select_api_version())
        return _client


def _select_api_version() -> Any:
    try:
        import fdb  # type: ignore[import-untyped]
    except ImportError as error:
        raise EngineConfigurationError(
            f"the FDB engine needs FoundationDB's Python bindings: pip install "
            f"foundationdb=={CLIENT_VERSION} ({error})"
        ) from error
    if fdb.is_api_version_selected() and fdb.get_api_version() != API_VERSION:
        raise EngineConfigurationError(
            f"FoundationDB API version {fdb.get_api_version()} was already selected in this "
            f"process; Fairway's FDB engine needs {API_VERSION}, and FDB allows one per process"
        )
    try:
        fdb.api_version(API_VERSION)
    except Exception as error:
        raise EngineConfigurationError(
            f"the FoundationDB client library (libfdb_c) could not be loaded at API version "
            f"{API_VERSION}: {_causes(error)}. To use the FDB engine, {_INSTALL_HINT}"
        ) from error
    return fdb


def _causes(error: BaseException) -> str:
    """``error`` and the errors it arose from: the bindings hide the loader's reason in those."""
    chain: list[str] = []
    cause: BaseException | None = error
    while cause is not None and len(chain) < 5:
        chain.append(f"{type(cause).__name__}: {cause}")
        cause = cause.__cause__ or cause.__context__
    return ", from ".join(chain)


class _Handle(NamedTuple):
    """An open database, valid only in the process that opened it."""

    pid: int
    client: FDBClient
    database: Any


class FDBDatabase(Database):
    """A FoundationDB cluster, named by its cluster file (None: FDB's default cluster file).

    Creating one does nothing but remember the cluster file; the bindings load and the
    database opens on the first transaction, in each process that uses it.
    """

    def __init__(
        self,
        cluster_file: str | None = None,
        *,
        url: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(url or f"fdb://{cluster_file or ''}", retry)
        self.cluster_file = cluster_file
        self._handle: _Handle | None = None
        self._closed = False

    @classmethod
    def from_url(cls, url: StoreURL, *, retry: RetryPolicy | None = None) -> FDBDatabase:
        """``fdb:///path/to/fdb.cluster``, or ``fdb://`` for FDB's default cluster file.

        The default is what the client library finds: ``$FDB_CLUSTER_FILE``, else
        ``fdb.cluster`` in the working directory, else the platform's default location
        (``/etc/foundationdb/fdb.cluster`` on Linux). No options are accepted yet.
        """
        if url.scheme != "fdb":
            raise EngineConfigurationError(f"{url} is not an fdb: store URL")
        url.reject_unknown_options(set())
        return cls(url.path or None, url=str(url), retry=retry)

    def create_transaction(self, *, timeout: float | None = None) -> FDBTransaction:
        handle = self._open()
        client = handle.client
        try:
            tr = handle.database.create_transaction()
            if timeout is not None:
                tr.options.set_timeout(max(1, math.ceil(timeout * 1000)))
        except client.error_type as error:
            raise client.translate(error) from error
        return FDBTransaction(tr, client)

    def close(self) -> None:
        """Stop handing out transactions.

        FDB's client keeps its network thread and cluster connection (shared by every handle on
        the same cluster file) until the process exits; the bindings offer no way to stop them
        early and start again.
        """
        with _lock:
            self._closed = True
            self._handle = None

    def _open(self) -> _Handle:
        handle = self._handle
        if handle is not None and handle.pid == os.getpid():
            return handle
        with _lock:
            if self._closed:
                raise RuntimeError(f"{self!r} is closed")
            handle = self._handle
            pid = os.getpid()
            if handle is None or handle.pid != pid:
                # A handle inherited across fork belongs to the parent's network thread.
                client = self._load_client()
                handle = _Handle(pid, client, client.open(self.cluster_file))
                self._handle = handle
            return handle

    def _load_client(self) -> FDBClient:
        """The process's bindings; tests override this with a stand-in (no libfdb_c here)."""
        return load_client()


def _translating(method: Callable[Concatenate[R, P], T]) -> Callable[Concatenate[R, P], T]:
    """Raise the engine's error classes instead of ``fdb.FDBError`` from ``method``."""

    @functools.wraps(method)
    def translated(self: R, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        except self._client.error_type as error:
            raise self._client.translate(error) from error

    return translated


class FDBReadTransaction(ReadTransaction):
    """Reads through a bindings transaction, or through its ``snapshot``."""

    def __init__(self, tr: Any, client: FDBClient) -> None:
        self._tr = tr
        self._client = client

    @_translating
    def get(self, key: bytes) -> bytes | None:
        value: bytes | None = self._tr.get(key).value
        return value

    @_translating
    def get_range(
        self, begin: bytes, end: bytes, limit: int = 0, reverse: bool = False
    ) -> Iterator[KeyValue]:
        # The bindings send the first batch request now, so reads issued one after another
        # overlap; the rest follow as the caller iterates.
        return self._stream(self._tr.get_range(begin, end, limit=limit, reverse=reverse))

    def _stream(self, pairs: Iterable[Any]) -> Iterator[KeyValue]:
        try:
            for pair in pairs:
                yield KeyValue(pair.key, pair.value)
        except self._client.error_type as error:
            raise self._client.translate(error) from error

    @_translating
    def get_read_version(self) -> int:
        version: int = self._tr.get_read_version().wait()
        return version


class FDBTransaction(FDBReadTransaction, Transaction):
    """A bindings transaction behind the engine interface. One thread at a time, as in FDB.

    Writes are buffered by the client library: errors they cause (key_too_large, ...) are
    raised by the next operation that waits on the cluster, at the latest by ``commit``.
    """

    def __init__(self, tr: Any, client: FDBClient) -> None:
        super().__init__(tr, client)
        self._snapshot = FDBReadTransaction(tr.snapshot, client)

    @property
    def snapshot(self) -> ReadTransaction:
        return self._snapshot

    def set(self, key: bytes, value: bytes) -> None:
        self._tr.set(key, value)

    def clear(self, key: bytes) -> None:
        self._tr.clear(key)

    def clear_range(self, begin: bytes, end: bytes) -> None:
        self._tr.clear_range(begin, end)

    def add(self, key: bytes, param: bytes) -> None:
        self._tr.add(key, param)

    def set_versionstamped_key(self, key: bytes, value: bytes) -> None:
        self._tr.set_versionstamped_key(key, value)

    def set_versionstamped_value(self, key: bytes, value: bytes) -> None:
        self._tr.set_versionstamped_value(key, value)

    @_translating
    def add_read_conflict_range(self, begin: bytes, end: bytes) -> None:
        self._tr.add_read_conflict_range(begin, end)

    @_translating
    def add_write_conflict_range(self, begin: bytes, end: bytes) -> None:
        self._tr.add_write_conflict_range(begin, end)

    @_translating
    def watch(self, key: bytes) -> Future[None]:
        return self._bridge(self._tr.watch(key), lambda ready: ready.wait())

    @_translating
    def get_versionstamp(self) -> Future[bytes]:
        return self._bridge(self._tr.get_versionstamp(), lambda ready: bytes(ready.value))

    @_translating
    def commit(self) -> None:
        self._tr.commit().wait()

    @_translating
    def get_committed_version(self) -> int:
        version: int = self._tr.get_committed_version()
        return version

    @_translating
    def cancel(self) -> None:
        self._tr.cancel()

    def _bridge(self, pending: Any, result: Callable[[Any], T]) -> Future[T]:
        """A ``concurrent.futures.Future`` settled by the bindings' future ``pending``.

        ``pending`` calls back on FDB's network thread, which must not block: settling our
        future runs its done-callbacks there too, so they should only hand work on. Cancelling
        our future cancels ``pending`` (a watch stops watching).
        """
        future: Future[T] = Future()
        client = self._client

        def settle(ready: Any) -> None:
            try:
                value = result(ready)
            except client.error_type as error:
                _settle(future.set_exception, client.translate(error))
            except BaseException as error:  # the waiter must see every failure, or wait forever
                _settle(future.set_exception, error)
            else:
                _settle(future.set_result, value)

        def cancel_pending(done: Future[T]) -> None:
            if done.cancelled():
                pending.cancel()

        future.add_done_callback(cancel_pending)
        pending.on_ready(settle)
        return future


def _settle(set_outcome: Callable[[Any], None], outcome: Any) -> None:
    try:
        set_outcome(outcome)
    except InvalidStateError:
        pass  # our caller cancelled the future first; the outcome has no one to go to
