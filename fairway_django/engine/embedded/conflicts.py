"""Conflict ranges and the conflict log: how the embedded engine detects conflicts as FDB does.

Every commit appends to the log, under its commit version, what it wrote. Committing a
transaction that read at version ``rv`` checks its read-conflict ranges against the entries
after ``rv``: any overlap means another transaction changed what it read, and it fails with
not_committed. This is FDB's resolver; entries older than the MVCC window are pruned, and a
transaction older than what was pruned gets transaction_too_old, as in FDB.

Nearly everything a commit writes is single keys (event stores write thousands per append), so
what was written is kept as sorted keys plus the few cleared ranges. A transaction reads a
handful of ranges; checking one range against the keys is one binary search, so the cost of a
check grows with what was read, not with what was written.

The keys of a large entry are compressed (zstd, fastest level): sorted keys share long
prefixes, and the log holds every key written in the last six seconds, which made the
coordination file of a store loaded at full speed some 16 MB (the size of the store itself at
100,000 events) where compressed it takes a few. Only entries whose bounds meet a
transaction's reads are decompressed. Small entries (a single event's append) are kept as they
are: compressing one costs some 10 us, under the store's writer lock.
"""

from __future__ import annotations

import struct
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable

import msgpack
import zstandard

Range = tuple[bytes, bytes]

_HEADER = struct.Struct("<dHH")
#: Entries whose keys take this much or more are compressed, and marked so: a MessagePack body
#: (an array) never begins with this byte.
COMPRESS_FROM_BYTES = 1024
_ZSTD = b"\x00"


def point(key: bytes) -> Range:
    return (key, key + b"\x00")


def merge(ranges: Iterable[Range]) -> list[Range]:
    """Sort ranges and join those that overlap or touch; empty ranges vanish."""
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

    def overlaps_written(self, keys: list[bytes], ranges: Iterable[Range]) -> bool:
        """Does any range of this set hold one of the sorted ``keys``, or meet ``ranges``?"""
        for begin, end in self.ranges:
            index = bisect_left(keys, begin)
            if index < len(keys) and keys[index] < end:
                return True
        return any(self.overlaps(begin, end) for begin, end in ranges)


NO_READS = RangeSet(())


class Written:
    """What the transactions of one batch wrote: single keys, and ranges (clears, explicit
    write-conflict ranges). Checked by later transactions of the batch, then logged."""

    __slots__ = ("keys", "ranges", "_sorted")

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        self.ranges: list[Range] = []
        self._sorted = True

    def __bool__(self) -> bool:
        return bool(self.keys or self.ranges)

    def add_keys(self, keys: list[bytes]) -> None:
        self.keys += keys
        self._sorted = False

    def sorted_keys(self) -> list[bytes]:
        if not self._sorted:
            self.keys.sort()
            self._sorted = True
        return self.keys

    def conflicts_with(self, reads: RangeSet) -> bool:
        return bool(reads) and reads.overlaps_written(self.sorted_keys(), self.ranges)

    def touched(self, watched: list[bytes]) -> list[int]:
        """The indexes of the sorted ``watched`` keys that were written."""
        keys = self.sorted_keys()
        found = [i for i, key in enumerate(watched) if _holds(keys, key)]
        found += [
            index
            for begin, end in self.ranges
            for index in range(bisect_left(watched, begin), bisect_left(watched, end))
        ]
        return found

    def encode_entry(self, timestamp: float) -> bytes:
        """A log entry: when it committed, its bounding range, then the keys and ranges."""
        keys = self.sorted_keys()
        low = keys[0] if keys else None
        high = keys[-1] + b"\x00" if keys else None
        for begin, end in self.ranges:
            low = begin if low is None else min(low, begin)
            high = end if high is None else max(high, end)
        assert low is not None and high is not None, "an empty entry is never logged"
        body: bytes = msgpack.packb((keys, self.ranges))
        if len(body) >= COMPRESS_FROM_BYTES:
            body = _ZSTD + _codecs.compress(body)
        return _HEADER.pack(timestamp, len(low), len(high)) + low + high + body


def _holds(keys: list[bytes], key: bytes) -> bool:
    index = bisect_left(keys, key)
    return index < len(keys) and keys[index] == key


def entry_timestamp(blob: bytes) -> float:
    timestamp: float = _HEADER.unpack_from(blob)[0]
    return timestamp


def entry_conflicts(blob: bytes, reads: RangeSet) -> bool:
    """Does a log entry overlap ``reads``? Decodes the entry only when its bounds overlap."""
    _, low_length, high_length = _HEADER.unpack_from(blob)
    offset = _HEADER.size
    low = blob[offset : offset + low_length]
    offset += low_length
    high = blob[offset : offset + high_length]
    offset += high_length
    if not reads.overlaps(low, high):
        return False
    body = blob[offset:]
    if body.startswith(_ZSTD):
        body = _codecs.decompress(body[len(_ZSTD) :])
    keys, ranges = msgpack.unpackb(body, use_list=True)
    return reads.overlaps_written(keys, ranges)


class _Codecs(threading.local):
    """zstd's (de)compressors are not for concurrent use: one pair per thread."""

    def __init__(self) -> None:
        self.compressor = zstandard.ZstdCompressor(level=1)
        self.decompressor = zstandard.ZstdDecompressor()

    def compress(self, data: bytes) -> bytes:
        return self.compressor.compress(data)

    def decompress(self, data: bytes) -> bytes:
        return self.decompressor.decompress(data)


_codecs = _Codecs()
