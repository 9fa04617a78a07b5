"""Selecting events by class and tag values, checked against the classes' declarations.

``select(CourseDefined, course_id="c1")`` is one DCB query item: the class's stored type and the
tag ``course:c1``. Each named field must be a Tag of every selected class, with one prefix, so a
typo (``couse_id``) fails loudly instead of silently widening the query to every course.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from fairway_django.dcb import Query, QueryItem

from .errors import InvalidSelection
from .events import Event, spec_of, tag_string


@dataclass(frozen=True)
class EventQuery:
    """Events to read: the DCB query, and the classes that decode what it matches.

    ``a | b`` matches what either matches.
    """

    dcb: Query
    classes: Mapping[str, type[Event]]

    def __or__(self, other: EventQuery) -> EventQuery:
        if not isinstance(other, EventQuery):
            return NotImplemented
        items = tuple(dict.fromkeys(self.dcb.items + other.dcb.items))
        return EventQuery(Query(items), MappingProxyType(_merge(self.classes, other.classes)))


def select(*event_classes: type[Event], **tag_values: str | int) -> EventQuery:
    """Events of any of ``event_classes`` carrying every tag named by ``tag_values``."""
    if not event_classes:
        raise InvalidSelection("select() needs at least one event class")
    for cls in event_classes:
        if not (isinstance(cls, type) and issubclass(cls, Event)) or cls is Event:
            raise InvalidSelection(f"select() takes Event subclasses, not {cls!r}")
    tags = [_tag(event_classes, field, value) for field, value in tag_values.items()]
    types = [spec_of(cls).event_type for cls in event_classes]
    classes: dict[str, type[Event]] = {}
    for cls in event_classes:
        classes = _merge(classes, {spec_of(cls).event_type: cls})
    return EventQuery(Query([QueryItem(types, tags)]), MappingProxyType(classes))


def _tag(classes: tuple[type[Event], ...], field: str, value: object) -> str:
    prefixes = {cls: spec_of(cls).prefix(field) for cls in classes}
    for cls, prefix in prefixes.items():
        if prefix is None:
            tags = [name for name, _ in spec_of(cls).tags]
            raise InvalidSelection(
                f"{cls.__qualname__} has no tag field {field!r} (its tag fields: {tags}); "
                "select only by fields marked Annotated[..., Tag]"
            )
    distinct = set(prefixes.values())
    if len(distinct) > 1:
        raise InvalidSelection(
            f"field {field!r} is tagged with different prefixes by the selected classes "
            f"({', '.join(f'{c.__qualname__}: {p!r}' for c, p in prefixes.items())}); "
            "select them separately and combine the queries with |"
        )
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidSelection(f"tag value {field}={value!r} must be a str or an int")
    prefix = distinct.pop()
    assert prefix is not None
    return tag_string(prefix, value)


def _merge(
    left: Mapping[str, type[Event]], right: Mapping[str, type[Event]]
) -> dict[str, type[Event]]:
    merged = dict(left)
    for event_type, cls in right.items():
        known = merged.setdefault(event_type, cls)
        if known is not cls:
            raise InvalidSelection(
                f"{known.__module__}.{known.__qualname__} and {cls.__module__}.{cls.__qualname__}"
                f" both have event_type {event_type!r}; give one of them another event_type"
            )
    return merged
