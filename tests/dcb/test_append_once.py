"""append_once: at most one append per idempotency key, decided inside the append's own
transaction; appended_under and read_append, which let a caller report the first append."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fairway_django.dcb import (
    AppendCondition,
    AppendConditionFailed,
    Appended,
    DcbStore,
    InvalidAppend,
    InvalidInput,
    Query,
    QueryItem,
    open_store,
)
from fairway_django.engine.embedded import Durability, EmbeddedDatabase, Fault, FaultInjection
from fairway_django.engine.keys import strinc

from .support import assert_nothing_written, run_threads, tagged


def keys_under(store: DcbStore, prefix: bytes) -> list[bytes]:
    return store.database.transact(
        lambda tr: [key for key, _ in tr.get_range(prefix, strinc(prefix))]
    )


def test_a_key_appends_once_then_returns_the_first_append(store: DcbStore) -> None:
    events = [tagged("A", "x"), tagged("B", "x")]
    first = store.append_once(events, "order-1")
    assert first == Appended(store.head(), duplicate=False)
    again = store.append_once([tagged("C")], "order-1")
    assert again == Appended(first.position, duplicate=True)
    assert_nothing_written(store, first.position)
    assert store.appended_under("order-1") == first.position
    assert store.appended_under("order-2") is None
    other = store.append_once(events, "order-2")
    assert other.position > first.position and not other.duplicate


def test_a_duplicate_skips_the_condition_and_a_failed_condition_records_no_key(
    store: DcbStore,
) -> None:
    query = Query([QueryItem(types=["A"])])
    store.append([tagged("A")])
    with pytest.raises(AppendConditionFailed):
        store.append_once([tagged("B")], "k", AppendCondition(query))
    assert store.appended_under("k") is None
    first = store.append_once([tagged("B")], "k", AppendCondition(query, store.head()))
    # the same condition now fails (a newer A), but the key answers first
    store.append([tagged("A")])
    assert store.append_once([tagged("B")], "k", AppendCondition(query, None)) == Appended(
        first.position, duplicate=True
    )


def test_an_expired_key_can_be_used_again(store: DcbStore) -> None:
    first = store.append_once([tagged("A")], "short", ttl=0.05)
    assert store.append_once([tagged("A")], "short", ttl=0.05).duplicate
    time.sleep(0.1)
    assert store.appended_under("short") is None
    second = store.append_once([tagged("A")], "short")
    assert second.position > first.position and not second.duplicate


@pytest.mark.parametrize("key", ["", "k" * 201, "é" * 101, None, b"bytes", "\udc80"])
def test_malformed_keys_are_refused(store: DcbStore, key: object) -> None:
    with pytest.raises(InvalidAppend):
        store.append_once([tagged("A")], key)  # type: ignore[arg-type]
    assert store.head() is None


@pytest.mark.parametrize("ttl", [0, -1.0, float("nan"), float("inf"), True, "60"])
def test_a_bad_ttl_is_refused(store: DcbStore, ttl: object) -> None:
    with pytest.raises(InvalidAppend, match="ttl"):
        store.append_once([tagged("A")], "k", ttl=ttl)  # type: ignore[arg-type]


@pytest.mark.parametrize("key", ["k" * 200, "é" * 100, "a\x00b", "(\xff)", "日本"])
def test_any_text_key_within_the_limit_works(store: DcbStore, key: str) -> None:
    first = store.append_once([tagged("A")], key)
    assert store.append_once([tagged("A")], key).duplicate
    assert store.appended_under(key) == first.position
    assert store.appended_under(key[:-1]) is None


def test_concurrent_appends_with_one_key_append_once(store: DcbStore) -> None:
    results: list[Appended] = []
    run_threads(8, lambda i: results.append(store.append_once([tagged("A", f"t{i}")], "same")))
    assert sorted(r.duplicate for r in results) == [False] + [True] * 7
    assert len({r.position for r in results}) == 1
    assert len(list(store.read())) == 1


def test_append_once_under_faults_tells_its_own_commit_from_a_duplicate(tmp_path: Path) -> None:
    """Half the commits are applied yet report commit_unknown_result. The retry finds its own
    append id first: duplicate=False, even though its key is now recorded; a second call with
    the key is the duplicate."""
    database = EmbeddedDatabase(
        str(tmp_path / "store"),
        durability=Durability("none"),
        faults=FaultInjection(rate=0.5, seed=7, kinds=(Fault.UNKNOWN_RESULT_APPLIED,)),
    )
    with DcbStore(database, "once", owns_database=True) as store:
        for n in range(30):
            events = [tagged("A", f"n{n}"), tagged("B", f"n{n}")]
            condition = AppendCondition(Query.all(), store.head())
            first = store.append_once(events, f"key-{n}", condition)
            assert not first.duplicate, f"append {n} took its own commit for a duplicate"
            assert store.append_once(events, f"key-{n}", condition) == Appended(
                first.position, duplicate=True
            )
        log = list(store.read())
        assert len(log) == 60
        assert [e.event for e in log] == [
            tagged(t, f"n{n}") for n in range(30) for t in ("A", "B")
        ]


def test_append_once_under_every_fault_is_exactly_once(faulty_store: DcbStore) -> None:
    positions: dict[int, Appended] = {}
    for n in range(60):
        positions[n] = faulty_store.append_once([tagged("A", f"n{n}")], f"k{n % 40}")
        assert positions[n].duplicate == (n >= 40)
    log = list(faulty_store.read())
    assert [e.event for e in log] == [tagged("A", f"n{n}") for n in range(40)]
    for n in range(40, 60):
        assert positions[n].position == positions[n - 40].position == log[n - 40].position


def test_expired_keys_are_pruned_but_a_key_recorded_again_is_kept(tmp_path: Path) -> None:
    url = f"embedded://{tmp_path / 'store'}?durability=none&namespace=prune"
    with open_store(url) as store:
        store.append_once([tagged("A")], "gone", ttl=0.02)
        store.append_once([tagged("A")], "again", ttl=0.02)
        time.sleep(0.05)
        store.append_once([tagged("A")], "again")  # recorded anew, its old expiry entry remains
        assert len(keys_under(store, store.keyspace.key_expiries)) == 3
    with open_store(url) as store:  # a new handle prunes in its first append
        store.append([tagged("B")])
        recorded = keys_under(store, store.keyspace.idempotency_keys)
        assert recorded == [store.keyspace.idempotency_key("again")]
        assert len(keys_under(store, store.keyspace.key_expiries)) == 1
        assert store.append_once([tagged("A")], "again").duplicate


def test_read_append_returns_the_events_of_one_append(store: DcbStore) -> None:
    store.append([tagged("Z")])
    events = [tagged("A", "x"), tagged("B"), tagged("C", "y", "z")]
    last = store.append(events)
    store.append([tagged("Z", "after")])
    appended = store.read_append(last)
    assert [e.event for e in appended] == events
    assert appended[-1].position == last
    assert [e.event for e in store.read_append(appended[1].position)] == events[:2]
    first_append = list(store.read())[0]
    assert store.read_append(first_append.position) == [first_append]


def test_read_append_of_a_position_without_events_is_empty(store: DcbStore) -> None:
    last = store.append([tagged("A")])
    beyond = type(last)(bytes([0xFF] * 10) + bytes(2))
    assert store.read_append(beyond) == []
    with pytest.raises(InvalidInput):
        store.read_append("00" * 12)  # type: ignore[arg-type]
