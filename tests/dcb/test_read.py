"""Reading: events in position order (descending when ``backwards``), ``after`` exclusive
(backwards: the events before it), ``limit`` capping the count, each event once, and the same
answers when a read spans several chunks (1,024 events per engine transaction)."""

from __future__ import annotations

import itertools

import pytest

from fairway_django.dcb import (
    DcbStore,
    Event,
    InvalidQuery,
    Position,
    Query,
    QueryItem,
    SequencedEvent,
)

from .conftest import BIG_LOG_EVENTS, BigLog, big_log_event
from .support import assert_nothing_written, expected_read

# --- a small log, every combination ---------------------------------------------------------

SMALL = [
    [Event("A", b"a0", ["x"]), Event("B", b"b1", ["x", "y"]), Event("C", b"c2")],
    [Event("A", b"a3", ["y", "z", "x"])],
    [
        Event("B", b"b4", ["z"]),
        Event("A", b"a5", ["x", "y"]),
        Event("C", b"c6", ["y", "x", "z", "w"]),
    ],
    [Event("A", b"a7", ["w"]), Event("B", b"b8", ["x", "z", "y"])],
]

QUERIES = {
    "all": Query.all(),
    "type": Query([QueryItem(types=["A"])]),
    "two types": Query([QueryItem(types=["A", "C"])]),
    "tag": Query([QueryItem(tags=["x"])]),
    "two tags": Query([QueryItem(tags=["x", "y"])]),
    "three tags": Query([QueryItem(tags=["x", "y", "z"])]),
    "type and three tags": Query([QueryItem(types=["A", "B"], tags=["z", "x", "y"])]),
    "overlapping items": Query(
        [QueryItem(types=["A"]), QueryItem(tags=["x"]), QueryItem(tags=["x", "y", "z"])]
    ),
    "disjoint items": Query([QueryItem(types=["C"]), QueryItem(tags=["w"])]),
    "nothing": Query([QueryItem(types=["Nope"])]),
}


@pytest.fixture
def small(store: DcbStore) -> list[SequencedEvent]:
    for events in SMALL:
        store.append(events)
    log = list(store.read())
    assert [e.event for e in log] == [e for events in SMALL for e in events]
    return log


@pytest.mark.parametrize("name", list(QUERIES))
def test_every_after_limit_and_direction(
    store: DcbStore, small: list[SequencedEvent], name: str
) -> None:
    """For each query, every ``after`` (none, each event's position, positions between and
    beyond the events), each ``limit`` and both directions give the reference answer."""
    query = QUERIES[name]
    afters: list[Position | None] = [None, Position.parse("0" * 24), Position.parse("f" * 24)]
    for e in small:
        afters.append(e.position)
        afters.append(Position.parse(str(e.position)[:-4] + "ffff"))  # between appends
    for after, limit, backwards in itertools.product(
        afters, [None, 0, 1, 2, 5, 100], [False, True]
    ):
        got = list(store.read(query, after=after, limit=limit, backwards=backwards))
        want = expected_read(small, query, after=after, limit=limit, backwards=backwards)
        assert got == want, (after, limit, backwards)


def test_backwards_reverses_the_order(store: DcbStore, small: list[SequencedEvent]) -> None:
    assert list(store.read(backwards=True)) == small[::-1]
    tail = list(store.read(backwards=True, limit=3))
    assert tail == small[:-4:-1]


def test_after_is_exclusive_in_both_directions(
    store: DcbStore, small: list[SequencedEvent]
) -> None:
    middle = small[4].position
    assert list(store.read(after=middle)) == small[5:]
    assert list(store.read(after=middle, backwards=True)) == small[3::-1]
    assert list(store.read(after=small[-1].position)) == []
    assert list(store.read(after=small[0].position, backwards=True)) == []


def test_paging_with_after_and_limit_visits_every_event_once(
    store: DcbStore, small: list[SequencedEvent]
) -> None:
    """A client pages through the log by passing the last position it got as ``after``."""
    for backwards in (False, True):
        pages: list[SequencedEvent] = []
        after = None
        while page := list(store.read(after=after, limit=2, backwards=backwards)):
            pages += page
            after = page[-1].position
        assert pages == (small[::-1] if backwards else small)


def test_an_event_matched_by_several_items_comes_out_once(
    store: DcbStore, small: list[SequencedEvent]
) -> None:
    query = Query(
        [
            QueryItem(tags=["x"]),
            QueryItem(tags=["y"]),
            QueryItem(types=["A", "B"]),
            QueryItem(tags=["x", "y", "z"]),
        ]
    )
    for backwards in (False, True):
        got = [e.position for e in store.read(query, backwards=backwards)]
        assert len(got) == len(set(got))
        assert got == sorted(got, reverse=backwards)
        assert len(got) == len(expected_read(small, query))


def test_a_read_is_a_lazy_iterator(store: DcbStore, small: list[SequencedEvent]) -> None:
    reader = store.read()
    assert iter(reader) is reader
    assert next(reader) == small[0]
    assert list(reader) == small[1:]


@pytest.mark.parametrize(
    "limit",
    [-1, -100, 1.0, 2.5, "3", True, False, [1]],
    ids=["-1", "-100", "float", "fraction", "str", "True", "False", "list"],
)
def test_a_bad_limit_is_refused(store: DcbStore, limit: object) -> None:
    store.append([Event("T", b"x")])
    head = store.head()
    with pytest.raises(InvalidQuery, match="limit"):
        list(store.read(limit=limit))  # type: ignore[arg-type]
    with pytest.raises(InvalidQuery, match="limit"):
        list(store.read(Query([QueryItem(types=["T"])]), limit=limit, backwards=True))  # type: ignore[arg-type]
    assert_nothing_written(store, head)


def test_limit_zero_reads_nothing(store: DcbStore, small: list[SequencedEvent]) -> None:
    assert list(store.read(limit=0)) == []
    assert list(store.read(limit=0, backwards=True)) == []


# --- 2,500 events: reads that cross chunk boundaries ----------------------------------------

BIG_QUERIES = {
    # One exact index holding every event.
    "all": Query.all(),
    "tag on every event": Query([QueryItem(tags=["all"])]),
    # Two exact indexes merged by position.
    "two types": Query([QueryItem(types=["A", "B"])]),
    # Filtered: the index of (all, big) holds 2,250 events, 1,928 of which carry "hi" as well.
    "three tags": Query([QueryItem(tags=["hi", "big", "all"])]),
    "four tags": Query([QueryItem(tags=["all", "big", "hi", "even"])]),
    "type and three tags": Query([QueryItem(types=["B"], tags=["all", "big", "hi"])]),
    # Overlapping items, filtered and exact, merged.
    "overlapping": Query(
        [
            QueryItem(types=["A"], tags=["all", "big", "hi"]),
            QueryItem(tags=["m5"]),
            QueryItem(tags=["odd", "hi"]),
        ]
    ),
    # Sparse: no event of the (big, even) index carries m5; 214 of the 1,928 events in the
    # (big, hi) index carry m5 and odd.
    "sparse": Query(
        [QueryItem(tags=["big", "m5", "even"]), QueryItem(tags=["hi", "odd", "m5", "big"])]
    ),
}


def test_the_big_log_reads_back_in_order(big_log: BigLog) -> None:
    assert len(big_log.events) == BIG_LOG_EVENTS
    assert [e.event for e in big_log.events] == [big_log_event(i) for i in range(BIG_LOG_EVENTS)]
    positions = [e.position for e in big_log.events]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert big_log.store.head() == positions[-1]


@pytest.mark.parametrize("name", list(BIG_QUERIES))
def test_reads_across_chunks_match_the_reference(big_log: BigLog, name: str) -> None:
    """Forwards and backwards, with and without ``after`` and limits around the chunk size."""
    query, log, store = BIG_QUERIES[name], big_log.events, big_log.store
    everything = expected_read(log, query)
    assert everything, "the query should match something"
    afters = [None, log[1200].position, log[2400].position, log[99].position]
    limits = [None, 1, 1023, 1024, 1025, 1500, 2048]
    for after, limit, backwards in itertools.product(afters, limits, [False, True]):
        got = list(store.read(query, after=after, limit=limit, backwards=backwards))
        want = expected_read(log, query, after=after, limit=limit, backwards=backwards)
        assert [e.position for e in got] == [e.position for e in want], (after, limit, backwards)
        assert got == want


def test_paging_through_the_big_log_in_pages_of_1000(big_log: BigLog) -> None:
    query = BIG_QUERIES["three tags"]
    for backwards in (False, True):
        seen: list[SequencedEvent] = []
        after = None
        while page := list(big_log.store.read(query, after=after, limit=1000, backwards=backwards)):
            seen += page
            after = page[-1].position
        assert seen == expected_read(big_log.events, query, backwards=backwards)


def test_filtered_reads_resume_when_a_chunk_examines_many_non_matching_entries(
    store: DcbStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """White-box: a chunk of a filtered read stops after examining ``CHUNK_EXAMINED`` index
    entries and the next chunk resumes. Shrunk to 3 so that a small log crosses many such
    boundaries: the answers must not change."""
    from fairway_django.dcb import reader

    monkeypatch.setattr(reader, "CHUNK_EXAMINED", 3)
    for batch in range(4):
        store.append(
            [
                Event(
                    "A" if i % 2 else "B",
                    f"{batch}.{i}".encode(),
                    ["x", "y"] + (["z"] if i % 5 == 0 else []) + (["w"] if i % 3 == 0 else []),
                )
                for i in range(12)
            ]
        )
    log = list(store.read())
    queries = [
        Query([QueryItem(tags=["x", "y", "z"])]),
        Query([QueryItem(tags=["x", "y", "z"]), QueryItem(types=["A"], tags=["x", "y", "w"])]),
        Query([QueryItem(tags=["x", "y", "nobody"])]),
    ]
    for query, after, limit, backwards in itertools.product(
        queries, [None, log[17].position], [None, 1, 4], [False, True]
    ):
        got = list(store.read(query, after=after, limit=limit, backwards=backwards))
        assert got == expected_read(log, query, after=after, limit=limit, backwards=backwards)


def test_reads_in_one_transaction_see_the_log_at_one_moment(store: DcbStore) -> None:
    store.append([Event("A", b"1", ["x"])])
    tr = store.database.create_transaction()
    try:
        head = store.head(transaction=tr)
        store.append([Event("A", b"2", ["x"])])  # committed after the transaction's snapshot

        assert [e.event.data for e in store.read(Query.all(), transaction=tr)] == [b"1"]
        assert [e.event.data for e in store.read(transaction=tr, backwards=True)] == [b"1"]
        assert store.head(transaction=tr) == head
        assert [e.event.data for e in store.read(Query.all())] == [b"1", b"2"]
        assert store.head() != head
    finally:
        tr.cancel()


def test_a_read_in_one_transaction_crosses_chunks(big_log: BigLog) -> None:
    tr = big_log.store.database.create_transaction()
    try:
        assert list(big_log.store.read(transaction=tr)) == big_log.events
    finally:
        tr.cancel()
