"""A transaction once its commit has started: what FDB refuses, every engine refuses alike.

FDB's client answers used_during_commit (2017) to any use of a transaction whose commit was
started, whether the commit succeeded or failed, until the transaction is reset: a range read
asked for its next batch, a versionstamp asked for after commit, a watch. A layer that leaks an
iterator or a future out of its transaction must fail here, not in production.
"""

from __future__ import annotations

import concurrent.futures

import pytest

from fairway_django.engine import NotCommitted, UsedDuringCommit

from ._support import commit_conflicts

#: Enough pairs, and bytes, that no engine fetches them in its first batch.
MANY = 1000
VALUE = b"v" * 200


def _many_keys(engine):  # type: ignore[no-untyped-def]
    engine.db.transact(
        lambda tr: [tr.set(engine.key(f"r{n:04}"), VALUE) for n in range(MANY)]
    )


def _refused(error: BaseException | None) -> bool:
    return type(error) is UsedDuringCommit and error.code == 2017


def _use(thing):  # type: ignore[no-untyped-def]
    """The error a call or its future ends with (FDB's bindings return most as futures)."""
    try:
        outcome = thing()
    except UsedDuringCommit as error:
        return error
    if isinstance(outcome, concurrent.futures.Future):
        return outcome.exception(timeout=5)
    return None


# --- range reads ------------------------------------------------------------------------------


@pytest.mark.parametrize("snapshot", [False, True], ids=["read", "snapshot"])
def test_a_range_read_continued_after_commit_is_refused(engine, snapshot):
    _many_keys(engine)
    tr = engine.db.create_transaction()
    reads = tr.snapshot if snapshot else tr
    pairs = reads.get_range(engine.key("r"), engine.key("s"))
    first = next(pairs)
    tr.set(engine.key("own"), b"x")
    tr.commit()
    with pytest.raises(UsedDuringCommit) as raised:
        for _ in pairs:
            pass
    assert raised.value.code == 2017
    assert first.key == engine.key("r0000")


@pytest.mark.parametrize("snapshot", [False, True], ids=["read", "snapshot"])
def test_a_range_read_made_before_commit_and_read_after_it_is_refused(engine, snapshot):
    """Made before commit, iterated only after: no engine hands out the whole range."""
    _many_keys(engine)
    tr = engine.db.create_transaction()
    reads = tr.snapshot if snapshot else tr
    pairs = reads.get_range(engine.key("r"), engine.key("s"))
    tr.set(engine.key("own"), b"x")
    tr.commit()
    got = []
    with pytest.raises(UsedDuringCommit):
        for pair in pairs:
            got.append(pair)
    assert len(got) < MANY


def test_a_range_read_continued_after_a_failed_commit_is_refused(engine):
    """Not the commit's error again (not_committed would invite a retry of a leaked read)."""
    _many_keys(engine)
    leaked = []

    def read(tr):  # type: ignore[no-untyped-def]
        pairs = tr.get_range(engine.key("r"), engine.key("s"))
        next(pairs)
        leaked.append(pairs)

    assert commit_conflicts(
        engine.db, engine.key("own"), read, lambda tr: tr.set(engine.key("r0000"), b"x")
    )
    with pytest.raises(UsedDuringCommit):
        for _ in leaked[0]:
            pass


def test_a_short_range_read_finished_after_commit_returns_what_it_had(engine):
    """A range that fits the first batch was fetched when the read was made: nothing is
    refused, as with FDB, whose client sends the first batch's request at once."""
    for n in range(3):
        engine.put(engine.key(f"r{n}"), b"v")
    tr = engine.db.create_transaction()
    pairs = tr.get_range(engine.key("r"), engine.key("s"))
    tr.set(engine.key("own"), b"x")
    tr.commit()
    assert [kv.key for kv in pairs] == [engine.key(f"r{n}") for n in range(3)]


# --- versionstamps ----------------------------------------------------------------------------


def test_a_versionstamp_asked_for_after_commit_is_used_during_commit(engine):
    """FDB documents that get_versionstamp() must be called before commit()."""
    tr = engine.db.create_transaction()
    tr.set(engine.key("a"), b"a")
    tr.commit()
    assert _refused(_use(tr.get_versionstamp))


def test_a_versionstamp_asked_for_before_commit_is_still_there_after(engine):
    tr = engine.db.create_transaction()
    future = tr.get_versionstamp()
    tr.set(engine.key("a"), b"a")
    tr.commit()
    assert len(future.result(timeout=5)) == 10


# --- watches ----------------------------------------------------------------------------------


def test_a_watch_created_on_a_committed_transaction_fails(engine):
    tr = engine.db.create_transaction()
    tr.set(engine.key("a"), b"a")
    tr.commit()
    assert _refused(_use(lambda: tr.watch(engine.key("w"))))


def test_a_watch_created_after_a_failed_commit_fails(engine):
    transactions = []

    def read(tr):  # type: ignore[no-untyped-def]
        tr.get(engine.key("m"))
        transactions.append(tr)

    assert commit_conflicts(
        engine.db, engine.key("own"), read, lambda tr: tr.set(engine.key("m"), b"x")
    )
    error = _use(lambda: transactions[0].watch(engine.key("w")))
    assert _refused(error), error
    assert not isinstance(error, NotCommitted)
