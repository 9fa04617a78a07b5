"""Which key ranges answer a query: the one place that knows how queries map onto indexes.

Each query item becomes one scan per type it names (or one scan when it names none) over the
index that holds exactly its events. An item with more tags than the indexes combine reads the
index of its first tags and keeps the events that carry the rest. An item matching everything
makes the whole query a scan of the log. Names are looked up in the dictionary (``names``): an
item naming a type or tag that no event carries yet matches nothing, and gets no scan.
"""

from __future__ import annotations

from dataclasses import dataclass

from fairway_django.engine import ReadTransaction
from fairway_django.engine.keys import strinc

from .events import Event
from .keyspace import TAG, TYPE
from .layout import Layout
from .limits import EXACT_TAG_COMBINATION
from .query import Query

#: Queries whose plans are kept; the cache starts afresh when full.
_CACHED_PLANS = 4096


@dataclass(frozen=True, slots=True)
class Scan:
    """One index, and the tags its events must also carry (empty when the index is exact)."""

    prefix: bytes
    also_tags: frozenset[str] = frozenset()

    def bounds(self, after: bytes | None, backwards: bool) -> tuple[bytes, bytes]:
        """The keys after (or, backwards, before) position ``after``: ``begin <= key < end``."""
        if after is None:
            return self.prefix, strinc(self.prefix)
        if backwards:
            return self.prefix, self.prefix + after
        return self.prefix + after + b"\x00", strinc(self.prefix)

    def admits(self, event: Event) -> bool:
        """Does an event found in this index carry the item's other tags too?"""
        return not self.also_tags or self.also_tags.issubset(event.tags)


class Planner:
    def __init__(self, layout: Layout) -> None:
        self._layout = layout
        self._plans: dict[Query, tuple[Scan, ...]] = {}

    def scans(self, reader: ReadTransaction, query: Query) -> tuple[Scan, ...]:
        """The scans of ``query``; names not yet known are looked up with ``reader`` (a
        condition's check passes its transaction, so that a name numbered meanwhile conflicts).
        """
        plan = self._plans.get(query)
        if plan is None:
            plan, complete = self._plan(reader, query)
            if complete:
                if len(self._plans) >= _CACHED_PLANS:
                    self._plans.clear()
                self._plans[query] = plan
        return plan

    def _plan(self, reader: ReadTransaction, query: Query) -> tuple[tuple[Scan, ...], bool]:
        space = self._layout.events()
        if query.matches_all:
            return (Scan(space.log),), True
        lookup = self._layout.names.lookup
        complete = True
        scans: dict[Scan, None] = {}  # ordered and without repeats
        for item in query.items:
            tags = tuple(sorted(item.tags))
            indexed = [lookup(reader, (TAG, tag)) for tag in tags[:EXACT_TAG_COMBINATION]]
            if None in indexed:
                complete = False
                continue  # no event carries that tag yet
            numbers = tuple(sorted(n for n in indexed if n is not None))
            also = frozenset(tags[EXACT_TAG_COMBINATION:])
            if not item.types:
                scans[Scan(space.tags_index(numbers), also)] = None
            for type_name in item.types:
                type_ = lookup(reader, (TYPE, type_name))
                if type_ is None:
                    complete = False
                elif numbers:
                    scans[Scan(space.type_and_tags_index(type_, numbers), also)] = None
                else:
                    scans[Scan(space.type_index(type_), also)] = None
        return tuple(scans), complete
