"""Events as the store takes and gives them.

``Event`` and ``SequencedEvent`` are named tuples: reads build one per event, and a tuple is the
cheapest immutable object Python makes. ``Event(...)`` checks and normalises its fields (tags
become a tuple, metadata a dict), so an event read back compares equal to the one appended.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from .errors import InvalidEvent, TooManyTags
from .limits import MAX_TAG_BYTES, MAX_TAGS_PER_EVENT, MAX_TYPE_BYTES
from .position import Position


class _EventFields(NamedTuple):
    type: str
    data: bytes
    tags: tuple[str, ...]
    metadata: dict[str, str] | None


class Event(_EventFields):
    """A fact to append: its type, opaque data, the tags that index it and optional metadata."""

    __slots__ = ()

    def __new__(
        cls,
        type: str,
        data: bytes,
        tags: Iterable[str] = (),
        metadata: Mapping[str, str] | None = None,
    ) -> Event:
        if isinstance(tags, (str, bytes)) or not isinstance(tags, Iterable):
            raise InvalidEvent(f"tags must be a sequence of strings, not {tags!r}")
        event = tuple.__new__(
            cls, (type, data, tuple(tags), None if metadata is None else _metadata(metadata))
        )
        check_event(event)
        return event


class SequencedEvent(NamedTuple):
    """An event as read: where it sits in the log, and the event."""

    position: Position
    event: Event


def check_event(event: object) -> Event:
    """``event``, checked and normalised; :class:`InvalidEvent` names the first thing wrong.

    Appends check every event again: ``Event._make`` and ``_replace`` build tuples without
    passing through ``Event.__new__``.
    """
    if not isinstance(event, Event):
        raise InvalidEvent(f"expected an Event, got {type(event).__name__}: {event!r}")
    type_, data, tags, metadata = event
    if not isinstance(type_, str) or not type_:
        raise InvalidEvent(f"an event's type must be a non-empty string, not {type_!r}")
    if utf8_size(type_, "event type", InvalidEvent) > MAX_TYPE_BYTES:
        raise InvalidEvent(f"event type {type_[:40]!r}... is over {MAX_TYPE_BYTES} bytes")
    if type(data) is not bytes:
        raise InvalidEvent(f"event data must be bytes, not {type(data).__name__}")
    if type(tags) is not tuple:
        raise InvalidEvent(f"event tags must be a tuple of strings, not {tags!r}")
    if len(tags) > MAX_TAGS_PER_EVENT:
        raise TooManyTags(
            f"an event carries at most {MAX_TAGS_PER_EVENT} tags; this {type_!r} has {len(tags)}"
        )
    for tag in tags:
        if not isinstance(tag, str) or not tag:
            raise InvalidEvent(f"every tag must be a non-empty string, not {tag!r}")
        if utf8_size(tag, "tag", InvalidEvent) > MAX_TAG_BYTES:
            raise InvalidEvent(f"tag {tag[:40]!r}... is over {MAX_TAG_BYTES} bytes")
    if len(set(tags)) != len(tags):
        duplicates = sorted({tag for tag in tags if tags.count(tag) > 1})
        raise InvalidEvent(f"an event's tags must be distinct; repeated: {duplicates}")
    if metadata is not None and type(metadata) is not dict:
        return tuple.__new__(Event, (type_, data, tags, _metadata(metadata)))
    if metadata is not None:
        _metadata(metadata)
    return event


def utf8_size(text: str, what: str, error: type[Exception]) -> int:
    """The UTF-8 size of ``text``; strings that have none (lone surrogates) are refused."""
    try:
        return len(text.encode())
    except UnicodeEncodeError as exc:
        raise error(f"{what} {text!r} is not valid Unicode text: {exc.reason}") from None


def _metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(metadata, Mapping):
        raise InvalidEvent(f"metadata must be a mapping of strings, not {metadata!r}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidEvent(
                f"metadata keys and values must be strings, not {key!r}: {value!r}"
            )
        utf8_size(key, "metadata key", InvalidEvent)
        utf8_size(value, "metadata value", InvalidEvent)
    return dict(metadata)
