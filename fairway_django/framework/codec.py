"""Between typed events and the store's events: JSON data, tags and metadata.

msgspec checks types only when decoding, so an event is validated on the way out by decoding
what was encoded (microseconds): an event built with a wrong type never reaches the log. On the
way in, an event stored at an older schema version is upcast step by step, then validated.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

import msgspec

from fairway_django import dcb
from fairway_django.dcb import Position, SequencedEvent

from .errors import EventDecodeError, InvalidEventData, UnknownEventType
from .events import Event, spec_of, upcaster_of

#: Metadata keys: the schema version the data was written in, and when the event occurred.
VERSION_KEY = "v"
OCCURRED_AT_KEY = "at"
CORRELATION_KEY = "correlation_id"
CAUSATION_KEY = "causation_id"

_json_encode = msgspec.json.encode
_json_decode = msgspec.json.decode


class Recorded(NamedTuple):
    """An event as read from the log, with where it sits and what was stored beside it."""

    position: Position
    event: Event
    #: The schema version the event was stored at (it has been upcast to the class's own).
    version: int
    occurred_at: datetime | None
    metadata: Mapping[str, str]


def encode(
    event: Event,
    *,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> dcb.Event:
    """The store's event for ``event``; InvalidEventData when its fields break its declaration."""
    if not isinstance(event, Event):
        raise InvalidEventData(f"expected an Event instance, not {type(event).__name__}")
    cls = type(event)
    spec = spec_of(cls)
    try:
        data = _json_encode(event)
        spec.decoder.decode(data)
    except (msgspec.ValidationError, msgspec.EncodeError, TypeError, ValueError) as error:
        raise InvalidEventData(f"invalid {cls.__qualname__}: {error}") from None
    when = occurred_at or datetime.now(UTC)
    metadata = {
        VERSION_KEY: str(spec.version),
        OCCURRED_AT_KEY: when.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    if correlation_id is not None:
        metadata[CORRELATION_KEY] = correlation_id
    if causation_id is not None:
        metadata[CAUSATION_KEY] = causation_id
    try:
        return dcb.Event(spec.event_type, data, event.tags(), metadata)
    except dcb.InvalidInput as error:  # a tag too long, too many tags: name the class
        raise type(error)(f"{cls.__qualname__}: {error}") from None


def decode(sequenced: SequencedEvent, classes: Mapping[str, type[Event]]) -> Recorded:
    """The typed event for a stored one, its class looked up by type in ``classes``."""
    position, stored = sequenced
    cls = classes.get(stored.type)
    if cls is None:
        raise UnknownEventType(
            f"the event at {position} has type {stored.type!r}, which no event class here is "
            "registered for; register its class (or select it in the query)"
        )
    metadata = stored.metadata or {}
    spec = spec_of(cls)
    version = _version(metadata, stored.type, position)
    try:
        if version == spec.version:
            event: Event = spec.decoder.decode(stored.data)
        else:
            event = msgspec.convert(_upcast(cls, version, stored.data, position), cls)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise EventDecodeError(
            f"the {stored.type!r} event at {position} (version {version}) does not decode: "
            f"{error}"
        ) from None
    return Recorded(position, event, version, occurred_at(metadata), metadata)


def _version(metadata: Mapping[str, str], type_: str, position: Position) -> int:
    text = metadata.get(VERSION_KEY, "1")
    try:
        return int(text)
    except ValueError:
        raise EventDecodeError(
            f"the {type_!r} event at {position} has schema version {text!r}, not a number"
        ) from None


def _upcast(cls: type[Event], version: int, data: bytes, position: Position) -> Any:
    current = cls.schema_version
    if version > current:
        raise EventDecodeError(
            f"the {cls.event_type!r} event at {position} was stored at version {version}, "
            f"newer than {cls.__qualname__}'s {current}: deploy the code that wrote it"
        )
    value = _json_decode(data)
    for step in range(version, current):
        fn = upcaster_of(cls, step)
        if fn is None:
            raise EventDecodeError(
                f"the {cls.event_type!r} event at {position} is at version {step}, and "
                f"{cls.__qualname__} has no upcaster from version {step}: add one with "
                f"@upcaster({cls.__qualname__}, from_version={step})"
            )
        try:
            value = fn(value)
        except Exception as error:
            raise EventDecodeError(
                f"upcaster {fn.__qualname__} failed on the {cls.event_type!r} event at "
                f"{position}: {error!r}"
            ) from error
    return value


def occurred_at(metadata: Mapping[str, str]) -> datetime | None:
    """When the event with ``metadata`` occurred (None when it does not say, or not readably)."""
    text = metadata.get(OCCURRED_AT_KEY)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
