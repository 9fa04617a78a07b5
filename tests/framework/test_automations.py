"""Automations, the watcher's side: each handled event becomes exactly one queued job (also when
commits fail and when watchers race), a handler that fails stops the watcher at its event, and
a job the queue cannot hold is refused, saying why. On the real embedded engine.

The workers' side is in test_automation_workers.py, worker processes in
test_automation_processes.py.
"""

from __future__ import annotations

import math
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from fairway_django.dcb import DcbStore
from fairway_django.framework import on
from fairway_django.framework.automations import (
    Automation, InvalidJob, Job, RunningJob, encoded_data, shortened,
)
from fairway_django.framework.jobs import JobQueue, QueuedJob
from fairway_django.framework.keyspace import keyspace_of
from fairway_django.framework.leases import Lease
from fairway_django.framework.watcher import AutomationWatcher

from .automation_worker import JOURNAL, Chores, Requested, SmallBatches, enqueue, positions, request


@pytest.fixture(autouse=True)
def journal_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "journal"
    monkeypatch.setenv(JOURNAL, str(path))
    return path


def queued(queue: JobQueue) -> list[QueuedJob]:
    """Every job in the queue, page by page."""
    found: list[QueuedJob] = []
    while page := queue.jobs(after=found[-1].position if found else None, limit=13):
        found.extend(page)
    return found


def assert_first_of_each_key_is_due(jobs: list[QueuedJob]) -> None:
    """The queue's invariant: the first job of each key has a due time, the others none."""
    seen: set[str] = set()
    for job in jobs:
        assert (job.due_ms is not None) == (job.key not in seen), job
        seen.add(job.key)


def test_each_handled_event_becomes_one_job_in_its_keys_queue(store: DcbStore) -> None:
    request(store, ("a", 0, "ok"), ("b", 1, "ok"), ("a", 2, "skip"), ("a", 3, "ok"))
    assert enqueue(Chores, store) == "caught_up"
    queue = JobQueue(store, Chores)
    jobs = queued(queue)
    assert [job.position for job in jobs] == positions(store, "ok")
    assert [job.key for job in jobs] == ["a", "b", "a"]
    assert_first_of_each_key_is_due(jobs)
    stats = queue.stats()
    assert (stats.queued, stats.dead, stats.leased, stats.failure) == (3, 0, [], None)
    assert stats.cursor == store.head()  # the skipped event at the end is seen too: no lag
    request(store, ("c", 4, "skip"))
    assert enqueue(Chores, store) == "caught_up"
    assert queue.stats().cursor == store.head()
    assert len(queued(queue)) == 3


def test_each_event_makes_one_job_when_commits_fail(faulty_store: DcbStore) -> None:
    """A fifth of the commits fail, some after being applied: the cursor read in each batch says
    whether it happened, so no job is lost or queued twice."""
    for round_ in range(8):
        request(faulty_store, *[
            (f"k{n % 5}", n, "skip" if n % 4 == 3 else "ok")
            for n in range(round_ * 30, (round_ + 1) * 30)
        ])
        assert enqueue(SmallBatches, faulty_store) == "caught_up"
    queue = JobQueue(faulty_store, SmallBatches)
    jobs = queued(queue)
    assert [job.position for job in jobs] == positions(faulty_store, "ok")
    assert_first_of_each_key_is_due(jobs)
    assert queue.stats().queued == len(jobs) == 180
    assert queue.stats().cursor == faulty_store.head()


@pytest.mark.parametrize("shared_lease", [True, False], ids=["one lease", "broken lease"])
def test_racing_watchers_queue_each_job_once(faulty_store: DcbStore, shared_lease: bool) -> None:
    """Two watchers whose leases expire at once take the work from each other all the time,
    while events arrive and commits fail. Even with a lease each (as if their clocks disagreed
    wildly), the cursor's conflict range keeps them from queueing a job twice."""
    name = AutomationWatcher(SmallBatches, faulty_store).lease_name
    appended = threading.Event()
    errors: list[BaseException] = []

    def watch(owner: str) -> None:
        watcher = AutomationWatcher(SmallBatches, faulty_store)
        lease_name = name if shared_lease else f"{name}-{owner}"
        lease = Lease(keyspace_of(faulty_store).lease(lease_name), owner, 0.001)
        try:
            while True:
                done = appended.is_set()
                step = watcher.step(lease)
                if step.change is not None:
                    step.change.cancel()
                if done and step.caught_up:
                    return
        except BaseException as error:
            errors.append(error)

    watchers = [threading.Thread(target=watch, args=(f"w{i}",)) for i in range(2)]
    for thread in watchers:
        thread.start()
    for start in range(0, 200, 10):
        request(faulty_store, *[(f"k{n % 7}", n, "ok") for n in range(start, start + 10)])
    appended.set()
    for thread in watchers:
        thread.join(120)
    assert not errors
    assert not any(thread.is_alive() for thread in watchers)
    queue = JobQueue(faulty_store, SmallBatches)
    jobs = queued(queue)
    assert [job.position for job in jobs] == positions(faulty_store)
    assert_first_of_each_key_is_due(jobs)
    assert queue.stats().queued == 200


def test_a_failing_handler_stops_the_watcher_at_its_event(store: DcbStore) -> None:
    request(store, ("a", 0, "ok"), ("a", 1, "ok"), ("b", 2, "handler_error"), ("b", 3, "ok"))
    failing = positions(store, "handler_error")[0]
    assert enqueue(Chores, store) == "failed"
    queue = JobQueue(store, Chores)
    assert [job.position for job in queued(queue)] == positions(store)[:2]  # those before it
    stats = queue.stats()
    assert stats.cursor == positions(store)[1]
    assert stats.failure is not None
    assert (stats.failure.position, stats.failure.event_type) == (str(failing), "Requested")
    assert stats.failure.error == "LookupError: no such thing as 2"
    assert "in requested" in stats.failure.traceback
    assert enqueue(Chores, store) == "failed"  # tried again, fails again, nothing doubled
    assert len(queued(queue)) == 2
    skipped = queue.skip_failed_event()
    assert skipped is not None and skipped.position == str(failing)
    assert queue.skip_failed_event() is None
    assert enqueue(Chores, store) == "caught_up"
    assert [job.position for job in queued(queue)] == positions(store, "ok")
    assert queue.stats().failure is None


@pytest.mark.parametrize(("behaviour", "reason"), [
    ("bad_data", "job data['when'] is a datetime, not JSON"),
    ("huge", "job data is 70,011 bytes of JSON, over the 64,000 a job may hold"),
])
def test_a_job_the_queue_cannot_hold_is_refused_naming_automation_and_event(
    store: DcbStore, behaviour: str, reason: str
) -> None:
    request(store, ("a", 0, "ok"), ("a", 1, behaviour))
    assert enqueue(Chores, store) == "failed"
    failure = JobQueue(store, Chores).stats().failure
    assert failure is not None
    bad = positions(store, behaviour)[0]
    assert failure.error.startswith(
        f"InvalidJob: chores: the job for the Requested event at {bad}: {reason}"
    )
    assert len(queued(JobQueue(store, Chores))) == 1


#: (key, data, what is wrong): typed Any, since they are wrong on purpose.
NOT_JOBS: list[tuple[Any, Any, str]] = [
    ("", {}, "a job's key is a non-empty str, not ''"),
    (7, {}, "a job's key is a non-empty str, not 7"),
    ("k" * 1001, {}, "a job's key is at most 1000 bytes"),
    ("k", [1], "a job's data is a mapping, not list"),
    ("k", {"x": math.nan}, "job data['x'] is nan, which JSON cannot hold"),
    ("k", {"x": {1: "a"}}, "job data['x'] has the key 1: JSON keys are str"),
    ("k", {"x": [1, {2, 3}]}, "job data['x'][1] is a set, not JSON"),
    ("k", {"x": datetime(2024, 1, 1)}, "job data['x'] is a datetime, not JSON"),
]


@pytest.mark.parametrize(("key", "data", "reason"), NOT_JOBS)
def test_job_data_must_be_json(key: Any, data: Any, reason: str) -> None:
    with pytest.raises(InvalidJob) as raised:
        encoded_data(Job(key, data))
    assert str(raised.value).startswith(reason)


def test_job_data_is_kept_as_json() -> None:
    data: dict[str, Any] = {"n": 1, "x": 1.5, "s": "é", "l": [None, True, (1, 2)], "d": {"a": []}}
    assert encoded_data(Job("k", data)) == (
        b'{"n":1,"x":1.5,"s":"\xc3\xa9","l":[null,true,[1,2]],"d":{"a":[]}}'
    )


def test_long_errors_and_tracebacks_are_cut_saying_so() -> None:
    traceback = "".join(f"  line {n}\n" for n in range(10_000))
    cut = shortened(traceback, 1_000, keep_end=True)
    assert len(msgspec.json.encode(cut)) <= 1_000
    assert cut.startswith("[... ") and " characters cut ...]\n" in cut
    assert cut.endswith("  line 9999\n")  # the end of a traceback says most
    error = shortened("\u00e9\x00" * 5_000, 1_000)
    assert len(msgspec.json.encode(error)) <= 1_000
    assert error.startswith("\u00e9\x00") and error.endswith(" characters cut ...]")
    assert shortened("short", 1_000) == "short"


def test_an_automation_declares_itself() -> None:
    class NotifyTeachers(Automation):
        @on(Requested)
        def requested(self, event: Requested) -> str:
            return "not a job"

        def perform(self, job: RunningJob) -> None:
            pass

    assert NotifyTeachers.slice_name == "notify_teachers"
    assert NotifyTeachers.handled_events() == (Requested,)
    with pytest.raises(InvalidJob, match=r"requested\(\) returned str, not a Job or None"):
        NotifyTeachers().job_for(Requested(key="a", number=1))
    with pytest.raises(TypeError, match="job_lease_seconds must be a positive number"):
        type("Bad", (Automation,), {"job_lease_seconds": 0})
    with pytest.raises(TypeError, match="handles no event class"):
        AutomationWatcher(Automation, None)  # type: ignore[arg-type]

