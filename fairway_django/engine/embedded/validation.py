"""Argument checks with FDB's errors, made before anything is recorded."""

from __future__ import annotations

from ..errors import InvertedRange, KeyOutsideLegalRange, KeyTooLarge, ValueTooLarge
from ..limits import KEY_SIZE_LIMIT, SYSTEM_KEY_PREFIX, VALUE_SIZE_LIMIT


def require_bytes(value: object, what: str) -> None:
    if not isinstance(value, bytes):
        raise TypeError(f"{what} must be bytes, not {type(value).__name__}")


def read_key(key: bytes) -> None:
    require_bytes(key, "key")
    if key >= SYSTEM_KEY_PREFIX:
        raise KeyOutsideLegalRange(f"key {key[:32]!r} is in the system keyspace (>= b'\\xff')")


def write_key(key: bytes) -> None:
    read_key(key)
    if len(key) > KEY_SIZE_LIMIT:
        raise KeyTooLarge(f"key of {len(key)} bytes exceeds the {KEY_SIZE_LIMIT}-byte limit")


def value(data: bytes) -> None:
    require_bytes(data, "value")
    if len(data) > VALUE_SIZE_LIMIT:
        raise ValueTooLarge(
            f"value of {len(data)} bytes exceeds the {VALUE_SIZE_LIMIT}-byte limit"
        )


def key_range(begin: bytes, end: bytes, *, inverted_is_error: bool) -> None:
    require_bytes(begin, "range begin")
    require_bytes(end, "range end")
    if begin > SYSTEM_KEY_PREFIX or end > SYSTEM_KEY_PREFIX:
        raise KeyOutsideLegalRange("ranges must lie within [b'', b'\\xff']")
    if inverted_is_error and begin > end:
        raise InvertedRange(f"range begin {begin[:32]!r} is after its end {end[:32]!r}")
