"""Automations: the "todo list" pattern, events in, side effects out, each at least once.

An automation watches events and turns each one it handles into a job (``@on`` methods return
a :class:`Job`, or None for none); workers then run :meth:`Automation.perform` on every job,
retrying with backoff and moving a job that keeps failing to a dead-letter queue that an
operator can replay or discard. Handlers only decide (they may run more than once, inside the
watcher's transaction); the side effect belongs in ``perform``. A job runs at least once, so
``perform`` gets an idempotency key that stays the same across attempts and replays: pass it to
whatever the side effect calls (a payment API, ``run_command(..., idempotency_key=...)``).

Jobs with the same ``key`` run one after another in event order; a job waiting out its backoff
holds back only the jobs of its own key. See :mod:`.jobs` for how the queue is kept and
:mod:`.watcher` and :mod:`.workers` for who runs what.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, Union

import msgspec

from .commands import Backoff
from .errors import FairwayError
from .events import Event
from .handlers import HandlesEvents

if TYPE_CHECKING:
    from fairway_django.dcb import DcbStore, Position

    from .generations import Failure

#: What job data may hold: JSON, so a job means the same to every worker on every machine.
JSON: TypeAlias = Union[None, bool, int, float, str, Sequence["JSON"], Mapping[str, "JSON"]]

#: Largest job key, in UTF-8 bytes (it is part of engine keys).
MAX_KEY_BYTES = 1_000
#: Largest job data, in bytes of JSON, so that a job and its dead letter fit an engine value.
MAX_DATA_BYTES = 64_000
#: Longest error and traceback kept, in bytes of JSON (the rest is cut, and the text says so).
MAX_ERROR_BYTES = 4_000
MAX_TRACEBACK_BYTES = 16_000


class InvalidJob(FairwayError, ValueError):
    """A handler returned a job the queue cannot hold (not JSON, too big, a bad key)."""

    code = "invalid_job"


@dataclass(frozen=True)
class Job:
    """What a handler asks for: run ``perform`` once with ``data``, in order with every other
    job of the same ``key`` (a course id, a customer id: what must not happen out of order)."""

    key: str
    data: Mapping[str, JSON]


@dataclass(frozen=True)
class RunningJob:
    """The job ``perform`` is given, and where it stands."""

    key: str
    data: Mapping[str, Any]
    #: The same on every attempt and replay of this job: make the side effect idempotent by it.
    idempotency_key: str
    #: 1 on the first run, 2 on the first retry...
    attempt: int
    #: The position of the event the job was made from.
    position: Position
    store: DcbStore


class Automation(HandlesEvents):
    """Base of automations. Add ``@on(EventClass)`` methods ``(self, event) -> Job | None`` and
    override ``perform``.

    Example::

        class WelcomeStudents(Automation):
            @on(StudentRegistered)
            def registered(self, event):
                return Job(event.student_id, {"email": event.email})

            def perform(self, job):
                mailer.send(job.data["email"], "Welcome!", idempotency_key=job.idempotency_key)

    ``retry.attempts`` is how many times a job runs before it is dead-lettered; the waits
    between them follow ``retry`` (exponential, with full jitter). A worker holds a job for
    ``job_lease_seconds`` and renews that while ``perform`` runs; if the worker dies, another
    one runs the job again once the lease has expired.
    """

    #: How often and how patiently to retry a job that raised.
    retry: ClassVar[Backoff] = Backoff(attempts=5, initial=1.0, maximum=300.0)
    #: How long a dead worker's job waits before another worker runs it again.
    job_lease_seconds: ClassVar[float] = 30.0
    #: Events per watcher transaction.
    batch_size: ClassVar[int] = 500
    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not (isinstance(cls.job_lease_seconds, (int, float)) and cls.job_lease_seconds > 0):
            raise TypeError(
                f"{cls.__qualname__}.job_lease_seconds must be a positive number of seconds, "
                f"not {cls.job_lease_seconds!r}"
            )
        if not isinstance(cls.retry, Backoff):
            raise TypeError(f"{cls.__qualname__}.retry must be a Backoff, not {cls.retry!r}")

    def job_for(self, event: Event) -> Job | None:
        """The job the handler of ``event``'s class asks for (None: none)."""
        job = getattr(self, self.handlers[type(event)])(event)
        if job is not None and not isinstance(job, Job):
            raise InvalidJob(
                f"{type(self).__qualname__}.{self.handlers[type(event)]}() returned "
                f"{type(job).__name__}, not a Job or None"
            )
        return job

    def perform(self, job: RunningJob) -> None:
        """Do the job's side effect; raise to have it retried (or dead-lettered)."""
        raise NotImplementedError(f"{type(self).__qualname__} must define perform(self, job)")


def encoded_data(job: Job) -> bytes:
    """``job``'s data as the queue keeps it (JSON); InvalidJob, saying what is wrong, when the
    queue cannot hold the job."""
    if not isinstance(job.key, str) or not job.key:
        raise InvalidJob(f"a job's key is a non-empty str, not {job.key!r}")
    if len(job.key.encode()) > MAX_KEY_BYTES:
        raise InvalidJob(f"a job's key is at most {MAX_KEY_BYTES} bytes, not {job.key[:40]!r}...")
    if not isinstance(job.data, Mapping):
        raise InvalidJob(f"a job's data is a mapping, not {type(job.data).__name__}")
    _check_json(job.data, "data")
    data = msgspec.json.encode(job.data)
    if len(data) > MAX_DATA_BYTES:
        raise InvalidJob(
            f"job data is {len(data):,} bytes of JSON, over the {MAX_DATA_BYTES:,} a job may "
            "hold: keep big payloads elsewhere and pass a reference"
        )
    return data


def _check_json(value: object, path: str) -> None:
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidJob(f"job {path} is {value!r}, which JSON cannot hold")
        return
    if isinstance(value, Mapping):
        for name, item in value.items():
            if not isinstance(name, str):
                raise InvalidJob(f"job {path} has the key {name!r}: JSON keys are str")
            _check_json(item, f"{path}[{name!r}]")
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_json(item, f"{path}[{index}]")
        return
    raise InvalidJob(
        f"job {path} is a {type(value).__name__}, not JSON (None, bool, int, float, str, "
        "list, or dict with str keys): convert it in the handler"
    )


def shortened(text: str, limit: int, *, keep_end: bool = False) -> str:
    """``text`` if its JSON takes at most ``limit`` bytes, else its start (or end) with a note
    that says how much was cut: nothing is cut silently."""
    size = len(msgspec.json.encode(text))
    keep = len(text) * limit // max(size, 1)
    while size > limit:
        keep = keep * 9 // 10
        note = f"[... {len(text) - keep:,} characters cut ...]"
        cut = f"{note}\n{text[len(text) - keep:]}" if keep_end else f"{text[:keep]}\n{note}"
        if len(msgspec.json.encode(cut)) <= limit:
            return cut
    return text


# -- what status and the admin see of an automation's queue (see JobQueue) ------------------


@dataclass(frozen=True)
class DeadLetter:
    """A job that failed its last attempt: its data, how it failed, and when."""

    position: Position
    key: str
    data: Any
    attempts: int
    error: str
    traceback: str
    failed_ms: int


@dataclass(frozen=True)
class QueuedJob:
    """A job in the queue, waiting, leased or backing off."""

    position: Position
    key: str
    attempts: int
    #: None while it waits behind its key's first job.
    due_ms: int | None
    owner: str | None
    last_error: str | None


@dataclass(frozen=True)
class HeldJob:
    """A job a worker holds: ``owner``'s lease runs until ``expires_ms``."""

    position: Position
    key: str
    owner: str
    expires_ms: int


@dataclass(frozen=True)
class QueueStats:
    """How an automation stands, for status."""

    #: The last position the watcher has turned into jobs.
    cursor: Position | None
    #: Jobs waiting, leased or backing off; and jobs in the dead-letter queue.
    queued: int
    dead: int
    #: Jobs leased by a worker now (at most LEASED_LISTED).
    leased: list[HeldJob]
    #: Why the watcher stopped, while it is stopped.
    failure: Failure | None
