"""What the DCB benchmark asks of an event store, and the events it writes.

Every workload in ``bench/_dcb_workloads.py`` is written once against :class:`DcbClient`; our
embedded store and UmaDB each implement it by handing the work straight to their own client, so
a ratio between them compares the stores and not two versions of the workload. The protocol is
generic in the store's native event, query and position types: a workload builds events and
queries through the client it is given and only ever passes them back to that same client, so
nothing is converted between the two stores' types while the clock runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol, TypeVar

E = TypeVar("E")
Q = TypeVar("Q")
P = TypeVar("P")
P_co = TypeVar("P_co", covariant=True)

#: Event types cycle through these by event index.
TYPES = ("A", "B", "C", "D")
#: Every event carries this many bytes of data.
DATA_SIZE = 128
#: Tenants tagged on every event (``tenant:<i mod TENANTS>``).
TENANTS = 10


class Recorded(Protocol[P_co]):
    """A read event as both stores hand it out: the workloads only need its position."""

    @property
    def position(self) -> P_co: ...


class DcbClient(Protocol[E, Q, P]):
    """The operations the workloads use; one client is shared by all of a workload's threads."""

    @property
    def conflict(self) -> type[Exception]:
        """The exception ``append`` raises when its condition's query matches a later event."""
        ...

    def event(self, type_: str, data: bytes, tags: Sequence[str]) -> E: ...

    def query(self, types: Sequence[str] = (), tags: Sequence[str] = ()) -> Q:
        """A query of one item: any of ``types`` (or any type) and all of ``tags``."""
        ...

    def append(self, events: Sequence[E], fail_if: Q | None = None, after: P | None = None) -> P:
        """Append atomically; with ``fail_if``, fail if it matches an event after ``after``."""
        ...

    def read(self, query: Q) -> Iterator[Recorded[P]]: ...

    def fields(self, recorded: Any) -> tuple[object, ...]:
        """What a consumer reads of an event it was given: position, type, data and tags."""
        ...

    def close(self) -> None: ...


@dataclasses.dataclass(frozen=True)
class StoreSpec:
    """A contender: its label and how to open a fresh one in an empty directory."""

    label: str
    open: Callable[[Path], AbstractContextManager[DcbClient[Any, Any, Any]]]


# --- the events -------------------------------------------------------------------------------


def data(i: int) -> bytes:
    """128 bytes that differ per event, so no layer can share one buffer between events."""
    return (b"event %010d " % i).ljust(DATA_SIZE, b".")


def event_type(i: int) -> str:
    return TYPES[i % len(TYPES)]


def entity_tag(entity: int | str) -> str:
    return f"entity:{entity}"


def tenant_tag(entity: int) -> str:
    return f"tenant:{entity % TENANTS}"


def event_tags(i: int, entities: int) -> tuple[str, str]:
    """Event ``i`` belongs to entity ``i mod entities`` and tenant ``i mod 10``."""
    return entity_tag(i % entities), tenant_tag(i)


def make_events(client: DcbClient[E, Any, Any], start: int, stop: int, entities: int) -> list[E]:
    """Events ``start`` to ``stop - 1`` in the client's own type, built before any timing."""
    return [
        client.event(event_type(i), data(i), event_tags(i, entities)) for i in range(start, stop)
    ]
