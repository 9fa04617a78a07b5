"""Settling a commit whose outcome is unknown (``engine.outcome``): the lookup is final.

After commit_unknown_result, or a timeout during commit, a commit may still be in flight. A
transaction that marked itself (a read conflict on its marker key) can no longer commit once
``settle`` has looked the marker up and found nothing: the lookup's write conflict on the
marker makes it conflict. So "not there" means "never will be".
"""

from __future__ import annotations

from fairway_django.engine import NotCommitted
from fairway_django.engine.outcome import mark, settle

from ._support import raises_exactly


def test_settle_finds_a_commit_that_happened(engine):
    marker = engine.key("marker")

    def write(tr):  # type: ignore[no-untyped-def]
        mark(tr, marker)
        tr.set(marker, b"done")

    engine.db.transact(write)
    assert settle(engine.db, marker, timeout=10) == b"done"


def test_a_commit_still_in_flight_cannot_happen_once_settle_found_nothing(engine):
    marker = engine.key("marker")
    in_flight = engine.db.create_transaction()
    in_flight.get_read_version()
    mark(in_flight, marker)
    in_flight.set(marker, b"late")
    in_flight.set(engine.key("payload"), b"late")
    assert settle(engine.db, marker, timeout=10) is None
    with raises_exactly(NotCommitted, 1020):
        in_flight.commit()
    assert engine.read_prefix() == []


def test_settle_leaves_unrelated_commits_alone(engine):
    marker = engine.key("marker")
    other = engine.db.create_transaction()
    other.get_read_version()
    other.set(engine.key("other"), b"x")
    assert settle(engine.db, marker, timeout=10) is None
    other.commit()
    assert engine.read(engine.key("other")) == b"x"
