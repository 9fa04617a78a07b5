"""The retry loop (``Database.transact``) and the ``transactional`` decorator, as FDB's."""

from __future__ import annotations

import pytest

from fairway_django.engine import (
    NotCommitted,
    Transaction,
    ValueTooLarge,
    transactional,
)

from ._support import raises_exactly


def racing(engine, conflict_on_attempts):  # type: ignore[no-untyped-def]
    """A transactional function that reads ``m`` and, on the given attempts, lets a second
    transaction change ``m`` before writing it back: a real conflict at commit."""
    attempts = []

    def fn(tr):  # type: ignore[no-untyped-def]
        attempts.append(tr)
        seen = tr.get(engine.key("m"))
        if len(attempts) in conflict_on_attempts:
            engine.put(engine.key("m"), f"rival {len(attempts)}".encode())
        tr.set(engine.key("m"), b"mine after " + (seen or b"nothing"))
        return len(attempts)

    return fn, attempts


def test_transact_reruns_fn_after_a_real_conflict_and_succeeds(engine):
    fn, attempts = racing(engine, conflict_on_attempts={1})
    assert engine.db.transact(fn) == 2
    assert len(attempts) == 2
    assert engine.read(engine.key("m")) == b"mine after rival 1"


def test_transact_gives_up_after_retry_limit_with_the_last_not_committed(engine):
    fn, attempts = racing(engine, conflict_on_attempts={1, 2, 3, 4})
    with raises_exactly(NotCommitted, 1020):
        engine.db.transact(fn, retry_limit=2)
    assert len(attempts) == 3  # the first run and two re-runs
    assert engine.read(engine.key("m")) == b"rival 3"


def test_transact_with_retry_limit_zero_runs_once(engine):
    fn, attempts = racing(engine, conflict_on_attempts={1})
    with raises_exactly(NotCommitted, 1020):
        engine.db.transact(fn, retry_limit=0)
    assert len(attempts) == 1


def test_transact_does_not_retry_non_retryable_errors(engine):
    runs = []

    def fn(tr):  # type: ignore[no-untyped-def]
        runs.append(1)
        tr.set(engine.key("ok"), b"ok")
        tr.set(engine.key("big"), b"v" * 100_001)

    with raises_exactly(ValueTooLarge, 2103):
        engine.db.transact(fn)
    assert runs == [1]
    assert engine.read_prefix() == []


def test_transact_does_not_retry_other_exceptions_and_commits_nothing(engine):
    runs = []

    def fn(tr):  # type: ignore[no-untyped-def]
        runs.append(1)
        tr.set(engine.key("a"), b"a")
        raise LookupError("domain error")

    with pytest.raises(LookupError):
        engine.db.transact(fn)
    assert runs == [1]
    assert engine.read(engine.key("a")) is None


def test_transact_returns_fn_result_after_commit(engine):
    result = engine.db.transact(lambda tr: (tr.set(engine.key("a"), b"a"), "done")[1])
    assert result == "done"
    assert engine.read(engine.key("a")) == b"a"


def test_transactional_with_a_database_opens_and_commits_its_own_transaction(engine):
    calls = []

    @transactional
    def put(tr: Transaction, key: bytes, value: bytes) -> str:
        calls.append(tr)
        tr.set(key, value)
        return "put"

    assert put(engine.db, engine.key("a"), b"a") == "put"
    assert engine.read(engine.key("a")) == b"a"
    assert len(calls) == 1 and isinstance(calls[0], Transaction)


def test_transactional_with_a_transaction_joins_it_without_committing(engine):
    @transactional
    def put(tr: Transaction, key: bytes, value: bytes) -> bytes | None:
        tr.set(key, value)
        return tr.get(key)

    outer = engine.db.create_transaction()
    assert put(outer, engine.key("a"), b"a") == b"a"
    assert outer.get(engine.key("a")) == b"a"
    assert engine.read(engine.key("a")) is None  # not committed by the inner call
    outer.commit()
    assert engine.read(engine.key("a")) == b"a"


def test_transactional_calls_compose_into_one_atomic_commit(engine):
    @transactional
    def put(tr: Transaction, key: bytes) -> None:
        tr.set(key, b"x")

    @transactional
    def put_both(tr: Transaction) -> None:
        put(tr, engine.key("a"))
        put(tr, engine.key("b"))
        raise LookupError("abort after both")

    with pytest.raises(LookupError):
        put_both(engine.db)
    assert engine.read_prefix() == []
