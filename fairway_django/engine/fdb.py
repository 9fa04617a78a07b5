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
above handle both engines alike. The retry loop is FDB's own: ``on_error`` decides whether to
retry, backs off and resets the transaction, which keeps its backoff from one attempt to the
next (see :mod:`.retry`).

An unreachable cluster makes FDB's client wait for ever; a process's first use of the store
therefore fetches a read version within ``connect_timeout`` seconds (an option of the store
URL), and fails with a message that names the cluster file instead of hanging.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, InvalidStateError
from typing import Any, Concatenate, NamedTuple, ParamSpec, TypeVar

from . import errors
from .base import (
    MAX_TIMEOUT_MILLISECONDS,
    Database,
    KeyValue,
    ReadTransaction,
    Transaction,
    check_timeout,
    timeout_milliseconds,
)
from .bindings import CLIENT_VERSION, wrong_fdb_module
from .cluster_file import (
    CLUSTER_FILE_ERRORS,
    check_cluster_file,
    default_cluster_file,
    describe_cluster_file,
)
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

_INSTALL_HINT = (
    f"install the FoundationDB clients package {CLIENT_VERSION} (foundationdb-clients .deb or "
    f".rpm on Linux, the FoundationDB installer on macOS) from "
    f"https://github.com/apple/foundationdb/releases/tag/{CLIENT_VERSION}, or use the embedded "
    f"engine (embedded:///path/to/store-dir)"
)

#: How long a process's first use of the store waits for the cluster, by default (seconds).
DEFAULT_CONNECT_TIMEOUT = 5.0
_OPTIONS = {"connect_timeout"}
#: FDB's own default for the ``max_retry_delay`` option, in seconds.
_FDB_MAX_BACKOFF = 1.0

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
        try:
            database = self.fdb.open(cluster_file)
        except self.error_type as error:
            cause = self.translate(error)
            raise EngineConfigurationError(
                f"could not open FoundationDB with {describe_cluster_file(cluster_file)}: "
                f"{cause.message} (FDB error {cause.code})"
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


def _check_cluster(cluster_file: str | None) -> None:
    """EngineConfigurationError naming the cluster file when it is missing or malformed."""
    if cluster_file is not None and not os.path.isfile(cluster_file):
        raise EngineConfigurationError(
            f"the FoundationDB cluster file {cluster_file} does not exist; give the path "
            "of an existing fdb.cluster, or fdb:// for the default cluster file"
        )
    check_cluster_file(cluster_file or default_cluster_file())


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
    problem = wrong_fdb_module(fdb)
    if problem is not None:
        raise EngineConfigurationError(problem)
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
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        super().__init__(url or f"fdb://{cluster_file or ''}", retry)
        self.cluster_file = cluster_file
        self.connect_timeout = _connect_timeout(connect_timeout)
        self._handle: _Handle | None = None
        self._closed = False

    @classmethod
    def from_url(cls, url: StoreURL, *, retry: RetryPolicy | None = None) -> FDBDatabase:
        """``fdb:///path/to/fdb.cluster``, or ``fdb://`` for FDB's default cluster file.

        The default is what the client library finds: ``$FDB_CLUSTER_FILE``, else
        ``fdb.cluster`` in the working directory, else the platform's default location
        (``/etc/foundationdb/fdb.cluster`` on Linux). One option: ``?connect_timeout=5``, the
        seconds a process's first use of the store waits for the cluster to answer.
        """
        if url.scheme != "fdb":
            raise EngineConfigurationError(f"{url} is not an fdb: store URL")
        url.reject_unknown_options(_OPTIONS)
        text = url.options.get("connect_timeout")
        if text is None:
            connect_timeout = DEFAULT_CONNECT_TIMEOUT
        else:
            try:
                connect_timeout = float(text)
            except ValueError:
                raise EngineConfigurationError(
                    f"connect_timeout={text!r} is not a number of seconds"
                ) from None
        return cls(url.path or None, url=str(url), retry=retry, connect_timeout=connect_timeout)

    def create_transaction(self, *, timeout: float | None = None) -> FDBTransaction:
        raw, client = self._raw_transaction(timeout)
        return FDBTransaction(raw, client)

    def _raw_transaction(
        self, timeout: float | None, retry_limit: int | None = None,
        max_backoff: float = _FDB_MAX_BACKOFF,
    ) -> tuple[Any, FDBClient]:
        """A bindings transaction with a timeout, retry limit and backoff cap as its options
        (FDB keeps them across ``on_error``), and the client that made it."""
        milliseconds = None if timeout is None else timeout_milliseconds(timeout)
        handle = self._open()
        client = handle.client
        try:
            raw = handle.database.create_transaction()
            if milliseconds is not None:
                raw.options.set_timeout(milliseconds)
            if retry_limit is not None:
                raw.options.set_retry_limit(retry_limit)
            if max_backoff != _FDB_MAX_BACKOFF:
                raw.options.set_max_retry_delay(_milliseconds_at_most(max_backoff))
        except client.error_type as error:
            raise client.translate(error) from error
        return raw, client

    def transact(
        self,
        fn: Callable[[Transaction], T],
        *,
        retry_limit: int | None = None,
        timeout: float | None = None,
    ) -> T:
        """FDB's retry loop, as ``@fdb.transactional`` runs it: one transaction, reset by
        ``on_error``, which backs off (keeping the backoff from one attempt to the next) or
        raises the error when it is not retryable, the retry limit is reached or the timeout
        expired. The timeout and the retry limit are the transaction's options, which FDB
        keeps across ``on_error``.
        """
        limit = self.retry.retry_limit if retry_limit is None else retry_limit
        raw, client = self._raw_transaction(timeout, limit, self.retry.max_backoff)
        while True:
            tr = FDBTransaction(raw, client)
            try:
                result = fn(tr)
                tr.commit()
                return result
            except errors.FDBError as error:
                _on_error(raw, client, error)
            except BaseException:
                raw.cancel()
                raise

    def ping(self, timeout: float | None = None) -> int:
        """The cluster's read version within ``timeout`` seconds (``connect_timeout`` if None).

        Raises :class:`~.errors.EngineConfigurationError` for a missing or malformed cluster
        file and :class:`~.errors.TransactionTimedOut` naming the cluster file when the
        cluster does not answer in time.
        """
        seconds = self.connect_timeout if timeout is None else check_timeout(timeout)
        self._open()  # a first contact that fails says so itself, naming connect_timeout
        try:
            return self.transact(lambda tr: tr.get_read_version(), timeout=seconds)
        except errors.FDBError as error:
            unanswered = self._unanswered(error, seconds, "timeout")
            if unanswered is error:
                raise
            raise unanswered from error

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
                # The configuration first: a missing cluster file is the same mistake whether
                # or not this machine has libfdb_c.
                _check_cluster(self.cluster_file)
                # A handle inherited across fork belongs to the parent's network thread.
                client = self._load_client()
                database = client.open(self.cluster_file)
                self._first_contact(client, database)
                handle = _Handle(pid, client, database)
                self._handle = handle
            return handle

    def _first_contact(self, client: FDBClient, database: Any) -> None:
        """Fetch a read version within ``connect_timeout``: fail now rather than hang later."""
        try:
            tr = database.create_transaction()
            tr.options.set_timeout(timeout_milliseconds(self.connect_timeout))
            tr.get_read_version().wait()
        except client.error_type as error:
            raise self._unanswered(
                client.translate(error), self.connect_timeout, "connect_timeout"
            ) from error

    def _unanswered(
        self, cause: errors.FDBError, seconds: float, option: str
    ) -> errors.FDBError | EngineConfigurationError:
        """The error for a cluster that did not answer, naming its cluster file."""
        where = describe_cluster_file(self.cluster_file)
        if cause.code in CLUSTER_FILE_ERRORS:
            return EngineConfigurationError(
                f"FoundationDB cannot use {where}: {CLUSTER_FILE_ERRORS[cause.code]} "
                f"({cause.message}, FDB error {cause.code})"
            )
        if cause.code != errors.TransactionTimedOut.code:
            return cause
        return errors.TransactionTimedOut(
            f"FoundationDB did not answer within {seconds:g}s ({option}) using {where}: is the "
            "cluster up and reachable from here, and does the file name its coordinators?"
        )

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
    def get_many(self, keys: Sequence[bytes]) -> list[bytes | None]:
        futures = [self._tr.get(key) for key in keys]  # all in flight before the first wait
        return [future.value for future in futures]

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
        self._commit_started = False

    @property
    def snapshot(self) -> ReadTransaction:
        return self._snapshot

    def disable_read_cache(self) -> None:
        self._tr.options.set_read_server_side_cache_disable()

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
        if self._commit_started:  # FDB answers used_during_commit: say so without asking it
            refused: Future[bytes] = Future()
            refused.set_exception(
                errors.UsedDuringCommit("get_versionstamp() must be called before commit()")
            )
            return refused
        return self._bridge(self._tr.get_versionstamp(), lambda ready: bytes(ready.value))

    @_translating
    def commit(self) -> None:
        self._commit_started = True
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


def _on_error(raw: Any, client: FDBClient, error: errors.FDBError) -> None:
    """Wait out FDB's ``on_error``: it backs off and resets ``raw``, or raises the error."""
    try:
        raw.on_error(error.code).wait()
    except client.error_type as final:
        raw.cancel()
        if int(getattr(final, "code", 0)) == error.code:
            raise error  # not retried: the error as it was raised
        raise client.translate(final) from error  # the timeout expired, or the like


def _connect_timeout(seconds: float) -> float:
    try:
        checked = check_timeout(seconds)
    except (errors.FDBError, TypeError):
        checked = 0.0
    if checked <= 0:
        raise EngineConfigurationError(
            f"connect_timeout={seconds!r}: give a number of seconds above 0 and at most "
            f"{MAX_TIMEOUT_MILLISECONDS / 1000}"
        )
    return checked


def _milliseconds_at_most(seconds: float) -> int:
    return min(MAX_TIMEOUT_MILLISECONDS, max(0, math.ceil(seconds * 1000)))


def _settle(set_outcome: Callable[[Any], None], outcome: Any) -> None:
    try:
        set_outcome(outcome)
    except InvalidStateError:
        pass  # our caller cancelled the future first; the outcome has no one to go to
