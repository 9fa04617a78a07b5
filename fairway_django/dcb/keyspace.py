"""Where the event store keeps what, inside the engine's ordered key space.

Everything lives under the tuple ``("dcb", namespace)``, so stores with different namespaces
share an engine without seeing each other. Below it, tuple-encoded like any FDB layer::

    ("e", <position>)                          the log: every event, in position order
    ("y", type, <position>)                    by type
    ("g", (tag, ...), <position>)              by tag combination, any type
    ("t", type, (tag, ...), <position>)        by tag combination and type
    ("h",)                                     the last appended position (watched by readers)
    ("a", <append id>)                         recent appends' ids, for exactly-once retries
    ("k", key)                                 idempotency keys: last position and expiry
    ("x", expiry in ms, key)                   idempotency keys by expiry, for pruning

A position is a tuple-encoded versionstamp (code 0x33 and 12 bytes) at the end of the key, so
every index holds its events in position order and "after position p" is a key range.
Combinations hold an event's tags sorted, up to ``EXACT_TAG_COMBINATION`` of them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import combinations
from typing import NamedTuple

from fairway_django.engine import keys

from .errors import InvalidNamespace
from .limits import EXACT_TAG_COMBINATION
from .position import POSITION_BYTES

#: The tuple-encoding type code of a versionstamp; every index key ends with it and 12 bytes.
VERSIONSTAMP_CODE = b"\x33"
_NESTED_BEGIN, _NESTED_END = b"\x05", b"\x00"
_INCOMPLETE = bytes(10)
#: What a position's place holds until the commit: the code and ten bytes for the engine to fill.
_PLACEHOLDER = VERSIONSTAMP_CODE + _INCOMPLETE
#: Bytes a versionstamped key takes beyond its prefix: the code, the position and the offset.
KEY_OVERHEAD = len(VERSIONSTAMP_CODE) + POSITION_BYTES + 4
_NAMESPACE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@lru_cache(maxsize=65_536)
def _element(text: str) -> bytes:
    """The tuple encoding of one string: the same bytes inside or outside a nested tuple."""
    return keys.pack((text,))


def combination(tags: tuple[str, ...]) -> bytes:
    """The tuple encoding of a nested tuple of (sorted) tags."""
    return _NESTED_BEGIN + b"".join(map(_element, tags)) + _NESTED_END


class DcbKeyspace:
    """The keys of one namespace. Index prefixes end just before the position."""

    def __init__(self, namespace: str) -> None:
        if not isinstance(namespace, str) or _NAMESPACE.fullmatch(namespace) is None:
            raise InvalidNamespace(
                f"namespace {namespace!r} must be 1 to 64 letters, digits, '_', '.' or '-'"
            )
        self.namespace = namespace
        root = keys.pack(("dcb", namespace))
        self.root = root
        self.log = root + keys.pack(("e",))
        self.head = root + keys.pack(("h",))
        self.appends = root + keys.pack(("a",))
        self.idempotency_keys = root + keys.pack(("k",))
        self.key_expiries = root + keys.pack(("x",))
        self._by_type = root + keys.pack(("y",))
        self._by_tags = root + keys.pack(("g",))
        self._by_type_and_tags = root + keys.pack(("t",))
        self.index_operands = lru_cache(maxsize=16_384)(self._index_operands)

    def type_index(self, type_: str) -> bytes:
        return self._by_type + _element(type_)

    def tags_index(self, tags: tuple[str, ...]) -> bytes:
        return self._by_tags + combination(tags)

    def type_and_tags_index(self, type_: str, tags: tuple[str, ...]) -> bytes:
        return self._by_type_and_tags + _element(type_) + combination(tags)

    def _index_operands(self, type_: str, tags: tuple[str, ...]) -> IndexOperands:
        prefixes = self.index_prefixes(type_, tags)
        parts = tuple(map(operand_parts, prefixes))
        return IndexOperands(parts, sum(map(len, prefixes)) + len(prefixes) * KEY_OVERHEAD)

    def index_prefixes(self, type_: str, tags: tuple[str, ...]) -> tuple[bytes, ...]:
        """Every index an event of this type and these tags belongs to (log excluded)."""
        prefixes = [self.type_index(type_)]
        ordered = sorted(tags)
        for size in range(1, min(len(ordered), EXACT_TAG_COMBINATION) + 1):
            for chosen in combinations(ordered, size):
                prefixes.append(self.tags_index(chosen))
                prefixes.append(self.type_and_tags_index(type_, chosen))
        return tuple(prefixes)

    def marker(self, append_id: str) -> bytes:
        """The key of an append's id (hex digits: its tuple encoding needs no escaping)."""
        return self.appends + b"\x02" + append_id.encode("ascii") + b"\x00"

    def markers_before(self, id_prefix: str) -> tuple[bytes, bytes]:
        """The range of append ids that sort before ``id_prefix`` (ids begin with their time)."""
        return self.appends, self.appends + keys.pack((id_prefix,))

    def idempotency_key(self, key: str) -> bytes:
        return self.idempotency_keys + keys.pack((key,))  # not _element: keys rarely repeat

    def key_expiry(self, expiry_ms: int, key: str) -> bytes:
        return self.key_expiries + keys.pack((expiry_ms, key))

    def key_expiries_before(self, expiry_ms: int) -> tuple[bytes, bytes]:
        """The range of expiry index entries for keys expiring before ``expiry_ms``."""
        return self.key_expiries, self.key_expiries + keys.pack((expiry_ms,))


class IndexOperands(NamedTuple):
    """The indexes an event of one type and tag set goes into, made once per such set."""

    #: Per index, the parts of its entry's ``set_versionstamped_key`` operand (operand_parts).
    parts: tuple[tuple[bytes, bytes], ...]
    #: What the keys of one event's entries take, all together.
    key_bytes: int


def operand_parts(prefix: bytes) -> tuple[bytes, bytes]:
    """``(head, tail)``: the ``set_versionstamped_key`` operand for the entry at ``prefix`` of an
    append's event number ``order`` is ``head + order (2 bytes, big-endian) + tail``.

    Those are the bytes ``keys.pack_with_versionstamp`` makes for ``prefix`` plus an incomplete
    versionstamp (tests compare the two), built directly: an append makes one operand per index
    entry, each with two concatenations.
    """
    return prefix + _PLACEHOLDER, (len(prefix) + 1).to_bytes(4, "little")


def versionstamped_position(order: int, suffix: bytes = b"") -> bytes:
    """The operand of ``set_versionstamped_value`` for a value that is a position, followed by
    ``suffix``."""
    return _INCOMPLETE + order.to_bytes(2, "big") + suffix + bytes(4)


def at(prefix: bytes, raw: bytes) -> bytes:
    """The key of the entry at position ``raw`` in the index (or log) ``prefix``."""
    return prefix + VERSIONSTAMP_CODE + raw


def position_of(key: bytes) -> bytes:
    return key[-POSITION_BYTES:]
