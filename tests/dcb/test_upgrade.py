"""A store written by the previous layout opens: its events are moved into this layout in
place, at their positions, with a message and a progress bar, and everything works on them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from fairway_django.dcb import AppendCondition, AppendConditionFailed, Event, Query, QueryItem
from fairway_django.dcb import open_store
from fairway_django.dcb.upgrade import CHUNK_EVENTS
from fairway_django.engine import keys, open_engine
from fairway_django.engine.keys import strinc

from .legacy_layout import legacy_append
from .support import expected_read

NAMESPACE = "old"
#: More events than one upgrade chunk, of every index shape (no tag, one, two, three) and size.
EVENTS = [
    Event(
        ("Opened", "Moved", "Closed")[i % 3],
        (b"x" * 3_000 if i % 50 == 0 else f"event {i}".encode()),
        [f"item:{i % 7}", f"shelf:{i % 3}", "store:1"][: i % 4],
    )
    for i in range(CHUNK_EVENTS * 2 + 44)
]
QUERIES = [
    Query.all(),
    Query([QueryItem(types=["Moved"])]),
    Query([QueryItem(tags=["item:3"])]),
    Query([QueryItem(types=["Closed", "Opened"], tags=["shelf:1", "item:2"])]),
    Query([QueryItem(tags=["item:1", "shelf:1", "store:1"]), QueryItem(types=["Opened"])]),
]


def old_keys(url_path: Path) -> list[bytes]:
    database = open_engine(f"embedded://{url_path}?durability=none")
    try:
        found: list[bytes] = []
        for family in ("e", "y", "g", "t"):
            prefix = keys.pack(("dcb", NAMESPACE, family))
            found += database.transact(
                lambda tr, p=prefix: [k for k, _ in tr.get_range(p, strinc(p))]
            )
        return found
    finally:
        database.close()


def test_a_store_of_the_previous_layout_is_upgraded_in_place_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    database = open_engine(f"embedded://{tmp_path}?durability=none")
    for first in range(0, len(EVENTS), 100):
        legacy_append(database, NAMESPACE, EVENTS[first : first + 100])
    database.close()
    assert len(old_keys(tmp_path)) > len(EVENTS)

    url = f"embedded://{tmp_path}?durability=none&namespace={NAMESPACE}"
    with caplog.at_level(logging.WARNING, logger="fairway_django.dcb.upgrade"):
        with open_store(url) as store:
            log = list(store.read())
    assert [e.event for e in log] == EVENTS
    assert f"holds {len(EVENTS)} events in the previous layout; upgrading it in place" in caplog.text
    assert f"upgraded the event store's namespace 'old': {len(EVENTS)} events" in caplog.text
    progress = capsys.readouterr().err
    assert "upgrading event store namespace 'old'" in progress and f"{len(EVENTS)}/{len(EVENTS)}" in progress
    assert old_keys(tmp_path) == []

    caplog.clear()
    with open_store(url) as store:
        assert list(store.read()) == log  # the same positions
        for query in QUERIES:
            assert list(store.read(query)) == expected_read(log, query)
            assert list(store.read(query, backwards=True, limit=5)) == expected_read(
                log, query, backwards=True, limit=5
            )
        assert store.head() == log[-1].position
        item = Query([QueryItem(types=["Moved"], tags=["item:2"])])
        last = expected_read(log, item)[-1].position
        with pytest.raises(AppendConditionFailed):
            store.append([Event("Moved", b"", ["item:2"])], AppendCondition(item, None))
        added = store.append([Event("Moved", b"new", ["item:2"])], AppendCondition(item, last))
        assert added > log[-1].position
        assert [e.event.data for e in store.read(item, after=last)] == [b"new"]
    assert "previous layout" not in caplog.text  # upgraded once
