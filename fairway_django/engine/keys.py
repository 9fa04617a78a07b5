"""Keys for every layer: FoundationDB's tuple encoding and key arithmetic, in one place.

Keys are built with FDB's tuple layer so that both engines store byte-for-byte the keys FDB
would, in the same order: packed tuples sort as the tuples do (ints numerically, bytes and
strings lexicographically, ``None`` first, nested tuples element by element). The encoding
itself is ``fdb.tuple`` from the pinned ``foundationdb`` bindings, which is pure Python.

One wrinkle is solved here and only here. ``fdb.tuple.Versionstamp.to_bytes`` starts with
``isinstance(tr_version, fdb.impl.Value)``; ``fdb.impl`` is an attribute of the ``fdb`` package
only once that module has been imported, and importing it loads the C client library
(libfdb_c). So packing a tuple that holds a versionstamp fails with ``AttributeError`` in any
process without libfdb_c (the embedded engine, CI) and in any process where the FDB engine has
not opened yet. It is the only such call: ``unpack`` and the rest of the encoder never touch
``fdb.impl``. The remedy is :class:`Versionstamp`, a subclass whose ``to_bytes`` writes the
same twelve bytes without that check; nothing in the bindings is patched, so they behave
exactly as published when libfdb_c is loaded.
"""

from __future__ import annotations

import struct
import uuid
from typing import NamedTuple, TypeAlias, Union

from .bindings import require_bindings

require_bindings()  # the Firebird driver is also called fdb: say so, instead of failing below

import fdb.tuple as _fdb_tuple  # type: ignore[import-untyped]  # noqa: E402

__all__ = [
    "KeyRange",
    "TupleElement",
    "Versionstamp",
    "pack",
    "pack_with_versionstamp",
    "range",
    "strinc",
    "unpack",
]

#: The tuple-layer type code that starts an encoded versionstamp.
_VERSIONSTAMP_CODE = b"\x33"
#: Ten bytes of 0xff stand in for the transaction version until the commit fills them in.
_INCOMPLETE_TR_VERSION = b"\xff" * 10
#: What a versionstamped key or value holds where the commit's versionstamp goes.
_PLACEHOLDER = bytes(10)
#: A versionstamp's body: the 10-byte transaction version, then a big-endian user version.
_VERSIONSTAMP_BODY = struct.Struct(">10sH")

_FDBVersionstamp = _fdb_tuple.Versionstamp


class Versionstamp(_fdb_tuple.Versionstamp):  # type: ignore[misc]  # the bindings are untyped
    """A versionstamp in a tuple: a 10-byte transaction version and a 2-byte user version.

    Complete ones (``tr_version`` given) identify a committed transaction and sort in commit
    order. An incomplete one (``Versionstamp.incomplete(user_version)``) is a placeholder for
    :func:`pack_with_versionstamp`; the engine writes the commit's versionstamp over it. The
    user version orders several keys written by one transaction.

    It is ``fdb.tuple.Versionstamp`` (equal to, hashing and sorting with its instances, and
    packed by ``fdb.tuple`` itself) except that encoding never needs libfdb_c; see the module
    docstring. Pass instances of this class (or of FDB's, which :func:`pack` converts) and
    expect this class back from :func:`unpack`.
    """

    tr_version: bytes | None
    user_version: int

    def __init__(self, tr_version: bytes | None = None, user_version: int = 0) -> None:
        super().__init__(tr_version, user_version)

    @classmethod
    def incomplete(cls, user_version: int = 0) -> Versionstamp:
        return cls(None, user_version)

    @classmethod
    def from_bytes(cls, data: bytes, start: int = 0) -> Versionstamp:
        parsed = _FDBVersionstamp.from_bytes(data, start)
        return cls(parsed.tr_version, parsed.user_version)

    def completed(self, tr_version: bytes) -> Versionstamp:
        if self.is_complete():
            raise RuntimeError(f"{self!r} is already complete")
        return type(self)(tr_version, self.user_version)

    def is_complete(self) -> bool:
        return self.tr_version is not None

    def to_bytes(self) -> bytes:
        # bytes() also unwraps the bindings' lazy fdb.impl.Value, as FDB's own to_bytes does.
        tr_version = _INCOMPLETE_TR_VERSION if self.tr_version is None else bytes(self.tr_version)
        return _VERSIONSTAMP_BODY.pack(tr_version, self.user_version)

    def __repr__(self) -> str:
        return f"Versionstamp({self.tr_version!r}, {self.user_version})"


#: What a tuple may hold. Fairway never writes single-precision floats (``fdb.tuple.SingleFloat``),
#: so they are left out, although :func:`unpack` would decode one.
TupleElement: TypeAlias = Union[
    None,
    bytes,
    str,
    int,
    float,
    bool,
    uuid.UUID,
    Versionstamp,
    tuple["TupleElement", ...],
    list["TupleElement"],
]


class KeyRange(NamedTuple):
    """``begin <= key < end``; unpacks straight into ``tr.get_range(*keys.range(...))``."""

    begin: bytes
    end: bytes


def pack(items: tuple[TupleElement, ...], prefix: bytes = b"") -> bytes:
    """``prefix`` followed by the tuple encoding of ``items``: a key that sorts as they do.

    Incomplete versionstamps are refused: they belong in :func:`pack_with_versionstamp`.
    """
    try:
        return bytes(_fdb_tuple.pack(items, prefix))
    except (AttributeError, ValueError):
        # Either a versionstamp of the bindings' own class (its to_bytes needs libfdb_c), or
        # an incomplete one, which deserves a clearer message than the bindings give.
        items = _with_own_versionstamps(items, expected_incomplete=0)
        return bytes(_fdb_tuple.pack(items, prefix))


def pack_with_versionstamp(items: tuple[TupleElement, ...], prefix: bytes = b"") -> bytes:
    """Pack a tuple holding exactly one incomplete versionstamp, for a versionstamped write.

    The result ends with the 4-byte little-endian offset of the placeholder (API version 520
    and later), which ``Transaction.set_versionstamped_key`` and ``set_versionstamped_value``
    consume: the stored key or value is the packed tuple with the commit's versionstamp in
    place of the ten 0xff bytes, and without the offset.
    """
    try:
        return bytes(_fdb_tuple.pack_with_versionstamp(items, prefix))
    except (AttributeError, ValueError):
        items = _with_own_versionstamps(items, expected_incomplete=1)
        return bytes(_fdb_tuple.pack_with_versionstamp(items, prefix))


def versionstamp_operand(before: bytes, after: bytes) -> bytes:
    """The operand of ``set_versionstamped_key`` for the key ``before`` + the commit's
    versionstamp + ``after``: a placeholder between the two, and its offset at the end."""
    if type(before) is not bytes or type(after) is not bytes:
        raise TypeError(
            "a versionstamped key's parts are bytes, not "
            f"{type(before).__name__} and {type(after).__name__}"
        )
    return before + _PLACEHOLDER + after + len(before).to_bytes(4, "little")


def unpack(key: bytes, prefix_len: int = 0) -> tuple[TupleElement, ...]:
    """The tuple packed into ``key`` after its first ``prefix_len`` bytes."""
    items: tuple[TupleElement, ...] = _fdb_tuple.unpack(key, prefix_len)
    # Cheap tests first: no 0x33 byte, no versionstamp; the bindings decode into their class.
    if _VERSIONSTAMP_CODE in key and _holds_fdb_versionstamp(items):
        items = _with_own_versionstamps(items, expected_incomplete=None)
    return items


def range(items: tuple[TupleElement, ...], prefix: bytes = b"") -> KeyRange:  # noqa: A001
    """The keys of every longer tuple that starts with ``items`` (not ``pack(items)`` itself).

    Named and bounded as ``fdb.tuple.range`` (``pack + b"\\x00"`` to ``pack + b"\\xff"``), but a
    :class:`KeyRange` rather than a ``slice``, since the engine interface takes begin and end.
    """
    packed = pack(items, prefix)
    return KeyRange(packed + b"\x00", packed + b"\xff")


def strinc(key: bytes) -> bytes:
    """The first key after every key that starts with ``key`` (FDB's ``strinc``)."""
    stripped = key.rstrip(b"\xff")
    if not stripped:
        raise ValueError(f"no key sorts after every key starting with {key!r}")
    return stripped[:-1] + bytes([stripped[-1] + 1])


def _with_own_versionstamps(
    items: tuple[TupleElement, ...], expected_incomplete: int | None
) -> tuple[TupleElement, ...]:
    """``items`` with every versionstamp, however deeply nested, as a :class:`Versionstamp`.

    Checks the number of incomplete versionstamps against ``expected_incomplete`` (None: any)
    so that misuse fails with a message that says what to do instead.
    """
    converted, incomplete = _convert(items)
    if expected_incomplete is None or incomplete == expected_incomplete:
        return tuple(converted)
    if expected_incomplete == 0:
        raise ValueError(
            f"{items!r} holds an incomplete versionstamp: pack it with pack_with_versionstamp() "
            "and write it with set_versionstamped_key() or set_versionstamped_value()"
        )
    if incomplete == 0:
        raise ValueError(
            f"{items!r} holds no incomplete versionstamp for pack_with_versionstamp() to mark; "
            "add Versionstamp.incomplete() or use pack()"
        )
    raise ValueError(
        f"{items!r} holds {incomplete} incomplete versionstamps, but a versionstamped key or "
        "value has room for one placeholder only; write one key per versionstamp and tell "
        "them apart by user version: Versionstamp.incomplete(0), Versionstamp.incomplete(1)"
    )


def _holds_fdb_versionstamp(items: tuple[TupleElement, ...]) -> bool:
    return any(
        isinstance(item, _FDBVersionstamp)
        or (type(item) is tuple and _holds_fdb_versionstamp(item))
        for item in items
    )


def _convert(
    items: tuple[TupleElement, ...] | list[TupleElement],
) -> tuple[list[TupleElement], int]:
    converted: list[TupleElement] = []
    incomplete = 0
    for item in items:
        if isinstance(item, _FDBVersionstamp):
            if type(item) is not Versionstamp:
                item = Versionstamp(item.tr_version, item.user_version)
            incomplete += item.tr_version is None
        elif isinstance(item, (tuple, list)):
            nested, nested_incomplete = _convert(item)
            item = tuple(nested) if isinstance(item, tuple) else nested
            incomplete += nested_incomplete
        converted.append(item)
    return converted, incomplete
