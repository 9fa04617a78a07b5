"""select(): one DCB query item per call, checked against the classes' tag declarations."""

from __future__ import annotations

from typing import Annotated

import pytest

from fairway_django.dcb import Query, QueryItem
from fairway_django.framework import Event, InvalidSelection, Tag, select

from .model import SeminarDefined, MemberRegistered, SeminarJoined


class OtherPrefix(Event):
    course_id: Annotated[str, Tag("class")]


class OtherSeminarDefined(Event):
    event_type = "SeminarDefined"
    course_id: Annotated[str, Tag]


def test_select_builds_one_item_with_types_and_prefixed_tags() -> None:
    query = select(SeminarDefined, SeminarJoined, course_id="c1")
    assert query.dcb == Query([
        QueryItem(types=["SeminarDefined", "SeminarJoined"], tags=["course:c1"])
    ])
    assert dict(query.classes) == {
        "SeminarDefined": SeminarDefined, "SeminarJoined": SeminarJoined,
    }


def test_int_tag_values_are_written_out() -> None:
    assert select(SeminarJoined, student_id=7).dcb.items[0].tags == ("student:7",)


def test_union_keeps_every_item_once_and_every_class() -> None:
    a = select(SeminarDefined, course_id="c1")
    b = select(MemberRegistered, username="ann")
    union = a | b | a
    assert union.dcb.items == (a.dcb.items[0], b.dcb.items[0])
    assert set(union.classes) == {"SeminarDefined", "MemberRegistered"}


def test_a_field_that_is_not_a_tag_is_refused_naming_class_and_field() -> None:
    with pytest.raises(InvalidSelection, match=r"SeminarDefined has no tag field 'title'"):
        select(SeminarDefined, title="Maths")
    with pytest.raises(InvalidSelection, match=r"SeminarDefined has no tag field 'couse_id'"):
        select(SeminarDefined, couse_id="c1")
    # every class must have it: MemberRegistered has no course tag
    with pytest.raises(InvalidSelection, match=r"MemberRegistered has no tag field 'course_id'"):
        select(SeminarDefined, MemberRegistered, course_id="c1")


def test_one_field_with_two_prefixes_is_refused() -> None:
    with pytest.raises(InvalidSelection, match="different prefixes"):
        select(SeminarDefined, OtherPrefix, course_id="c1")


def test_select_needs_event_classes_and_plain_values() -> None:
    with pytest.raises(InvalidSelection, match="at least one event class"):
        select(course_id="c1")
    with pytest.raises(InvalidSelection, match="Event subclasses"):
        select(dict)  # type: ignore[arg-type]
    with pytest.raises(InvalidSelection, match="str or an int"):
        select(SeminarDefined, course_id=1.5)  # type: ignore[arg-type]


def test_two_classes_with_one_event_type_cannot_decode_one_query() -> None:
    with pytest.raises(InvalidSelection, match="both have event_type 'SeminarDefined'"):
        select(SeminarDefined, OtherSeminarDefined)
