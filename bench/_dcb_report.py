"""What the DCB benchmark prints, and the targets its figures are judged against.

Each figure is printed the moment it is measured, so a run that is stopped or fails halfway
still shows what it got; the summary at the end then puts every store's figure side by side
with ours/UmaDB ratios and a verdict against the target. The targets live in :data:`METRICS`
beside the titles, so a figure and the requirement it is held to cannot drift apart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bench._timing import Rate

if TYPE_CHECKING:
    from bench._dcb_workloads import Sizes

#: The label of UmaDB's figures: ratios are ours over this.
PEER = "umadb"
MEMORY_LIMIT_MB = 150.0

#: metric -> store label -> value
Results = dict[str, dict[str, float]]


@dataclasses.dataclass(frozen=True)
class Metric:
    """A figure in the comparison; ``target`` is the least ratio required at durability=full."""

    title: str
    unit: str  # "/s" for rates, "ms" for latencies
    target: float | None

    @property
    def higher_is_better(self) -> bool:
        return self.unit not in ("ms", "B")

    def fmt(self, value: float) -> str:
        if self.unit == "ms":
            return f"{value:10.3f} ms"
        if self.unit == "B":
            return f"{value:>8,.0f} B/ev"
        return f"{value:>10,.0f}/s"


METRICS: dict[str, Metric] = {
    "A": Metric("A  single-event appends, events", "/s", 2.0),
    "B": Metric("B  100-event appends, events", "/s", 0.6),
    "C1": Metric("C1 decisions, sequential", "/s", 2.0),
    "C2": Metric("C2 decisions, 8 threads, own entities", "/s", 1.0),
    "C3": Metric("C3 decisions, 8 threads, one entity", "/s", None),
    "C4": Metric("C4 decisions creating an entity", "/s", None),
    "D-load": Metric("D  load, events", "/s", None),
    "D-p50": Metric("D  read one entity, p50", "ms", 4.0),
    "D-p95": Metric("D  read one entity, p95", "ms", 4.0),
    "D-stream": Metric("D  stream one type, events", "/s", 1.0),
    "D-fields": Metric("D  stream one type, every field read", "/s", 1.0),
    "P2": Metric("P2 decisions, 2 procs (umadb: 8 threads)", "/s", None),
    "P4": Metric("P4 decisions, 4 procs (umadb: 8 threads)", "/s", 1.0),
    "S-D": Metric("S  bytes per event on disk, D's store", "B", None),
    "S-M": Metric("S  bytes per event on disk, M's store", "B", None),
}
#: Most bytes per event on disk our store may take, all its files counted.
DISK_LIMIT_BYTES = 1_000


@dataclasses.dataclass(frozen=True)
class Figure:
    metric: str
    value: float
    note: str = ""


def rate_figure(metric: str, rate: Rate, per: str, note: str = "") -> Figure:
    return Figure(metric, rate.per_second, rate_note(rate, per, note))


def rate_note(rate: Rate, per: str, note: str = "") -> str:
    detail = f"{rate.ops:,} {per}s in {rate.seconds:.2f} s, {rate.micros_per_op:,.1f} us/{per}"
    return f"{detail}; {note}" if note else detail


def record(figure: Figure, label: str, results: Results) -> None:
    metric = METRICS[figure.metric]
    results.setdefault(figure.metric, {})[label] = figure.value
    print(f"{metric.title:<40} {label:<12} {metric.fmt(figure.value)}   {figure.note}", flush=True)


# --- the summary ------------------------------------------------------------------------------


def summary(results: Results, labels: Sequence[str]) -> None:
    """Each figure per store, then ours/UmaDB per durability with the target and verdict."""
    if not results:
        return
    ours = [label for label in labels if label != PEER]
    print(
        "\n## summary (ratios: bigger = ours better; latency and size ratios are UmaDB's over ours;"
        " targets are required at durability=full, shown for normal too)"
    )
    header = f"{'':<40}" + "".join(f"{label:>14}" for label in labels)
    if PEER in labels:
        header += "".join(f"   {label + '/' + PEER:>20} {'target':>8} {'':<8}" for label in ours)
    print(header)
    for key, metric in METRICS.items():
        by_store = results.get(key)
        if not by_store:
            continue
        line = f"{metric.title:<40}" + "".join(
            f"{metric.fmt(by_store[label]) if label in by_store else '-':>14}" for label in labels
        )
        if PEER in by_store:
            for label in ours:
                line += ratio_cell(metric, by_store.get(label), by_store[PEER])
        print(line)


def ratio_cell(metric: Metric, ours: float | None, peer: float) -> str:
    if ours is None:
        return f"   {'-':>20} {'':>8} {'':<8}"
    if metric.higher_is_better:
        ratio = ours / peer if peer else float("inf")
    else:
        ratio = peer / ours if ours else float("inf")
    if metric.target is None:
        return f"   {ratio:>19.2f}x {'-':>8} {'':<8}"
    target = f">= {metric.target:g}x"
    return f"   {ratio:>19.2f}x {target:>8} {verdict(ratio >= metric.target):<8}"


def verdict(met: bool) -> str:
    return "ok" if met else "NOT MET"


# --- M: memory of streaming a million events --------------------------------------------------


def memory_load(loaded: Mapping[str, Any], batch: int, durability: str) -> None:
    rate = Rate(int(loaded["events"]), float(loaded["seconds"]))
    disk = int(loaded["bytes_on_disk"])
    print(
        f"M  load {rate.ops:,} events (batches of {batch:,}, durability {durability}):"
        f" {rate.per_second:,.0f} events/s in {rate.seconds:,.0f} s;"
        f" {disk / 1e6:,.0f} MB on disk ({disk / max(rate.ops, 1):,.0f} bytes/event)",
        flush=True,
    )


def memory_stream(streamed: Mapping[str, Any], expected: int) -> None:
    """Both peaks: VmHWM counts the pages of LMDB's memory-mapped file the stream touched (the
    kernel's to reclaim), RssAnon sampled every 10 ms is what the process holds."""
    rate = Rate(int(streamed["events"]), float(streamed["seconds"]))
    before = streamed["before_kb"]
    assert isinstance(before, dict)
    ok = "ok" if rate.ops == expected else f"!!! expected {expected:,} !!!"
    print(
        f"M  stream all {rate.ops:,} events in a fresh process ({ok}):"
        f" {rate.per_second:,.0f} events/s in {rate.seconds:,.1f} s;"
        f" before streaming RSS {mb(before['VmRSS'])}, anonymous {mb(before['RssAnon'])}"
    )
    hwm, anon = int(streamed["vmhwm_kb"]), int(streamed["peak_anon_kb"])
    print(
        f"   (a) peak RSS, VmHWM (includes LMDB's mapped file pages): {mb(hwm)}"
        f"  (< {MEMORY_LIMIT_MB:.0f} MB: {verdict(hwm / 1024 < MEMORY_LIMIT_MB)})"
    )
    print(
        f"   (b) peak anonymous memory, RssAnon every 10 ms and at end: {mb(anon)}"
        f"  (< {MEMORY_LIMIT_MB:.0f} MB: {verdict(anon / 1024 < MEMORY_LIMIT_MB)})"
        f"  [{streamed['samples']:,} samples; file pages mapped at end"
        f" {mb(streamed['end_rss_file_kb'])}]",
        flush=True,
    )


def mb(kb: object) -> str:
    assert isinstance(kb, int)
    return f"{kb / 1024:,.1f} MB"


# --- G: how our costs grow with the store's size ----------------------------------------------


def growth(
    grown: Mapping[str, Any], durability: str, baseline: Mapping[str, float], sizes: Sizes
) -> None:
    """The G lines, from :func:`bench._dcb_growth.measure` on M's big store.

    ``baseline`` holds this run's figures for our store at the same durability on its smaller
    stores (any of D-p50, D-p95, C1 and A): a G line measured the same way shows the small
    store's figure beside it and how many times the cost grew (latency over latency, or the
    small store's rate over the big one's), so the factor is read off one run.
    """
    events, per_entity = int(grown["events"]), int(grown["per_entity"])
    brackets = "; in brackets the figure on this run's smaller store, and cost here / there"
    print(
        f"G  how costs grow with the store's size: ours, durability {durability}, on M's"
        f" {events:,} events ({per_entity:,} per entity), after its stream"
        f"{brackets if baseline else ''}"
    )
    reads = f"{int(grown['reads']):,} reads of random entities"
    if grown["wrong_reads"]:
        reads += f"; !!! {grown['wrong_reads']} reads found the wrong number of events !!!"
    every = f"read one entity, all {per_entity:,} events"
    some = f"read one entity, {min(int(grown['limit']), per_entity):,} of {per_entity:,} events"
    at_d = f"at {sizes.loaded:,} events"
    full_p50, full_p95 = grown["read_all_ms"]
    some_p50, some_p95 = grown["read_limited_ms"]
    growth_line(f"{every}, p50", "ms", full_p50, reads)
    growth_line(f"{every}, p95", "ms", full_p95)
    growth_line(f"{some}, p50", "ms", some_p50, compared(at_d, some_p50, baseline.get("D-p50")))
    growth_line(f"{some}, p95", "ms", some_p95, compared(at_d, some_p95, baseline.get("D-p95")))
    p50, p95 = grown["decision_ms"]
    found = f"its read found {float(grown['decision_events_read']):,.1f} events on average"
    growth_line("decision: read, then append on condition, p50", "ms", p50, found)
    growth_line("decision: read, then append on condition, p95", "ms", p95)
    for label, count, seconds, unit, there, key in (
        ("decisions, sequential", "decisions", "decision_seconds", "decision",
         f"C1 at {sizes.history:,} events", "C1"),
        ("single-event appends, events", "appends", "append_seconds", "event",
         f"A, up to {sizes.singles:,} events", "A"),
    ):
        rate = Rate(int(grown[count]), float(grown[seconds]))
        versus = compared(there, rate.per_second, baseline.get(key), "/s")
        growth_line(label, "/s", rate.per_second, f"{rate_note(rate, unit)}  {versus}".rstrip())


def growth_line(what: str, unit: str, value: float, note: str = "") -> None:
    print(f"G  {what:<50} {Metric(what, unit, None).fmt(value)}   {note}", flush=True)


def compared(where: str, value: float, small: float | None, unit: str = "ms") -> str:
    """``(<where>: <the small store's figure>; cost x<growth>)``; empty without that figure."""
    if small is None:
        return ""
    if unit == "ms":
        factor = value / small if small else float("inf")
    else:
        factor = small / value if value else float("inf")
    return f"({where}: {Metric(where, unit, None).fmt(small).strip()}; cost x{factor:.2f})"
