"""Event classes: their stored names, their tags, bad declarations, and validation on encode."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec
import pytest

from fairway_django.dcb import InvalidEvent, TooManyTags
from fairway_django.framework import (
    Event,
    EventDefinitionError,
    InvalidEventData,
    Registry,
    Tag,
    select,
)
from fairway_django.framework.codec import encode

from .model import SeminarDefined, MemberRegistered, SeminarJoined


class Renamed(Event):
    event_type = "LegacyName"
    order: Annotated[int, Tag]
    owner: Annotated[str, Tag("user")]
    note: str = ""


class Float(Event):
    price: Annotated[float, Tag]


class ZeroVersion(Event):
    schema_version: ClassVar[int] = 0
    x: int


class Many(Event):
    tag_list: list[str]


def test_event_type_is_the_class_name_unless_given() -> None:
    assert SeminarDefined.event_type == "SeminarDefined"
    assert Renamed.event_type == "LegacyName"


def test_tags_drop_id_keep_other_names_and_take_explicit_prefixes() -> None:
    assert SeminarJoined(course_id="c1", student_id="s1").tags() == (
        "course:c1", "student:s1",
    )
    assert MemberRegistered(student_id="s1", username="ann", name="Ann").tags() == (
        "student:s1", "username:ann",
    )
    assert Renamed(order=7, owner="bob").tags() == ("order:7", "user:bob")


def test_encode_stores_json_tags_and_metadata() -> None:
    stored = encode(
        Renamed(order=7, owner="bob"), correlation_id="corr", causation_id="cause"
    )
    assert stored.type == "LegacyName"
    assert msgspec.json.decode(stored.data) == {"order": 7, "owner": "bob", "note": ""}
    assert stored.tags == ("order:7", "user:bob")
    assert stored.metadata is not None
    assert stored.metadata["v"] == "1"
    assert stored.metadata["correlation_id"] == "corr"
    assert stored.metadata["causation_id"] == "cause"
    assert stored.metadata["at"].endswith("+00:00")


@pytest.mark.parametrize(
    ("cls", "words"),
    [(Float, ["Float.price", "str or int"]), (ZeroVersion, ["ZeroVersion.schema_version"])],
)
def test_a_bad_declaration_names_the_class(cls: type[Event], words: list[str]) -> None:
    with pytest.raises(EventDefinitionError) as error:
        Registry().register(cls)
    with pytest.raises(EventDefinitionError):
        select(cls)
    for word in words:
        assert word in str(error.value)


def test_a_tag_prefix_must_be_plain_text() -> None:
    with pytest.raises(EventDefinitionError, match="without ':'"):
        Tag("a:b")


def test_an_event_violating_its_types_or_constraints_is_refused_naming_class_and_field() -> None:
    with pytest.raises(InvalidEventData, match=r"SeminarDefined.*>= 1.*\$\.capacity"):
        encode(SeminarDefined(course_id="c1", title="t", capacity=0))
    with pytest.raises(InvalidEventData, match=r"SeminarDefined.*Expected `str`.*\$\.title"):
        encode(SeminarDefined(course_id="c1", title=3, capacity=1))  # type: ignore[arg-type]


def test_an_unencodable_value_is_invalid_data() -> None:
    with pytest.raises(InvalidEventData, match="SeminarDefined"):
        encode(SeminarDefined(course_id="c1", title=object(), capacity=1))  # type: ignore[arg-type]


def test_store_limits_on_tags_surface_with_the_class_named() -> None:
    with pytest.raises(InvalidEvent, match=r"SeminarJoined.*over 256 bytes"):
        encode(SeminarJoined(course_id="c" * 300, student_id="s"))


def test_too_many_tags_is_the_store_error_with_the_class_named() -> None:
    fields = {f"t{i}": Annotated[str, Tag] for i in range(17)}
    wide = msgspec.defstruct("Wide", list(fields.items()), bases=(Event,), frozen=True,
                             kw_only=True)
    with pytest.raises(TooManyTags, match="Wide"):
        encode(wide(**{name: "x" for name in fields}))
