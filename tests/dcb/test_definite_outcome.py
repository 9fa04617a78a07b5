"""An append's outcome is definite: it returns its position, or raises an error that says it did
not happen, even when its last commit ended unknown.

commit_unknown_result once the retries ran out, and a timeout during commit (FDB's timeout
cancels the transaction, and a cancelled commit may still happen), leave it open whether the
append happened. The append then looks its id up in a fresh transaction that also fences off a
commit still in flight, and answers from that. Faults are injected by the embedded engine,
scripted per commit where a test needs one exact sequence.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from fairway_django.dcb import AppendCondition, DcbStore, Event, Query, open_store
from fairway_django.dcb import append as append_module
from fairway_django.engine import (
    CommitUnknownResult,
    FDBError,
    NotCommitted,
    RetryPolicy,
    TransactionTimedOut,
)
from fairway_django.engine.embedded import Durability, EmbeddedDatabase, Fault, FaultInjection

from .support import number_names
from .test_exactly_once import batch, check_log


class Scripted(FaultInjection):
    """Faults chosen by the test, commit by commit (``script()`` for each, None: no fault)."""

    def __init__(self, script: Callable[[], Fault | None]) -> None:
        super().__init__(rate=1.0)
        self._script = script
        self.armed = False  # the store's own bookkeeping commits come first, without faults

    def draw(self) -> Fault | None:
        return self._script() if self.armed else None


def in_turn(*faults: Fault) -> Callable[[], Fault | None]:
    pending = list(faults)
    return lambda: pending.pop(0) if pending else None


def scripted_store(
    tmp_path: Path, script: Callable[[], Fault | None], retry_limit: int | None = 100
) -> DcbStore:
    """A store whose appends of EVENTS meet the faults of ``script``, commit by commit: the
    namespace's short root and the numbers of EVENTS' names are given before it is armed."""
    faults = Scripted(script)
    database = EmbeddedDatabase(
        str(tmp_path / "store"),
        durability=Durability("none"),
        faults=faults,
        retry=RetryPolicy(retry_limit=retry_limit, initial_backoff=0.001),
    )
    store = DcbStore(database, "definite", owns_database=True)
    number_names(store, EVENTS)
    faults.armed = True
    return store


EVENTS = [Event("Happened", b"once", ["x"])]


def test_an_append_whose_commit_timed_out_but_happened_returns_its_position(
    tmp_path: Path,
) -> None:
    with scripted_store(tmp_path, in_turn(Fault.TIMED_OUT_APPLIED)) as store:
        position = store.append(EVENTS)
        [event] = store.read()
        assert (event.position, event.event) == (position, EVENTS[0])


def test_a_conditional_append_that_timed_out_but_happened_does_not_fail_its_condition(
    tmp_path: Path,
) -> None:
    with scripted_store(tmp_path, in_turn(Fault.TIMED_OUT_APPLIED)) as store:
        position = store.append(EVENTS, AppendCondition(Query.all(), None))
        assert [e.position for e in store.read()] == [position]


def test_append_once_whose_commit_timed_out_but_happened_is_no_duplicate(tmp_path: Path) -> None:
    with scripted_store(tmp_path, in_turn(Fault.TIMED_OUT_APPLIED)) as store:
        appended = store.append_once(EVENTS, "order-1")
        assert not appended.duplicate
        assert store.appended_under("order-1") == appended.position
        again = store.append_once(EVENTS, "order-1")
        assert again.duplicate and again.position == appended.position
        assert len(list(store.read())) == 1


def test_an_applied_unknown_result_whose_retries_ran_out_returns_its_position(
    tmp_path: Path,
) -> None:
    script = in_turn(Fault.UNKNOWN_RESULT_APPLIED)
    with scripted_store(tmp_path, script, retry_limit=0) as store:
        position = store.append(EVENTS)
        assert [e.position for e in store.read()] == [position]


def test_an_unknown_result_that_did_not_happen_says_so(tmp_path: Path) -> None:
    script = in_turn(Fault.UNKNOWN_RESULT_NOT_APPLIED)
    with scripted_store(tmp_path, script, retry_limit=0) as store:
        with pytest.raises(NotCommitted, match="the append did not happen") as raised:
            store.append(EVENTS)
        assert isinstance(raised.value.__cause__, CommitUnknownResult)
        assert list(store.read()) == []
        store.append(EVENTS)  # "safe to append again": once
        assert len(list(store.read())) == 1


def test_an_append_that_timed_out_without_happening_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(append_module, "APPEND_TIMEOUT_SECONDS", 0.2)
    conflicts_until = time.monotonic() + 0.4  # every commit conflicts until the append gave up
    script: Callable[[], Fault | None] = lambda: (  # noqa: E731
        Fault.NOT_COMMITTED if time.monotonic() < conflicts_until else None
    )
    with scripted_store(tmp_path, script, retry_limit=None) as store:
        with pytest.raises(TransactionTimedOut, match="the append did not happen"):
            store.append(EVENTS)
        assert list(store.read()) == []


def test_an_outcome_that_cannot_be_looked_up_stays_unknown_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(append_module, "SETTLE_TIMEOUT_SECONDS", 0.2)
    with scripted_store(tmp_path, lambda: Fault.UNKNOWN_RESULT_NOT_APPLIED, retry_limit=0) as store:
        with pytest.raises(CommitUnknownResult, match="could not be found out"):
            store.append(EVENTS)


def test_appends_under_every_fault_are_definite_and_exactly_once(tmp_path: Path) -> None:
    """A quarter of commits fail, timeouts that applied among them, with one retry each: every
    append that returns is in the log once at its position, every one that fails is absent,
    and none is left unknown."""
    url = f"embedded://{tmp_path}/store?durability=none&faults=0.25&fault_seed=11"
    with open_store(url, retry=RetryPolicy(retry_limit=1, initial_backoff=0.001)) as store:
        succeeded, failed = {}, {}
        for n in range(200):
            try:
                succeeded[n] = store.append(batch(n))
            except FDBError as error:
                assert not isinstance(error, CommitUnknownResult), error
                failed[n] = error
        assert failed, "one retry at a 25% fault rate should leave some appends failed"
        check_log(store, succeeded, failed)
        faults = store.database.faults  # type: ignore[attr-defined]
        assert Fault.TIMED_OUT_APPLIED in faults.kinds
