"""Pages of the event browser: newest first, paged by position, fast at any depth.

A page is one bounded read from a position: the store's indexes hold events in position order,
so "the 50 events before position p" costs the same at the head and near the start of a log of
millions, and no page ever counts or skips rows (no OFFSET). Paging is by cursor: "older" reads
backwards from the last event shown, "newer" forwards from the first.

A filter by type and exact tag is a store query and costs nothing extra. A tag *prefix* has no
index of its own (the store indexes whole tags), so it is a filter over the query's events that
looks at no more than ``EXAMINED_PER_PAGE`` of them per page: when it stops short, the page says
where, and a link goes on from there. Time bounds become position bounds by bisection over the
log (``position_at``), because positions grow with time but are not times.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from fairway_django.dcb import DcbStore, Position, Query, QueryItem, SequencedEvent
from fairway_django.dcb.position import predecessor, successor
from fairway_django.framework import codec

#: Events on a page.
PAGE_SIZE = 50
#: Events a tag-prefix filter looks at for one page before it stops and offers to go on.
EXAMINED_PER_PAGE = 20_000
#: Events the bisection looks past, at one probe, for one that records its time.
UNTIMED_PER_PROBE = 64


@dataclass(frozen=True)
class Selection:
    """What the browser shows: a store query, an optional tag prefix, and inclusive bounds."""

    query: Query
    tag_prefix: str | None = None
    lowest: Position | None = None
    highest: Position | None = None

    def admits(self, event: SequencedEvent) -> bool:
        prefix = self.tag_prefix
        return prefix is None or any(tag.startswith(prefix) for tag in event.event.tags)


@dataclass(frozen=True)
class Window:
    """Events read in one direction from a cursor."""

    events: list[SequencedEvent]
    #: More selected events lie beyond the last one (in the reading direction).
    more: bool
    #: Where a tag-prefix search stopped after EXAMINED_PER_PAGE events without finishing.
    stopped_at: Position | None


@dataclass(frozen=True)
class BrowserPage:
    """One page of the browser: its events newest first, and where its links lead."""

    events: list[SequencedEvent]
    #: There are selected events older than the last shown, or newer than the first.
    older: bool
    newer: bool
    #: Where a tag-prefix search stopped short of a full page, and the cursor going on from it.
    stopped_at: Position | None
    direction: str
    #: On the first page: the newest events (more than the page shows) for the chart.
    chart_events: list[SequencedEvent] | None


def browse(
    store: DcbStore, selection: Selection, *, before: Position | None, after: Position | None,
    chart: int,
) -> BrowserPage:
    """The page before (older than) ``before``, or after (newer than) ``after``, or the first
    page, which also reads up to ``chart`` events for the chart."""
    if after is not None:
        window = read_window(store, selection, cursor=after, backwards=False, count=PAGE_SIZE)
        if window.more or window.stopped_at is not None:
            return BrowserPage(
                window.events[::-1], older=True, newer=bool(window.events),
                stopped_at=window.stopped_at, direction="after", chart_events=None,
            )
        before = None  # less than a page of newer events: that is the first page
    first = before is None
    count = max(chart, PAGE_SIZE) if first else PAGE_SIZE
    window = read_window(store, selection, cursor=before, backwards=True, count=count)
    events = window.events[:PAGE_SIZE]
    full = len(window.events) > PAGE_SIZE
    return BrowserPage(
        events, older=bool(events) and (window.more or full), newer=not first and bool(events),
        stopped_at=None if full else window.stopped_at, direction="before",
        chart_events=window.events if first else None,
    )


def select(
    types: tuple[str, ...] = (), tag: str | None = None, tag_prefix: str | None = None,
    lowest: Position | None = None, highest: Position | None = None,
) -> Selection:
    if types or tag:
        query = Query([QueryItem(types=types, tags=(tag,) if tag else ())])
    else:
        query = Query.all()
    return Selection(query, tag_prefix or None, lowest, highest)


def read_window(
    store: DcbStore, selection: Selection, *, cursor: Position | None, backwards: bool,
    count: int,
) -> Window:
    """Up to ``count`` selected events beyond ``cursor`` (exclusive; None: from the newest
    when ``backwards``, else from the oldest), within the selection's bounds."""
    if backwards:
        start = _lower_cursor(cursor, successor(selection.highest))
        bound = selection.lowest
    else:
        start = _higher_cursor(cursor, predecessor(selection.lowest))
        bound = selection.highest
    filtered = selection.tag_prefix is not None
    limit = None if filtered else count + 1
    events: list[SequencedEvent] = []
    examined = 0
    for sequenced in store.read(selection.query, after=start, backwards=backwards, limit=limit):
        position = sequenced.position
        if bound is not None and (position < bound if backwards else position > bound):
            break
        if len(events) == count:
            return Window(events, True, None)
        examined += 1
        if selection.admits(sequenced):
            events.append(sequenced)
        elif examined >= EXAMINED_PER_PAGE:
            return Window(events, False, position)
    return Window(events, False, None)


def event_at(store: DcbStore, position: Position) -> SequencedEvent | None:
    found = next(store.read(after=predecessor(position), limit=1), None)
    return found if found is not None and found.position == position else None


def position_at(store: DcbStore, moment: datetime) -> Position | None:
    """The position of the first event that occurred at or after ``moment`` (None: none did).

    Events record when they occurred (metadata ``at``), set by the process that appended them
    just before the commit, so times grow with positions up to the clock skew between writers.
    A bisection over the position space finds the boundary in about as many one-event reads as
    the log's positions have significant bits, whatever the log's size; events that record no
    time are passed over.
    """
    first = _timed_after(store, None)
    if first is None:
        return None
    if first[1] >= moment:
        return first[0]
    newest = next(store.read(backwards=True, limit=1))
    # With g(x) the first timed event after position x, and P(x) "g(x) is None or occurred at
    # or after moment" (P grows with x): P(below) is false and P(above) true; the answer is
    # g(above) once they are adjacent.
    below, above = first[0].number - 1, newest.position.number
    while above - below > 1:
        middle = (below + above) // 2
        found = _timed_after(store, Position.of_number(middle))
        if found is None or found[1] >= moment:
            above = middle
        else:  # everything up to the event found is before moment: jump past it
            below = found[0].number - 1
    found = _timed_after(store, Position.of_number(above))
    return None if found is None else found[0]


def occurred_at(sequenced: SequencedEvent) -> datetime | None:
    return codec.occurred_at(sequenced.event.metadata or {})


def _timed_after(store: DcbStore, after: Position | None) -> tuple[Position, datetime] | None:
    events: Iterator[SequencedEvent] = store.read(after=after, limit=UNTIMED_PER_PROBE)
    for sequenced in events:
        moment = occurred_at(sequenced)
        if moment is not None:
            return sequenced.position, moment
    return None


def _lower_cursor(cursor: Position | None, bound: Position | None) -> Position | None:
    """The stricter of two "before" positions (None means no limit)."""
    if cursor is None or bound is None:
        return bound if cursor is None else cursor
    return min(cursor, bound)


def _higher_cursor(cursor: Position | None, bound: Position | None) -> Position | None:
    if cursor is None or bound is None:
        return bound if cursor is None else cursor
    return max(cursor, bound)

