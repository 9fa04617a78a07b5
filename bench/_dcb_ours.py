"""Our embedded DCB store as a benchmark contender, through its public interface only."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

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

#: Our durability settings, as the store URL spells them; "normal" is the URL's default.
DURABILITIES = ("full", "normal")


def store_url(directory: Path, durability: str) -> str:
    """``embedded:///abs/dir`` for the default durability, else with ``?durability=``."""
    url = f"embedded://{directory.resolve()}"
    return url if durability == "normal" else f"{url}?durability={durability}"


class OursClient:
    """Our store behind :class:`bench._dcb_api.DcbClient`: each call is one store call."""

    def __init__(self, url: str) -> None:
        self.store: DcbStore = open_store(url)

    @property
    def conflict(self) -> type[Exception]:
        return AppendConditionFailed

    def event(self, type_: str, data: bytes, tags: Sequence[str]) -> Event:
        return Event(type_, data, tags)

    def query(self, types: Sequence[str] = (), tags: Sequence[str] = ()) -> Query:
        return Query([QueryItem(types=types, tags=tags)])

    def append(
        self, events: Sequence[Event], fail_if: Query | None = None, after: Position | None = None
    ) -> Position:
        condition = None if fail_if is None else AppendCondition(fail_if, after)
        return self.store.append(events, condition)

    def read(self, query: Query) -> Iterator[SequencedEvent]:
        return self.store.read(query)

    def fields(self, recorded: SequencedEvent) -> tuple[object, ...]:
        event = recorded.event
        return recorded.position, event.type, event.data, event.tags

    def close(self) -> None:
        self.store.close()


@contextmanager
def ours_store(directory: Path, durability: str) -> Iterator[OursClient]:
    """A fresh store of ours in ``directory`` (which the store creates if it must)."""
    client = OursClient(store_url(directory, durability))
    try:
        yield client
    finally:
        client.close()
