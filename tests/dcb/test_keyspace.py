"""The store's keys are FoundationDB tuples, built faster than ``keys.pack`` but byte for byte
the same: tools that unpack them (the admin's event browser, FDB's own) must read them."""

from __future__ import annotations

import pytest

from fairway_django.dcb import InvalidNamespace
from fairway_django.dcb.keyspace import DcbKeyspace, operand_parts, versionstamped_position
from fairway_django.engine import keys
from fairway_django.engine.embedded.mutations import stamp
from fairway_django.engine.keys import Versionstamp

STAMP = bytes(range(1, 11))
#: Tags that tuple encoding must escape or widen: NUL bytes, non-ASCII, a tag that prefixes another.
TAGS = ("a\x00b", "é", "course:c1", "course:c")


def test_index_prefixes_are_the_tuples_the_layout_documents() -> None:
    space = DcbKeyspace("app")
    assert space.log == keys.pack(("dcb", "app", "e"))
    assert space.type_index("T\x00") == keys.pack(("dcb", "app", "y", "T\x00"))
    assert space.tags_index(TAGS) == keys.pack(("dcb", "app", "g", TAGS))
    assert space.type_and_tags_index("T", TAGS[:2]) == keys.pack(("dcb", "app", "t", "T", TAGS[:2]))
    assert space.marker("0123abcd") == keys.pack(("dcb", "app", "a", "0123abcd"))


@pytest.mark.parametrize("order", [0, 1, 255, 65_535])
def test_versionstamped_operands_stamp_as_packed_tuples_do(order: int) -> None:
    space = DcbKeyspace("app")
    for prefix in (space.log, space.type_and_tags_index("T", TAGS[:2])):
        head, tail = operand_parts(prefix)
        ours = head + order.to_bytes(2, "big") + tail
        expected = keys.pack_with_versionstamp(
            (*keys.unpack(prefix), Versionstamp.incomplete(order))
        )
        assert ours[-4:] == expected[-4:]  # the placeholder at the same offset
        assert stamp(ours, STAMP) == stamp(expected, STAMP)
        assert keys.unpack(stamp(ours, STAMP))[-1] == Versionstamp(STAMP, order)
    assert stamp(versionstamped_position(order), STAMP) == STAMP + order.to_bytes(2, "big")


def test_every_index_an_event_joins_lies_under_its_namespace() -> None:
    space = DcbKeyspace("app")
    prefixes = space.index_prefixes("T", tuple(sorted(TAGS)))
    assert len(prefixes) == 1 + 2 * (4 + 6)  # type, and each combination of 1 or 2 tags twice
    assert all(prefix.startswith(space.root) for prefix in prefixes)
    assert len(set(prefixes)) == len(prefixes)
    # No index's entries fall inside another's range: no prefix starts another.
    assert not any(a != b and b.startswith(a) for a in prefixes for b in prefixes)


@pytest.mark.parametrize("namespace", ["", "a b", "x" * 65, "é", 5])
def test_a_namespace_outside_its_alphabet_is_refused(namespace: object) -> None:
    with pytest.raises(InvalidNamespace, match="namespace"):
        DcbKeyspace(namespace)  # type: ignore[arg-type]
