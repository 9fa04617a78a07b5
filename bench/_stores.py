"""The contenders, behind one small interface: raw SQLite, raw LMDB and the Fairway engine.

Every benchmark operation is written once against :class:`KV`, so a ratio between two stores
compares the stores and nothing else. A store is described by a picklable spec and opened from
it inside each process, because processes sharing a store each open it themselves.
"""

from __future__ import annotations

import dataclasses
import random
import sqlite3
import time
from collections.abc import Callable, Sequence
from itertools import islice
from multiprocessing.synchronize import Barrier
from typing import TYPE_CHECKING, Protocol, TypeVar

import lmdb

from ._timing import VALUE, WaitStats, cycling, preload_items, shuffled_keys, timed_commits

if TYPE_CHECKING:
    from fairway_django.engine import Database, Transaction

Items = Sequence[tuple[bytes, bytes]]
T = TypeVar("T")

#: For each engine durability setting, raw LMDB's (sync, metasync): the flags that give LMDB
#: alone the nearest promise. The engine itself never lets LMDB sync (its journal makes
#: commits durable), so this table is the benchmark's, not the engine's.
LMDB_FLAGS = {"full": (True, True), "normal": (True, False), "none": (False, False)}
LMDB_DURABILITY = list(LMDB_FLAGS)
#: Address space reserved for an LMDB map; the file only grows as far as the data does.
MAP_SIZE = 16 << 30
#: A writer waiting longer than this for SQLite's lock gives up ("database is locked").
SQLITE_BUSY_TIMEOUT = 60.0
#: Random keys drawn up front per workload (then reused cyclically).
DRAWS = 100_000
#: Where range reads stop: after every benchmark key (keys are b"k" + digits).
KEYS_END = b"l"


class KV(Protocol):
    """The work the benchmarks do; each method is one (or, for get_many, one shared) transaction."""

    def get(self, key: bytes) -> bytes | None: ...

    def get_many(self, keys: Sequence[bytes]) -> int: ...

    def read_range(self, begin: bytes, count: int) -> int: ...

    def commit(self, items: Items) -> None: ...

    def increment(self, key: bytes) -> int:
        """Read-modify-write one counter; returns attempts made (more than 1 after conflicts)."""
        ...

    def close(self) -> None: ...


class Spec(Protocol):
    @property
    def label(self) -> str: ...

    def open(self) -> KV: ...


# --- SQLite -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SqliteSpec:
    path: str
    synchronous: str  # FULL or NORMAL

    @property
    def label(self) -> str:
        return f"sqlite {self.synchronous}"

    def open(self) -> SqliteKV:
        return SqliteKV(self)


class SqliteKV:
    """SQLite as an app would use it: WAL, one blob-keyed table, BEGIN IMMEDIATE to write."""

    def __init__(self, spec: SqliteSpec) -> None:
        self.conn = sqlite3.connect(spec.path, timeout=SQLITE_BUSY_TIMEOUT, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(f"PRAGMA synchronous={spec.synchronous}")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID"
        )
        self.cur = self.conn.cursor()

    def get(self, key: bytes) -> bytes | None:
        row = self.cur.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def get_many(self, keys: Sequence[bytes]) -> int:
        cur = self.cur
        cur.execute("BEGIN")
        try:
            for k in keys:
                cur.execute("SELECT v FROM kv WHERE k = ?", (k,)).fetchone()
        finally:
            cur.execute("COMMIT")
        return len(keys)

    def read_range(self, begin: bytes, count: int) -> int:
        rows = self.cur.execute(
            "SELECT k, v FROM kv WHERE k >= ? ORDER BY k LIMIT ?", (begin, count)
        ).fetchall()
        return len(rows)

    def commit(self, items: Items) -> None:
        cur = self.cur
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.executemany("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", items)
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")

    def increment(self, key: bytes) -> int:
        raise NotImplementedError("the SQLite contender only runs backing_stores.py's work")

    def close(self) -> None:
        self.conn.close()


# --- LMDB -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LmdbSpec:
    path: str
    sync: bool
    metasync: bool

    @classmethod
    def for_durability(cls, path: str, durability: str) -> LmdbSpec:
        sync, metasync = LMDB_FLAGS[durability]
        return cls(path, sync, metasync)

    @property
    def label(self) -> str:
        if not self.sync:
            return "lmdb sync=F"
        return "lmdb sync" if self.metasync else "lmdb metasync=F"

    def open(self) -> LmdbKV:
        return LmdbKV(self)


class LmdbKV:
    """LMDB used directly: one environment, the default database, its own write lock."""

    def __init__(self, spec: LmdbSpec) -> None:
        self.env = lmdb.open(spec.path, map_size=MAP_SIZE, sync=spec.sync, metasync=spec.metasync)

    def get(self, key: bytes) -> bytes | None:
        with self.env.begin() as txn:
            return txn.get(key)

    def get_many(self, keys: Sequence[bytes]) -> int:
        with self.env.begin() as txn:
            get = txn.get
            for k in keys:
                get(k)
        return len(keys)

    def read_range(self, begin: bytes, count: int) -> int:
        with self.env.begin() as txn:
            cur = txn.cursor()
            if not cur.set_range(begin):
                return 0
            return len(list(islice(cur, count)))

    def commit(self, items: Items) -> None:
        with self.env.begin(write=True) as txn:
            put = txn.put
            for k, v in items:
                put(k, v)

    def increment(self, key: bytes) -> int:
        with self.env.begin(write=True) as txn:
            txn.put(key, _plus_one(txn.get(key)))
        return 1

    def close(self) -> None:
        self.env.close()


# --- the Fairway engine -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class EngineSpec:
    url: str

    @property
    def label(self) -> str:
        return "engine"

    def open(self) -> EngineKV:
        return EngineKV(self)


class EngineKV:
    """The engine through its public interface, each unit of work in ``transact`` as apps do."""

    def __init__(self, spec: EngineSpec) -> None:
        from fairway_django.engine import open_engine

        self.db: Database = open_engine(spec.url)

    def get(self, key: bytes) -> bytes | None:
        return self.db.transact(lambda tr: tr.get(key))

    def get_many(self, keys: Sequence[bytes]) -> int:
        def read(tr: Transaction) -> int:
            get = tr.get
            for k in keys:
                get(k)
            return len(keys)

        return self.db.transact(read)

    def read_range(self, begin: bytes, count: int) -> int:
        return self.db.transact(lambda tr: len(list(tr.get_range(begin, KEYS_END, limit=count))))

    def commit(self, items: Items) -> None:
        def write(tr: Transaction) -> None:
            put = tr.set
            for k, v in items:
                put(k, v)

        self.db.transact(write)

    def increment(self, key: bytes) -> int:
        attempts = 0

        def bump(tr: Transaction) -> None:
            nonlocal attempts
            attempts += 1
            tr.set(key, _plus_one(tr.get(key)))

        self.db.transact(bump)
        return attempts

    def close(self) -> None:
        self.db.close()


def _plus_one(value: bytes | None) -> bytes:
    return b"%d" % (int(value or b"0") + 1)


# --- work shared by both benchmarks -----------------------------------------------------------


def preload(spec: Spec, store_size: int, batch: int = 20_000) -> None:
    """Fill a store with ``store_size`` keys, in transactions small enough for FDB's limits."""
    kv = spec.open()
    try:
        for items in preload_items(store_size, batch):
            kv.commit(items)
    finally:
        kv.close()


def fairness_worker(index: int, barrier: Barrier, spec: Spec, seconds: float) -> WaitStats:
    """One of several processes committing single-key transactions on keys of its own."""
    kv = spec.open()
    keys = [b"fair/%d/%04d" % (index, i) for i in range(1000)]
    try:
        return timed_commits(
            f"{spec.label} process {index}",
            lambda n: kv.commit([(keys[n % len(keys)], VALUE)]),
            barrier,
            seconds,
        )
    finally:
        kv.close()


@dataclasses.dataclass(frozen=True)
class Contention:
    commits: int
    attempts: int
    seconds: float


def contention_worker(
    index: int, barrier: Barrier, spec: Spec, seconds: float, key_sets: Sequence[Sequence[bytes]]
) -> Contention:
    """Increment random counters from this process's key set for ``seconds``, counting attempts.

    Give one set per process for disjoint keys, or a single set that every process shares.
    """
    rng = random.Random(index)
    keys = key_sets[index % len(key_sets)]
    kv = spec.open()
    try:
        commits = attempts = 0
        barrier.wait()
        start = time.perf_counter()
        deadline = start + seconds
        now = start
        while now < deadline:
            attempts += kv.increment(rng.choice(keys))
            commits += 1
            now = time.perf_counter()
        return Contention(commits, attempts, now - start)
    finally:
        kv.close()


@dataclasses.dataclass(frozen=True)
class Workload:
    """A named unit of work; ``make(kv)`` returns the operation to time on that store."""

    name: str
    make: Callable[[KV], Callable[[], int]]


def standard_workloads(
    store_size: int, gets_per_txn: int, range_len: int, batch: int
) -> list[Workload]:
    """The operations both benchmarks time, each on random keys drawn once for every store."""
    return [
        point_gets(store_size),
        grouped_gets(store_size, gets_per_txn),
        range_reads(store_size, range_len),
        commits(store_size, 1),
        commits(store_size, batch),
    ]


def point_gets(store_size: int, draws: int = DRAWS) -> Workload:
    keys = shuffled_keys(draws, store_size, seed=1)
    return Workload("point get, 1 txn per get", lambda kv: _each_once(kv.get, keys))


def grouped_gets(store_size: int, per_txn: int, draws: int = DRAWS) -> Workload:
    keys = shuffled_keys(draws, store_size, seed=1)
    groups = [tuple(keys[i : i + per_txn]) for i in range(0, draws, per_txn)]
    return Workload(f"point get, {per_txn} per txn", lambda kv: _grouped_gets(kv, groups))


def range_reads(store_size: int, count: int, draws: int = DRAWS // 10) -> Workload:
    starts = shuffled_keys(draws, max(1, store_size - count), seed=2)
    return Workload(
        f"range read {count:,} keys",
        lambda kv: _each_once(lambda start: kv.read_range(start, count), starts),
    )


def commits(store_size: int, size: int, draws: int = DRAWS) -> Workload:
    """Commits overwriting ``size`` random existing keys, so the store keeps its size."""
    writes = shuffled_keys(draws, store_size, seed=3)
    batches = [[(k, VALUE) for k in writes[i : i + size]] for i in range(0, draws, size)]
    name = "commit 1 key" if size == 1 else f"commit {size} keys"
    return Workload(name, lambda kv: _each_once(kv.commit, batches))


def _each_once(call: Callable[[T], object], items: Sequence[T]) -> Callable[[], int]:
    """An operation that calls ``call`` on the next of ``items`` (cycling), counted as one."""
    nxt = cycling(items)

    def op() -> int:
        call(nxt())
        return 1

    return op


def _grouped_gets(kv: KV, groups: Sequence[Sequence[bytes]]) -> Callable[[], int]:
    nxt = cycling(groups)
    return lambda: kv.get_many(nxt())
