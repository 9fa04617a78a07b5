"""The tracking reader a command decides with: typed reads of one snapshot of the log.

On its first read the reader starts one engine transaction and reads the store's head H in
it; every read then runs in that transaction, so all of a decision's reads see the log as it
was at one moment (and cost one round trip to start, not one each). Each read's query is
remembered, and ``condition()`` is "no event matching any of them after H": the append fails if
anything the decision read, or would have read, changed since.

Using the highest position each read *saw* instead would be unsafe: an event matching the first
query may commit between two reads, at a position below one the second read returns.
The transaction is only ever read from and is cancelled by ``close()``; the engine's
five-second window bounds a decision's reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar, overload

from fairway_django.dcb import AppendCondition, DcbStore, Position, Query, QueryItem, SequencedEvent
from fairway_django.engine import Transaction

from .codec import Recorded, decode
from .events import Event
from .query import EventQuery, select

E1 = TypeVar("E1", bound=Event)
E2 = TypeVar("E2", bound=Event)
E3 = TypeVar("E3", bound=Event)


class Reader:
    """``read(*classes, **tags)`` and friends, all at one cut; see the module docstring."""

    def __init__(self, store: DcbStore) -> None:
        self.store = store
        self._snapshot: tuple[Transaction, Position | None] | None = None
        self._items: dict[QueryItem, None] = {}  # every item read, in order, without repeats

    # The overloads type a read of two or three classes as their union, not their common base.
    @overload
    def __call__(self, c1: type[E1], /, **tags: str | int) -> list[E1]: ...
    @overload
    def __call__(self, c1: type[E1], c2: type[E2], /, **tags: str | int) -> list[E1 | E2]: ...
    @overload
    def __call__(
        self, c1: type[E1], c2: type[E2], c3: type[E3], /, **tags: str | int
    ) -> list[E1 | E2 | E3]: ...
    @overload
    def __call__(self, /, *classes: type[Event], **tags: str | int) -> list[Event]: ...

    def __call__(self, /, *classes: type[Event], **tags: str | int) -> list[Any]:
        """The events of ``classes`` carrying the tags ``tags`` names, in position order."""
        return [recorded.event for recorded in self.query(select(*classes, **tags))]

    def recorded(self, *classes: type[Event], **tags: str | int) -> list[Recorded]:
        """As calling the reader, with each event's position, version, time and metadata."""
        return self.query(select(*classes, **tags))

    def query(self, q: EventQuery) -> list[Recorded]:
        """The events ``q`` matches, in position order."""
        return [decode(sequenced, q.classes) for sequenced in self._forward(q)]

    @overload
    def last(self, c1: type[E1], /, **tags: str | int) -> E1 | None: ...
    @overload
    def last(self, c1: type[E1], c2: type[E2], /, **tags: str | int) -> E1 | E2 | None: ...
    @overload
    def last(
        self, c1: type[E1], c2: type[E2], c3: type[E3], /, **tags: str | int
    ) -> E1 | E2 | E3 | None: ...
    @overload
    def last(self, /, *classes: type[Event], **tags: str | int) -> Event | None: ...

    def last(self, /, *classes: type[Event], **tags: str | int) -> Any:
        """The newest matching event, or None: one backward read of one event."""
        q = self._track(select(*classes, **tags))
        for sequenced in self._read(q, limit=1, backwards=True):
            return decode(sequenced, q.classes).event
        return None

    def exists(self, *classes: type[Event], **tags: str | int) -> bool:
        """Whether any matching event exists: one read of one event."""
        q = self._track(select(*classes, **tags))
        return any(True for _ in self._read(q, limit=1))

    @property
    def head(self) -> Position | None:
        """The cut: the store's head when this reader first read (None: the log was empty)."""
        return self._transaction()[1]

    def close(self) -> None:
        """Let the engine go of the snapshot (the reader cannot read after this)."""
        if self._snapshot is not None:
            self._snapshot[0].cancel()

    def condition(self) -> AppendCondition | None:
        """No event matching what was read may exist after the cut; None if nothing was read."""
        if not self._items:
            return None
        return AppendCondition(Query(self._items), after=self.head)

    def _track(self, q: EventQuery) -> EventQuery:
        self._items.update(dict.fromkeys(q.dcb.items))
        return q

    def _forward(self, q: EventQuery) -> Iterator[SequencedEvent]:
        self._track(q)
        return self._read(q)

    def _read(self, q: EventQuery, **options: Any) -> Iterator[SequencedEvent]:
        return self.store.read(q.dcb, transaction=self._transaction()[0], **options)

    def _transaction(self) -> tuple[Transaction, Position | None]:
        """The snapshot every read shares, and the head it shows: started on first use."""
        if self._snapshot is None:
            tr = self.store.database.create_transaction()
            self._snapshot = (tr, self.store.head(transaction=tr))
        return self._snapshot
