"""A tally per key: a projection whose handler can be slowed down (``RUNNERS_HANDLER_DELAY``
seconds per event), so a test can signal or kill a runner in the middle of a batch; and an
automation whose jobs can be slowed down or made to fail the same way."""

from __future__ import annotations

import os
import time
from typing import Annotated

from fairway_django.framework import (
    Automation, Backoff, Command, Documents, Event, Job, Projection, Reader, RunningJob, Tag, on,
    run_command,
)

DELAY = float(os.environ.get("RUNNERS_HANDLER_DELAY", "0"))


class Counted(Event):
    key: Annotated[str, Tag]
    amount: int


class Tally(Projection):
    lookups = {"parity": str}
    batch_size = 100

    @on(Counted)
    def counted(self, docs: Documents, event: Counted) -> None:
        if DELAY:
            time.sleep(DELAY)
        tally = docs.get(event.key) or {"total": 0, "count": 0}
        total = tally["total"] + event.amount
        docs.put(event.key, {
            "total": total, "count": tally["count"] + 1,
            "parity": "even" if total % 2 == 0 else "odd",
        })


class Done(Event):
    """What the Echo automation's job appends: the outcome of a side effect."""

    key: Annotated[str, Tag]


class RecordDone(Command):
    def decide(self, read: Reader, key: str) -> Done:
        return Done(key=key)


class Echo(Automation):
    """A job per Counted event whose key starts with "job": it waits ``RUNNERS_JOB_DELAY``
    seconds (a slow side effect), fails when ``RUNNERS_JOB_FAIL`` is set, else appends Done
    under the job's idempotency key."""

    retry = Backoff(attempts=2, initial=0.05, maximum=0.1)
    job_lease_seconds = 1.0

    @on(Counted)
    def counted(self, event: Counted) -> Job | None:
        return Job(event.key, {"key": event.key}) if event.key.startswith("job") else None

    def perform(self, job: RunningJob) -> None:
        time.sleep(float(os.environ.get("RUNNERS_JOB_DELAY", "0")))
        if os.environ.get("RUNNERS_JOB_FAIL"):
            raise RuntimeError(f"job {job.key} failed on purpose")
        run_command(RecordDone, {"key": job.data["key"]}, store=job.store,
                    idempotency_key=job.idempotency_key)
