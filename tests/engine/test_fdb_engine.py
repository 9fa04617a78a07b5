"""The FoundationDB engine where no FoundationDB is: URLs, laziness, fork, error translation.

The conformance suite runs the engine's behaviour against a real cluster when
``FAIRWAY_TEST_FDB_CLUSTER_FILE`` is set. These tests need neither a cluster nor libfdb_c.
Where the engine's mapping onto the bindings is exercised, a stand-in takes the bindings'
place: it has their shape (futures with ``wait``/``on_ready``/``cancel``, errors with a code
and a bytes description) and scripted failures, and nothing else.
"""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fairway_django.engine import errors, open_engine, parse_store_url
from fairway_django.engine.base import KeyValue, Transaction
from fairway_django.engine.errors import EngineConfigurationError
from fairway_django.engine.fdb import CLIENT_VERSION, FDBClient, FDBDatabase
from fairway_django.engine.retry import RetryPolicy

REPO_ROOT = Path(__file__).resolve().parents[2]
NO_BACKOFF = RetryPolicy(initial_backoff=0.0, max_backoff=0.0)
#: The codes FDB's ``retryable`` error predicate accepts (FoundationDB 7.3), for the stand-in.
FDB_RETRYABLE = {1007, 1009, 1020, 1021, 1037, 1038, 1039, 1042, 1051, 1078, 1213}


# --- the stand-in for the bindings ------------------------------------------------------------


class BindingsError(Exception):
    """Shaped as ``fdb.FDBError``: a code, and the C library's description, in bytes."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code

    @property
    def description(self) -> bytes:
        return f"stand-in description of {self.code}".encode()


class StandInFuture:
    """The part of the bindings' futures the engine uses."""

    def __init__(self, value: Any = None, error: int | None = None, ready: bool = True) -> None:
        self._value, self._error, self._ready = value, error, ready
        self._callbacks: list[Callable[[StandInFuture], None]] = []
        self.cancelled = False

    def resolve(self, value: Any = None, error: int | None = None) -> None:
        self._value, self._error, self._ready = value, error, True
        for callback in self._callbacks:
            callback(self)

    def on_ready(self, callback: Callable[[StandInFuture], None]) -> None:
        if self._ready:
            callback(self)
        else:
            self._callbacks.append(callback)

    def wait(self) -> Any:
        assert self._ready, "the engine waited on a future that is not ready"
        if self._error is not None:
            raise BindingsError(self._error)
        return self._value

    @property
    def value(self) -> Any:
        return self.wait()

    def cancel(self) -> None:
        if not self._ready:
            self.cancelled = True
            self.resolve(error=1101)  # operation_cancelled, as FDB completes a cancelled future


class StandInPair:
    def __init__(self, key: bytes, value: bytes) -> None:
        self.key, self.value = key, value


class StandInReads:
    def __init__(self, bindings: StandInBindings, snapshot: bool) -> None:
        self.bindings, self.snapshot_reads = bindings, snapshot

    def get(self, key: bytes) -> StandInFuture:
        self.bindings.calls.append(("snapshot.get" if self.snapshot_reads else "get", key))
        return StandInFuture(self.bindings.data.get(key), self.bindings.failure("get"))

    def get_range(
        self, begin: bytes, end: bytes, limit: int = 0, reverse: bool = False
    ) -> Iterator[StandInPair]:
        self.bindings.calls.append(("get_range", begin, end, limit, reverse))
        pairs = sorted((k, v) for k, v in self.bindings.data.items() if begin <= k < end)
        pairs = pairs[::-1] if reverse else pairs
        return self._iterate(pairs[:limit] if limit else pairs)

    def _iterate(self, pairs: list[tuple[bytes, bytes]]) -> Iterator[StandInPair]:
        for index, (key, value) in enumerate(pairs):
            if index == 1 and (code := self.bindings.failure("range_batch")) is not None:
                raise BindingsError(code)  # a later batch fails, as when the read version ages
            yield StandInPair(key, value)

    def get_read_version(self) -> StandInFuture:
        return StandInFuture(41, self.bindings.failure("get_read_version"))


class StandInTransaction(StandInReads):
    def __init__(self, bindings: StandInBindings) -> None:
        super().__init__(bindings, snapshot=False)
        self.snapshot = StandInReads(bindings, snapshot=True)
        self.options = self
        self.versionstamp = StandInFuture(ready=False)
        self.writes: dict[bytes, bytes] = {}
        self.retry_limit = -1
        self.retries = 0

    def set_timeout(self, milliseconds: int) -> None:
        self.bindings.calls.append(("set_timeout", milliseconds))

    def set_retry_limit(self, limit: int) -> None:
        self.bindings.calls.append(("set_retry_limit", limit))
        self.retry_limit = limit

    def set_max_retry_delay(self, milliseconds: int) -> None:
        self.bindings.calls.append(("set_max_retry_delay", milliseconds))

    def on_error(self, code: int) -> StandInFuture:
        """As FDB's: the error back when it is not retryable or the retry limit is reached
        (or a scripted failure, such as the timeout expiring), else a reset transaction."""
        self.bindings.calls.append(("on_error", code))
        limit_reached = self.retry_limit != -1 and self.retries >= self.retry_limit
        self.retries += 1
        if code not in FDB_RETRYABLE or limit_reached:
            return StandInFuture(error=code)
        if (failure := self.bindings.failure("on_error")) is not None:
            return StandInFuture(error=failure)
        self.writes = {}
        self.versionstamp = StandInFuture(ready=False)
        return StandInFuture()

    def set(self, key: bytes, value: bytes) -> None:
        self.bindings.calls.append(("set", key, value))
        self.writes[key] = value

    def __getattr__(self, name: str) -> Callable[..., None]:
        # clear, clear_range, add, set_versionstamped_*: recorded, applied by nobody.
        def record(*args: Any) -> None:
            if name.endswith("_conflict_range") and args[0] > args[1]:
                raise BindingsError(2005)  # inverted_range
            self.bindings.calls.append((name, *args))

        return record

    def watch(self, key: bytes) -> StandInFuture:
        future = StandInFuture(ready=False)
        self.bindings.watches.append(future)
        return future

    def get_versionstamp(self) -> StandInFuture:
        return self.versionstamp

    def commit(self) -> StandInFuture:
        self.bindings.commits += 1
        code = self.bindings.failure("commit")
        if code is None:
            self.bindings.data.update(self.writes)
            self.versionstamp.resolve(b"\x00" * 8 + self.bindings.commits.to_bytes(2, "big"))
        else:
            self.versionstamp.resolve(error=code)
        return StandInFuture(None, code)

    def get_committed_version(self) -> int:
        return 1000 + self.bindings.commits

    def cancel(self) -> None:
        self.bindings.calls.append(("cancel",))


class StandInDatabase:
    def __init__(self, bindings: StandInBindings) -> None:
        self.bindings = bindings

    def create_transaction(self) -> StandInTransaction:
        self.bindings.transactions += 1
        return StandInTransaction(self.bindings)


class StandInPredicates:
    @staticmethod
    def is_retryable(error: BindingsError) -> bool:
        return error.code in FDB_RETRYABLE


class StandInBindings:
    """Takes the ``fdb`` module's place: ``FDBError``, ``predicates`` and ``open``."""

    FDBError = BindingsError
    predicates = StandInPredicates()

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.calls: list[tuple[Any, ...]] = []
        self.opened: list[str | None] = []
        self.watches: list[StandInFuture] = []
        self.commits = 0
        self.transactions = 0
        self.open_error: int | None = None
        self._failures: dict[str, list[int]] = {}

    def fail(self, operation: str, *codes: int) -> None:
        """Make the next calls of ``operation`` fail with ``codes``, one each."""
        self._failures.setdefault(operation, []).extend(codes)

    def failure(self, operation: str) -> int | None:
        pending = self._failures.get(operation)
        return pending.pop(0) if pending else None

    def open(self, cluster_file: str | None) -> StandInDatabase:
        if self.open_error is not None:
            raise BindingsError(self.open_error)
        self.opened.append(cluster_file)
        return StandInDatabase(self)


class StandInFDBDatabase(FDBDatabase):
    """The FDB engine with a stand-in where the bindings would be loaded."""

    def __init__(self, client: FDBClient, cluster_file: str | None = None) -> None:
        super().__init__(cluster_file, retry=NO_BACKOFF)
        self.client = client

    def _load_client(self) -> FDBClient:
        return self.client


@pytest.fixture
def bindings() -> StandInBindings:
    return StandInBindings()


@pytest.fixture
def db(bindings: StandInBindings) -> StandInFDBDatabase:
    return StandInFDBDatabase(FDBClient(bindings))


def run_fresh_python(script: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in a new interpreter that records every attempt to import ``fdb.impl``.

    The attempts are refused when ``FAIRWAY_REFUSE_FDB_IMPL`` is set, so that a test can
    behave as on a machine without libfdb_c even where it is installed.
    """
    prelude = textwrap.dedent(
        """
        import os, sys

        class WatchFDBImpl:
            attempts = []

            def find_spec(self, name, path=None, target=None):
                if name == "fdb.impl":
                    self.attempts.append(name)
                    if os.environ.get("FAIRWAY_REFUSE_FDB_IMPL"):
                        raise ImportError("fdb.impl refused by the test")
                return None

        sys.meta_path.insert(0, WatchFDBImpl())
        """
    )
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(script)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        cwd=REPO_ROOT,
        timeout=60,
    )


def libfdb_c_is_installed() -> bool:
    try:
        ctypes.CDLL("libfdb_c.so")
    except OSError:
        return ctypes.util.find_library("fdb_c") is not None
    return True


# --- store URLs -------------------------------------------------------------------------------


def test_a_url_with_a_path_names_the_cluster_file() -> None:
    db = open_engine("fdb:///etc/foundationdb/fdb.cluster")
    assert isinstance(db, FDBDatabase)
    assert db.cluster_file == "/etc/foundationdb/fdb.cluster"
    assert repr(db) == "<FDBDatabase fdb:///etc/foundationdb/fdb.cluster>"


def test_fdb_without_a_path_leaves_the_cluster_file_to_the_client() -> None:
    # None makes the client library look at $FDB_CLUSTER_FILE, ./fdb.cluster, then the
    # platform default, as every FDB tool does.
    db = FDBDatabase.from_url(parse_store_url("fdb://"))
    assert db.cluster_file is None
    assert db.url == "fdb://"


def test_unknown_url_options_are_refused() -> None:
    with pytest.raises(EngineConfigurationError, match=r"unknown option\(s\) colour in fdb:"):
        open_engine("fdb:///etc/foundationdb/fdb.cluster?colour=blue")


def test_only_fdb_urls_are_accepted() -> None:
    with pytest.raises(EngineConfigurationError, match="not an fdb: store URL"):
        FDBDatabase.from_url(parse_store_url("embedded:///tmp/store"))


# --- nothing happens before first use ---------------------------------------------------------


def test_importing_and_creating_the_engine_loads_nothing_from_fdb() -> None:
    result = run_fresh_python(
        """
        import fdb
        import fairway_django.engine.fdb
        from fairway_django.engine import open_engine

        db = open_engine("fdb:///nowhere/fdb.cluster")
        repr(db), open_engine("fdb://")
        assert WatchFDBImpl.attempts == [], "something tried to import fdb.impl"
        assert "fdb.impl" not in sys.modules
        assert not fdb.is_api_version_selected(), "fdb.api_version was called"
        """
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(libfdb_c_is_installed(), reason="libfdb_c is installed on this machine")
def test_first_use_without_libfdb_c_says_what_to_install() -> None:
    result = run_fresh_python(
        """
        import fdb
        from fairway_django.engine import EngineConfigurationError, open_engine

        db = open_engine("fdb://")
        for attempt in (lambda: db.create_transaction(), lambda: db.transact(lambda tr: 1)):
            try:
                attempt()
            except EngineConfigurationError as error:
                print(error)
            else:
                raise AssertionError("the engine worked without libfdb_c")
        assert not fdb.is_api_version_selected()
        """
    )
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.strip().splitlines()
    assert first == second  # no half-loaded state: the second attempt fails the same way
    assert "FoundationDB client library (libfdb_c) could not be loaded" in first
    assert f"FoundationDB clients package {CLIENT_VERSION}" in first
    assert f"releases/tag/{CLIENT_VERSION}" in first
    assert "Unable to locate the FoundationDB API shared library" in first  # the cause


def test_the_database_opens_on_the_first_transaction(
    bindings: StandInBindings, tmp_path: Path
) -> None:
    cluster_file = tmp_path / "fdb.cluster"
    cluster_file.write_text("test:test@127.0.0.1:4500\n")
    db = StandInFDBDatabase(FDBClient(bindings), str(cluster_file))
    assert bindings.opened == []
    db.create_transaction()
    db.create_transaction()
    assert bindings.opened == [str(cluster_file)]


def test_a_missing_cluster_file_is_a_configuration_error(bindings: StandInBindings) -> None:
    db = StandInFDBDatabase(FDBClient(bindings), "/nowhere/fdb.cluster")
    with pytest.raises(EngineConfigurationError, match="cluster file /nowhere/fdb.cluster does"):
        db.create_transaction()


def test_a_cluster_the_client_cannot_open_is_a_configuration_error(
    bindings: StandInBindings, db: StandInFDBDatabase
) -> None:
    bindings.open_error = 2104
    with pytest.raises(EngineConfigurationError, match=r"default cluster file.*: .*error 2104"):
        db.create_transaction()


def test_a_closed_database_hands_out_no_transactions(db: StandInFDBDatabase) -> None:
    db.create_transaction()
    db.close()
    with pytest.raises(RuntimeError, match="is closed"):
        db.create_transaction()


# --- fork -------------------------------------------------------------------------------------


def in_forked_child(action: Callable[[], object]) -> str:
    """Run ``action`` in a forked child; what it returned, or the error it raised, as text."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave without running the parent's cleanup
        try:
            os.close(read_end)
            try:
                outcome = f"ok: {action()}"
            except Exception as error:
                outcome = f"{type(error).__name__}: {error}"
            os.write(write_end, outcome.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        outcome = pipe.read().decode()
    os.waitpid(pid, 0)
    return outcome


def test_a_child_forked_before_first_use_opens_its_own_client(
    bindings: StandInBindings, db: StandInFDBDatabase
) -> None:
    def open_in_child() -> object:
        db.create_transaction()
        return db.client.network_pid == os.getpid()

    assert in_forked_child(open_in_child) == "ok: True"
    assert db.client.network_pid is None  # the parent is untouched


def test_a_child_forked_after_first_use_is_told_why_it_cannot_use_fdb(
    db: StandInFDBDatabase,
) -> None:
    db.create_transaction()
    outcome = in_forked_child(lambda: db.create_transaction())
    assert outcome.startswith("EngineConfigurationError: FoundationDB's client was started in a")
    assert "does not survive fork" in outcome
    db.create_transaction()  # the parent goes on as before


# --- errors -----------------------------------------------------------------------------------

ENGINE_ERRORS = sorted(
    (
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.FDBError)
        if cls is not errors.FDBError
    ),
    key=lambda cls: cls.code,
)


@pytest.mark.parametrize("cls", ENGINE_ERRORS, ids=lambda cls: f"{cls.code}-{cls.name}")
def test_every_fdb_code_maps_to_its_class(cls: type[errors.FDBError]) -> None:
    error = errors.error_for_code(cls.code, "from the cluster")
    assert type(error) is cls
    assert (error.code, error.message) == (cls.code, "from the cluster")


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        (1020, True),
        (1007, True),
        (1021, True),
        (1031, False),
        (2101, False),
        (2102, False),
        (2103, False),
    ],
)
def test_only_transient_errors_are_retryable(code: int, retryable: bool) -> None:
    assert errors.error_for_code(code).retryable is retryable


def test_a_code_without_a_class_keeps_its_code() -> None:
    error = errors.error_for_code(1009)
    assert type(error) is errors.FDBError
    assert error.code == 1009


def test_bindings_errors_become_engine_errors(bindings: StandInBindings) -> None:
    client = FDBClient(bindings)
    conflict = client.translate(BindingsError(1020))
    assert type(conflict) is errors.NotCommitted and conflict.retryable
    assert conflict.message == "stand-in description of 1020"  # decoded from bytes
    too_large = client.translate(BindingsError(2101))
    assert type(too_large) is errors.TransactionTooLarge and not too_large.retryable


def test_codes_fdb_retries_are_retryable_even_without_a_class(bindings: StandInBindings) -> None:
    client = FDBClient(bindings)
    future_version = client.translate(BindingsError(1009))
    assert (future_version.code, future_version.retryable) == (1009, True)
    assert not client.translate(BindingsError(4100)).retryable


def test_reads_raise_engine_errors(bindings: StandInBindings, db: StandInFDBDatabase) -> None:
    tr = db.create_transaction()
    bindings.fail("get", 1007)
    with pytest.raises(errors.TransactionTooOld) as raised:
        tr.get(b"k")
    assert isinstance(raised.value.__cause__, BindingsError)
    bindings.fail("get_read_version", 1031)
    with pytest.raises(errors.TransactionTimedOut):
        tr.get_read_version()
    with pytest.raises(errors.InvertedRange):
        tr.add_read_conflict_range(b"b", b"a")


def test_range_iteration_raises_engine_errors_midway(
    bindings: StandInBindings, db: StandInFDBDatabase
) -> None:
    bindings.data.update({b"a": b"1", b"b": b"2", b"c": b"3"})
    pairs = db.create_transaction().get_range(b"a", b"z")
    assert next(pairs) == KeyValue(b"a", b"1")
    bindings.fail("range_batch", 1007)
    with pytest.raises(errors.TransactionTooOld):
        next(pairs)


def test_a_conflict_at_commit_is_retried(
    bindings: StandInBindings, db: StandInFDBDatabase
) -> None:
    bindings.fail("commit", 1020, 1009)  # not_committed, then future_version
    attempts = []

    def write(tr: Transaction) -> str:
        attempts.append(tr)
        tr.set(b"k", b"v")
        return "done"

    assert db.transact(write) == "done"
    assert len(attempts) == 3
    assert bindings.data == {b"k": b"v"}


def test_a_permanent_error_at_commit_is_raised_at_once(
    bindings: StandInBindings, db: StandInFDBDatabase
) -> None:
    bindings.fail("commit", 2101)
    with pytest.raises(errors.TransactionTooLarge):
        db.transact(lambda tr: tr.set(b"k", b"v" * 10))
    assert bindings.commits == 1
    assert ("cancel",) in bindings.calls


# --- the rest of the interface, onto the bindings ---------------------------------------------


def test_reads_return_plain_values(bindings: StandInBindings, db: StandInFDBDatabase) -> None:
    bindings.data.update({b"a": b"1", b"b": b"2", b"c": b"3"})
    tr = db.create_transaction()
    assert tr.get(b"a") == b"1"
    assert tr.get(b"nope") is None
    assert list(tr.get_range(b"a", b"c")) == [KeyValue(b"a", b"1"), KeyValue(b"b", b"2")]
    assert list(tr.get_range(b"a", b"z", limit=1, reverse=True)) == [KeyValue(b"c", b"3")]
    assert [kv.key for kv in tr.get_range_startswith(b"b")] == [b"b"]
    assert tr.get_read_version() == 41
    assert tr.snapshot.get(b"a") == b"1"
    assert ("snapshot.get", b"a") in bindings.calls


def test_writes_go_to_the_bindings_as_given(
    bindings: StandInBindings, db: StandInFDBDatabase
) -> None:
    tr = db.create_transaction()
    bindings.calls.clear()  # the first contact's
    tr.clear(b"a")
    tr.clear_range(b"a", b"b")
    tr.add(b"n", b"\x01\x00\x00\x00")
    tr.set_versionstamped_key(b"k" + b"\xff" * 10 + b"\x01\x00\x00\x00", b"v")
    tr.set_versionstamped_value(b"k", b"\xff" * 10 + b"\x00\x00\x00\x00")
    tr.add_read_conflict_key(b"r")
    tr.add_write_conflict_range(b"w", b"x")
    assert bindings.calls == [
        ("clear", b"a"),
        ("clear_range", b"a", b"b"),
        ("add", b"n", b"\x01\x00\x00\x00"),
        ("set_versionstamped_key", b"k" + b"\xff" * 10 + b"\x01\x00\x00\x00", b"v"),
        ("set_versionstamped_value", b"k", b"\xff" * 10 + b"\x00\x00\x00\x00"),
        ("add_read_conflict_range", b"r", b"r\x00"),
        ("add_write_conflict_range", b"w", b"x"),
    ]


@pytest.mark.parametrize(("seconds", "milliseconds"), [(2.5, 2500), (0.0001, 1)])
def test_the_timeout_is_given_to_fdb_in_milliseconds(
    bindings: StandInBindings, db: StandInFDBDatabase, seconds: float, milliseconds: int
) -> None:
    db.create_transaction()
    bindings.calls.clear()  # the first contact's
    db.create_transaction(timeout=seconds)
    assert bindings.calls == [("set_timeout", milliseconds)]


def test_the_versionstamp_future_completes_at_commit(db: StandInFDBDatabase) -> None:
    tr = db.create_transaction()
    tr.set(b"k", b"v")
    versionstamp = tr.get_versionstamp()
    assert not versionstamp.done()
    tr.commit()
    assert versionstamp.result(timeout=0) == b"\x00" * 9 + b"\x01"
    assert tr.get_committed_version() == 1001


def test_the_versionstamp_future_fails_with_the_commit(
    bindings: StandInBindings, db: StandInFDBDatabase
) -> None:
    tr = db.create_transaction()
    versionstamp = tr.get_versionstamp()
    bindings.fail("commit", 1020)
    with pytest.raises(errors.NotCommitted):
        tr.commit()
    assert isinstance(versionstamp.exception(timeout=0), errors.NotCommitted)


def test_a_watch_completes_when_fdb_reports_the_change(
    bindings: StandInBindings, db: StandInFDBDatabase
) -> None:
    watch = db.create_transaction().watch(b"k")
    assert not watch.done()
    bindings.watches[0].resolve()
    assert watch.result(timeout=0) is None


def test_a_failed_watch_raises_an_engine_error(
    bindings: StandInBindings, db: StandInFDBDatabase
) -> None:
    watch = db.create_transaction().watch(b"k")
    bindings.watches[0].resolve(error=1032)
    assert isinstance(watch.exception(timeout=0), errors.TooManyWatches)


def test_cancelling_a_watch_cancels_it_in_fdb(
    bindings: StandInBindings, db: StandInFDBDatabase
) -> None:
    watch = db.create_transaction().watch(b"k")
    assert watch.cancel()
    assert bindings.watches[0].cancelled
    assert watch.cancelled()


# --- the retry loop is FDB's on_error ---------------------------------------------------------


def test_the_retry_loop_keeps_one_transaction_and_lets_on_error_decide(
    bindings: StandInBindings, db: StandInFDBDatabase
) -> None:
    db.create_transaction()  # the first contact
    bindings.calls.clear()
    created = bindings.transactions
    bindings.fail("commit", 1020, 1021, 1078)  # a conflict, an unknown result, an overload
    seen: list[Transaction] = []

    def write(tr: Transaction) -> str:
        seen.append(tr)
        tr.set(b"k", b"v")
        return "done"

    assert db.transact(write) == "done"
    assert bindings.transactions == created + 1  # one bindings transaction, reset by on_error
    assert [c for c in bindings.calls if c[0] == "on_error"] == [
        ("on_error", 1020),
        ("on_error", 1021),
        ("on_error", 1078),
    ]
    assert ("set_retry_limit", 100) in bindings.calls  # our limit, as FDB's option
    assert len(seen) == 4 and len({id(tr) for tr in seen}) == 4  # a fresh wrapper per attempt


def test_on_error_raises_the_error_once_the_retry_limit_is_reached(
    bindings: StandInBindings, db: StandInFDBDatabase
) -> None:
    bindings.fail("commit", 1020, 1020, 1020, 1020)
    with pytest.raises(errors.NotCommitted):
        db.transact(lambda tr: tr.set(b"k", b"v"), retry_limit=2)
    assert bindings.commits == 3
    assert ("set_retry_limit", 2) in bindings.calls
    assert ("cancel",) in bindings.calls


def test_no_retry_limit_is_fdbs_default_of_none(bindings: StandInBindings) -> None:
    db = StandInFDBDatabase(FDBClient(bindings))
    db.retry = RetryPolicy(retry_limit=None, max_backoff=2.5)
    db.transact(lambda tr: tr.set(b"k", b"v"))
    assert not [c for c in bindings.calls if c[0] == "set_retry_limit"]
    assert ("set_max_retry_delay", 2500) in bindings.calls


def test_a_timeout_expiring_between_retries_is_raised_as_such(
    bindings: StandInBindings, db: StandInFDBDatabase
) -> None:
    bindings.fail("commit", 1020)
    bindings.fail("on_error", 1031)  # on_error answers transaction_timed_out
    with pytest.raises(errors.TransactionTimedOut) as raised:
        db.transact(lambda tr: tr.set(b"k", b"v"), timeout=1.0)
    assert isinstance(raised.value.__cause__, errors.NotCommitted)


def test_errors_raised_outside_fdb_cancel_the_transaction(
    bindings: StandInBindings, db: StandInFDBDatabase
) -> None:
    def fail(tr: Transaction) -> None:
        raise LookupError("domain error")

    with pytest.raises(LookupError):
        db.transact(fail)
    assert ("cancel",) in bindings.calls
    assert not [c for c in bindings.calls if c[0] == "on_error"]


# --- versionstamps after commit ---------------------------------------------------------------


def test_a_versionstamp_asked_for_after_commit_is_refused(db: StandInFDBDatabase) -> None:
    """FDB answers used_during_commit (2017); the engine says so without asking the client."""
    tr = db.create_transaction()
    tr.set(b"k", b"v")
    tr.commit()
    error = tr.get_versionstamp().exception(timeout=0)
    assert type(error) is errors.UsedDuringCommit and error.code == 2017


# --- timeouts FDB's option cannot take --------------------------------------------------------


@pytest.mark.parametrize(
    "seconds", [float("inf"), float("nan"), -1.0, 2**31 / 1000, 1e300], ids=str
)
def test_timeouts_fdb_cannot_take_are_invalid_option_values(
    bindings: StandInBindings, db: StandInFDBDatabase, seconds: float
) -> None:
    db.create_transaction()
    bindings.calls.clear()
    with pytest.raises(errors.InvalidOptionValue) as raised:
        db.create_transaction(timeout=seconds)
    assert raised.value.code == 2006
    with pytest.raises(errors.InvalidOptionValue):
        db.transact(lambda tr: None, timeout=seconds)
    assert bindings.calls == []  # refused before reaching the client


def test_the_largest_timeout_fdb_takes_is_accepted(
    bindings: StandInBindings, db: StandInFDBDatabase
) -> None:
    db.create_transaction()
    bindings.calls.clear()
    db.create_transaction(timeout=(2**31 - 1) / 1000)
    assert bindings.calls == [("set_timeout", 2**31 - 1)]


# --- an unreachable or malformed cluster ------------------------------------------------------


@pytest.fixture
def cluster_file(tmp_path: Path) -> Path:
    path = tmp_path / "fdb.cluster"
    path.write_text("# written by fdbserver\ndocker:docker@10.0.0.2:4500,fdb-1.local:4500:tls\n")
    return path


def test_connect_timeout_is_an_option_of_the_store_url(cluster_file: Path) -> None:
    db = open_engine(f"fdb://{cluster_file}?connect_timeout=2.5")
    assert isinstance(db, FDBDatabase) and db.connect_timeout == 2.5
    assert FDBDatabase.from_url(parse_store_url(f"fdb://{cluster_file}")).connect_timeout == 5.0


@pytest.mark.parametrize("value", ["soon", "0", "-1", "inf", "nan", "3000000"])
def test_a_bad_connect_timeout_is_a_configuration_error(value: str) -> None:
    with pytest.raises(EngineConfigurationError, match="connect_timeout"):
        open_engine(f"fdb:///etc/foundationdb/fdb.cluster?connect_timeout={value}")


def test_a_cluster_that_does_not_answer_fails_within_connect_timeout_naming_its_file(
    bindings: StandInBindings, cluster_file: Path
) -> None:
    db = StandInFDBDatabase(FDBClient(bindings), str(cluster_file))
    db.connect_timeout = 0.25
    bindings.fail("get_read_version", 1031)  # FDB's answer once the timeout expired
    with pytest.raises(errors.TransactionTimedOut) as raised:
        db.create_transaction()
    assert f"the cluster file {cluster_file}" in str(raised.value)
    assert "within 0.25s (connect_timeout)" in str(raised.value)
    assert ("set_timeout", 250) in bindings.calls  # the first contact had the timeout
    db.create_transaction()  # once the cluster answers, the store opens


def test_ping_names_the_cluster_file_when_the_cluster_does_not_answer(
    bindings: StandInBindings, cluster_file: Path
) -> None:
    db = StandInFDBDatabase(FDBClient(bindings), str(cluster_file))
    assert db.ping() == 41
    bindings.fail("get_read_version", 1031)
    with pytest.raises(errors.TransactionTimedOut, match=f"within 2s .*{cluster_file}"):
        db.ping(timeout=2)


def test_a_cluster_file_fdb_cannot_parse_is_a_configuration_error(
    bindings: StandInBindings, cluster_file: Path
) -> None:
    db = StandInFDBDatabase(FDBClient(bindings), str(cluster_file))
    bindings.fail("get_read_version", 2104)  # connection_string_invalid, from the client
    with pytest.raises(EngineConfigurationError, match=f"cannot use the cluster file {cluster_file}"):
        db.create_transaction()


@pytest.mark.parametrize(
    "contents",
    ["", "not a cluster file\n", "docker@10.0.0.2:4500", "a b:c@10.0.0.2:4500", "x:y@host",
     "x:y@10.0.0.2:4500\nx:y@10.0.0.3:4500\n", "x:y@10.0.0.2:port"],
)
def test_a_malformed_cluster_file_is_refused_before_fdb_is_asked(
    bindings: StandInBindings, tmp_path: Path, contents: str
) -> None:
    path = tmp_path / "fdb.cluster"
    path.write_text(contents)
    db = StandInFDBDatabase(FDBClient(bindings), str(path))
    with pytest.raises(EngineConfigurationError, match=f"cluster file {path} does not hold"):
        db.create_transaction()
    assert bindings.opened == []


@pytest.mark.parametrize(
    "contents",
    ["a_b:C0ffee@127.0.0.1:4500\n", "x:y@[::1]:4500:tls,10.0.0.1:4501", "x:y@fdb.example.com:4500"],
)
def test_well_formed_cluster_files_are_accepted(
    bindings: StandInBindings, tmp_path: Path, contents: str
) -> None:
    path = tmp_path / "fdb.cluster"
    path.write_text(contents)
    StandInFDBDatabase(FDBClient(bindings), str(path)).create_transaction()
    assert bindings.opened == [str(path)]


# --- the wrong fdb module ---------------------------------------------------------------------


def test_the_firebird_driver_named_fdb_is_recognised_and_the_fix_named(tmp_path: Path) -> None:
    fake = tmp_path / "fdb"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        '"""Firebird RDBMS bindings for Python."""\n__version__ = "2.0.2"\n'
        "def connect(*args, **kwargs):\n    raise NotImplementedError\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "try:\n"
            "    import fairway_django.engine\n"
            "except ImportError as error:\n"
            "    print(type(error).__name__, error)\n",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO_ROOT)])},
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # The engine's keys are FDB's tuple encoding, so importing the engine is where it shows.
    assert result.stdout.startswith("ImportError the module fdb imported from ")
    assert str(fake) in result.stdout
    assert "Firebird database driver" in result.stdout
    assert f"pip uninstall fdb, then pip install foundationdb=={CLIENT_VERSION}" in result.stdout


def test_the_fdb_engine_refuses_a_wrong_fdb_module_when_it_loads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from types import ModuleType

    from fairway_django.engine import fdb as fdb_engine

    firebird = ModuleType("fdb", "Firebird RDBMS bindings for Python.")
    firebird.connect = lambda *args: None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fdb", firebird)
    with pytest.raises(EngineConfigurationError, match="Firebird database driver"):
        fdb_engine._select_api_version()
