"""Mutations as a transaction records them and as the committer applies them.

Atomic operations and versionstamp substitution live here so that the transaction (reading its
own writes) and the committer (applying them to the store) compute values the same way.
"""

from __future__ import annotations

import enum
import struct
from typing import NamedTuple

from ..errors import ClientInvalidOperation
from ..limits import VERSIONSTAMP_SIZE

_OFFSET = struct.Struct("<I")


class Op(enum.Enum):
    SET = "set"
    CLEAR = "clear"
    CLEAR_RANGE = "clear_range"
    ADD = "add"
    SET_VERSIONSTAMPED_KEY = "set_versionstamped_key"
    SET_VERSIONSTAMPED_KEYS = "set_versionstamped_keys"
    SET_VERSIONSTAMPED_VALUE = "set_versionstamped_value"


#: ``set_versionstamped_keys``'s entries: (before, after, value) each.
StampedEntries = tuple[tuple[bytes, bytes, bytes], ...]


class Mutation(NamedTuple):
    op: Op
    key: bytes
    param: bytes  # the value, the range end for CLEAR_RANGE, the operand for ADD
    #: SET_VERSIONSTAMPED_KEYS's entries, recorded as one mutation (its key and param empty).
    entries: StampedEntries = ()

    @property
    def key_count(self) -> int:
        """How many keys it sets or clears (a range counting as one)."""
        return len(self.entries) or 1


def add(existing: bytes | None, param: bytes) -> bytes:
    """FDB's ADD: little-endian addition, the result as wide as ``param`` (wrapping)."""
    width = len(param)
    total = int.from_bytes(existing or b"", "little") + int.from_bytes(param, "little")
    return (total % (1 << (8 * width))).to_bytes(width, "little") if width else b""


def split_versionstamp_operand(operand: bytes, what: str) -> tuple[bytes, int]:
    """Strip the 4-byte little-endian offset and check the placeholder fits, as FDB does."""
    if len(operand) < _OFFSET.size:
        raise ClientInvalidOperation(
            f"a versionstamped {what} must end with the 4-byte offset of its placeholder"
        )
    body = operand[: -_OFFSET.size]
    (offset,) = _OFFSET.unpack(operand[-_OFFSET.size :])
    if offset + VERSIONSTAMP_SIZE > len(body):
        raise ClientInvalidOperation(
            f"versionstamp offset {offset} leaves no room for 10 bytes in a "
            f"{len(body)}-byte {what}"
        )
    return body, offset


def stamp(operand: bytes, versionstamp: bytes) -> bytes:
    """Put ``versionstamp`` at the operand's placeholder (operand checked when recorded)."""
    body = operand[: -_OFFSET.size]
    (offset,) = _OFFSET.unpack(operand[-_OFFSET.size :])
    return body[:offset] + versionstamp + body[offset + VERSIONSTAMP_SIZE :]
