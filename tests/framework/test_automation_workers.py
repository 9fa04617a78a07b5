"""Automations, the workers' side, in threads on the real embedded engine: per-key order without
head-of-line blocking, backoff, dead letters and their replay, heartbeats, stopping, waking.

Timing is read from the journal the jobs write (see automation_worker.py); tests wait on
conditions with generous timeouts and assert only lower bounds on waits, so that a slow machine
makes them slower, not red.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from fairway_django.dcb import DcbStore
from fairway_django.framework import workers
from fairway_django.framework.automations import Automation
from fairway_django.framework.jobs import JobQueue
from fairway_django.framework.stopping import Stopping
from fairway_django.framework.workers import JobReport, JobWorker

from .automation_worker import (
    JOURNAL, Chores, Fragile, LongBackoff, LongJobs, SlowRetries, enqueue, journal, positions,
    request, wait_until,
)


@pytest.fixture(autouse=True)
def journal_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "journal"
    monkeypatch.setenv(JOURNAL, str(path))
    return path


class WatchedStopping(Stopping):
    """A Stopping that says when its worker went to sleep, and for how long at most."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeping = threading.Event()
        self.timeouts: list[float] = []

    def wait(self, timeout: float, change: Future[None] | None = None) -> bool:
        self.timeouts.append(timeout)
        self.sleeping.set()
        return super().wait(timeout, change)


@contextmanager
def running(
    store: DcbStore, automations: Sequence[type[Automation]], count: int = 1,
    stopping: Stopping | None = None, reports: list[JobReport] | None = None,
) -> Iterator[Stopping]:
    """``count`` workers in threads until the block ends."""
    stopping = stopping or Stopping()
    report = None if reports is None else reports.append
    threads = [
        threading.Thread(target=JobWorker(automations, store, report=report).run,
                         args=(stopping,), daemon=True)
        for _ in range(count)
    ]
    for thread in threads:
        thread.start()
    try:
        yield stopping
    finally:
        stopping.set()
        for thread in threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in threads)


def steps(path: Path, step: str, number: int | None = None) -> list[dict[str, Any]]:
    return [line for line in journal(path)
            if line["step"] == step and number in (None, line["number"])]


def ended(path: Path, *numbers: int) -> bool:
    return all(steps(path, "end", number) for number in numbers)


def test_jobs_of_one_key_run_one_at_a_time_in_order(store: DcbStore, journal_path: Path) -> None:
    rng = random.Random(7)
    jobs = [(f"k{n % 4}", n, "fail_first" if n % 9 == 4 else "ok", rng.uniform(0, 0.03))
            for n in range(48)]
    request(store, *jobs)
    enqueue(Chores, store)
    with running(store, [Chores], count=3):
        wait_until(lambda: ended(journal_path, *range(48)), "every job to end")
    lines = journal(journal_path)
    assert sorted(line["number"] for line in lines if line["step"] == "end") == list(range(48))
    for key in ("k0", "k1", "k2", "k3"):
        of_key = [line for line in lines if line["key"] == key]
        attempts = list(zip(of_key[::2], of_key[1::2]))
        assert len(of_key) == 2 * len(attempts)
        for start, finish in attempts:  # one at a time: each attempt ends before the next
            assert (start["step"], start["number"]) == ("start", finish["number"])
            assert finish["step"] in ("end", "fail")
        starts = [start["number"] for start, _ in attempts]
        assert starts == sorted(starts)  # in order, a retried job before the next
    assert JobQueue(store, Chores).stats().queued == 0


def test_a_job_in_backoff_holds_back_its_key_only(
    store: DcbStore, journal_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A1 fails and waits 4 s; B1, queued after it, runs meanwhile; A2 waits for A1. The worker
    sleeps until A1 falls due, not until its longest idle sleep (raised here to 120 s)."""
    monkeypatch.setattr(workers, "IDLE_SECONDS", 120.0)
    request(store, ("A", 1, "fail_first"), ("A", 2, "ok"), ("B", 3, "ok"))
    enqueue(LongBackoff, store)
    with running(store, [LongBackoff]):
        wait_until(lambda: ended(journal_path, 1, 2, 3), "every job to end")
    a1_failed = steps(journal_path, "fail", 1)[0]
    a1_retry = steps(journal_path, "start", 1)[1]
    b1_end = steps(journal_path, "end", 3)[0]
    a2_start = steps(journal_path, "start", 2)[0]
    assert b1_end["time"] < a1_retry["time"]  # B did not wait for A's backoff
    assert a1_retry["time"] - a1_failed["time"] >= 4.0 - 0.01
    assert a2_start["time"] > a1_retry["time"]


def test_retries_wait_out_their_backoff_with_one_idempotency_key(
    store: DcbStore, journal_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workers, "IDLE_SECONDS", 120.0)
    request(store, ("a", 0, "fail_twice"))
    enqueue(SlowRetries, store)
    reports: list[JobReport] = []
    with running(store, [SlowRetries], reports=reports):
        wait_until(lambda: ended(journal_path, 0), "the third attempt to end")
    fails = steps(journal_path, "fail")
    starts = steps(journal_path, "start")
    assert [line["attempt"] for line in starts] == [1, 2, 3]
    assert starts[1]["time"] - fails[0]["time"] >= 0.5 - 0.01  # SlowRetries: 0.5 s, then 1 s
    assert starts[2]["time"] - fails[1]["time"] >= 1.0 - 0.01
    key = f"slow_retries:{positions(store)[0]}"
    assert {line["idempotency_key"] for line in journal(journal_path)} == {key}
    assert [(r.attempt, r.outcome) for r in reports] == [(1, "retrying"), (2, "retrying"),
                                                         (3, "done")]
    assert reports[0].error == "ValueError: job 0 failed on attempt 1"


def test_a_job_failing_every_attempt_is_dead_lettered(store: DcbStore, journal_path: Path) -> None:
    request(store, ("k", 0, "fail"), ("k", 1, "ok"))
    enqueue(Chores, store)
    queue = JobQueue(store, Chores)
    with running(store, [Chores]):
        wait_until(lambda: ended(journal_path, 1), "the next job of the key to end")
    assert [line["attempt"] for line in steps(journal_path, "start", 0)] == [1, 2, 3]
    assert steps(journal_path, "start", 1)[0]["time"] > steps(journal_path, "fail", 0)[-1]["time"]
    dead, = queue.dead_letters()
    assert (dead.position, dead.key, dead.attempts) == (positions(store)[0], "k", 3)
    assert dead.data == {"number": 0, "behaviour": "fail", "seconds": 0.0}
    assert dead.error == "ValueError: job 0 failed on attempt 3"
    assert dead.traceback.startswith("Traceback (most recent call last)")
    assert "in perform" in dead.traceback and "ValueError: job 0" in dead.traceback
    stats = queue.stats()
    assert (stats.queued, stats.dead) == (0, 1)


def test_dead_letters_are_replayed_or_discarded(store: DcbStore, journal_path: Path) -> None:
    broken = Path(f"{journal_path}.broken")
    broken.touch()
    request(store, *[(f"k{n}", n, "broken_flag") for n in range(6)])
    enqueue(Chores, store)
    queue = JobQueue(store, Chores)
    first, second, *rest = positions(store)
    with running(store, [Chores]):
        wait_until(lambda: queue.stats().dead == 6, "six dead letters")
        broken.unlink()
        assert queue.replay(first) and not queue.replay(first)
        assert queue.discard(second) and not queue.discard(second)
        wait_until(lambda: ended(journal_path, 0), "the replayed job to end")
        assert [d.position for d in queue.dead_letters()] == rest
        assert [d.position for d in queue.dead_letters(after=rest[1], limit=1)] == [rest[2]]
        assert queue.replay_all() == 4
        wait_until(lambda: ended(journal_path, 2, 3, 4, 5), "the replayed jobs to end")
        broken.touch()
        request(store, ("x", 6, "broken_flag"), ("y", 7, "broken_flag"))
        enqueue(Chores, store)
        wait_until(lambda: queue.stats().dead == 2, "two more dead letters")
        assert queue.discard_all() == 2
    replayed = steps(journal_path, "end")
    assert sorted(line["number"] for line in replayed) == [0, 2, 3, 4, 5]
    assert all(line["attempt"] == 1 for line in replayed)  # attempts start again
    assert replayed[0]["idempotency_key"] == f"chores:{first}"  # the key it always had
    assert not steps(journal_path, "end", 1)
    stats = queue.stats()
    assert (stats.queued, stats.dead, queue.dead_letters()) == (0, 0, [])


def test_a_replayed_job_goes_to_the_end_of_its_keys_queue(
    store: DcbStore, journal_path: Path
) -> None:
    broken = Path(f"{journal_path}.broken")
    broken.touch()
    request(store, ("a", 0, "broken_flag"))
    enqueue(Chores, store)
    queue = JobQueue(store, Chores)
    with running(store, [Chores]):
        wait_until(lambda: queue.stats().dead == 1, "a dead letter")
        broken.unlink()
        request(store, ("a", 1, "ok", 1.0))
        enqueue(Chores, store)
        wait_until(lambda: steps(journal_path, "start", 1), "job 1 to start")
        assert queue.replay(positions(store)[0])
        request(store, ("a", 2, "ok"))
        enqueue(Chores, store)
        wait_until(lambda: ended(journal_path, 0, 1, 2), "every job to end")
    ends = [line["number"] for line in steps(journal_path, "end")]
    assert ends == [1, 0, 2]


def test_heartbeats_keep_a_long_job_from_being_taken(store: DcbStore, journal_path: Path) -> None:
    """LongJobs' lease is 3 s; the job takes 7 s, while another worker is waiting for work."""
    request(store, ("a", 0, "ok", 7.0))
    enqueue(LongJobs, store)
    queue = JobQueue(store, LongJobs)
    with running(store, [LongJobs], count=2):
        wait_until(lambda: steps(journal_path, "start"), "the job to start")
        wait_until(lambda: queue.stats().leased, "the job to show as leased")
        held, = queue.stats().leased
        assert held.position == positions(store)[0] and held.key == "a"
        wait_until(lambda: ended(journal_path, 0), "the job to end")
    assert [line["attempt"] for line in steps(journal_path, "start")] == [1]
    assert queue.stats().queued == 0


def test_stopping_lets_the_current_job_finish(store: DcbStore, journal_path: Path) -> None:
    request(store, ("a", 0, "ok", 1.0), ("a", 1, "ok"))
    enqueue(Chores, store)
    stopping = Stopping()
    worker = JobWorker([Chores], store)
    ran: list[int] = []
    thread = threading.Thread(target=lambda: ran.append(worker.run(stopping)))
    thread.start()
    wait_until(lambda: steps(journal_path, "start"), "the job to start")
    stopping.set()
    thread.join(60)
    assert ran == [1]
    assert ended(journal_path, 0) and not steps(journal_path, "start", 1)
    assert JobQueue(store, Chores).stats().queued == 1


def test_an_idle_worker_wakes_when_a_job_is_queued(
    store: DcbStore, journal_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workers, "IDLE_SECONDS", 120.0)
    stopping = WatchedStopping()
    with running(store, [Chores], stopping=stopping):
        assert stopping.sleeping.wait(60)
        assert stopping.timeouts == [120.0]  # nothing queued: it sleeps on its watch
        request(store, ("a", 0, "ok"))
        enqueue(Chores, store)
        wait_until(lambda: ended(journal_path, 0), "the job to end", timeout=60)


def test_a_worker_takes_its_automations_in_turn(store: DcbStore, journal_path: Path) -> None:
    request(store, *[(f"k{n}", n, "ok") for n in range(4)])
    enqueue(Chores, store)
    enqueue(SlowRetries, store)
    assert JobWorker([Chores, SlowRetries], store).run(Stopping(), once=True) == 8
    names = [line["idempotency_key"].split(":")[0] for line in steps(journal_path, "start")]
    assert names == ["chores", "slow_retries"] * 4


def test_a_job_whose_workers_keep_dying_is_dead_lettered(
    store: DcbStore, journal_path: Path
) -> None:
    """Fragile jobs run twice at most: after two workers died running one (their leases
    expired), the next worker dead-letters it instead of running it a third time."""
    request(store, ("a", 0, "ok"))
    enqueue(Fragile, store)
    queue = JobQueue(store, Fragile)
    for owner in ("dead-1", "dead-2"):
        lease = partial(queue.lease, owner=owner)
        wait_until(partial(store.database.transact, lease), f"{owner} to lease the job")
    wait_until(lambda: JobWorker([Fragile], store).run(Stopping(), once=True) == 0
               and queue.stats().dead == 1, "the job to be dead-lettered")
    dead, = queue.dead_letters()
    assert dead.attempts == 2
    assert dead.error == "attempt 2 never finished: its worker died or lost its lease"
    assert not journal(journal_path)


def test_a_worker_that_lost_its_lease_cannot_finish_the_job(store: DcbStore) -> None:
    """Fragile leases last 0.2 s: once another worker has taken the job over, the first one's
    heartbeat, completion and failure are refused, and the job stays the second one's."""
    request(store, ("a", 0, "ok"))
    enqueue(Fragile, store)
    queue = JobQueue(store, Fragile)
    transact = store.database.transact
    slow = transact(partial(queue.lease, owner="slow"))
    assert slow is not None and transact(partial(queue.heartbeat, job=slow))
    wait_until(lambda: transact(partial(queue.lease, owner="fast")), "the lease to run out")
    assert not transact(partial(queue.heartbeat, job=slow))
    assert not transact(partial(queue.complete, job=slow))
    assert not transact(partial(queue.fail, job=slow, error="late", traceback="",
                                retry_at_ms=0))
    job, = queue.jobs()
    assert (job.owner, job.attempts, job.last_error) == ("fast", 2, None)


def test_every_job_ends_when_commits_fail(faulty_store: DcbStore, journal_path: Path) -> None:
    """A fifth of the commits fail, some after being applied: a lease whose commit was lost
    shows up again when it runs out, and a failure recorded twice counts once."""
    request(faulty_store, *[(f"k{n % 6}", n, "fail_first" if n % 5 == 0 else "ok")
                            for n in range(60)])
    assert enqueue(Chores, faulty_store) == "caught_up"
    queue = JobQueue(faulty_store, Chores)
    with running(faulty_store, [Chores], count=2):
        wait_until(lambda: ended(journal_path, *range(60)) and queue.stats().queued == 0,
                   "every job to end", timeout=90)
    assert queue.jobs() == [] and queue.dead_letters() == []
    assert queue.stats().dead == 0
    for n in range(0, 60, 5):  # attempt 1 fails (or its lease was lost): never ends on it
        assert all(line["attempt"] >= 2 for line in steps(journal_path, "end", n))
