"""Helpers shared by the event store tests: a reference answer for any read, and checks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence

from fairway_django.dcb import DcbStore, Event, Position, Query, QueryItem, SequencedEvent
from fairway_django.dcb.names import names_of


def item_matches(item: QueryItem, event: Event) -> bool:
    """The specification's rule, written out independently of the store's own code."""
    return (not item.types or event.type in item.types) and set(item.tags) <= set(event.tags)


def query_matches(query: Query, event: Event) -> bool:
    return any(item_matches(item, event) for item in query.items)


def expected_read(
    log: Iterable[SequencedEvent],
    query: Query = Query.all(),
    *,
    after: Position | None = None,
    limit: int | None = None,
    backwards: bool = False,
) -> list[SequencedEvent]:
    """What ``store.read(query, after=..., limit=..., backwards=...)`` must return for ``log``."""
    found = [e for e in log if query_matches(query, e.event)]
    found.sort(key=lambda e: e.position, reverse=backwards)
    if after is not None:
        found = [e for e in found if (e.position < after if backwards else e.position > after)]
    return found if limit is None else found[:limit]


def assert_nothing_written(store: DcbStore, head_before: Position | None) -> None:
    """The store is exactly as it was when its head was ``head_before``."""
    assert store.head() == head_before
    assert list(store.read(Query.all(), after=head_before)) == []


def assert_consecutive(log: Sequence[SequencedEvent], appended: Sequence[Event]) -> list[Position]:
    """``appended`` occurs in ``log`` exactly once, as a run with nothing between its events;
    return their positions."""
    first = [i for i, e in enumerate(log) if e.event == appended[0]]
    assert len(first) == 1, f"the append's first event occurs {len(first)} times"
    run = log[first[0] : first[0] + len(appended)]
    assert [e.event for e in run] == list(appended)
    return [e.position for e in run]


def number_names(store: DcbStore, events: Iterable[Event]) -> None:
    """Give the store's short root and the numbers of ``events``' names now, so that a test
    counting or scripting commits sees only its appends' own."""
    layout = store._layout  # noqa: SLF001 - the test needs the bookkeeping out of the way
    layout.events()
    names = layout.names
    wanted = [name for event in events for name in names_of(event.type, event.tags)]
    names.committed(store.database.transact(lambda tr: names.number_in(tr, wanted).written))


def tagged(type_: str, *tags: str, data: bytes | None = None) -> Event:
    """A small event; its data names it, so that events are told apart."""
    return Event(type_, data if data is not None else f"{type_}{sorted(tags)}".encode(), tags)


def run_threads(count: int, target: Callable[[int], None], timeout: float = 60.0) -> None:
    """Run ``target(index)`` in ``count`` threads; re-raise the first exception any raised."""
    errors: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            target(index)
        except BaseException as error:  # noqa: BLE001  (re-raised in the test's thread)
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in threads)
    assert not stuck, f"{stuck} threads still running after {timeout}s"
    if errors:
        raise errors[0]
