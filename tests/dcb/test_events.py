"""Events: what ``Event`` accepts, how it normalises its fields, and what it refuses.

Bad input never writes anything and raises a subclass of ``InvalidInput`` naming the problem;
the store re-checks events at append time, since ``_replace``/``_make`` skip the constructor.
"""

from __future__ import annotations

import types as pytypes
from collections.abc import Callable
from typing import Any

import pytest

from fairway_django.dcb import (
    AppendConditionFailed,
    DcbError,
    DcbStore,
    Event,
    EventTooLarge,
    InvalidAppend,
    InvalidEvent,
    InvalidInput,
    InvalidNamespace,
    InvalidPosition,
    InvalidQuery,
    Query,
    SequencedEvent,
    TooManyTags,
)

from .support import assert_nothing_written

INPUT_ERRORS: list[type[DcbError]] = [
    InvalidEvent,
    TooManyTags,
    EventTooLarge,
    InvalidAppend,
    InvalidQuery,
    InvalidPosition,
    InvalidNamespace,
]
ERROR_CLASSES: list[type[DcbError]] = [DcbError, AppendConditionFailed, InvalidInput, *INPUT_ERRORS]


# --- the value type -------------------------------------------------------------------------


def test_event_fields_and_defaults() -> None:
    """An event carries type, data, tags and metadata; tags default to none, metadata to None."""
    event = Event("Opened", b"{}")
    assert (event.type, event.data, event.tags, event.metadata) == ("Opened", b"{}", (), None)


def test_tags_and_metadata_are_normalised() -> None:
    """Any sequence of tags becomes a tuple in the given order; any mapping becomes a dict, so
    events built differently but equal in content compare equal (as read-back events do)."""
    from_list = Event("T", b"d", ["b", "a"], pytypes.MappingProxyType({"k": "v"}))
    from_generator = Event("T", b"d", (t for t in ("b", "a")), {"k": "v"})
    assert from_list.tags == ("b", "a")
    assert type(from_list.metadata) is dict
    assert from_list == from_generator
    assert hash(Event("T", b"d", ["b", "a"])) == hash(Event("T", b"d", ("b", "a")))


def test_empty_data_and_empty_metadata_are_allowed() -> None:
    assert Event("T", b"").data == b""
    assert Event("T", b"", metadata={}).metadata == {}


def test_sequenced_event_pairs_position_and_event(store: DcbStore) -> None:
    event = Event("T", b"x")
    position = store.append([event])
    (read,) = store.read()
    assert read == SequencedEvent(position, event)
    assert (read.position, read.event) == (position, event)


# --- validation by the constructor ----------------------------------------------------------

BAD_EVENTS: dict[str, tuple[Callable[[], object], type[InvalidInput], str]] = {
    "empty type": (lambda: Event("", b""), InvalidEvent, "type"),
    "int type": (lambda: Event(5, b""), InvalidEvent, "type"),  # type: ignore[arg-type]
    "None type": (lambda: Event(None, b""), InvalidEvent, "type"),  # type: ignore[arg-type]
    "bytes type": (lambda: Event(b"T", b""), InvalidEvent, "type"),  # type: ignore[arg-type]
    "str data": (lambda: Event("T", "text"), InvalidEvent, "bytes"),  # type: ignore[arg-type]
    "bytearray data": (lambda: Event("T", bytearray(b"x")), InvalidEvent, "bytes"),  # type: ignore[arg-type]
    "None data": (lambda: Event("T", None), InvalidEvent, "bytes"),  # type: ignore[arg-type]
    "empty tag": (lambda: Event("T", b"", ["a", ""]), InvalidEvent, "tag"),
    "int tag": (lambda: Event("T", b"", ["a", 1]), InvalidEvent, "tag"),  # type: ignore[list-item]
    "bytes tag": (lambda: Event("T", b"", [b"a"]), InvalidEvent, "tag"),  # type: ignore[list-item]
    "duplicate tags": (lambda: Event("T", b"", ["a", "b", "a"]), InvalidEvent, "distinct|repeat"),
    "tags string": (lambda: Event("T", b"", "abc"), InvalidEvent, "tags"),
    "tags bytes": (lambda: Event("T", b"", b"abc"), InvalidEvent, "tags"),  # type: ignore[arg-type]
    "oversized tag": (lambda: Event("T", b"", ["x" * 257]), InvalidEvent, "256"),
    "oversized type": (lambda: Event("T" * 257, b""), InvalidEvent, "256"),
    "lone surrogate tag": (lambda: Event("T", b"", ["\ud800"]), InvalidEvent, "tag"),
    "lone surrogate type": (lambda: Event("\udfff", b""), InvalidEvent, "type"),
    "too many tags": (lambda: Event("T", b"", [f"t{i}" for i in range(17)]), TooManyTags, "16"),
    "metadata value not str": (
        lambda: Event("T", b"", metadata={"k": 1}),
        InvalidEvent,
        "metadata",  # type: ignore[dict-item]
    ),
    "metadata key not str": (
        lambda: Event("T", b"", metadata={1: "v"}),
        InvalidEvent,
        "metadata",  # type: ignore[dict-item]
    ),
    "metadata not a mapping": (
        lambda: Event("T", b"", metadata=[("k", "v")]),
        InvalidEvent,
        "metadata",  # type: ignore[arg-type]
    ),
}


@pytest.mark.parametrize("case", list(BAD_EVENTS))
def test_invalid_events_are_refused_with_a_message_naming_the_problem(
    store: DcbStore, case: str
) -> None:
    """Each malformed field raises its InvalidInput subclass, whose message says what is
    wrong, and an append built with it writes nothing."""
    build, error, words = BAD_EVENTS[case]
    with pytest.raises(error, match=f"(?i){words}") as raised:
        build()
    assert raised.value.code == error.code
    store.append([Event("T", b"before")])
    head = store.head()
    with pytest.raises(error):
        store.append([Event("T", b"valid"), build()])  # type: ignore[list-item]
    assert_nothing_written(store, head)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Event("T", b"", None),  # type: ignore[arg-type]
        lambda: Event("T", b"", 5),  # type: ignore[arg-type]
    ],
    ids=["tags None", "tags int"],
)
def test_tags_that_are_not_a_sequence_raise_invalid_event(build: Callable[[], object]) -> None:
    """Bad input raises InvalidInput, not a bare TypeError from deep inside the constructor."""
    with pytest.raises(InvalidEvent, match="(?i)tags"):
        build()


def test_metadata_that_is_not_unicode_text_is_refused_and_nothing_written(
    store: DcbStore,
) -> None:
    """Metadata is text like types and tags: a lone surrogate has no UTF-8 form. It must be
    refused with InvalidEvent (by the constructor or by append), never a UnicodeEncodeError."""
    store.append([Event("T", b"before")])
    head = store.head()
    for metadata in ({"k": "\ud800"}, {"\udc00": "v"}):
        with pytest.raises(InvalidEvent, match="(?i)metadata|unicode"):
            store.append([Event("T", b"ok"), Event("T", b"", metadata=metadata)])
        assert_nothing_written(store, head)


# --- validation by append: events that skipped the constructor ------------------------------

BYPASSING: dict[str, Callable[[], Any]] = {
    "tags list via _replace": lambda: Event("T", b"")._replace(tags=["a"]),  # type: ignore[arg-type]
    "str data via _replace": lambda: Event("T", b"")._replace(data="x"),  # type: ignore[arg-type]
    "empty type via _replace": lambda: Event("T", b"")._replace(type=""),
    "duplicate tags via _make": lambda: Event._make(("T", b"", ("a", "a"), None)),
    "17 tags via _make": lambda: Event._make(("T", b"", tuple(f"t{i}" for i in range(17)), None)),
    "bad metadata via _replace": lambda: Event("T", b"")._replace(metadata={"k": 1}),  # type: ignore[dict-item]
    "plain tuple": lambda: ("T", b"", (), None),
    "dict": lambda: {"type": "T", "data": b""},
    "string": lambda: "T",
    "None": lambda: None,
}


@pytest.mark.parametrize("case", list(BYPASSING))
def test_append_rechecks_every_event_and_writes_nothing(store: DcbStore, case: str) -> None:
    """A malformed event anywhere in an append refuses the whole append: the valid events
    before it are not written either."""
    store.append([Event("T", b"before")])
    head = store.head()
    with pytest.raises(InvalidEvent):
        store.append([Event("T", b"valid 1"), Event("T", b"valid 2"), BYPASSING[case]()])
    assert_nothing_written(store, head)


def test_metadata_mapping_set_via_replace_is_stored_or_refused_cleanly(store: DcbStore) -> None:
    """An event whose metadata is a read-only mapping (set with ``_replace``) passes the
    check; the append must then store it (or refuse it with InvalidEvent), not crash with a
    serialisation TypeError."""
    event = Event("T", b"")._replace(metadata=pytypes.MappingProxyType({"k": "v"}))  # type: ignore[arg-type]
    try:
        store.append([event])
    except InvalidEvent:
        assert_nothing_written(store, None)
    else:
        assert [e.event.metadata for e in store.read()] == [{"k": "v"}]


# --- error classes --------------------------------------------------------------------------


def test_every_error_class_has_its_own_code() -> None:
    """Clients (and the HTTP layer) tell errors apart by a stable, distinct ``code``."""
    codes = [cls.code for cls in ERROR_CLASSES]
    assert all(isinstance(code, str) and code and code == code.lower() for code in codes)
    assert len(set(codes)) == len(codes)


def test_input_errors_are_invalid_input_and_value_errors() -> None:
    for cls in INPUT_ERRORS:
        assert issubclass(cls, InvalidInput)
        assert issubclass(cls, ValueError)
        assert issubclass(cls, DcbError)
    assert issubclass(TooManyTags, InvalidEvent)
    assert issubclass(EventTooLarge, InvalidEvent)
    assert not issubclass(AppendConditionFailed, InvalidInput)
    assert issubclass(AppendConditionFailed, DcbError)


def test_event_equality_survives_a_round_trip(store: DcbStore) -> None:
    """An event read back compares equal to the one appended, field by field."""
    events = [
        Event("T", bytes(range(256)), ["z", "a", "ünïcode", "a b", "x\x00y"], {"k": "v", "ü": "é"}),
        Event("T", b"", (), {}),
        Event("T", b"\x00", ["only"], None),
    ]
    store.append(events)
    read = [e.event for e in store.read(Query.all())]
    assert read == events
    assert [type(e.tags) for e in read] == [tuple] * 3
    assert [e.metadata for e in read] == [{"k": "v", "ü": "é"}, {}, None]
