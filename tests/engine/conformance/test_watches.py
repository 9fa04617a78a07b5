"""Watches: a future that completes once a key's value differs from what the transaction saw.

FDB starts a watch when its transaction commits and fails it with the commit's error when the
commit fails. Setting a key to the value it already has may or may not fire a watch in FDB, so
nothing here depends on that.
"""

from __future__ import annotations

import concurrent.futures
import time

import pytest

from fairway_django.engine import FDBError, NotCommitted

from ._support import commit_conflicts

FIRES_WITHIN = 1.0


def committed_watch(engine, key: bytes) -> concurrent.futures.Future[None]:  # type: ignore[no-untyped-def]
    tr = engine.db.create_transaction()
    tr.get(key)
    future = tr.watch(key)
    tr.commit()
    return future


def test_watch_fires_when_another_transaction_changes_the_key(engine):
    key = engine.key("w")
    engine.put(key, b"before")
    future = committed_watch(engine, key)
    engine.put(key, b"after")
    assert future.result(timeout=FIRES_WITHIN) is None


def test_watch_fires_when_the_key_is_created_or_cleared(engine):
    key = engine.key("w")
    created = committed_watch(engine, key)
    engine.put(key, b"born")
    created.result(timeout=FIRES_WITHIN)
    cleared = committed_watch(engine, key)
    engine.db.transact(lambda tr: tr.clear(key))
    cleared.result(timeout=FIRES_WITHIN)


def test_watch_fires_when_a_cleared_range_covers_the_key(engine):
    key = engine.key("w")
    engine.put(key, b"held")
    future = committed_watch(engine, key)
    engine.db.transact(lambda tr: tr.clear_range(engine.key("v"), key))  # ends just before it
    time.sleep(0.3)
    assert not future.done()
    engine.db.transact(lambda tr: tr.clear_range(key, key + b"\x00"))
    future.result(timeout=FIRES_WITHIN)


def test_watch_does_not_fire_without_a_change(engine):
    key = engine.key("w")
    engine.put(key, b"same")
    future = committed_watch(engine, key)
    engine.put(engine.key("w\x00"), b"neighbour")
    engine.put(engine.key("v"), b"neighbour")
    time.sleep(0.3)
    assert not future.done()
    future.cancel()


def test_watch_fires_for_a_change_between_its_read_and_its_commit(engine):
    """No lost wake-up: the watch compares with the value its transaction saw."""
    key = engine.key("w")
    engine.put(key, b"seen")
    tr = engine.db.create_transaction()
    assert tr.get(key) == b"seen"
    future = tr.watch(key)
    engine.put(key, b"changed meanwhile")
    tr.commit()
    future.result(timeout=FIRES_WITHIN)


def test_watch_fires_when_another_process_changes_the_key(engine):
    key = engine.key("w")
    engine.put(key, b"before")
    future = committed_watch(engine, key)
    proc = engine.spawn("set", b"w".hex(), b"from another process".hex())
    time.sleep(0.2)
    assert not future.done()
    engine.release(proc)
    engine.result(proc)  # the other process has committed
    future.result(timeout=FIRES_WITHIN)
    assert engine.read(key) == b"from another process"


def test_cancelled_watch_stays_cancelled_after_a_change(engine):
    key = engine.key("w")
    future = committed_watch(engine, key)
    assert future.cancel()
    engine.put(key, b"after")
    time.sleep(0.2)
    assert future.cancelled()
    # the engine keeps working and new watches still fire
    again = committed_watch(engine, key)
    engine.put(key, b"again")
    again.result(timeout=FIRES_WITHIN)


def test_watch_of_a_transaction_whose_commit_fails_completes_with_that_error(engine):
    watches = []

    def read_and_watch(tr):  # type: ignore[no-untyped-def]
        tr.get(engine.key("m"))
        watches.append(tr.watch(engine.key("w")))

    assert commit_conflicts(
        engine.db,
        engine.key("own"),
        read_and_watch,
        lambda tr: tr.set(engine.key("m"), b"x"),
    )
    error = watches[0].exception(timeout=FIRES_WITHIN)
    assert type(error) is NotCommitted and error.code == 1020


def test_watch_of_a_cancelled_transaction_does_not_fire_on_a_change(engine):
    key = engine.key("w")
    tr = engine.db.create_transaction()
    future = tr.watch(key)
    tr.cancel()
    engine.put(key, b"after")
    try:
        error = future.exception(timeout=FIRES_WITHIN)
    except concurrent.futures.CancelledError:
        return
    assert isinstance(error, FDBError)  # never fires: its transaction never committed


def test_many_watches_fire_together(engine):
    keys = [engine.key(f"w{n}") for n in range(20)]
    futures = [committed_watch(engine, key) for key in keys]
    engine.db.transact(lambda tr: [tr.set(key, b"x") for key in keys])
    _, not_done = concurrent.futures.wait(futures, timeout=FIRES_WITHIN)
    assert not not_done


def test_a_watch_reads_its_key_with_a_conflict_range(engine):
    """FDB's watch reads its key as ``get`` does: a change to it before commit conflicts."""
    key = engine.key("w")
    engine.put(key, b"before")
    assert commit_conflicts(
        engine.db,
        engine.key("own"),
        lambda tr: tr.watch(key),
        lambda tr: tr.set(key, b"changed"),
    )


@pytest.mark.parametrize(
    "write",
    [
        lambda tr, key: tr.set(key, b"mine"),
        lambda tr, key: tr.clear(key),
        lambda tr, key: tr.clear_range(key, key + b"\x00"),
        lambda tr, key: tr.add(key, b"\x01"),
    ],
    ids=["set", "clear", "clear_range", "add"],
)
def test_a_watch_fires_on_its_own_transactions_later_write(engine, write):
    key = engine.key("w")
    engine.put(key, b"before")
    tr = engine.db.create_transaction()
    future = tr.watch(key)
    write(tr, key)
    tr.commit()
    assert future.result(timeout=FIRES_WITHIN) is None


def test_a_watch_compares_with_what_its_transaction_saw_including_its_own_writes(engine):
    key = engine.key("w")
    tr = engine.db.create_transaction()
    tr.set(key, b"mine")
    future = tr.watch(key)  # sees b"mine": committing it is no change
    tr.commit()
    time.sleep(0.3)
    assert not future.done()
    engine.put(key, b"theirs")
    future.result(timeout=FIRES_WITHIN)
