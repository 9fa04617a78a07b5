"""Queries: which events a QueryItem and a Query select, and which queries are refused.

A QueryItem matches an event whose type is one of its types (any type when it names none) and
whose tags include all of its tags; a Query matches when any of its items does.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fairway_django.dcb import (
    AppendCondition,
    DcbStore,
    Event,
    InvalidAppend,
    InvalidPosition,
    InvalidQuery,
    Query,
    QueryItem,
)

from .support import assert_nothing_written, expected_read, tagged

EVENTS = [
    tagged("A"),
    tagged("A", "x"),
    tagged("A", "x", "y"),
    tagged("B", "y", "x"),
    tagged("B", "x", "y", "z"),
    tagged("C", "z", "w", "y", "x"),
    tagged("C", "w"),
    tagged("AB", "xy"),  # names that extend others' must not be mistaken for them
    tagged("A", "x\x00"),
    tagged("B", "ü"),
]


@pytest.fixture
def populated(store: DcbStore) -> DcbStore:
    store.append(EVENTS[:4])
    store.append(EVENTS[4:])
    return store


def names(store: DcbStore, query: Query) -> list[Event]:
    return [e.event for e in store.read(query)]


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([QueryItem()], list(range(10))),
        ([QueryItem(types=["A"])], [0, 1, 2, 8]),
        ([QueryItem(types=["A", "B"])], [0, 1, 2, 3, 4, 8, 9]),
        ([QueryItem(types=["AB"])], [7]),
        ([QueryItem(tags=["x"])], [1, 2, 3, 4, 5]),
        ([QueryItem(tags=["xy"])], [7]),
        ([QueryItem(tags=["x\x00"])], [8]),
        ([QueryItem(tags=["ü"])], [9]),
        ([QueryItem(tags=["y", "x"])], [2, 3, 4, 5]),
        ([QueryItem(tags=["x", "y", "z"])], [4, 5]),
        ([QueryItem(tags=["w", "x", "y", "z"])], [5]),
        ([QueryItem(tags=["z", "w"])], [5]),
        ([QueryItem(types=["A"], tags=["x"])], [1, 2]),
        ([QueryItem(types=["B", "C"], tags=["x", "y"])], [3, 4, 5]),
        ([QueryItem(types=["B", "C"], tags=["z", "y", "x"])], [4, 5]),
        ([QueryItem(types=["A"], tags=["x", "y", "z"])], []),
        ([QueryItem(types=["nobody"])], []),
        ([QueryItem(tags=["nobody"])], []),
        ([QueryItem(tags=["x", "nobody"])], []),
        ([QueryItem(tags=["x", "y", "nobody"])], []),
        ([QueryItem(types=["A"]), QueryItem(tags=["w"])], [0, 1, 2, 5, 6, 8]),
        ([QueryItem(types=["A"]), QueryItem(types=["A"], tags=["x"])], [0, 1, 2, 8]),
        (
            [QueryItem(tags=["x"]), QueryItem(tags=["y"]), QueryItem(tags=["x", "y", "z"])],
            [1, 2, 3, 4, 5],
        ),
        ([QueryItem(types=["C"]), QueryItem()], list(range(10))),
    ],
)
def test_query_selects_exactly_the_matching_events(
    populated: DcbStore, items: list[QueryItem], expected: list[int]
) -> None:
    """Types are alternatives, tags are all required, items are alternatives; each matching
    event comes out once, in position order, whatever index answers the query."""
    query = Query(items)
    assert names(populated, query) == [EVENTS[i] for i in expected]
    assert names(populated, query) == [e.event for e in expected_read(populated.read(), query)]


def test_query_all_matches_every_event(populated: DcbStore) -> None:
    assert names(populated, Query.all()) == EVENTS
    assert Query.all() == Query([QueryItem()])
    assert names(populated, Query([QueryItem()])) == EVENTS
    assert [e.event for e in populated.read()] == EVENTS  # the default query


def test_repeated_types_and_tags_mean_nothing_more(populated: DcbStore) -> None:
    query = Query([QueryItem(types=["A", "A"], tags=["x", "x"])])
    assert names(populated, query) == [EVENTS[1], EVENTS[2]]


def test_an_item_with_more_tags_than_an_event_may_carry_matches_nothing(
    populated: DcbStore,
) -> None:
    item = QueryItem(tags=[f"t{i}" for i in range(20)])
    assert names(populated, Query([item])) == []


def test_query_values_are_comparable_and_hashable() -> None:
    """Queries are values: equal content, equal queries (usable as dict keys)."""
    a = Query([QueryItem(types=["A"], tags=["x"])])
    b = Query((QueryItem(types=("A",), tags=("x",)),))
    assert a == b and hash(a) == hash(b)
    assert a != Query([QueryItem(types=["B"], tags=["x"])])


BAD_QUERIES: dict[str, Callable[[], object]] = {
    "no items": lambda: Query([]),
    "a bare item": lambda: Query(QueryItem()),  # type: ignore[arg-type]
    "a dict item": lambda: Query([{"types": ["A"]}]),  # type: ignore[list-item]
    "a string item": lambda: Query(["A"]),  # type: ignore[list-item]
    "a None item": lambda: Query([QueryItem(), None]),  # type: ignore[list-item]
    "types as a string": lambda: QueryItem(types="A"),
    "tags as a string": lambda: QueryItem(tags="x"),
    "tags as bytes": lambda: QueryItem(tags=b"x"),  # type: ignore[arg-type]
    "empty type": lambda: QueryItem(types=[""]),
    "empty tag": lambda: QueryItem(tags=["x", ""]),
    "int type": lambda: QueryItem(types=[1]),  # type: ignore[list-item]
    "None tag": lambda: QueryItem(tags=[None]),  # type: ignore[list-item]
    "oversized type": lambda: QueryItem(types=["T" * 257]),
    "oversized tag": lambda: QueryItem(tags=["é" * 129]),
    "lone surrogate tag": lambda: QueryItem(tags=["\ud800"]),
    "condition on an item": lambda: AppendCondition(QueryItem()),  # type: ignore[arg-type]
    "condition on a list": lambda: AppendCondition([QueryItem()]),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("case", list(BAD_QUERIES))
def test_malformed_queries_raise_invalid_query(case: str) -> None:
    with pytest.raises(InvalidQuery) as raised:
        BAD_QUERIES[case]()
    assert raised.value.code == "invalid_query"
    assert str(raised.value)


@pytest.mark.parametrize(
    "build",
    [lambda: QueryItem(types=None), lambda: QueryItem(tags=None), lambda: Query(None)],  # type: ignore[arg-type]
    ids=["types None", "tags None", "items None"],
)
def test_non_iterable_query_parts_raise_invalid_query(build: Callable[[], object]) -> None:
    """Bad input raises InvalidInput, not a bare TypeError ('NoneType' is not iterable)."""
    with pytest.raises(InvalidQuery):
        build()


def test_condition_after_must_be_a_position() -> None:
    for after in ("0" * 24, b"\x00" * 12, 5):
        with pytest.raises(InvalidPosition, match="Position"):
            AppendCondition(Query.all(), after=after)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "query",
    ["A", QueryItem(types=["A"]), [QueryItem()], {"types": ["A"]}],
    ids=["str", "item", "list", "dict"],
)
def test_read_and_subscribe_refuse_what_is_not_a_query(populated: DcbStore, query: object) -> None:
    with pytest.raises(InvalidQuery):
        list(populated.read(query))  # type: ignore[arg-type]
    with pytest.raises(InvalidQuery):
        with populated.subscribe(query) as subscription:  # type: ignore[arg-type]
            next(iter(subscription))


def test_append_with_a_query_instead_of_a_condition_is_refused(populated: DcbStore) -> None:
    head = populated.head()
    with pytest.raises(InvalidAppend):
        populated.append([Event("T", b"")], Query.all())  # type: ignore[arg-type]
    assert_nothing_written(populated, head)
