"""Optimistic concurrency: a commit fails with not_committed (1020) exactly when a key inside one
of its read-conflict ranges was written by a transaction that committed after its read version.

Conflict ranges are exact in FDB (the resolvers compare byte keys), so "just outside" must
never conflict: a point read of ``k`` covers ``[k, k + b'\\x00')``, a range read ``[b, e)``.
"""

from __future__ import annotations

import threading

import pytest

from fairway_django.engine import FDBError, NotCommitted

from ._support import commit_conflicts, vs_key

# --- reads x writes: every kind of write inside what was read conflicts ----------------------

READS = {
    "get": lambda e, tr: tr.get(e.key("m")),
    "get_range": lambda e, tr: list(tr.get_range(e.key("l"), e.key("n"))),
    "get_range_reverse": lambda e, tr: list(
        tr.get_range(e.key("l"), e.key("n"), reverse=True)
    ),
    "get_range_startswith": lambda e, tr: list(tr.get_range_startswith(e.key("m"))),
}
WRITES = {
    "set": lambda e, tr: tr.set(e.key("m"), b"new"),
    "clear": lambda e, tr: tr.clear(e.key("m")),
    "clear_range": lambda e, tr: tr.clear_range(e.key("a"), e.key("z")),
    "add": lambda e, tr: tr.add(e.key("m"), b"\x01"),
    "add_write_conflict_key": lambda e, tr: tr.add_write_conflict_key(e.key("m")),
    "add_write_conflict_range": lambda e, tr: tr.add_write_conflict_range(
        e.key("m"), e.key("m\x00")
    ),
}


@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize("read", sorted(READS))
def test_write_inside_what_was_read_conflicts(engine, read, write):
    engine.put(engine.key("m"), b"old")
    assert commit_conflicts(
        engine.db,
        engine.key("own"),
        lambda tr: READS[read](engine, tr),
        lambda tr: WRITES[write](engine, tr),
    )


def test_reading_a_missing_key_conflicts_with_its_creation(engine):
    assert commit_conflicts(
        engine.db,
        engine.key("own"),
        lambda tr: tr.get(engine.key("m")),
        lambda tr: tr.set(engine.key("m"), b"born"),
    )


def test_reading_an_empty_range_conflicts_with_an_insert_into_it(engine):
    """Phantom protection: what a range read did not find is protected too."""
    assert commit_conflicts(
        engine.db,
        engine.key("own"),
        lambda tr: list(tr.get_range(engine.key("l"), engine.key("n"))),
        lambda tr: tr.set(engine.key("m"), b"phantom"),
    )


def test_versionstamped_key_written_into_a_read_range_conflicts(engine):
    """An append with a versionstamped key must abort readers of the range it lands in."""
    head = engine.key("events/")
    assert commit_conflicts(
        engine.db,
        engine.key("own"),
        lambda tr: list(tr.get_range_startswith(head)),
        lambda tr: tr.set_versionstamped_key(vs_key(head), b"event"),
    )


# --- boundaries -------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["m\x00", "l\xff", "l", "m\x00\x00", "n"])
def test_write_next_to_a_read_key_does_not_conflict(engine, written):
    engine.put(engine.key("m"), b"old")
    assert not commit_conflicts(
        engine.db,
        engine.key("own"),
        lambda tr: tr.get(engine.key("m")),
        lambda tr: tr.set(engine.key(written), b"next door"),
    )


@pytest.mark.parametrize(
    ("written", "conflicts"),
    [
        ("b", True),  # begin is inclusive
        ("b\x00", True),
        ("c\xff\xff", True),
        ("d", False),  # end is exclusive
        ("d\x00", False),
        ("a\xff", False),  # just before begin
        ("a", False),
    ],
)
def test_range_read_conflicts_exactly_on_begin_inclusive_end_exclusive(
    engine, written, conflicts
):
    assert (
        commit_conflicts(
            engine.db,
            engine.key("own"),
            lambda tr: list(tr.get_range(engine.key("b"), engine.key("d"))),
            lambda tr: tr.set(engine.key(written), b"x"),
        )
        is conflicts
    )


def test_clear_range_next_to_a_read_range_does_not_conflict(engine):
    assert not commit_conflicts(
        engine.db,
        engine.key("own"),
        lambda tr: list(tr.get_range(engine.key("b"), engine.key("d"))),
        lambda tr: tr.clear_range(engine.key("d"), engine.key("f")),
    )


@pytest.mark.parametrize(
    ("read_begin", "write"),
    [
        ("b", lambda e, tr: tr.clear_range(e.key("a"), e.key("b"))),
        (
            "b\x00",
            lambda e, tr: tr.set(e.key("b"), b"x"),
        ),  # a point write is [b, b\x00)
        ("b", lambda e, tr: tr.add_write_conflict_range(e.key("a"), e.key("b"))),
    ],
    ids=["clear_range", "set", "add_write_conflict_range"],
)
def test_write_ending_where_a_read_range_begins_does_not_conflict(
    engine, read_begin, write
):
    assert not commit_conflicts(
        engine.db,
        engine.key("own"),
        lambda tr: list(tr.get_range(engine.key(read_begin), engine.key("d"))),
        lambda tr: write(engine, tr),
    )


def test_write_committed_before_the_read_version_does_not_conflict(engine):
    engine.put(engine.key("m"), b"old")
    engine.put(engine.key("m"), b"newer")
    tr = engine.db.create_transaction()
    assert tr.get(engine.key("m")) == b"newer"
    tr.set(engine.key("m"), b"mine")
    tr.commit()


# --- what never conflicts ---------------------------------------------------------------


def test_blind_writes_never_conflict(engine):
    t1, t2 = engine.db.create_transaction(), engine.db.create_transaction()
    t1.get_read_version(), t2.get_read_version()
    t1.clear_range(engine.key("a"), engine.key("z"))
    t1.set(engine.key("m"), b"t1")
    t2.set(engine.key("m"), b"t2")
    t2.commit()
    t1.commit()
    assert engine.read(engine.key("m")) == b"t1"


def test_read_only_transaction_commits_even_if_what_it_read_changed(engine):
    engine.put(engine.key("m"), b"old")
    reader = engine.db.create_transaction()
    assert reader.get(engine.key("m")) == b"old"
    list(reader.get_range_startswith(engine.prefix))
    engine.put(engine.key("m"), b"new")
    reader.commit()
    assert reader.get_committed_version() == -1


def test_own_writes_to_the_read_key_do_not_conflict(engine):
    engine.put(engine.key("m"), b"old")
    tr = engine.db.create_transaction()
    assert tr.get(engine.key("m")) == b"old"
    tr.set(engine.key("m"), b"mine")
    tr.commit()
    assert engine.read(engine.key("m")) == b"mine"


def test_get_read_version_alone_adds_no_conflict(engine):
    assert not commit_conflicts(
        engine.db,
        engine.key("own"),
        lambda tr: tr.get_read_version(),
        lambda tr: tr.set(engine.key("m"), b"x"),
    )


# --- limited and abandoned range reads ----------------------------------------------------


def _five_keys(engine):  # type: ignore[no-untyped-def]
    def write(tr):  # type: ignore[no-untyped-def]
        for name in ("k1", "k2", "k3", "k4", "k5"):
            tr.set(engine.key(name), b"v")

    engine.db.transact(write)


def _read_limited(engine, limit, reverse):  # type: ignore[no-untyped-def]
    def read(tr):  # type: ignore[no-untyped-def]
        got = list(
            tr.get_range(engine.key("a"), engine.key("z"), limit=limit, reverse=reverse)
        )
        assert len(got) == limit

    return read


@pytest.mark.parametrize(
    ("reverse", "written", "conflicts"),
    [
        # Forward, limit 2 returns k1, k2: the read covers [begin, k2].
        (False, "b", True),  # before the first key returned, inside [begin, ...)
        (False, "k1", True),
        (False, "k2", True),  # the last key returned
        (False, "k2\x00", False),  # right after the last key returned
        (False, "k3", False),
        (False, "y", False),
        # Reverse, limit 2 returns k5, k4: the read covers [k4, end).
        (True, "y", True),  # after the first key returned, inside [..., end)
        (True, "k5", True),
        (True, "k4", True),  # the last key returned
        (True, "k3\x00", False),  # right before the last key returned
        (True, "k3", False),
        (True, "b", False),
    ],
)
def test_limited_range_read_conflicts_only_as_far_as_the_last_key_returned(
    engine, reverse, written, conflicts
):
    _five_keys(engine)
    assert (
        commit_conflicts(
            engine.db,
            engine.key("own"),
            _read_limited(engine, 2, reverse=reverse),
            lambda tr: tr.set(engine.key(written), b"x"),
        )
        is conflicts
    )


def _abandon_after_two(engine):  # type: ignore[no-untyped-def]
    def read(tr):  # type: ignore[no-untyped-def]
        stream = iter(tr.get_range(engine.key("a"), engine.key("z")))
        assert next(stream).key == engine.key("k1")
        assert next(stream).key == engine.key("k2")

    return read


@pytest.mark.parametrize("written", ["b", "k1", "k2"])
def test_abandoned_range_read_conflicts_on_what_it_returned(engine, written):
    _five_keys(engine)
    assert commit_conflicts(
        engine.db,
        engine.key("own"),
        _abandon_after_two(engine),
        lambda tr: tr.set(engine.key(written), b"x"),
    )


@pytest.mark.parametrize("written", ["z", "z\x00", "zz"])
def test_abandoned_range_read_never_conflicts_beyond_the_range_it_asked_for(engine, written):
    """A range read abandoned part-way conflicts at most on what its client fetched.

    Both engines read ranges in batches and add a conflict range for every batch fetched,
    which may reach past the pairs the caller consumed (with five keys, the first batch holds
    them all), but never past the range asked for. A layer that needs exact conflicts reads
    with a limit.
    """
    _five_keys(engine)
    assert not commit_conflicts(
        engine.db,
        engine.key("own"),
        _abandon_after_two(engine),
        lambda tr: tr.set(engine.key(written), b"x"),
    )


# --- snapshot reads and explicit conflict ranges ---------------------------------------------


@pytest.mark.parametrize(
    "read",
    [
        lambda e, tr: tr.snapshot.get(e.key("m")),
        lambda e, tr: list(tr.snapshot.get_range(e.key("a"), e.key("z"))),
        lambda e, tr: list(tr.snapshot.get_range_startswith(e.key("m"), reverse=True)),
    ],
    ids=["get", "get_range", "get_range_startswith"],
)
def test_snapshot_reads_add_no_conflicts(engine, read):
    engine.put(engine.key("m"), b"old")
    assert not commit_conflicts(
        engine.db,
        engine.key("own"),
        lambda tr: read(engine, tr),
        lambda tr: tr.set(engine.key("m"), b"new"),
    )


@pytest.mark.parametrize(
    ("written", "conflicts"), [("c", True), ("b", True), ("d", False)]
)
def test_add_read_conflict_range_conflicts_without_reading(engine, written, conflicts):
    assert (
        commit_conflicts(
            engine.db,
            engine.key("own"),
            lambda tr: tr.add_read_conflict_range(engine.key("b"), engine.key("d")),
            lambda tr: tr.set(engine.key(written), b"x"),
        )
        is conflicts
    )


@pytest.mark.parametrize(("written", "conflicts"), [("m", True), ("m\x00", False)])
def test_add_read_conflict_key_conflicts_on_that_key_only(engine, written, conflicts):
    assert (
        commit_conflicts(
            engine.db,
            engine.key("own"),
            lambda tr: tr.add_read_conflict_key(engine.key("m")),
            lambda tr: tr.set(engine.key(written), b"x"),
        )
        is conflicts
    )


def test_add_write_conflict_range_makes_readers_of_it_conflict(engine):
    assert commit_conflicts(
        engine.db,
        engine.key("own"),
        lambda tr: tr.get(engine.key("c")),
        lambda tr: tr.add_write_conflict_range(engine.key("b"), engine.key("d")),
    )
    assert not commit_conflicts(
        engine.db,
        engine.key("own"),
        lambda tr: tr.get(engine.key("d")),
        lambda tr: tr.add_write_conflict_range(engine.key("b"), engine.key("d")),
    )


def test_snapshot_read_plus_explicit_read_conflict_key_conflicts(engine):
    engine.put(engine.key("m"), b"old")

    def read(tr):  # type: ignore[no-untyped-def]
        assert tr.snapshot.get(engine.key("m")) == b"old"
        tr.add_read_conflict_key(engine.key("m"))

    assert commit_conflicts(
        engine.db, engine.key("own"), read, lambda tr: tr.set(engine.key("m"), b"new")
    )


# --- serializability under real threads ------------------------------------------------------


def test_concurrent_read_modify_write_loses_no_update(engine):
    threads, per_thread = 4, 15
    key = engine.key("counter")
    errors: list[FDBError] = []

    def increment(tr):  # type: ignore[no-untyped-def]
        raw = tr.get(key)
        tr.set(key, str(int(raw or b"0") + 1).encode())

    def worker() -> None:
        try:
            for _ in range(per_thread):
                engine.db.transact(increment)
        except FDBError as error:  # pragma: no cover - reported below
            errors.append(error)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert not errors
    assert engine.read(key) == str(threads * per_thread).encode()


def test_not_committed_is_retryable_with_code_1020():
    error = NotCommitted()
    assert (error.code, error.name, error.retryable) == (1020, "not_committed", True)


def test_a_commit_of_a_write_conflict_range_alone_takes_a_version_like_any_other(engine):
    """It writes no data, yet it commits at a version (as FDB's do): transactions that begin
    after it read at or after that version, so it never conflicts with them."""
    key = engine.key("fenced")
    fence = engine.db.create_transaction()
    fence.add_write_conflict_key(key)
    fence.commit()
    assert fence.get_committed_version() > 0
    for _ in range(3):
        later = engine.db.create_transaction()
        assert later.get_read_version() >= fence.get_committed_version()
        later.get(key)
        later.set(engine.key("own"), b"x")
        later.commit()
