"""Reading events through scans, a bounded chunk per engine transaction.

A read may outlast the engine's five-second transaction window and may match millions of
events, so it proceeds in chunks, each in a fresh transaction, resuming after the last position
it passed. That is consistent: a commit's positions exceed every position visible before it,
so an event appended while a read is under way can only land after where the read has got to.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from itertools import repeat
from operator import itemgetter
from typing import NamedTuple, NoReturn

from fairway_django.engine import ReadTransaction

from .codec import decode, unpack
from .events import Event, SequencedEvent
from .keyspace import position_of
from .plan import Scan
from .position import POSITION_BYTES, Position

#: Events returned per chunk (per transaction).
CHUNK_EVENTS = 1024
#: Index entries a chunk may pass over without a match (items filtered by extra tags) before it
#: stops and lets the next chunk resume: a chunk must finish well inside the engine's window.
CHUNK_EXAMINED = 16 * CHUNK_EVENTS

_new_tuple = tuple.__new__
_first = itemgetter(0)
_second = itemgetter(1)
_position_of = itemgetter(slice(-POSITION_BYTES, None))


class Chunk(NamedTuple):
    """Events read in one transaction, and where the next chunk resumes (None: no more)."""

    events: list[SequencedEvent]
    resume: bytes | None


def read_chunk(
    reader: ReadTransaction,
    log: bytes,
    scans: tuple[Scan, ...],
    after: bytes | None,
    count: int,
    backwards: bool,
) -> Chunk:
    """Up to ``count`` matching events after (backwards: before) position ``after``."""
    if any(scan.also_tags for scan in scans):
        return _read_merged(reader, log, scans, after, count, backwards)
    if len(scans) == 1:
        return _read_exact(reader, log, scans[0], after, count, backwards)
    return _read_union(reader, log, scans, after, count, backwards)


def _read_exact(
    reader: ReadTransaction, log: bytes, scan: Scan, after: bytes | None, count: int,
    backwards: bool,
) -> Chunk:
    """One index whose entries all match: the common case, kept to the bare loop."""
    begin, end = scan.bounds(after, backwards)
    pairs = list(reader.get_range(begin, end, limit=count, reverse=backwards))
    raws = list(map(_position_of, map(_first, pairs)))
    events = _sequenced(raws, _records(reader, log, raws, list(map(_second, pairs))))
    return Chunk(events, events[-1].position.raw if len(events) == count else None)


def _read_union(
    reader: ReadTransaction, log: bytes, scans: tuple[Scan, ...], after: bytes | None,
    count: int, backwards: bool,
) -> Chunk:
    """Several indexes whose entries all match (a query's types, or its items): each read up to
    ``count`` entries, the union sorted by position in C, instead of a merge in Python.

    Complete up to the nearest last position among the scans that reached ``count``: each of
    those holds ``count`` entries up to there, so the first ``count`` of the union lie within.
    """
    found: dict[bytes, bytes] = {}
    full = False  # some scan reached count: more may follow
    for scan in scans:
        begin, end = scan.bounds(after, backwards)
        entries = {
            key[-POSITION_BYTES:]: value
            for key, value in reader.get_range(begin, end, limit=count, reverse=backwards)
        }
        full = full or len(entries) == count
        found.update(entries)
    chosen = sorted(found.items(), reverse=backwards)[:count]
    raws = list(map(_first, chosen))
    events = _sequenced(raws, _records(reader, log, raws, list(map(_second, chosen))))
    more = full or len(found) > count
    return Chunk(events, events[-1].position.raw if more and events else None)


def _sequenced(raws: list[bytes], records: list[bytes]) -> list[SequencedEvent]:
    """The events at positions ``raws``: decode() and Position() inlined, in C loops (``map``),
    for this is the per-event cost of every read (10% of streaming, against a comprehension)."""
    return list(map(
        _new_tuple, repeat(SequencedEvent), zip(
            map(_new_tuple, repeat(Position), zip(raws)),
            map(_new_tuple, repeat(Event), map(unpack, records)),
        ),
    ))


def _records(
    reader: ReadTransaction, log: bytes, raws: list[bytes], values: list[bytes]
) -> list[bytes]:
    """The events at positions ``raws``: the values read, when they came from the log itself,
    else (index entries hold no value) looked up in the log all at once."""
    if not values or values[0]:
        return values
    records = reader.get_many(list(map(log.__add__, raws)))
    if None in records:
        missing(raws[records.index(None)])
    return records  # type: ignore[return-value]  # no None left


def _read_merged(
    reader: ReadTransaction, log: bytes, scans: tuple[Scan, ...], after: bytes | None,
    count: int, backwards: bool,
) -> Chunk:
    """Several indexes merged by position, some filtered by further tags; an event found by
    several scans comes out once."""
    streams = [_entries(reader, scan, after, backwards) for scan in scans]
    merged = heapq.merge(*streams, key=_first, reverse=backwards)
    events: list[SequencedEvent] = []
    emitted: bytes | None = None  # the last position returned
    previous: bytes | None = None  # the last position examined
    examined = 0
    for raw, record, scan in merged:
        if raw != previous:
            if examined >= CHUNK_EXAMINED:  # stop between positions, never inside one
                return Chunk(events, previous)
            examined += 1
            previous = raw
        if raw == emitted:
            continue
        event = decode(record or logged_record(reader, log, raw))
        if scan.admits(event):
            events.append(_new_tuple(SequencedEvent, (Position(raw), event)))
            emitted = raw
            if len(events) == count:
                return Chunk(events, raw)
    return Chunk(events, None)


def _entries(
    reader: ReadTransaction, scan: Scan, after: bytes | None, backwards: bool
) -> Iterator[tuple[bytes, bytes, Scan]]:
    for key, record in reader.get_range(*scan.bounds(after, backwards), reverse=backwards):
        yield position_of(key), record, scan


def logged_record(reader: ReadTransaction, log: bytes, raw: bytes) -> bytes:
    """The event at position ``raw``, for an index entry that found it."""
    record = reader.get(log + raw)
    if record is None:
        missing(raw)
    return record


def missing(raw: bytes) -> NoReturn:
    raise LookupError(
        f"an index refers to position {raw.hex()}, which the log lacks: the store is "
        "damaged (its indexes and log are written in one transaction, so this cannot happen "
        "through the store); keep the store directory and report it"
    )
