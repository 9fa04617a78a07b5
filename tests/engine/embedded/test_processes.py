"""The embedded store shared by processes: crash safety, fork safety, batching, dead watchers."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from fairway_django.engine import NotCommitted, open_engine
from fairway_django.engine.embedded import EmbeddedDatabase

from .conftest import python

_WRITER = """
import sys
from fairway_django.engine import open_engine
db = open_engine(sys.argv[1])
i = int.from_bytes(db.transact(lambda tr: tr.get(b"count")) or b"", "little")
while True:
    db.transact(lambda tr: (tr.set(b"n%08d" % i, b"x" * 1000), tr.add(b"count", (1).to_bytes(8, "little"))))
    print(i, flush=True)
    i += 1
"""


@pytest.mark.parametrize("durability", ["normal", "none"])
def test_kill_9_loses_no_acknowledged_commit(tmp_path: Path, durability: str) -> None:
    url = f"embedded://{tmp_path}/s?durability={durability}"
    acknowledged = -1
    for round_ in range(3):
        writer = python(_WRITER, url, stdout=-1)
        assert writer.stdout is not None
        deadline = time.monotonic() + 0.3 + 0.2 * round_
        line = ""
        while time.monotonic() < deadline:
            line = writer.stdout.readline()
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        acknowledged = max(acknowledged, int(line))
        db = open_engine(url)
        stored = db.transact(lambda tr: [kv.key for kv in tr.get_range(b"n", b"o")])
        count = int.from_bytes(db.transact(lambda tr: tr.get(b"count")) or b"", "little")
        db.close()
        # Every key the writer reported is there, and the counter matches the keys exactly:
        # a transaction is never half applied.
        assert len(stored) >= acknowledged + 1
        assert count == len(stored)
        assert stored == [b"n%08d" % i for i in range(len(stored))]


def _child_writes(url: str) -> None:
    db = open_engine(url)
    db.transact(lambda tr: tr.set(b"child", str(os.getpid()).encode()))


def test_a_forked_child_opens_its_own_store(tmp_path: Path) -> None:
    url = f"embedded://{tmp_path}/s"
    db = open_engine(url)
    db.transact(lambda tr: tr.set(b"parent", b"1"))  # opened before the fork
    child = multiprocessing.get_context("fork").Process(target=_child_writes, args=(url,))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert db.transact(lambda tr: tr.get(b"child")) == str(child.pid).encode()
    db.transact(lambda tr: tr.set(b"parent", b"2"))
    assert db.transact(lambda tr: tr.get(b"parent")) == b"2"


def _inherited_handle_writes(db: EmbeddedDatabase) -> None:
    db.transact(lambda tr: tr.set(b"inherited", b"yes"))


def test_a_handle_inherited_through_fork_reopens_in_the_child(tmp_path: Path) -> None:
    db = open_engine(f"embedded://{tmp_path}/s")
    db.transact(lambda tr: tr.set(b"k", b"v"))
    child = multiprocessing.get_context("fork").Process(target=_inherited_handle_writes, args=(db,))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert db.transact(lambda tr: tr.get(b"inherited")) == b"yes"


def test_concurrent_threads_share_commits(db: EmbeddedDatabase) -> None:
    """Group commit: threads committing together land in one LMDB transaction, and their
    versionstamps still differ (same commit version, increasing batch order)."""
    stamps: list[bytes] = []
    lock = threading.Lock()

    def commit_many(worker: int) -> None:
        for i in range(50):
            tr = db.create_transaction()
            tr.set(b"t%d-%d" % (worker, i), b"v")
            stamp = tr.get_versionstamp()
            tr.commit()
            with lock:
                stamps.append(stamp.result())

    threads = [threading.Thread(target=commit_many, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(stamps)) == 400
    versions = [stamp[:8] for stamp in stamps]
    assert len(set(versions)) < 400, "no two commits shared a batch"
    assert db.transact(lambda tr: len(list(tr.get_range(b"t", b"u")))) == 400


_WATCHER = """
import sys, time
from fairway_django.engine import open_engine
db = open_engine(sys.argv[1])
tr = db.create_transaction()
tr.watch(b"watched")
tr.commit()
print("watching", flush=True)
time.sleep(60)
"""


def test_commits_drop_the_watches_of_a_killed_process(tmp_path: Path) -> None:
    url = f"embedded://{tmp_path}/s"
    watcher = python(_WATCHER, url, stdout=-1)
    assert watcher.stdout is not None
    assert watcher.stdout.readline().strip() == "watching"
    db = open_engine(url)
    coordination = db.create_transaction()._environment.coordination
    with coordination.env.begin() as txn:
        assert txn.stat(coordination.watches)["entries"] == 1
    os.kill(watcher.pid, signal.SIGKILL)
    watcher.wait()
    db.transact(lambda tr: tr.set(b"watched", b"changed"))  # cannot reach it: drops it
    with coordination.env.begin() as txn:
        assert txn.stat(coordination.watches)["entries"] == 0


@pytest.mark.parametrize("batch_limit", [1, 3])
def test_more_concurrent_commits_than_one_batch_takes_all_land(
    db: EmbeddedDatabase, batch_limit: int
) -> None:
    db.create_transaction()._environment.committer.batch_limit = batch_limit
    start = threading.Barrier(300)

    def commit_one(worker: int) -> None:
        tr = db.create_transaction()
        tr.set(b"b%03d" % worker, b"v")
        start.wait()
        tr.commit()

    threads = [threading.Thread(target=commit_one, args=(w,)) for w in range(300)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert db.transact(lambda tr: len(list(tr.get_range(b"b", b"c")))) == 300


def test_identical_concurrent_commits_are_each_committed(db: EmbeddedDatabase) -> None:
    """Transactions with the very same writes are distinct commits (a counter sees them all)."""
    start = threading.Barrier(16)

    def add_one() -> None:
        tr = db.create_transaction()
        tr.add(b"n", (1).to_bytes(8, "little"))
        start.wait()
        tr.commit()

    for _ in range(5):
        threads = [threading.Thread(target=add_one) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads), "a commit never returned"
    assert db.transact(lambda tr: tr.get(b"n")) == (80).to_bytes(8, "little")


def test_range_reads_fetch_in_growing_batches_and_conflict_on_what_they_fetched(
    db: EmbeddedDatabase,
) -> None:
    """The embedded engine's batches: 16 pairs first, then doubling. A read abandoned after
    two pairs conflicts on the first batch it fetched, not on the rest of the range."""
    db.transact(lambda tr: [tr.set(b"k%03d" % i, b"v") for i in range(100)])

    def abandoned_read_conflicts_with(key: bytes) -> bool:
        reader = db.create_transaction()
        stream = reader.get_range(b"k", b"l")
        next(stream), next(stream)
        db.transact(lambda tr: tr.set(key, b"changed"))
        reader.set(b"own", b"x")
        try:
            reader.commit()
        except NotCommitted:
            return True
        return False

    assert abandoned_read_conflicts_with(b"k010")  # inside the first batch of 16
    assert not abandoned_read_conflicts_with(b"k050")  # never fetched


_READER = """
import sys, time
from fairway_django.engine import open_engine
db = open_engine(sys.argv[1])
tr = db.create_transaction()
tr.get(b"k")
print("reading", flush=True)
time.sleep(60)
"""


def test_snapshots_of_killed_processes_are_released(tmp_path: Path) -> None:
    """A killed process's open snapshot would pin old pages forever; commits free it."""
    url = f"embedded://{tmp_path}/s"
    db = open_engine(url)
    db.transact(lambda tr: tr.set(b"k", b"v"))
    reader = python(_READER, url, stdout=-1)
    assert reader.stdout is not None
    assert reader.stdout.readline().strip() == "reading"
    env = db.create_transaction()._environment.env
    assert str(reader.pid) in env.readers()
    os.kill(reader.pid, signal.SIGKILL)
    reader.wait()
    time.sleep(1.1)  # the committer looks for dead readers about once a second
    db.transact(lambda tr: tr.set(b"k", b"w"))
    assert str(reader.pid) not in env.readers()
