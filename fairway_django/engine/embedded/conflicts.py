"""Conflict ranges and the conflict log: how the embedded engine detects conflicts as FDB does.

Every commit appends to the log, under its commit version, the key ranges it wrote. Committing
a transaction that read at version ``rv`` checks its read-conflict ranges against the entries
after ``rv``: any overlap means another transaction changed what it read, and it fails with
not_committed. This is FDB's resolver; entries older than the MVCC window are pruned, and a
transaction older than what was pruned gets transaction_too_old, as in FDB.
"""

from __future__ import annotations

import struct
from bisect import bisect_right
from collections.abc import Iterable

Range = tuple[bytes, bytes]

_HEADER = struct.Struct("<dHH")
_LENGTHS = struct.Struct("<HH")


def point(key: bytes) -> Range:
    return (key, key + b"\x00")


def merge(ranges: Iterable[Range]) -> list[Range]:
    """Sort ranges and join those that overlap or touch; empty ranges vanish."""
    if isinstance(ranges, list) and len(ranges) == 1 and ranges[0][0] < ranges[0][1]:
        return ranges  # the common single write: nothing to sort or join
    merged: list[Range] = []
    for begin, end in sorted(r for r in ranges if r[0] < r[1]):
        if merged and begin <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((begin, end))
    return merged


class RangeSet:
    """Disjoint sorted ranges with a fast overlap test (a transaction's read set)."""

    __slots__ = ("ranges", "_begins")

    def __init__(self, ranges: Iterable[Range]) -> None:
        self.ranges = merge(ranges)
        self._begins = [begin for begin, _ in self.ranges]

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def overlaps(self, begin: bytes, end: bytes) -> bool:
        index = bisect_right(self._begins, begin) - 1
        if index >= 0 and self.ranges[index][1] > begin:
            return True
        return index + 1 < len(self.ranges) and self._begins[index + 1] < end

    def overlaps_any(self, ranges: Iterable[Range]) -> bool:
        return any(self.overlaps(begin, end) for begin, end in ranges)


NO_READS = RangeSet(())


def encode_entry(timestamp: float, ranges: list[Range]) -> bytes:
    """A log entry: when it committed, its bounding range, then each written range."""
    merged = merge(ranges)
    low, high = merged[0][0], merged[-1][1]
    parts = [_HEADER.pack(timestamp, len(low), len(high)), low, high]
    for begin, end in merged:
        parts += (_LENGTHS.pack(len(begin), len(end)), begin, end)
    return b"".join(parts)


def entry_timestamp(blob: bytes) -> float:
    timestamp: float = _HEADER.unpack_from(blob)[0]
    return timestamp


def entry_conflicts(blob: bytes, reads: RangeSet) -> bool:
    """Does a log entry overlap ``reads``? Decodes ranges only when the bounds overlap."""
    _, low_length, high_length = _HEADER.unpack_from(blob)
    offset = _HEADER.size
    low = blob[offset : offset + low_length]
    offset += low_length
    high = blob[offset : offset + high_length]
    offset += high_length
    if not reads.overlaps(low, high):
        return False
    while offset < len(blob):
        begin_length, end_length = _LENGTHS.unpack_from(blob, offset)
        offset += _LENGTHS.size
        begin = blob[offset : offset + begin_length]
        offset += begin_length
        end = blob[offset : offset + end_length]
        offset += end_length
        if reads.overlaps(begin, end):
            return True
    return False
