"""Fixtures for the event store tests: stores on every engine under test, one namespace each.

``store`` (and ``store_url``) is parametrized with the ids ``embedded`` (always, on a fresh
directory under ``tmp_path``) and ``fdb`` (only when ``FAIRWAY_TEST_FDB_CLUSTER_FILE`` names a
cluster file; skipped with the reason otherwise). Every test works in a namespace of its own,
``t<12 hex digits>``, whose keys are cleared afterwards on FoundationDB, so the suite can run
against a shared cluster. ``open_stores`` opens further handles on the same engine (other
namespaces, or the same one twice). ``faulty_store`` is an embedded store whose commits fail
now and then, the way FoundationDB's can. ``big_log`` is a read-only log of 2,500 events,
built once per session and engine, for reads that cross chunk boundaries.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from fairway_django.dcb import DcbStore, Event, Query, SequencedEvent, open_store
from fairway_django.engine import RetryPolicy, Transaction
from fairway_django.engine.keys import strinc

FDB_CLUSTER_FILE_ENV = "FAIRWAY_TEST_FDB_CLUSTER_FILE"
ENGINES = ("embedded", "fdb")
#: Share of commits the faulty store fails on purpose.
FAULT_RATE = 0.2


def unique_namespace() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def with_options(url: str, **options: str) -> str:
    """``url`` with more ``?name=value`` options."""
    return url + ("&" if "?" in url else "?") + urlencode(options)


def engine_url(engine: str, directory: Path) -> str:
    """The URL of the engine ``engine`` (an embedded one in ``directory``), without namespace."""
    if engine == "embedded":
        return f"embedded://{directory}?durability=none"
    cluster_file = os.environ.get(FDB_CLUSTER_FILE_ENV)
    if not cluster_file:
        pytest.skip(f"{FDB_CLUSTER_FILE_ENV} is not set: no FoundationDB cluster to test against")
    return f"fdb://{os.path.abspath(cluster_file)}"


def clear_namespace(store: DcbStore) -> None:
    """Remove every key of ``store``'s namespace: its events under their short root, and its
    own keys (head, append ids, dictionary) under ``("dcb", namespace)``."""
    root = store.keyspace.root

    def clear(tr: Transaction) -> None:
        short = tr.get(store.keyspace.short_root)
        if short is not None:
            tr.clear_range(short, strinc(short))
        tr.clear_range(root, strinc(root))

    store.database.transact(clear)


class StoreOpener:
    """Opens stores on one engine; closes them at teardown, clearing their keys on FDB."""

    def __init__(self, engine: str, base_url: str) -> None:
        self.engine = engine
        self.base_url = base_url
        self._open: list[DcbStore] = []

    def url(self, namespace: str | None = None) -> str:
        return with_options(self.base_url, namespace=namespace or unique_namespace())

    def open(self, namespace: str | None = None, *, retry: RetryPolicy | None = None) -> DcbStore:
        """A new handle on ``namespace`` (a fresh one when None)."""
        store = open_store(self.url(namespace), retry=retry)
        self._open.append(store)
        return store

    def discard(self, store: DcbStore) -> None:
        """Clear (on FDB) and close one store opened here."""
        self._open.remove(store)
        self._dispose(store)

    def close_all(self) -> None:
        while self._open:
            self._dispose(self._open.pop())

    def _dispose(self, store: DcbStore) -> None:
        try:
            if self.engine == "fdb":
                clear_namespace(store)
        finally:
            store.close()


@pytest.fixture(params=ENGINES)
def open_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreOpener]:
    """Opens stores on this test's engine (parametrized: embedded, fdb)."""
    opener = StoreOpener(request.param, engine_url(request.param, tmp_path / "store"))
    try:
        yield opener
    finally:
        opener.close_all()


@pytest.fixture
def namespace() -> str:
    return unique_namespace()


@pytest.fixture
def store_url(open_stores: StoreOpener, namespace: str) -> str:
    return open_stores.url(namespace)


@pytest.fixture
def store(open_stores: StoreOpener, namespace: str) -> DcbStore:
    """An empty store in a namespace of its own."""
    return open_stores.open(namespace)


@pytest.fixture
def fault_seed(request: pytest.FixtureRequest) -> int:
    """A seed fixed per test, so that a failure under faults replays the same faults."""
    return zlib.crc32(request.node.nodeid.encode())


@pytest.fixture
def faulty_store_url(tmp_path: Path, fault_seed: int) -> str:
    """An embedded store failing ``FAULT_RATE`` of its commits (not_committed,
    transaction_too_old, commit_unknown_result applied or not)."""
    return with_options(
        engine_url("embedded", tmp_path / "faulty"),
        faults=str(FAULT_RATE),
        fault_seed=str(fault_seed),
        namespace=unique_namespace(),
    )


@pytest.fixture
def faulty_store(faulty_store_url: str) -> Iterator[DcbStore]:
    store = open_store(faulty_store_url)
    try:
        yield store
    finally:
        store.close()


# --- a log of 2,500 events, for reads crossing chunk boundaries (1,024 events) ----------------

BIG_LOG_EVENTS = 2_500
BIG_LOG_BATCH = 250


def big_log_event(i: int) -> Event:
    """Event ``i`` of the big log. Every tag set is a function of ``i``, so tests can predict
    any query's answer: ``all`` on every event, ``big`` unless i % 10 == 0, ``hi`` unless
    i % 7 == 0, ``m5`` when i % 5 == 0, ``even``/``odd``. Every 100th event carries 2 KB of
    data, too much to be copied into its ~30 index entries: it is read through the log."""
    tags = ["all", "even" if i % 2 == 0 else "odd"]
    if i % 10:
        tags.append("big")
    if i % 7:
        tags.append("hi")
    if i % 5 == 0:
        tags.append("m5")
    data = f"event {i}".encode() + (bytes(2_000) if i % 100 == 42 else b"")
    return Event(("A", "B", "C")[i % 3], data, tags, {"i": str(i)} if i % 4 == 0 else None)


@dataclasses.dataclass(frozen=True)
class BigLog:
    store: DcbStore
    #: Every event of the log, in position order.
    events: list[SequencedEvent]


@pytest.fixture(scope="session", params=ENGINES)
def big_log(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BigLog]:
    """A store holding the 2,500 events ``big_log_event(0..2499)``; tests must not write to it."""
    opener = StoreOpener(
        request.param, engine_url(request.param, tmp_path_factory.mktemp("big-log"))
    )
    store = opener.open()
    try:
        for start in range(0, BIG_LOG_EVENTS, BIG_LOG_BATCH):
            store.append([big_log_event(i) for i in range(start, start + BIG_LOG_BATCH)])
        events = list(store.read(Query.all()))
        assert [e.event for e in events] == [big_log_event(i) for i in range(BIG_LOG_EVENTS)]
        yield BigLog(store, events)
    finally:
        opener.close_all()
