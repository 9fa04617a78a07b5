"""Reading typed events back: upcasting old versions, and errors naming type and position."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

import pytest

from fairway_django import dcb
from fairway_django.dcb import DcbStore
from fairway_django.framework import (
    Event,
    EventDecodeError,
    EventDefinitionError,
    Reader,
    Tag,
    UnknownEventType,
    upcaster,
)
from fairway_django.framework.codec import decode, encode

from .model import SeminarDefined


class Priced(Event):
    """Version 1: {item_id, price}; 2 renamed price to cents; 3 added currency."""

    schema_version: ClassVar[int] = 3
    item_id: Annotated[str, Tag]
    cents: int
    currency: str


@upcaster(Priced, from_version=1)
def priced_v1(data: dict[str, Any]) -> dict[str, Any]:
    return {"item_id": data["item_id"], "cents": data["price"] * 100}


@upcaster(Priced, from_version=2)
def priced_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "currency": "EUR"}


class Gapped(Event):
    schema_version: ClassVar[int] = 3
    item_id: Annotated[str, Tag]


@upcaster(Gapped, from_version=1)
def gapped_v1(data: dict[str, Any]) -> dict[str, Any]:
    return data


def stored(store: DcbStore, type_: str, data: bytes, version: str, *tags: str) -> dcb.Position:
    return store.append([dcb.Event(type_, data, tags, {"v": version})])


def test_old_versions_are_upcast_step_by_step(store: DcbStore) -> None:
    stored(store, "Priced", b'{"item_id": "i1", "price": 3}', "1", "item:i1")
    stored(store, "Priced", b'{"item_id": "i1", "cents": 5, "extra": 1}', "2", "item:i1")
    store.append([encode(Priced(item_id="i1", cents=7, currency="USD"))])
    recorded = Reader(store).recorded(Priced, item_id="i1")
    assert [r.event for r in recorded] == [
        Priced(item_id="i1", cents=300, currency="EUR"),
        Priced(item_id="i1", cents=5, currency="EUR"),
        Priced(item_id="i1", cents=7, currency="USD"),
    ]
    assert [r.version for r in recorded] == [1, 2, 3]
    assert recorded[0].occurred_at is None
    assert recorded[2].occurred_at is not None
    assert abs((datetime.now(UTC) - recorded[2].occurred_at).total_seconds()) < 60


def test_a_missing_upcaster_names_the_step_and_how_to_add_it(store: DcbStore) -> None:
    position = stored(store, "Gapped", b'{"item_id": "i1"}', "1", "item:i1")
    with pytest.raises(EventDecodeError) as error:
        Reader(store)(Gapped, item_id="i1")
    message = str(error.value)
    assert str(position) in message
    assert "no upcaster from version 2" in message
    assert "@upcaster(Gapped, from_version=2)" in message


def test_a_version_newer_than_the_class_is_refused(store: DcbStore) -> None:
    position = stored(store, "Gapped", b'{"item_id": "i1"}', "4", "item:i1")
    with pytest.raises(EventDecodeError, match=f"{position}.*version 4, newer than Gapped's 3"):
        Reader(store)(Gapped)


def test_upcasters_are_checked_when_declared() -> None:
    with pytest.raises(EventDefinitionError, match="1 to 2"):
        upcaster(Gapped, from_version=3)
    with pytest.raises(EventDefinitionError, match="already has an upcaster from version 1"):
        upcaster(Gapped, from_version=1)(lambda data: data)


def test_an_unknown_type_names_type_and_position(store: DcbStore) -> None:
    position = stored(store, "Mystery", b"{}", "1")
    (sequenced,) = store.read()
    with pytest.raises(UnknownEventType) as error:
        decode(sequenced, {"SeminarDefined": SeminarDefined})
    assert "'Mystery'" in str(error.value) and str(position) in str(error.value)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'{"course_id": "c1", "title": "t"}', "missing required field `capacity`"),
        (b'{"course_id": "c1", "title": "t", "capacity": 0}', "Expected `int` >= 1"),
        (b"not json", "malformed"),
    ],
)
def test_undecodable_data_names_type_position_and_problem(
    store: DcbStore, data: bytes, problem: str
) -> None:
    position = stored(store, "SeminarDefined", data, "1", "course:c1")
    with pytest.raises(EventDecodeError) as error:
        Reader(store)(SeminarDefined, course_id="c1")
    message = str(error.value)
    assert "'SeminarDefined'" in message and str(position) in message
    assert problem in message.lower() or problem in message


class Fragile(Event):
    schema_version: ClassVar[int] = 2
    item_id: Annotated[str, Tag]


@upcaster(Fragile, from_version=1)
def fragile_v1(data: dict[str, Any]) -> dict[str, Any]:
    return {"item_id": data["id"]}


def test_a_failing_upcaster_is_named_with_the_event(store: DcbStore) -> None:
    position = stored(store, "Fragile", b'{"item_id": "i1"}', "1", "item:i1")
    with pytest.raises(EventDecodeError, match=f"fragile_v1 failed on .* at {position}: KeyError"):
        Reader(store)(Fragile)
