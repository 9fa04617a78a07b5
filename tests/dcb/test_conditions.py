"""Append conditions: an append fails with AppendConditionFailed, writing nothing, exactly when
an event matching ``fail_if_events_match`` exists after ``after`` (anywhere when None).

Commands rely on both directions: a matching event must fail the append (or decisions are made
on stale facts), and a non-matching one must not (or unrelated writers block each other).
"""

from __future__ import annotations

import pytest

from fairway_django.dcb import (
    AppendCondition,
    AppendConditionFailed,
    DcbStore,
    Event,
    Position,
    Query,
    QueryItem,
)

from .conftest import StoreOpener
from .support import assert_nothing_written, query_matches, tagged

NEW = [Event("New", b"1"), Event("New", b"2", ["n"])]


def fails(store: DcbStore, query: Query, after: Position | None = None) -> bool:
    """Whether an append under this condition fails; checks it writes nothing when it does."""
    head = store.head()
    try:
        position = store.append(NEW, AppendCondition(query, after))
    except AppendConditionFailed as failure:
        assert_nothing_written(store, head)
        assert failure.code == "append_condition_failed"
        assert failure.condition == AppendCondition(query, after)
        assert query_matches(
            query, next(e.event for e in store.read() if e.position == failure.position)
        ), "the reported position holds no matching event"
        assert after is None or failure.position > after
        return True
    assert store.head() == position
    return False


def test_no_matching_event_anywhere_passes(store: DcbStore) -> None:
    assert not fails(store, Query([QueryItem(types=["A"])]))  # empty store
    store.append([tagged("B", "x")])
    assert not fails(store, Query([QueryItem(types=["A"])]))


def test_a_matching_event_anywhere_fails_when_after_is_none(store: DcbStore) -> None:
    store.append([tagged("A", "x")])
    store.append([tagged("B")] * 3)
    assert fails(store, Query([QueryItem(types=["A"])]))
    assert fails(store, Query([QueryItem(tags=["x"])]))


def test_after_is_exclusive(store: DcbStore) -> None:
    """Events at or before ``after`` were seen by the deciding command: they do not fail it."""
    store.append([tagged("A", data=b"1")])
    seen = store.append([tagged("A", data=b"2")])
    query = Query([QueryItem(types=["A"])])
    assert not fails(store, query, after=seen)
    later = store.append([tagged("A", data=b"3")])
    assert fails(store, query, after=seen)
    assert not fails(store, query, after=later)


def test_the_failure_names_the_first_matching_event_after_the_position(store: DcbStore) -> None:
    first = store.append([tagged("A", "x")])
    second = store.append([tagged("B"), tagged("A", "x", data=b"second")])
    query = Query([QueryItem(types=["A"], tags=["x"])])
    with pytest.raises(AppendConditionFailed) as raised:
        store.append(NEW, AppendCondition(query))
    assert raised.value.position == first
    with pytest.raises(AppendConditionFailed) as raised:
        store.append(NEW, AppendCondition(query, after=first))
    assert raised.value.position == second
    message = str(raised.value)
    assert f"after {first}" in message and f"at {second}" in message
    assert "nothing was appended" in message and "decide again" in message


def test_events_of_other_types_do_not_fail_it(store: DcbStore) -> None:
    position = store.append([tagged("A", "x")])
    store.append([tagged("B", "x"), tagged("AB", "x"), tagged("a", "x")])
    assert not fails(store, Query([QueryItem(types=["A"])]), after=position)
    assert not fails(store, Query([QueryItem(types=["A"], tags=["x"])]), after=position)
    assert fails(store, Query([QueryItem(types=["A", "B"])]), after=position)


def test_events_lacking_a_tag_of_the_item_do_not_fail_it(store: DcbStore) -> None:
    store.append([tagged("A", "x"), tagged("A", "y"), tagged("A", "xy"), tagged("A", "x\x00")])
    assert not fails(store, Query([QueryItem(tags=["x", "y"])]))
    assert not fails(store, Query([QueryItem(types=["A"], tags=["y", "x"])]))
    store.append([tagged("B", "y", "x", "z")])
    assert fails(store, Query([QueryItem(tags=["x", "y"])]))
    assert not fails(store, Query([QueryItem(types=["A"], tags=["x", "y"])]))


def test_an_item_with_three_tags_is_failed_only_by_events_carrying_all_three(
    store: DcbStore,
) -> None:
    """Items with more tags than the exact indexes combine read the index of two of them and
    filter: events carrying those two (and not the third) must still pass the condition."""
    query = Query([QueryItem(tags=["x", "y", "z"])])
    store.append(
        [
            tagged("A", "x", "y"),
            tagged("A", "x", "z"),
            tagged("A", "y", "z"),
            tagged("A", "x", "y", "w"),
        ]
    )
    assert not fails(store, query)
    assert not fails(store, Query([QueryItem(types=["A"], tags=["z", "y", "x"])]))
    position = store.append([tagged("B", "z", "y", "x", "w")])
    assert fails(store, query)
    assert fails(store, Query([QueryItem(tags=["x", "y", "z", "w"])]))
    assert not fails(store, Query([QueryItem(types=["A"], tags=["x", "y", "z"])]))
    assert not fails(store, query, after=position)
    store.append([tagged("A", "x", "y", "w")])
    assert not fails(store, query, after=position)


def test_a_three_tag_item_after_many_non_matching_events(store: DcbStore) -> None:
    """The filtering check must look past every non-matching event in the index it reads."""
    store.append([Event("A", f"{i}".encode(), ["x", "y"]) for i in range(300)])
    query = Query([QueryItem(tags=["x", "y", "z"])])
    assert not fails(store, query)
    store.append([Event("A", b"last", ["x", "y", "z"])])
    assert fails(store, query)


def test_a_condition_on_query_all_fails_on_any_event_after_it(store: DcbStore) -> None:
    assert not fails(store, Query.all())  # empty store
    position = store.append([Event("Anything", b"")])
    assert fails(store, Query.all())
    assert not fails(store, Query.all(), after=store.head())
    assert fails(store, Query.all(), after=position)  # NEW was appended after it meanwhile


def test_any_item_of_a_multi_item_query_fails_it(store: DcbStore) -> None:
    query = Query([QueryItem(types=["A"], tags=["x"]), QueryItem(tags=["y", "z", "w"])])
    position = store.append([tagged("A"), tagged("B", "x"), tagged("C", "y", "z")])
    assert not fails(store, query)
    store.append([tagged("C", "w", "y", "z")])
    assert fails(store, query)
    assert not fails(store, query, after=store.head())
    store.append([tagged("A", "x")])
    assert fails(store, query, after=position)


def test_a_failed_append_writes_none_of_its_events(store: DcbStore) -> None:
    store.append([tagged("A")])
    head = store.head()
    many = [Event("Big", bytes(20_000), ["x", "y"])] + [
        Event("T", f"{i}".encode()) for i in range(50)
    ]
    with pytest.raises(AppendConditionFailed):
        store.append(many, AppendCondition(Query([QueryItem(types=["A"])])))
    assert_nothing_written(store, head)
    assert list(store.read(Query([QueryItem(tags=["x"])]))) == []


def test_after_may_be_a_position_between_events(store: DcbStore) -> None:
    """``after`` need not be an event's position: any position splits the log in two."""
    a = store.append([tagged("A", data=b"1")])
    b = store.append([tagged("A", data=b"2")])
    lowest, highest = Position.parse("0" * 24), Position.parse("f" * 24)
    between = Position.parse(str(a)[:-4] + "ffff")
    assert a < between < b
    query = Query([QueryItem(types=["A"])])
    assert fails(store, query, after=lowest)
    assert fails(store, query, after=between)
    assert not fails(store, query, after=highest)


def test_a_failed_condition_does_not_prevent_later_appends(store: DcbStore) -> None:
    """The command re-reads, decides again with the newer position, and succeeds."""
    query = Query([QueryItem(tags=["account-1"])])
    store.append([tagged("Opened", "account-1")])
    stale = None
    with pytest.raises(AppendConditionFailed) as raised:
        store.append([tagged("Deposited", "account-1")], AppendCondition(query, stale))
    fresh = list(store.read(query))[-1].position
    assert raised.value.position == fresh
    position = store.append([tagged("Deposited", "account-1")], AppendCondition(query, fresh))
    assert [e.event.type for e in store.read(query)] == ["Opened", "Deposited"]
    assert store.head() == position


def test_conditions_see_events_appended_through_another_handle(
    store: DcbStore, open_stores: StoreOpener, namespace: str
) -> None:
    other = open_stores.open(namespace)
    seen = store.head()
    other.append([tagged("A", "x")])
    with pytest.raises(AppendConditionFailed):
        store.append(NEW, AppendCondition(Query([QueryItem(tags=["x"])]), seen))
