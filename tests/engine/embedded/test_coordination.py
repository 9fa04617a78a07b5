"""The unsynced coordination state: started afresh only when no process uses the store."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from fairway_django.engine import NotCommitted, open_engine
from fairway_django.engine.embedded import EmbeddedDatabase

from .conftest import python

_HOLDER = """
import sys, time
import pytest

from fairway_django.engine import NotCommitted, open_engine
from fairway_django.engine.embedded import EmbeddedDatabase
db = open_engine(sys.argv[1])
db.transact(lambda tr: tr.set(b"holder", b"here"))
print("open", flush=True)
time.sleep(60)
"""


def _coordination_file(tmp_path: Path) -> Path:
    return tmp_path / "s" / "coordination" / "data.mdb"


def test_damaged_coordination_state_is_replaced_when_no_process_uses_the_store(
    tmp_path: Path,
) -> None:
    """After a power loss the unsynced state may be garbage; the data is what counts."""
    url = f"embedded://{tmp_path}/s"
    db = open_engine(url)
    db.transact(lambda tr: tr.set(b"k", b"v"))
    db.close()
    _coordination_file(tmp_path).write_bytes(os.urandom(64 * 1024))
    db = open_engine(url)
    assert db.transact(lambda tr: tr.get(b"k")) == b"v"
    tr = db.create_transaction()
    tr.get(b"k")
    db.transact(lambda other: other.set(b"k", b"w"))
    tr.set(b"x", b"1")
    with pytest.raises(NotCommitted):  # the fresh conflict log works
        tr.commit()
    db.close()


def _log_entries(db: EmbeddedDatabase) -> int:
    coordination = db.create_transaction()._environment.coordination
    with coordination.env.begin() as txn:
        return int(txn.stat(coordination.log)["entries"])


def test_a_process_joining_a_store_in_use_keeps_the_shared_state(tmp_path: Path) -> None:
    url = f"embedded://{tmp_path}/s"
    holder = python(_HOLDER, url, stdout=-1)
    assert holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "open"
        db = open_engine(url)
        assert isinstance(db, EmbeddedDatabase)
        assert _log_entries(db) == 1  # the holder's commit, still in the shared log
        db.close()
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    # The holder died without closing anything: the next process starts the state afresh.
    db = open_engine(url)
    assert isinstance(db, EmbeddedDatabase)
    assert db.transact(lambda tr: tr.get(b"holder")) == b"here"
    assert _log_entries(db) == 0
    db.close()
