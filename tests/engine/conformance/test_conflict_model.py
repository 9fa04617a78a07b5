"""Conflicts checked against a model: random range and point reads against random writes.

The deterministic cases live in ``test_conflicts``; this one lets Hypothesis search the space
of read sets (point reads, range reads with limits in both directions, snapshot reads,
explicit read-conflict ranges) and write sets (sets, clears, atomic adds, clear_ranges) over
keys chosen to sit on each other's boundaries, including keys longer than 511 bytes.
"""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._support import commit_conflicts

# --- random reads against random writes ------------------------------------------------------

ALPHABET = [
    b"a",
    b"b",
    b"b\x00",
    b"b\x00\x00",
    b"c",
    b"c\xff",
    b"k" * 600,
    b"k" * 600 + b"\x00",
    b"z",
]
KEY = st.sampled_from(ALPHABET)
READ_OPS = st.one_of(
    st.tuples(st.just("get"), KEY),
    st.tuples(st.just("get_range"), KEY, KEY, st.integers(0, 3), st.booleans()),
    st.tuples(st.just("snapshot_get_range"), KEY, KEY),
    st.tuples(st.just("add_read_conflict_range"), KEY, KEY),
)
WRITE_OPS = st.one_of(
    st.tuples(st.just("set"), KEY),
    st.tuples(st.just("clear"), KEY),
    st.tuples(st.just("add"), KEY),
    st.tuples(st.just("clear_range"), KEY, KEY),
)


def _overlap(ranges: list[tuple[bytes, bytes]], begin: bytes, end: bytes) -> bool:
    """Do non-empty ``[begin, end)`` and any non-empty range of ``ranges`` share a key?"""
    return begin < end and any(b < e and b < end and begin < e for b, e in ranges)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    initial=st.sets(KEY),
    reads=st.lists(READ_OPS, min_size=1, max_size=4),
    writes=st.lists(WRITE_OPS, min_size=1, max_size=3),
)
def test_random_reads_conflict_exactly_with_overlapping_writes(
    engine, initial, reads, writes
):
    """T1 reads, T2 writes and commits, T1 commits: not_committed exactly when a range T1 read
    (point reads as [k, k+0x00); range reads as [begin, end), or only up to the last key
    returned when the limit was reached) overlaps a range T2 wrote. When a limited read
    returned exactly ``limit`` pairs, FDB may or may not cover the rest of its range."""
    head = engine.key(uuid.uuid4().hex, "/")
    engine.db.transact(lambda tr: [tr.set(head + k, b"v") for k in initial])
    must: list[tuple[bytes, bytes]] = []
    may: list[tuple[bytes, bytes]] = []

    def read(tr):  # type: ignore[no-untyped-def]
        for kind, first, *rest in reads:
            key = head + first
            if kind == "get":
                tr.get(key)
                must.append((key, key + b"\x00"))
                continue
            end = head + rest[0]
            if kind == "snapshot_get_range":
                list(tr.snapshot.get_range(key, end))
            elif kind == "add_read_conflict_range":
                if key <= end:
                    tr.add_read_conflict_range(key, end)
                    must.append(
                        (key, end)
                    )  # empty when key == end: conflicts with nothing
            else:
                limit, reverse = rest[1], rest[2]
                got = [kv.key for kv in tr.get_range(key, end, limit, reverse)]
                if limit and len(got) == limit:
                    part = (key, got[-1] + b"\x00") if not reverse else (got[-1], end)
                    must.append(part)
                    may.append((key, end))
                else:
                    must.append((key, end))

    written: list[tuple[bytes, bytes]] = []

    def write(tr):  # type: ignore[no-untyped-def]
        for kind, first, *rest in writes:
            key = head + first
            if kind == "set":
                tr.set(key, b"w")
            elif kind == "clear":
                tr.clear(key)
            elif kind == "add":
                tr.add(key, b"\x01")
            elif key <= head + rest[0]:
                tr.clear_range(key, head + rest[0])
                written.append((key, head + rest[0]))
                continue
            else:
                continue
            written.append((key, key + b"\x00"))

    conflicted = commit_conflicts(engine.db, engine.key("own"), read, write)
    if any(_overlap(must, b, e) for b, e in written):
        assert conflicted, f"missed a conflict: read {must}, wrote {written}"
    elif not any(_overlap(may, b, e) for b, e in written):
        assert not conflicted, f"false conflict: read {must}, wrote {written}"
