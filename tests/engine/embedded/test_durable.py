"""Full durability: a commit is synced before it returns and before anyone can read it, by a
sync that happens outside the writer lock and that any process may do for the others."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path

import pytest

from fairway_django.engine import Transaction, open_engine
from fairway_django.engine.embedded import EmbeddedDatabase

from .conftest import python

#: Commits one key, with every sync of this process stuck: as a writer stopped between its
#: commit and its sync, a moment the kernel can stop any process at.
_STUCK_WRITER = """
import os, sys, time
from fairway_django.engine import open_engine
db = open_engine(sys.argv[1])
db.transact(lambda tr: tr.get(b"warm"))
def stuck(fd):
    print("syncing", flush=True)
    time.sleep(600)
os.fdatasync = stuck
db.transact(lambda tr: tr.set(b"k", b"written"))
"""


@contextmanager
def writer_stuck_before_its_sync(url: str) -> Iterator[None]:
    """While inside: a process has committed ``k`` in LMDB and not synced it. Killed after."""
    writer = python(_STUCK_WRITER, url, stdout=-1)
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "syncing"  # committed in LMDB, not synced
        yield
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()


def full_store(tmp_path: Path) -> EmbeddedDatabase:
    db = open_engine(f"embedded://{tmp_path}/s?durability=full")
    assert isinstance(db, EmbeddedDatabase)
    db.transact(lambda tr: tr.set(b"other", b"1"))
    return db


def assert_synced_up_to_now(db: EmbeddedDatabase) -> None:
    assert db._environment is not None
    durable = db._environment.durable
    assert durable is not None
    assert durable.version >= db.transact(lambda tr: tr.get_read_version())


def test_a_commit_returns_synced(tmp_path: Path) -> None:
    db = open_engine(f"embedded://{tmp_path}/s?durability=full")
    assert isinstance(db, EmbeddedDatabase)
    committed = db.transact(lambda tr: (tr.set(b"k", b"v"), tr)[1]).get_committed_version()
    assert db._environment is not None
    durable = db._environment.durable
    assert durable is not None and durable.version >= committed
    db.close()


def test_no_reader_sees_a_commit_before_it_is_synced_and_a_reader_syncs_it_if_need_be(
    tmp_path: Path,
) -> None:
    db = full_store(tmp_path)
    read: Future[bytes | None] = Future()
    with writer_stuck_before_its_sync(db.url):
        threading.Thread(
            target=lambda: read.set_result(db.transact(lambda tr: tr.get(b"k"))), daemon=True
        ).start()
        try:
            read.result(timeout=1.0)
        except TimeoutError:
            pass  # waiting for the sync in flight, as it should
        else:
            raise AssertionError("a reader saw a commit whose journal record was not synced")
    # The writer died before its sync: the reader did it, and then read what was committed.
    assert read.result(timeout=10) == b"written"
    assert_synced_up_to_now(db)
    db.close()


#: Commits from several processes at once, each checking that its commit was synced when it
#: returned: the shared synced version only grows, whoever syncs.
_CHECKING_WRITER = """
import sys
from fairway_django.engine import open_engine
db = open_engine(sys.argv[1])
name = sys.argv[2].encode()
late = 0
for i in range(300):
    tr = db.create_transaction()
    tr.set(name + b"%04d" % i, b"x")
    tr.get(b"shared")  # a read: its snapshot waits for others' commits to be synced
    tr.add(b"count", (1).to_bytes(8, "little"))
    tr.commit()
    if db._environment.durable.version < tr.get_committed_version():
        late += 1
print(late, flush=True)
"""


def test_commits_from_several_processes_each_return_synced(tmp_path: Path) -> None:
    url = f"embedded://{tmp_path}/s?durability=full"
    writers = [python(_CHECKING_WRITER, url, f"w{n}", stdout=-1) for n in range(3)]
    outputs = [writer.communicate(timeout=120)[0] for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0, 0]
    assert [int(output) for output in outputs] == [0, 0, 0]
    db = open_engine(url)
    count = db.transact(lambda tr: tr.get(b"count"))
    assert count is not None and int.from_bytes(count, "little") == 900
    db.close()


class Seen(Exception):
    """Raised by a transaction with what it read, as a failed append condition is."""


def _raises(tr: Transaction) -> bytes | None:
    raise Seen(tr.get(b"k"))


def _returns(tr: Transaction) -> bytes | None:
    return tr.get(b"k")


def _writes(tr: Transaction) -> bytes | None:
    tr.set(b"mine", b"1")
    return tr.get(b"k")


@pytest.mark.parametrize("ending", [_raises, _returns, _writes], ids=["raises", "returns", "writes"])
def test_a_transaction_deferring_durable_reads_reads_at_once_and_lets_nothing_out_unsynced(
    tmp_path: Path, ending: Callable[[Transaction], bytes | None]
) -> None:
    db = full_store(tmp_path)
    read = threading.Event()
    outcome: Future[bytes | None] = Future()

    def deferring(tr: Transaction) -> bytes | None:
        tr.defer_durable_reads()
        tr.get(b"other")  # the snapshot, taken without waiting for the writer's sync
        read.set()
        return ending(tr)

    def run() -> None:
        try:
            outcome.set_result(db.transact(deferring))
        except Seen as seen:
            outcome.set_result(seen.args[0])

    with writer_stuck_before_its_sync(db.url):
        threading.Thread(target=run, daemon=True).start()
        assert read.wait(timeout=5.0)  # it read without waiting
        with pytest.raises(TimeoutError):  # and its end waits for the sync in flight
            outcome.result(timeout=1.0)
    # The writer died before its sync: the deferring transaction synced what it had seen.
    assert outcome.result(timeout=10) == b"written"
    assert_synced_up_to_now(db)
    db.close()
