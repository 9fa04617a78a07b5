"""The store's turn: this process's threads run store work one at a time, and a thread that
waits (for another process's writer lock, a sync, a retry's pause) lets the others have it."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from fairway_django.engine import RetryPolicy, Transaction, open_engine
from fairway_django.engine.embedded import EmbeddedDatabase
from fairway_django.engine.embedded.turn import Turn
from fairway_django.engine.errors import NotCommitted

from .conftest import python
from .test_durable import full_store, writer_stuck_before_its_sync

#: How long a thread may take to get a turn nobody keeps.
PROMPTLY = 10.0


def in_thread(work: Callable[[], object]) -> Future[object]:
    """Run ``work`` in a daemon thread; its result (or error) as a future."""
    done: Future[object] = Future()

    def run() -> None:
        try:
            done.set_result(work())
        except BaseException as error:  # noqa: BLE001  (handed to the test through the future)
            done.set_exception(error)

    threading.Thread(target=run, daemon=True).start()
    return done


def taken(turn: AbstractContextManager[object]) -> bool:
    """Whether another thread gets ``turn`` promptly (and lets it go at once)."""
    def take() -> bool:
        with turn:
            return True

    return bool(in_thread(take).result(PROMPTLY))


def holds(turn: Turn) -> bool:
    return turn.held


# --- the lock itself --------------------------------------------------------------------------


def test_a_turn_is_reentrant_and_free_only_once_its_outermost_holder_lets_it_go() -> None:
    turn = Turn()
    with turn:
        with turn:
            assert holds(turn)
        assert holds(turn)
        blocked = in_thread(lambda: taken(turn))
        with pytest.raises(TimeoutError):
            blocked.result(0.2)
    assert blocked.result(PROMPTLY) is True
    assert not holds(turn)


def test_setting_a_turn_aside_frees_it_whatever_the_depth_and_takes_it_back_after() -> None:
    turn = Turn()
    with turn, turn:
        with turn.set_aside():
            assert not holds(turn)
            assert taken(turn)
        assert holds(turn)
        with pytest.raises(RuntimeError):  # taken back when the wait fails too
            _fail_while_set_aside(turn)
        assert holds(turn)
    assert not holds(turn)
    assert taken(turn)  # both levels were given back: nobody holds it


def _fail_while_set_aside(turn: Turn) -> None:
    with turn.set_aside():
        raise RuntimeError("the wait failed")


def test_setting_aside_a_turn_one_does_not_hold_neither_takes_nor_frees_it() -> None:
    turn = Turn()
    with turn.set_aside():
        assert not holds(turn)
    assert not holds(turn)
    with turn:
        other = in_thread(lambda: _set_aside_elsewhere(turn))
        assert other.result(PROMPTLY) is False  # the holder still holds it
        assert holds(turn)


def _set_aside_elsewhere(turn: Turn) -> bool:
    with turn.set_aside():
        return holds(turn)


# --- the engine's waits set it aside -----------------------------------------------------------


def test_a_thread_waiting_for_another_process_s_sync_lets_the_others_have_the_turn(
    tmp_path: Path,
) -> None:
    db = full_store(tmp_path)
    with writer_stuck_before_its_sync(db.url):
        # Its snapshot holds the stuck process's commit: it waits for that sync.
        read = in_thread(lambda: _in_turn(db, lambda tr: tr.get(b"k")))
        with pytest.raises(TimeoutError):
            read.result(0.5)
        assert taken(db.turn())
    assert read.result(PROMPTLY) == b"written"  # synced by the reader once the writer died
    db.close()


#: Holds the store's LMDB writer lock until killed, as a process committing a long batch does.
_WRITER_LOCK_HOLDER = """
import sys, time
from fairway_django.engine import open_engine
db = open_engine(sys.argv[1])
db.transact(lambda tr: tr.get(b"warm"))
txn = db._opened().env.begin(write=True)
print("holding", flush=True)
time.sleep(600)
"""


@contextmanager
def writer_lock_held_elsewhere(url: str) -> Iterator[None]:
    holder = python(_WRITER_LOCK_HOLDER, url, stdout=-1)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        yield
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()


def test_a_thread_waiting_for_another_process_s_writer_lock_lets_the_others_have_the_turn(
    db: EmbeddedDatabase,
) -> None:
    db.transact(lambda tr: tr.set(b"before", b"1"))
    with writer_lock_held_elsewhere(db.url):
        commit = in_thread(lambda: _in_turn(db, lambda tr: tr.set(b"k", b"v")))
        with pytest.raises(TimeoutError):
            commit.result(0.5)
        assert taken(db.turn())
        assert db.transact(lambda tr: tr.get(b"before")) == b"1"  # reads go on meanwhile
    commit.result(PROMPTLY)  # LMDB hands a dead holder's lock on
    assert db.transact(lambda tr: tr.get(b"k")) == b"v"


def test_a_thread_pausing_before_a_retry_lets_the_others_have_the_turn(
    db: EmbeddedDatabase,
) -> None:
    db.retry = RetryPolicy(initial_backoff=2.0, max_backoff=2.0)
    attempts: list[int] = []
    paused = threading.Event()

    def conflicted_once(tr: Transaction) -> int:
        attempts.append(1)
        if len(attempts) == 1:
            paused.set()
            raise NotCommitted("a conflict, as a concurrent commit would cause")
        return len(attempts)

    retried = in_thread(lambda: _in_turn(db, conflicted_once))
    assert paused.wait(PROMPTLY)
    assert taken(db.turn())  # within the 2-second pause
    assert not retried.done()
    assert retried.result(PROMPTLY) == 2


def _in_turn(db: EmbeddedDatabase, fn: Callable[[Transaction], object]) -> object:
    with db.turn():
        return db.transact(fn)

