"""Where the event store keeps what, inside the engine's ordered key space.

Two parts. The namespace's own keys live under the tuple ``("dcb", namespace)``, tuple-encoded
like any FDB layer; there are few of them, and any process can name them without a read::

    ("h",)                                 the last appended position (watched by readers)
    ("a", <append id>)                     recent appends' ids, for exactly-once retries
    ("k", key)                             idempotency keys: last position and expiry
    ("x", expiry in ms, key)               idempotency keys by expiry, for pruning
    ("r",)                                 the short root of the events (below)
    ("n", kind, name)                      the dictionary: a type's or tag's number
    ("c",)                                 the first number no process has reserved

The events themselves, eight keys per event of two tags, live under a *short root*: the
one-element tuple ``(n,)``, an integer the namespace was given when it first wrote (the
counter is ``("dcb", "~roots")``). Below it, keys are built for size, not as tuples::

    01 <position>                          the log: every event, in position order
    02 <type> <position>                   by type
    1k <tag 1> .. <tag k> <position>       by a combination of k tags, any type
    2k <type> <tag 1> .. <tag k> <position>  by a combination of k tags and a type

where a type or tag is its dictionary number as a prefix-free varint (one byte below 128, two
below 16,384), tags in a combination sorted by number, and a position is 12 raw bytes (a
versionstamp and the event's order in its append). Index entries hold no value: a read through
an index finds positions, then the events in the log. That is what brought an event of two tags
from some 4,800 bytes on disk to a few hundred (docs/dcb.md has the figures).
"""

from __future__ import annotations

import re
from itertools import combinations
from typing import NamedTuple

from fairway_django.engine import keys

from .errors import InvalidNamespace
from .limits import EXACT_TAG_COMBINATION
from .position import POSITION_BYTES

_INCOMPLETE = bytes(10)
_NAMESPACE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
#: The counter of short roots handed out to namespaces ("~" is outside namespaces' alphabet).
ROOTS_COUNTER = keys.pack(("dcb", "~roots"))
#: Family bytes under a namespace's short root.
LOG = b"\x01"
BY_TYPE = b"\x02"
_BY_TAGS = 0x10
_BY_TYPE_AND_TAGS = 0x20
#: Dictionary kinds.
TYPE, TAG = "y", "g"


def varint(number: int) -> bytes:
    """A prefix-free encoding of a dictionary number: 7 bits a byte, high bit = more follow."""
    out = bytearray()
    while number >= 0x80:
        out.append(0x80 | (number & 0x7F))
        number >>= 7
    out.append(number)
    return bytes(out)


def check_namespace(namespace: object) -> str:
    if not isinstance(namespace, str) or _NAMESPACE.fullmatch(namespace) is None:
        raise InvalidNamespace(
            f"namespace {namespace!r} must be 1 to 64 letters, digits, '_', '.' or '-'"
        )
    return namespace


class DcbKeyspace:
    """The namespace's own keys, under ``("dcb", namespace)``."""

    def __init__(self, namespace: str) -> None:
        self.namespace = check_namespace(namespace)
        root = keys.pack(("dcb", namespace))
        self.root = root
        self.head = root + keys.pack(("h",))
        self.appends = root + keys.pack(("a",))
        self.idempotency_keys = root + keys.pack(("k",))
        self.key_expiries = root + keys.pack(("x",))
        self.short_root = root + keys.pack(("r",))
        self.names = root + keys.pack(("n",))
        self.next_number = root + keys.pack(("c",))

    def name(self, kind: str, name: str) -> bytes:
        """The dictionary entry of a type (kind ``TYPE``) or a tag (``TAG``)."""
        return self.names + keys.pack((kind, name))

    def marker(self, append_id: str) -> bytes:
        """The key of an append's id (hex digits: its tuple encoding needs no escaping)."""
        return self.appends + b"\x02" + append_id.encode("ascii") + b"\x00"

    def markers_before(self, id_prefix: str) -> tuple[bytes, bytes]:
        """The range of append ids that sort before ``id_prefix`` (ids begin with their time)."""
        return self.appends, self.appends + keys.pack((id_prefix,))

    def idempotency_key(self, key: str) -> bytes:
        return self.idempotency_keys + keys.pack((key,))

    def key_expiry(self, expiry_ms: int, key: str) -> bytes:
        return self.key_expiries + keys.pack((expiry_ms, key))

    def key_expiries_before(self, expiry_ms: int) -> tuple[bytes, bytes]:
        """The range of expiry index entries for keys expiring before ``expiry_ms``."""
        return self.key_expiries, self.key_expiries + keys.pack((expiry_ms,))


class EventSpace:
    """The log and the indexes of one namespace, under its short root (see the module)."""

    def __init__(self, root: bytes) -> None:
        self.root = root
        self.log = root + LOG

    def type_index(self, type_: int) -> bytes:
        return self.root + BY_TYPE + varint(type_)

    def tags_index(self, tags: tuple[int, ...]) -> bytes:
        """``tags`` sorted, 1 to ``EXACT_TAG_COMBINATION`` of them."""
        return self.root + bytes([_BY_TAGS + len(tags)]) + b"".join(map(varint, tags))

    def type_and_tags_index(self, type_: int, tags: tuple[int, ...]) -> bytes:
        return (
            self.root + bytes([_BY_TYPE_AND_TAGS + len(tags)]) + varint(type_)
            + b"".join(map(varint, tags))
        )

    def index_prefixes(self, type_: int, tags: tuple[int, ...]) -> tuple[bytes, ...]:
        """Every index an event of this type and these (sorted) tags belongs to."""
        prefixes = [self.type_index(type_)]
        for size in range(1, min(len(tags), EXACT_TAG_COMBINATION) + 1):
            for chosen in combinations(tags, size):
                prefixes.append(self.tags_index(chosen))
                prefixes.append(self.type_and_tags_index(type_, chosen))
        return tuple(prefixes)

    def indexes(self, type_: int, tags: tuple[int, ...]) -> Indexes:
        prefixes = self.index_prefixes(type_, tags)
        return Indexes(prefixes, sum(map(len, prefixes)) + len(prefixes) * POSITION_BYTES)


class Indexes(NamedTuple):
    """The indexes an event of one type and tag set goes into, made once per such set."""

    prefixes: tuple[bytes, ...]
    #: What the keys of one event's entries take, all together.
    key_bytes: int


def versionstamped_position(order: int, suffix: bytes = b"") -> bytes:
    """The operand of ``set_versionstamped_value`` for a value that is a position, followed by
    ``suffix``."""
    return _INCOMPLETE + order.to_bytes(2, "big") + suffix + bytes(4)


def position_of(key: bytes) -> bytes:
    return key[-POSITION_BYTES:]
