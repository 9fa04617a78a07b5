"""Reads: read-your-writes, snapshot isolation, range reads, clear_range, cancel."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fairway_django.engine import InvertedRange, KeyValue, TransactionCancelled

from ._support import commit_conflicts, raises_exactly


def fill(engine, *names: str) -> None:  # type: ignore[no-untyped-def]
    def write(tr):  # type: ignore[no-untyped-def]
        for name in names:
            tr.set(engine.key(name), name.encode())

    engine.db.transact(write)


def names(engine, pairs) -> list[str]:  # type: ignore[no-untyped-def]
    return [kv.key[len(engine.prefix) :].decode() for kv in pairs]


# --- read-your-writes -------------------------------------------------------------------


def test_get_sees_own_set_clear_and_set_again(engine):
    fill(engine, "a")
    tr = engine.db.create_transaction()
    assert tr.get(engine.key("a")) == b"a"
    tr.set(engine.key("a"), b"mine")
    assert tr.get(engine.key("a")) == b"mine"
    tr.clear(engine.key("a"))
    assert tr.get(engine.key("a")) is None
    tr.set(engine.key("a"), b"again")
    assert tr.get(engine.key("a")) == b"again"
    tr.set(engine.key("new"), b"n")
    assert tr.get(engine.key("new")) == b"n"


def test_get_range_merges_own_writes_with_committed_data(engine):
    fill(engine, "b", "d", "f")
    tr = engine.db.create_transaction()
    tr.set(engine.key("a"), b"A")
    tr.set(engine.key("d"), b"D")
    tr.set(engine.key("e"), b"E")
    tr.clear(engine.key("f"))
    got = list(tr.get_range(engine.key(""), engine.key("z")))
    assert [tuple(kv) for kv in got] == [
        (engine.key("a"), b"A"),
        (engine.key("b"), b"b"),
        (engine.key("d"), b"D"),
        (engine.key("e"), b"E"),
    ]
    assert names(
        engine, tr.get_range(engine.key(""), engine.key("z"), reverse=True)
    ) == ["e", "d", "b", "a"]
    assert names(engine, tr.get_range(engine.key(""), engine.key("z"), limit=2)) == [
        "a",
        "b",
    ]


def test_clear_range_hides_keys_until_set_again_in_the_same_transaction(engine):
    fill(engine, "a", "b", "c", "d")
    tr = engine.db.create_transaction()
    tr.set(engine.key("bb"), b"own")
    tr.clear_range(engine.key("b"), engine.key("d"))
    assert names(engine, tr.get_range_startswith(engine.prefix)) == ["a", "d"]
    assert tr.get(engine.key("b")) is None and tr.get(engine.key("bb")) is None
    tr.set(engine.key("c"), b"back")
    assert names(engine, tr.get_range_startswith(engine.prefix)) == ["a", "c", "d"]
    tr.commit()
    assert [n for n, _ in engine.read_prefix()] == [engine.key(k) for k in "acd"]
    assert engine.read(engine.key("c")) == b"back"


def test_atomic_add_then_get_sees_the_sum(engine):
    engine.put(engine.key("n"), (5).to_bytes(8, "little"))
    tr = engine.db.create_transaction()
    tr.add(engine.key("n"), (3).to_bytes(8, "little"))
    assert tr.get(engine.key("n")) == (8).to_bytes(8, "little")
    tr.add(engine.key("n"), (2).to_bytes(8, "little"))
    assert tr.get(engine.key("n")) == (10).to_bytes(8, "little")
    tr.commit()
    assert engine.read(engine.key("n")) == (10).to_bytes(8, "little")


def test_snapshot_view_sees_own_writes(engine):
    tr = engine.db.create_transaction()
    tr.set(engine.key("a"), b"mine")
    assert tr.snapshot.get(engine.key("a")) == b"mine"
    assert names(engine, tr.snapshot.get_range_startswith(engine.prefix)) == ["a"]


def test_uncommitted_writes_are_invisible_to_other_transactions(engine):
    tr = engine.db.create_transaction()
    tr.set(engine.key("a"), b"mine")
    assert engine.read(engine.key("a")) is None
    tr.commit()
    assert engine.read(engine.key("a")) == b"mine"


# --- snapshot isolation ------------------------------------------------------------------


def test_transaction_does_not_see_commits_after_its_read_version(engine):
    fill(engine, "a", "b")
    old = engine.db.create_transaction()
    assert old.get(engine.key("a")) == b"a"  # fixes the read version

    def change(tr):  # type: ignore[no-untyped-def]
        tr.set(engine.key("b"), b"changed")
        tr.set(engine.key("c"), b"new")
        tr.clear(engine.key("a"))

    engine.db.transact(change)
    assert old.get(engine.key("a")) == b"a"
    assert old.get(engine.key("b")) == b"b"  # never read before: still the old snapshot
    assert old.get(engine.key("c")) is None
    assert names(engine, old.get_range_startswith(engine.prefix)) == ["a", "b"]

    later = engine.db.create_transaction()
    assert later.get(engine.key("a")) is None
    assert later.get(engine.key("b")) == b"changed"
    assert names(engine, later.get_range_startswith(engine.prefix)) == ["b", "c"]
    assert later.get_read_version() > old.get_read_version()


# --- range reads ---------------------------------------------------------------------------


def test_get_range_is_ordered_begin_inclusive_end_exclusive(engine):
    fill(engine, "c", "a", "b\x00", "b", "d", "ba")
    tr = engine.db.create_transaction()
    got = list(tr.get_range(engine.key("b"), engine.key("d")))
    assert all(isinstance(kv, KeyValue) for kv in got)
    assert names(engine, got) == ["b", "b\x00", "ba", "c"]
    assert got[0].key == engine.key("b") and got[0].value == b"b"


def test_get_range_reverse_and_limits(engine):
    fill(engine, "a", "b", "c", "d", "e")
    tr = engine.db.create_transaction()
    begin, end = engine.key("b"), engine.key("e")
    assert names(engine, tr.get_range(begin, end, reverse=True)) == ["d", "c", "b"]
    assert names(engine, tr.get_range(begin, end, limit=2)) == ["b", "c"]
    assert names(engine, tr.get_range(begin, end, limit=2, reverse=True)) == ["d", "c"]
    assert names(engine, tr.get_range(begin, end, limit=10)) == ["b", "c", "d"]
    assert names(engine, tr.get_range(begin, end, limit=0)) == ["b", "c", "d"]


def test_get_range_is_lazy_and_can_be_abandoned(engine):
    fill(engine, *"abcdefgh")
    tr = engine.db.create_transaction()
    stream = iter(tr.get_range_startswith(engine.prefix))
    assert next(stream).key == engine.key("a")
    assert next(stream).key == engine.key("b")
    del stream
    assert tr.get(engine.key("h")) == b"h"


def test_empty_and_inverted_get_range_return_nothing(engine):
    fill(engine, "a", "b", "c")
    tr = engine.db.create_transaction()
    assert list(tr.get_range(engine.key("b"), engine.key("b"))) == []
    assert list(tr.get_range(engine.key("bb"), engine.key("c"))) == []
    # FDB returns an empty result (no error) for a range read whose begin is after its end.
    assert list(tr.get_range(engine.key("c"), engine.key("a"))) == []
    assert list(tr.get_range(engine.key("c"), engine.key("a"), reverse=True)) == []


def test_get_range_startswith_includes_the_prefix_itself_and_nothing_after(engine):
    fill(engine, "p", "p\x00", "pa", "p\xff", "p\xff\xff", "q", "o\xff")
    tr = engine.db.create_transaction()
    assert names(engine, tr.get_range_startswith(engine.key("p"))) == [
        "p",
        "p\x00",
        "pa",
        "p\xff",
        "p\xff\xff",
    ]
    assert names(
        engine, tr.get_range_startswith(engine.key("p"), reverse=True, limit=2)
    ) == ["p\xff\xff", "p\xff"]
    assert names(engine, tr.get_range_startswith(engine.key("p\xff"))) == [
        "p\xff",
        "p\xff\xff",
    ]


# --- clear_range ------------------------------------------------------------------------


def test_clear_range_clears_begin_inclusive_end_exclusive(engine):
    fill(engine, "a", "b", "b\x00", "c", "c\x00", "d")
    engine.db.transact(lambda tr: tr.clear_range(engine.key("b"), engine.key("c")))
    assert [k for k, _ in engine.read_prefix()] == [
        engine.key(n) for n in ("a", "c", "c\x00", "d")
    ]


def test_clear_range_with_equal_bounds_clears_nothing(engine):
    fill(engine, "a", "b")
    engine.db.transact(lambda tr: tr.clear_range(engine.key("b"), engine.key("b")))
    assert len(engine.read_prefix()) == 2


def test_clear_range_with_begin_after_end_is_inverted_range(engine):
    """FDB raises inverted_range (2005) from ``clear_range``, or from commit when its client
    defers the error; either way nothing of the transaction is applied."""
    fill(engine, "a", "b", "c")
    tr = engine.db.create_transaction()
    tr.set(engine.key("x"), b"x")
    with raises_exactly(InvertedRange, 2005):
        tr.clear_range(engine.key("c"), engine.key("a"))
        tr.commit()
    assert [k for k, _ in engine.read_prefix()] == [engine.key(n) for n in "abc"]


# --- cancel -----------------------------------------------------------------------------


def test_cancelled_transaction_raises_on_later_reads_and_commit(engine):
    fill(engine, "a")
    tr = engine.db.create_transaction()
    tr.set(engine.key("b"), b"b")
    tr.cancel()
    with raises_exactly(TransactionCancelled, 1025):
        tr.get(engine.key("a"))
    with raises_exactly(TransactionCancelled, 1025):
        list(tr.get_range_startswith(engine.prefix))
    with raises_exactly(TransactionCancelled, 1025):
        tr.commit()
    assert engine.read(engine.key("b")) is None
    assert not TransactionCancelled.retryable


# --- read-your-writes against a model ----------------------------------------------------------

SUFFIXES = [
    b"a", b"b", b"b\x00", b"c", b"k" * 600, b"k" * 600 + b"\x00", b"k" * 599 + b"l", b"z",
]  # fmt: skip
KEYS = st.sampled_from(SUFFIXES)
OPS = st.one_of(
    st.tuples(st.just("set"), KEYS, st.binary(max_size=4)),
    st.tuples(st.just("clear"), KEYS),
    st.tuples(st.just("clear_range"), KEYS, KEYS),
    st.tuples(st.just("add"), KEYS, st.binary(min_size=1, max_size=3)),
    st.tuples(st.just("get"), KEYS),
    st.tuples(st.just("get_range"), KEYS, KEYS, st.integers(0, 3), st.booleans()),
)


def model_add(existing: bytes | None, param: bytes) -> bytes:
    width = len(param)
    current = int.from_bytes((existing or b"")[:width].ljust(width, b"\x00"), "little")
    total = (current + int.from_bytes(param, "little")) % (1 << (8 * width))
    return total.to_bytes(width, "little")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    initial=st.dictionaries(KEYS, st.binary(max_size=4)), ops=st.lists(OPS, max_size=25)
)
def test_reads_inside_a_transaction_match_a_model_of_its_writes(engine, initial, ops):
    """Every read merges committed data with the transaction's own sets, clears, clear_ranges
    and atomic adds exactly as FDB's read-your-writes does, and the commit applies the same."""
    head = engine.key(uuid.uuid4().hex, "/")
    model = {head + k: v for k, v in initial.items()}
    engine.db.transact(lambda tr: [tr.set(k, v) for k, v in model.items()])
    tr = engine.db.create_transaction()
    for op in ops:
        kind, key = op[0], head + op[1]
        if kind == "set":
            tr.set(key, op[2])
            model[key] = op[2]
        elif kind == "clear":
            tr.clear(key)
            model.pop(key, None)
        elif kind == "clear_range":
            end = head + op[2]
            if key <= end:
                tr.clear_range(key, end)
                model = {k: v for k, v in model.items() if not key <= k < end}
        elif kind == "add":
            tr.add(key, op[2])
            model[key] = model_add(model.get(key), op[2])
        elif kind == "get":
            assert tr.get(key) == model.get(key)
        else:
            end, limit, reverse = head + op[2], op[3], op[4]
            expected = sorted((k, v) for k, v in model.items() if key <= k < end)
            if reverse:
                expected.reverse()
            if limit:
                expected = expected[:limit]
            assert [
                tuple(kv) for kv in tr.get_range(key, end, limit, reverse)
            ] == expected
    tr.commit()
    assert engine.read_prefix(head[len(engine.prefix) :]) == sorted(model.items())


# --- get_many ---------------------------------------------------------------------------------


def test_get_many_answers_as_get_does_in_the_order_asked(engine):
    fill(engine, "a", "b", "c")
    wanted = [engine.key(n) for n in ("c", "missing", "a", "b")]
    tr = engine.db.create_transaction()
    assert tr.get_many(wanted) == [b"c", None, b"a", b"b"]
    assert tr.snapshot.get_many(wanted) == [b"c", None, b"a", b"b"]
    assert tr.get_many([]) == []
    tr.set(engine.key("b"), b"mine")  # its own writes too, as get
    tr.clear(engine.key("c"))
    assert tr.get_many(wanted) == [None, None, b"a", b"mine"]


def test_get_many_reads_conflict_and_snapshot_ones_do_not(engine):
    fill(engine, "a")
    for view, conflicts in ((lambda tr: tr, True), (lambda tr: tr.snapshot, False)):
        assert commit_conflicts(
            engine.db,
            engine.key("own"),
            lambda tr, view=view: view(tr).get_many([engine.key("a"), engine.key("z")]),
            lambda tr: tr.set(engine.key("z"), b"new"),
        ) is conflicts


def test_a_transaction_marked_as_a_long_scan_reads_and_conflicts_as_any_other(engine):
    """``disable_read_cache`` is a hint about caching (FDB's read_server_side_cache_disable):
    what the transaction reads, and what it conflicts on, are unchanged."""
    fill(engine, "a", "b", "c")

    def scan(tr):  # type: ignore[no-untyped-def]
        tr.disable_read_cache()
        return names(engine, tr.get_range(engine.key("a"), engine.key("z")))

    assert engine.db.transact(scan) == ["a", "b", "c"]
    assert commit_conflicts(
        engine.db,
        engine.key("own"),
        lambda tr: (tr.disable_read_cache(), list(tr.get_range(engine.key("a"), engine.key("z")))),
        lambda tr: tr.set(engine.key("m"), b"new"),
    )


def test_a_transaction_deferring_durable_reads_reads_commits_and_conflicts_as_any_other(engine):
    """``defer_durable_reads`` only moves when a transaction waits for what it read to be
    durable (to its end): what it reads, writes, and conflicts on, is unchanged."""
    fill(engine, "a", "b")

    def read_and_write(tr):  # type: ignore[no-untyped-def]
        tr.defer_durable_reads()
        found = names(engine, tr.get_range(engine.key("a"), engine.key("z")))
        tr.set(engine.key("c"), b"new")
        return found

    assert engine.db.transact(read_and_write) == ["a", "b"]
    assert engine.db.transact(
        lambda tr: (tr.defer_durable_reads(), tr.get(engine.key("c")))[1]
    ) == b"new"
    assert commit_conflicts(
        engine.db,
        engine.key("own"),
        lambda tr: (tr.defer_durable_reads(), tr.get(engine.key("a"))),
        lambda tr: tr.set(engine.key("a"), b"changed"),
    )
