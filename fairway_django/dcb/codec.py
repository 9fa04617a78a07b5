"""How an event is stored: one MessagePack array ``[type, data, tags, metadata]``.

MessagePack keeps bytes as bytes (no base64), decodes in C, and its arrays decode straight into
the tuple that *is* an :class:`Event`, so a read builds each event with one allocation.
"""

from __future__ import annotations

import msgpack

from .events import Event

_packb = msgpack.packb
_unpackb = msgpack.unpackb
_new_tuple = tuple.__new__


def encode(event: Event) -> bytes:
    record: bytes = _packb(event)
    return record


def unpack(record: bytes) -> tuple[str, bytes, tuple[str, ...], dict[str, str] | None]:
    """The fields of a stored event, in :class:`Event`'s order."""
    return _unpackb(record, use_list=False)  # type: ignore[no-any-return]


def decode(record: bytes) -> Event:
    event: Event = _new_tuple(Event, unpack(record))
    return event
