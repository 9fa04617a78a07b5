"""Appending: atomic, non-empty, the events of one append at consecutive positions in order,
and ``append`` returns the last one's position, which ``head()`` then reports."""

from __future__ import annotations

import threading

import pytest

from fairway_django.dcb import (
    AppendCondition,
    DcbStore,
    Event,
    InvalidAppend,
    InvalidEvent,
    Position,
    Query,
    QueryItem,
)

from .conftest import StoreOpener
from .support import assert_consecutive, assert_nothing_written, run_threads


def test_head_of_an_empty_store_is_none(store: DcbStore) -> None:
    assert store.head() is None
    assert list(store.read()) == []


def test_append_returns_the_last_events_position_and_head_follows(store: DcbStore) -> None:
    events = [Event("T", f"{i}".encode(), [f"k{i}"]) for i in range(5)]
    returned = store.append(events)
    read = list(store.read())
    assert [e.event for e in read] == events
    assert returned == read[-1].position
    assert store.head() == returned


def test_positions_increase_across_appends(store: DcbStore) -> None:
    """Every append lands after everything appended before it; head() is always the newest."""
    returned = []
    for i in range(10):
        previous = store.head()
        position = store.append([Event("T", f"{i}.{j}".encode()) for j in range(i % 3 + 1)])
        assert previous is None or position > previous
        assert store.head() == position
        returned.append(position)
    read = list(store.read())
    assert [e.position for e in read] == sorted(e.position for e in read)
    assert len({e.position for e in read}) == len(read)
    assert set(returned) <= {e.position for e in read}


def test_events_of_one_append_are_consecutive_and_in_order(store: DcbStore) -> None:
    first = [Event("T", b"a1"), Event("U", b"a2", ["x"]), Event("T", b"a3")]
    second = [Event("U", b"b1", ["x"]), Event("T", b"b2")]
    store.append(first)
    store.append(second)
    log = list(store.read())
    assert [e.event for e in log] == first + second
    # Through an index too: the events of one append keep their relative order.
    assert [e.event for e in store.read(Query([QueryItem(types=["U"])]))] == [first[1], second[0]]


def test_appends_from_concurrent_threads_are_never_interleaved(store: DcbStore) -> None:
    """Each append's events form one run in the log, in order, whatever else commits at the
    same time; every append returns the position of its run's last event."""
    threads, appends_each, size = 4, 15, 4
    returned: dict[tuple[int, int], Position] = {}
    lock = threading.Lock()

    def batch(t: int, a: int) -> list[Event]:
        return [Event(f"T{t}", f"{t}/{a}/{i}".encode(), [f"thread{t}"]) for i in range(size)]

    def run(t: int) -> None:
        for a in range(appends_each):
            position = store.append(batch(t, a))
            with lock:
                returned[t, a] = position

    run_threads(threads, run)
    log = list(store.read())
    assert len(log) == threads * appends_each * size
    for (t, a), position in returned.items():
        positions = assert_consecutive(log, batch(t, a))
        assert positions[-1] == position
    assert store.head() == log[-1].position


def test_append_accepts_any_iterable_of_events(store: DcbStore) -> None:
    store.append((Event("T", b"tuple"),))
    store.append(Event("T", f"gen{i}".encode()) for i in range(2))
    assert [e.event.data for e in store.read()] == [b"tuple", b"gen0", b"gen1"]


@pytest.mark.parametrize(
    "events",
    [[], (), iter([]), (e for e in list[Event]())],
    ids=["list", "tuple", "iterator", "generator"],
)
def test_an_empty_append_is_refused(store: DcbStore, events: object) -> None:
    store.append([Event("T", b"before")])
    head = store.head()
    with pytest.raises(InvalidAppend, match="at least one"):
        store.append(events)  # type: ignore[arg-type]
    assert_nothing_written(store, head)


def test_an_empty_append_to_an_empty_store_writes_nothing(store: DcbStore) -> None:
    with pytest.raises(InvalidAppend):
        store.append([], AppendCondition(Query.all()))
    assert_nothing_written(store, None)


@pytest.mark.parametrize(
    ("events", "error"),
    [
        (Event("T", b"single"), InvalidAppend),
        (None, InvalidAppend),
        (5, InvalidAppend),
        ("TT", InvalidEvent),
        (b"TT", InvalidEvent),
        ({"type": "T"}, InvalidEvent),
    ],
    ids=["bare event", "None", "int", "str", "bytes", "dict"],
)
def test_what_is_not_a_list_of_events_is_refused(
    store: DcbStore, events: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        store.append(events)  # type: ignore[arg-type]
    assert_nothing_written(store, None)


@pytest.mark.parametrize(
    "condition",
    [Query.all(), QueryItem(), "cond", 0, True],
    ids=["query", "item", "str", "zero", "true"],
)
def test_a_condition_that_is_not_an_append_condition_is_refused(
    store: DcbStore, condition: object
) -> None:
    store.append([Event("T", b"before")])
    head = store.head()
    with pytest.raises(InvalidAppend, match="AppendCondition"):
        store.append([Event("T", b"x")], condition)  # type: ignore[arg-type]
    assert_nothing_written(store, head)


def test_head_is_shared_by_handles_on_the_same_namespace(
    store: DcbStore, open_stores: StoreOpener, namespace: str
) -> None:
    other = open_stores.open(namespace)
    assert other.head() is None
    position = store.append([Event("T", b"x")])
    assert other.head() == position
    position = other.append([Event("T", b"y")])
    assert store.head() == position
