"""Automations for the tests, helpers to drive them, and a worker process that runs their jobs
(run by the tests with ``python -m tests.framework.automation_worker <store-url> <Class>``).

Each job's ``perform`` writes what it does to the journal file named by ``AUTOMATION_JOURNAL``,
one JSON line per step (start, fail, end) with the time, the process and the idempotency key,
so that tests in other processes can see every attempt. What a job does is said by the event
it comes from (``behaviour``). The process prints ``ready`` once it runs, and on SIGTERM
finishes its current job and exits.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fairway_django.dcb import DcbStore, Position
from fairway_django.framework import Backoff, Event, Tag, on
from fairway_django.framework.automations import Automation, Job, RunningJob
from fairway_django.framework.codec import decode, encode
from fairway_django.framework.keyspace import keyspace_of
from fairway_django.framework.leases import Lease, process_owner
from fairway_django.framework.stopping import Stopping
from fairway_django.framework.tasks import Outcome, run_task
from fairway_django.framework.watcher import AutomationWatcher

JOURNAL = "AUTOMATION_JOURNAL"


class Requested(Event):
    key: Annotated[str, Tag]
    number: int
    behaviour: str = "ok"
    seconds: float = 0.0


@dataclass(frozen=True)
class Steady(Backoff):
    """Waits ``initial * attempt`` seconds, without jitter, so that tests can time it."""

    def delay(self, attempt: int) -> float:
        return min(self.maximum, self.initial * attempt)


class Chores(Automation):
    """Makes a job of each Requested event; ``behaviour`` says what the handler and the job do."""

    retry = Steady(attempts=3, initial=0.05, maximum=10.0)
    job_lease_seconds = 2.0

    @on(Requested)
    def requested(self, event: Requested) -> Job | None:
        if event.behaviour == "skip":
            return None
        if event.behaviour == "handler_error":
            raise LookupError(f"no such thing as {event.number}")
        if event.behaviour == "bad_data":
            when: Any = datetime(2024, 1, 1)  # not JSON: the queue refuses it
            return Job(event.key, {"number": event.number, "when": when})
        if event.behaviour == "huge":
            return Job(event.key, {"blob": "x" * 70_000})
        return Job(event.key, {
            "number": event.number, "behaviour": event.behaviour, "seconds": event.seconds,
        })

    def perform(self, job: RunningJob) -> None:
        behaviour = job.data["behaviour"]
        write(job, "start")
        if _fails(behaviour, job):
            write(job, "fail")
            raise ValueError(f"job {job.data['number']} failed on attempt {job.attempt}")
        if behaviour == "hang_first" and job.attempt == 1:
            time.sleep(600)
        time.sleep(job.data["seconds"])
        write(job, "end")


def _fails(behaviour: str, job: RunningJob) -> bool:
    return (
        behaviour == "fail"
        or (behaviour == "fail_first" and job.attempt == 1)
        or (behaviour == "fail_twice" and job.attempt <= 2)
        or (behaviour == "broken_flag" and Path(os.environ[JOURNAL] + ".broken").exists())
    )


class SlowRetries(Chores):
    retry = Steady(attempts=3, initial=0.5, maximum=10.0)


class LongBackoff(Chores):
    retry = Steady(attempts=3, initial=4.0, maximum=10.0)


class ShortLease(Chores):
    job_lease_seconds = 1.0


class LongJobs(Chores):
    job_lease_seconds = 3.0


class SmallBatches(Chores):
    batch_size = 7


class Fragile(Chores):
    """Two attempts, short leases: a job whose workers keep dying is soon dead-lettered."""

    retry = Steady(attempts=2, initial=0.05, maximum=10.0)
    job_lease_seconds = 0.2


def write(job: RunningJob, step: str) -> None:
    """Append one line to the journal; one small write with O_APPEND, so lines never mix."""
    line = json.dumps({
        "step": step, "number": job.data["number"], "key": job.key, "attempt": job.attempt,
        "idempotency_key": job.idempotency_key, "pid": os.getpid(), "time": time.time(),
    })
    fd = os.open(os.environ[JOURNAL], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def journal(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def request(
    store: DcbStore, *jobs: tuple[str, int, str] | tuple[str, int, str, float]
) -> Position:
    """Append one Requested event per (key, number, behaviour[, seconds]), in one append."""
    events = [Requested(key=job[0], number=job[1], behaviour=job[2],
                        seconds=float(job[3]) if len(job) == 4 else 0.0) for job in jobs]
    return store.append([encode(event) for event in events])


def enqueue(automation: type[Automation], store: DcbStore) -> Outcome:
    """Run the automation's watcher until it has caught up (or failed), as a runner would."""
    watcher = AutomationWatcher(automation, store)
    lease = Lease(keyspace_of(store).lease(watcher.lease_name), process_owner(), 10.0)
    return run_task(watcher, store.database, lease, Stopping(), lambda *_: None, once=True)


def positions(store: DcbStore, *behaviours: str) -> list[Position]:
    """The positions of the Requested events, in order, with any of ``behaviours`` (any)."""
    found = []
    for sequenced in store.read():
        event = decode(sequenced, {"Requested": Requested}).event
        assert isinstance(event, Requested)
        if not behaviours or event.behaviour in behaviours:
            found.append(sequenced.position)
    return found


def wait_until(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    """Return once ``condition()`` is true; fail after ``timeout`` seconds, saying ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.02)


def main(url: str, automation: str) -> None:
    from fairway_django.dcb import open_store
    from fairway_django.framework.workers import JobWorker

    stopping = Stopping()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with open_store(url) as store:
        worker = JobWorker([globals()[automation]], store)
        print("ready", flush=True)
        worker.run(stopping)


if __name__ == "__main__":
    main(*sys.argv[1:])
