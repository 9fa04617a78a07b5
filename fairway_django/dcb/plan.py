"""Which key ranges answer a query: the one place that knows how queries map onto indexes.

Each query item becomes one scan per type it names (or one scan when it names none) over the
index that holds exactly its events. An item with more tags than the indexes combine reads the
index of its first tags and keeps the events that carry the rest. An item matching everything
makes the whole query a scan of the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .events import Event
from .keyspace import VERSIONSTAMP_CODE, DcbKeyspace
from .limits import EXACT_TAG_COMBINATION
from .query import Query


@dataclass(frozen=True, slots=True)
class Scan:
    """One index, and the tags its events must also carry (empty when the index is exact)."""

    prefix: bytes
    also_tags: frozenset[str] = frozenset()

    def bounds(self, after: bytes | None, backwards: bool) -> tuple[bytes, bytes]:
        """The keys after (or, backwards, before) position ``after``: ``begin <= key < end``."""
        start = self.prefix + VERSIONSTAMP_CODE
        if after is None:
            return start, self.prefix + b"\xff"
        if backwards:
            return start, start + after
        return start + after + b"\x00", self.prefix + b"\xff"

    def admits(self, event: Event) -> bool:
        """Does an event found in this index carry the item's other tags too?"""
        return not self.also_tags or self.also_tags.issubset(event.tags)


class Planner:
    def __init__(self, keyspace: DcbKeyspace) -> None:
        self._keyspace = keyspace
        self.scans = lru_cache(maxsize=4096)(self._scans)

    def _scans(self, query: Query) -> tuple[Scan, ...]:
        keyspace = self._keyspace
        if query.matches_all:
            return (Scan(keyspace.log),)
        scans: dict[Scan, None] = {}  # ordered and without repeats
        for item in query.items:
            tags = tuple(sorted(item.tags))
            indexed, also = tags[:EXACT_TAG_COMBINATION], frozenset(tags[EXACT_TAG_COMBINATION:])
            if not item.types:
                scans[Scan(keyspace.tags_index(indexed), also)] = None
            for type_ in item.types:
                if indexed:
                    prefix = keyspace.type_and_tags_index(type_, indexed)
                else:
                    prefix = keyspace.type_index(type_)
                scans[Scan(prefix, also)] = None
        return tuple(scans)
