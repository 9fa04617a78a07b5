"""The projector: applies a projection's events to one generation's read model, in batches.

Each batch is one engine transaction that reads the generation's checkpoint, reads the next
events after it, runs the handlers over a :class:`~.documents.Documents` unit of work, writes
the changed documents and moves the checkpoint. The checkpoint is read with a conflict range, so
of two batches from the same point only one commits, and a batch that is killed, or whose commit
is unknown (FDB's retry loop runs it again), either moved the checkpoint with its documents or
did neither: every event's effect happens exactly once.

When a batch reaches the head it sets the checkpoint to the head it read (so a projection that
handles none of the latest events still shows it has seen them, which read-your-writes relies
on), and a building generation that reaches the head takes over reads in the same transaction.
A handler that raises stops the generation: the error, its traceback and the event's position
are recorded, and the next runner start (or ``skip_projection_event``) tries again.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from fairway_django.dcb import DcbStore, SequencedEvent
from fairway_django.engine import Transaction

from .batches import BatchTask, handler_failed
from .codec import decode
from .documents import Documents
from .errors import FairwayError
from .events import Event
from .generations import Failure, Generation, Generations
from .keyspace import keyspace_of
from .leases import Lease, process_owner
from .projections import Projection
from .query import select
from .tasks import Step, run_to_head


def lease_name(projection: str, generation: int) -> str:
    """The name of the lease under which one process at a time runs a generation."""
    return f"projection:{projection}@{generation}"


class ProjectionTask(BatchTask):
    """Keeps generation ``generation`` of ``projection`` up to date in ``store``."""

    def __init__(
        self, projection: type[Projection], generation: Generation, store: DcbStore
    ) -> None:
        self.projection = projection
        self.generation = generation.number
        self.store = store
        self.generations = Generations(store, projection.slice_name)
        self.name = f"{projection.slice_name}@{generation.number}"
        self.lease_name = lease_name(projection.slice_name, generation.number)
        self.query = select(*projection.handled_events())
        self.document_keys = self.generations.document_keys(
            generation.number, projection.__qualname__, dict(projection.lookups)
        )
        self.batch_size = projection.batch_size

    def record_failure(self, tr: Transaction, failure: Failure) -> None:
        self.generations.record_failure(tr, self.generation, failure)

    def batch(self, tr: Transaction, lease: Lease, limit: int) -> Step:
        if not lease.take(tr):
            return Step(0, None, caught_up=False, lost_lease=True)
        generations = self.generations
        generation = generations.catalog(tr.snapshot).find(self.generation)
        if generation is None or generation.state == "retired":
            return Step(0, None, caught_up=False, finished=True)
        checkpoint = generations.checkpoint(tr, self.generation)  # conflicts: exactly once
        tr.disable_read_cache()  # catching up reads the log once: keep no pages for it
        events = list(self.store.read(
            self.query.dcb, after=checkpoint, limit=limit, transaction=tr
        ))
        documents = Documents(tr, self.document_keys)
        projection = self.projection()
        classes = self.query.classes
        for applied, sequenced in enumerate(events):
            _apply(projection, documents, sequenced, classes, applied)
        documents.flush()
        caught_up = len(events) < limit
        position = events[-1].position if events else checkpoint
        if caught_up:
            head = self.store.head(transaction=tr)
            position = head if head is not None else position
        if position != checkpoint and position is not None:
            tr.set(generations.checkpoint_key(self.generation), position.raw)
        if events and tr.snapshot.get(generations.failure_key(self.generation)) is not None:
            tr.clear(generations.failure_key(self.generation))  # fixed: applies again
        if caught_up and generation.state == "building":
            generations.switch(tr, self.generation)
        return Step(len(events), position, caught_up)


def _apply(
    projection: Projection, documents: Documents, sequenced: SequencedEvent,
    classes: Mapping[str, type[Event]], applied: int,
) -> None:
    """Run the handler of one stored event; any error becomes HandlerFailed, naming the event."""
    try:
        event = decode(sequenced, classes).event
        getattr(projection, projection.handlers[type(event)])(documents, event)
    except Exception as error:
        raise handler_failed(sequenced, error, applied) from error


class ProjectionFailed(FairwayError):
    """A projection's handler raised (or its event did not decode); ``failure`` says where."""

    code = "projection_failed"

    def __init__(self, failure: Failure) -> None:
        super().__init__(
            f"the handler of the {failure.event_type} event at {failure.position} failed: "
            f"{failure.error}"
        )
        self.failure = failure


class ProjectionBusy(FairwayError):
    """Another process holds the projection's lease (a running run_projectors)."""

    code = "projection_busy"


#: The lease catch_up holds: long, since it gives the lease back as soon as it is done.
CATCH_UP_LEASE_SECONDS = 30.0


def catch_up(projection: type[Projection], store: DcbStore) -> int:
    """Apply, in this thread, every event up to the head to the projection's current
    generations, as ``run_projectors --once`` does; return how many events were applied.

    For tests, scripts and one-off jobs. Raises ProjectionFailed when a handler raises (the
    failure is recorded, as the runner records it) and ProjectionBusy when a runner holds the
    projection.
    """
    generations = Generations(store, projection.slice_name)
    database = store.database
    current = database.transact(lambda tr: generations.prepare(tr, projection.version))
    owner = process_owner()
    done = 0
    for generation in current:
        task = ProjectionTask(projection, generation, store)
        lease = Lease(keyspace_of(store).lease(task.lease_name), owner, CATCH_UP_LEASE_SECONDS)
        step = run_to_head(task, database, lease)
        done += step.done
        if step.lost_lease:
            raise ProjectionBusy(f"{task.name} is being run by another process")
        if step.failed:
            failure = database.transact(partial(_failure_of, generations, generation.number))
            assert failure is not None
            raise ProjectionFailed(failure)
    return done


def _failure_of(generations: Generations, number: int, tr: Transaction) -> Failure | None:
    return generations.failure(tr, number)
