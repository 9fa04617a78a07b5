"""The embedded resolver's bookkeeping of what a batch wrote, checked against read sets.

White-box: the conformance suite shows conflicts as FDB reports them; these pin the two places
where what a commit wrote meets what another read, the same batch and the conflict log, down
to the boundaries (a range's end is exclusive, a key is the range [key, key + b"\\x00")).
"""

from __future__ import annotations

import pytest

from fairway_django.engine.embedded.conflicts import (
    RangeSet,
    Written,
    entry_conflicts,
    entry_timestamp,
    point,
)


def written(keys: list[bytes], ranges: list[tuple[bytes, bytes]]) -> Written:
    batch = Written()
    batch.add_keys(list(reversed(keys)))  # unsorted, as a batch gathers them
    batch.ranges += ranges
    return batch


CASES = [
    # (reads, keys written, ranges written, conflicts?)
    ([point(b"k")], [b"k"], [], True),
    ([point(b"k")], [b"k\x00", b"j"], [], False),
    ([(b"a", b"c")], [b"b"], [], True),
    ([(b"a", b"c")], [b"c"], [], False),  # the end is exclusive
    ([(b"a", b"c")], [b"a"], [], True),
    ([(b"a", b"b"), (b"x", b"z")], [b"y"], [], True),
    ([(b"a", b"b")], [], [(b"0", b"a")], False),
    ([(b"a", b"b")], [], [(b"0", b"a\x00")], True),
    ([point(b"m")], [b"a", b"z"], [(b"l", b"n")], True),
    ([], [b"a"], [(b"", b"\xff")], False),  # nothing read, nothing to conflict with
]


@pytest.mark.parametrize(("reads", "keys", "ranges", "expected"), CASES)
def test_a_later_transaction_of_the_batch_sees_what_earlier_ones_wrote(
    reads: list[tuple[bytes, bytes]], keys: list[bytes], ranges: list[tuple[bytes, bytes]],
    expected: bool,
) -> None:
    assert written(keys, ranges).conflicts_with(RangeSet(reads)) is expected


@pytest.mark.parametrize(("reads", "keys", "ranges", "expected"), CASES)
def test_a_log_entry_conflicts_exactly_as_the_batch_did(
    reads: list[tuple[bytes, bytes]], keys: list[bytes], ranges: list[tuple[bytes, bytes]],
    expected: bool,
) -> None:
    entry = written(keys, ranges).encode_entry(1234.5)
    assert entry_timestamp(entry) == 1234.5
    assert entry_conflicts(entry, RangeSet(reads)) is expected


def test_watched_keys_are_found_among_keys_and_cleared_ranges() -> None:
    watched = sorted([b"a", b"b", b"b", b"m", b"q", b"z"])  # one key watched twice
    batch = written([b"m", b"zz"], [(b"b", b"c"), (b"p", b"q")])  # q: the end, exclusive
    assert sorted(batch.touched(watched)) == [1, 2, 3]
