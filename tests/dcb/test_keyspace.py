"""The store's keys: the namespace's own keys are FoundationDB tuples (tools unpack them); the
events' keys under the short root are built for size, and no index's range holds another's."""

from __future__ import annotations

import pytest

from fairway_django.dcb import InvalidNamespace
from fairway_django.dcb.keyspace import (
    DcbKeyspace,
    EventSpace,
    varint,
    versionstamped_position,
)
from fairway_django.engine import keys
from fairway_django.engine.embedded.mutations import stamp

STAMP = bytes(range(1, 11))
NUMBERS = (0, 1, 127, 128, 300, 16_383, 16_384, 2**40)


def test_the_namespace_keys_are_the_tuples_the_layout_documents() -> None:
    space = DcbKeyspace("app")
    assert space.head == keys.pack(("dcb", "app", "h"))
    assert space.marker("0123abcd") == keys.pack(("dcb", "app", "a", "0123abcd"))
    assert space.name("g", "course:c1") == keys.pack(("dcb", "app", "n", "g", "course:c1"))
    assert space.short_root == keys.pack(("dcb", "app", "r"))


def test_numbers_are_short_and_prefix_free() -> None:
    assert [len(varint(n)) for n in NUMBERS[:7]] == [1, 1, 1, 2, 2, 2, 3]
    encoded = [varint(n) for n in NUMBERS]
    assert len(set(encoded)) == len(encoded)
    assert not any(a != b and b.startswith(a) for a in encoded for b in encoded)


@pytest.mark.parametrize("order", [0, 1, 255, 65_535])
def test_a_versionstamped_position_is_the_versionstamp_then_the_order(order: int) -> None:
    assert stamp(versionstamped_position(order), STAMP) == STAMP + order.to_bytes(2, "big")
    assert stamp(versionstamped_position(order, b"~"), STAMP) == (
        STAMP + order.to_bytes(2, "big") + b"~"
    )


def test_no_index_of_an_event_holds_another_index_of_the_store() -> None:
    """Every prefix an event of up to four tags can be indexed under, for a few types: none
    starts another, so every index is one range holding only its own entries."""
    space = EventSpace(keys.pack((1,)))
    prefixes = {space.log}
    for type_ in (0, 1, 300):
        for tags in ((), (2,), (2, 129), (0, 2, 129, 70_000)):
            found = space.index_prefixes(type_, tags)
            assert len(found) == len(set(found)) == 1 + 2 * (len(tags) + len(tags) * (len(tags) - 1) // 2)
            prefixes.update(found)
    assert all(prefix.startswith(space.root) for prefix in prefixes)
    assert not any(a != b and b.startswith(a) for a in prefixes for b in prefixes)


@pytest.mark.parametrize("namespace", ["", "a b", "x" * 65, "é", 5])
def test_a_namespace_outside_its_alphabet_is_refused(namespace: object) -> None:
    with pytest.raises(InvalidNamespace, match="namespace"):
        DcbKeyspace(namespace)  # type: ignore[arg-type]
