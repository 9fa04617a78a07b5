"""A frozen copy of how the previous layout (before the dictionary, up to commit ebe20d5) wrote
an append: the log and every index entry tuple-encoded under ``("dcb", namespace)``, names in
the keys, a copy of each small event in each of its index entries. Tests write stores with it,
to show that this version opens them."""

from __future__ import annotations

from itertools import combinations

from fairway_django.dcb import Event
from fairway_django.dcb.codec import encode
from fairway_django.engine import Database, Transaction, keys

_INLINE_BUDGET_BYTES = 8192


def _operand(prefix: bytes, order: int) -> bytes:
    """What the old ``operand_parts`` made: a tuple-encoded incomplete versionstamp."""
    return prefix + b"\x33" + bytes(10) + order.to_bytes(2, "big") + (len(prefix) + 1).to_bytes(
        4, "little"
    )


def _index_prefixes(namespace: str, event: Event) -> list[bytes]:
    prefixes = [keys.pack(("dcb", namespace, "y", event.type))]
    ordered = sorted(event.tags)
    for size in range(1, min(len(ordered), 2) + 1):
        for chosen in combinations(ordered, size):
            prefixes.append(keys.pack(("dcb", namespace, "g", chosen)))
            prefixes.append(keys.pack(("dcb", namespace, "t", event.type, chosen)))
    return prefixes


def legacy_append(database: Database, namespace: str, events: list[Event]) -> None:
    """Append ``events`` as the previous layout did (without condition or append id)."""

    def write(tr: Transaction) -> None:
        for order, event in enumerate(events):
            record = encode(event)
            prefixes = _index_prefixes(namespace, event)
            indexed = record if len(record) * len(prefixes) <= _INLINE_BUDGET_BYTES else b""
            tr.set_versionstamped_key(_operand(keys.pack(("dcb", namespace, "e")), order), record)
            for prefix in prefixes:
                tr.set_versionstamped_key(_operand(prefix, order), indexed)
        head = keys.pack(("dcb", namespace, "h"))
        tr.set_versionstamped_value(head, bytes(10) + (len(events) - 1).to_bytes(2, "big") + bytes(4))

    database.transact(write)
