"""The event browser's chart: appends over time, by type, from the newest events only.

It is drawn from a bounded read (the browser's first page reads ``CHART_EVENTS`` events and
shows the newest 50 of them), so it costs the same on a log of any size, and it is plain SVG
built here: no script, no CDN. The bucket is the smallest of minute, ten minutes, hour, six
hours and day that fits the events' span in ``MAX_BARS`` bars.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from fairway_django.dcb import SequencedEvent

from .event_pages import occurred_at

#: Newest events the chart is drawn from.
CHART_EVENTS = 1_000
MAX_BARS = 60
#: Bars are never wider than a 30-bar chart's, so a burst within one minute is not a wall.
MIN_BARS = 30
BUCKETS = ((60, "minute"), (600, "10 minutes"), (3_600, "hour"), (21_600, "6 hours"),
           (86_400, "day"))
#: Colours by type, in order of each type's count; Django admin's own hues first.
PALETTE = ("#417690", "#79aec8", "#e49b3d", "#ba2121", "#5b8a3a", "#8e6bb5", "#c2a633",
           "#5fa2a0", "#b0703c", "#777777")
WIDTH, HEIGHT, GAP = 600, 120, 1


@dataclass(frozen=True)
class Segment:
    type: str
    count: int
    colour: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    bucket: str
    start: datetime
    end: datetime
    events: int
    segments: list[Segment]
    legend: list[tuple[str, str, int]]
    width: int = WIDTH
    height: int = HEIGHT


def appends_chart(events: list[SequencedEvent]) -> Chart | None:
    """The chart of ``events`` (any order), or None when fewer than two record their time."""
    timed = [(moment, s.event.type) for s in events if (moment := occurred_at(s)) is not None]
    if len(timed) < 2:
        return None
    first = min(moment for moment, _ in timed).timestamp()
    last = max(moment for moment, _ in timed).timestamp()
    seconds, name = next(
        ((size, label) for size, label in BUCKETS if (last - first) / size < MAX_BARS),
        BUCKETS[-1],
    )
    origin = int(first // seconds) * seconds
    bars = int(last // seconds) - int(first // seconds) + 1
    counts: Counter[tuple[int, str]] = Counter(
        (int(moment.timestamp() - origin) // seconds, type_) for moment, type_ in timed
    )
    by_type = Counter(type_ for _, type_ in timed)
    colours = {
        type_: PALETTE[index % len(PALETTE)]
        for index, (type_, _) in enumerate(by_type.most_common())
    }
    totals = Counter[int]()
    for (bar, _), count in counts.items():
        totals[bar] += count
    tallest = max(totals.values())
    bar_width = WIDTH / max(bars, MIN_BARS)
    left = WIDTH - bars * bar_width  # the newest bar ends at the right edge
    segments = []
    stacked = Counter[int]()
    for (bar, type_), count in sorted(counts.items()):
        height = HEIGHT * count / tallest
        stacked[bar] += count
        top = HEIGHT - HEIGHT * stacked[bar] / tallest
        segments.append(Segment(
            type_, count, colours[type_], left + bar * bar_width, top, max(bar_width - GAP, 1),
            height,
        ))
    return Chart(
        name, datetime.fromtimestamp(origin, UTC),
        datetime.fromtimestamp(origin + bars * seconds, UTC), len(timed), segments,
        [(type_, colours[type_], count) for type_, count in by_type.most_common()],
    )
