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
from typing import NoReturn

from fairway_django.engine import ReadTransaction

from .codec import decode, unpack
from .events import Event, SequencedEvent
from .keyspace import position_of
from .plan import Scan
from .position import POSITION_BYTES, Position

#: Events returned per chunk (per transaction).
CHUNK_EVENTS = 1024
#: Events built at a time as a chunk is consumed (see Chunk).
BUILD_EVENTS = 64
#: Index entries a chunk may pass over without a match (items filtered by extra tags) before it
#: stops and lets the next chunk resume: a chunk must finish well inside the engine's window.
CHUNK_EXAMINED = 16 * CHUNK_EVENTS

_new_tuple = tuple.__new__
_first = itemgetter(0)
_second = itemgetter(1)
_position_of = itemgetter(slice(-POSITION_BYTES, None))


class Chunk:
    """The events read in one transaction, as the bytes read: their positions and records;
    and where the next chunk resumes (None: no more). Iterating builds the events.

    Events are built a group of ``BUILD_EVENTS`` at a time, as they are consumed, rather than
    a chunk's worth at once: each event is four objects the garbage collector tracks (the
    event, its position, its tags, the pair), and a chunk of 1,024 built at once outlives the
    collector's first generation (700 objects), so every chunk was walked by a collection or
    two and promoted, some of it to the oldest generation, whose collections walk the whole
    heap. A group freed by reference counting before the next collection is never seen by
    one: streaming one type went 25 to 35% faster, with a fifth of the collections. The bytes held
    in between are not tracked at all.
    """

    __slots__ = ("positions", "records", "resume")

    def __init__(
        self, positions: list[bytes], records: list[bytes], resume: bytes | None
    ) -> None:
        self.positions = positions
        self.records = records
        self.resume = resume

    def __len__(self) -> int:
        return len(self.positions)

    def __iter__(self) -> Iterator[SequencedEvent]:
        positions, records = self.positions, self.records
        for start in range(0, len(positions), BUILD_EVENTS):
            end = start + BUILD_EVENTS
            yield from _sequenced(positions[start:end], records[start:end])

    @property
    def last(self) -> bytes | None:
        """The last position in the chunk (None: it is empty)."""
        return self.positions[-1] if self.positions else None


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
    records = _records(reader, log, raws, list(map(_second, pairs)))
    return Chunk(raws, records, raws[-1] if len(raws) == count else None)


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
    records = _records(reader, log, raws, list(map(_second, chosen)))
    more = full or len(found) > count
    return Chunk(raws, records, raws[-1] if more and raws else None)


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
    raws: list[bytes] = []
    records: list[bytes] = []
    previous: bytes | None = None  # the last position examined
    examined = 0
    for raw, record, scan in merged:
        if raw != previous:
            if examined >= CHUNK_EXAMINED:  # stop between positions, never inside one
                return Chunk(raws, records, previous)
            examined += 1
            previous = raw
        if raws and raw == raws[-1]:
            continue
        record = record or logged_record(reader, log, raw)
        if scan.admits(decode(record)):
            raws.append(raw)
            records.append(record)
            if len(raws) == count:
                return Chunk(raws, records, raw)
    return Chunk(raws, records, None)


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
