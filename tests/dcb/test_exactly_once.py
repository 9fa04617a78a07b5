"""Exactly once under faults: commits fail now and then (not_committed, transaction_too_old,
commit_unknown_result whether or not it was applied), the store retries, and every append that
returns is in the log exactly once, at the position it returned. A retried conditional append
never fails on its own events."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from fairway_django.dcb import (
    AppendCondition,
    AppendConditionFailed,
    DcbStore,
    Event,
    Position,
    Query,
    QueryItem,
    SequencedEvent,
    open_store,
)
from fairway_django.engine import CommitUnknownResult, FDBError, RetryPolicy
from fairway_django.engine.embedded import Durability, EmbeddedDatabase, Fault, FaultInjection

from .support import run_threads

APPENDS = 300


def batch(n: int) -> list[Event]:
    """Append ``n``: 1 to 3 events with data unique to it."""
    tags = [f"append{n}", "x", "y"] + (["z"] if n % 2 else [])
    return [Event(("A", "B")[n % 2], f"{n}/{i}".encode(), tags) for i in range(n % 3 + 1)]


def condition_for(store: DcbStore, n: int) -> AppendCondition | None:
    """A condition nobody else's events can fail; only this append's own events could, if a
    retry after an applied commit wrote them again or re-checked without finding its id."""
    kind = n % 6
    if kind == 1:
        return AppendCondition(Query.all(), store.head())
    if kind == 3:
        return AppendCondition(Query([QueryItem(tags=[f"append{n}"])]))
    if kind == 5:
        return AppendCondition(Query([QueryItem(types=["A", "B"], tags=["x", "y", f"append{n}"])]))
    return None


def runs_by_append(log: list[SequencedEvent]) -> dict[int, list[list[SequencedEvent]]]:
    """Group the log into maximal runs of events from the same append number."""
    runs: dict[int, list[list[SequencedEvent]]] = {}
    previous = None
    for e in log:
        n, i = map(int, e.event.data.split(b"/"))
        if n != previous or i == 0:
            runs.setdefault(n, []).append([])
        runs[n][-1].append(e)
        previous = n
    return runs


def check_log(store: DcbStore, succeeded: dict[int, Position], failed: dict[int, FDBError]) -> None:
    log = list(store.read())
    runs = runs_by_append(log)
    for n, position in succeeded.items():
        assert len(runs.get(n, [])) == 1, (
            f"append {n} returned but is in the log {len(runs.get(n, []))} times"
        )
        (run,) = runs[n]
        assert [e.event for e in run] == batch(n), f"append {n} is not whole and consecutive"
        assert run[-1].position == position, (
            f"append {n} returned {position}, read back {run[-1].position}"
        )
    for n, error in failed.items():
        copies = len(runs.get(n, []))
        if isinstance(error, CommitUnknownResult):
            assert copies <= 1, f"failed append {n} is in the log {copies} times"
        else:  # a definite failure, and no earlier attempt can have been applied
            assert copies == 0, f"append {n} raised {error!r} yet is in the log"
        if copies:
            assert [e.event for e in runs[n][0]] == batch(n)
    assert set(runs) <= set(succeeded) | set(failed), "the log holds appends nobody made"
    assert store.head() == (log[-1].position if log else None)


def append_all(store: DcbStore, numbers: range) -> tuple[dict[int, Position], dict[int, FDBError]]:
    succeeded: dict[int, Position] = {}
    failed: dict[int, FDBError] = {}
    for n in numbers:
        condition = condition_for(store, n)
        try:
            succeeded[n] = store.append(batch(n), condition)
        except AppendConditionFailed as failure:
            raise AssertionError(
                f"append {n} failed a condition nobody could fail: {failure}"
            ) from None
        except FDBError as error:  # the retries ran out: allowed, but must be what it says
            failed[n] = error
    return succeeded, failed


def test_appends_are_exactly_once_under_injected_faults(faulty_store: DcbStore) -> None:
    succeeded, failed = append_all(faulty_store, range(APPENDS))
    assert len(succeeded) + len(failed) == APPENDS
    assert len(succeeded) >= APPENDS - 3  # 100 retries at a 20% fault rate: practically all
    check_log(faulty_store, succeeded, failed)


def test_appends_whose_retries_run_out_are_at_most_once(faulty_store_url: str) -> None:
    """With one retry, some appends give up; those that report a definite failure are absent,
    those that report commit_unknown_result are there once or not at all."""
    with open_store(
        faulty_store_url, retry=RetryPolicy(retry_limit=1, initial_backoff=0.001)
    ) as store:
        succeeded, failed = append_all(store, range(APPENDS))
        assert failed, "a 20% fault rate with one retry should exhaust some appends' retries"
        assert succeeded
        check_log(store, succeeded, failed)


def test_concurrent_appends_are_exactly_once_under_injected_faults(faulty_store: DcbStore) -> None:
    """Threads sharing the faulty store, each guarding its own stream with a condition at its
    last position: no condition fails, no append is lost or doubled."""
    threads, each = 4, 40
    results: list[tuple[dict[int, Position], dict[int, FDBError]]] = []

    def run(t: int) -> None:
        succeeded: dict[int, Position] = {}
        failed: dict[int, FDBError] = {}
        last: Position | None = None
        for k in range(each):
            n = t * 1000 + k
            condition = AppendCondition(Query([QueryItem(tags=[f"stream{t}"])]), last)
            events = [e._replace(tags=e.tags + (f"stream{t}",)) for e in batch(n)]
            try:
                last = succeeded[n] = faulty_store.append(events, condition)
            except FDBError as error:  # the outcome is unknown: re-read the stream
                failed[n] = error
                stream = list(faulty_store.read(Query([QueryItem(tags=[f"stream{t}"])])))
                last = stream[-1].position if stream else None
        results.append((succeeded, failed))

    run_threads(threads, run, timeout=100)
    log = list(faulty_store.read())
    counts = Counter(e.event.data for e in log)
    assert all(c == 1 for c in counts.values()), "an event was written twice"
    for succeeded, _ in results:
        for n, position in succeeded.items():
            copy = [e for e in log if e.event.data.startswith(f"{n}/".encode())]
            assert [e.event.data for e in copy] == [e.data for e in batch(n)]
            assert copy[-1].position == position
            start = log.index(copy[0])
            assert log[start : start + len(copy)] == copy, f"append {n} is interleaved"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_conditional_append_survives_applied_unknown_results(tmp_path: Path, seed: int) -> None:
    """Half the commits are applied but report commit_unknown_result: each retry must return
    the applied append's position, neither appending again nor failing its own condition
    (``Query.all()`` after the head it read, which its own events would match)."""
    database = EmbeddedDatabase(
        str(tmp_path / "store"),
        durability=Durability("none"),
        faults=FaultInjection(rate=0.5, seed=seed, kinds=(Fault.UNKNOWN_RESULT_APPLIED,)),
    )
    with DcbStore(database, "unknown", owns_database=True) as store:
        succeeded = {}
        for n in range(30):
            succeeded[n] = store.append(batch(n), AppendCondition(Query.all(), store.head()))
        check_log(store, succeeded, {})
