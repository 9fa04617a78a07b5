"""Which events a read or an append condition is about.

A :class:`QueryItem` matches an event whose type is one of its types (any type when it names
none) and which carries all of its tags. A :class:`Query` matches an event that any of its
items matches; ``Query.all()`` matches every event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import InvalidQuery
from .events import Event, utf8_size
from .limits import MAX_TAG_BYTES, MAX_TYPE_BYTES
from .position import Position, check_after


@dataclass(frozen=True, slots=True, init=False)
class QueryItem:
    types: tuple[str, ...]
    tags: tuple[str, ...]

    def __init__(self, types: Iterable[str] = (), tags: Iterable[str] = ()) -> None:
        object.__setattr__(self, "types", _strings(types, "types", MAX_TYPE_BYTES))
        object.__setattr__(self, "tags", _strings(tags, "tags", MAX_TAG_BYTES))

    @property
    def matches_all(self) -> bool:
        return not self.types and not self.tags

    def matches(self, event: Event) -> bool:
        if self.types and event.type not in self.types:
            return False
        return all(tag in event.tags for tag in self.tags)

    def __str__(self) -> str:
        return f"types={list(self.types)} tags={list(self.tags)}"


@dataclass(frozen=True, slots=True, init=False)
class Query:
    items: tuple[QueryItem, ...]

    def __init__(self, items: Iterable[QueryItem]) -> None:
        if isinstance(items, QueryItem):
            raise InvalidQuery("Query takes a list of QueryItems; wrap the item in a list")
        if not isinstance(items, Iterable):
            raise InvalidQuery(f"Query takes a list of QueryItems, not {items!r}")
        checked = tuple(items)
        if not checked:
            raise InvalidQuery("a query needs at least one item; Query.all() matches every event")
        for index, item in enumerate(checked):
            if not isinstance(item, QueryItem):
                raise InvalidQuery(
                    f"query item {index} is a {type(item).__name__}, not a QueryItem: {item!r}"
                )
        object.__setattr__(self, "items", checked)

    @classmethod
    def all(cls) -> Query:
        return _ALL

    @property
    def matches_all(self) -> bool:
        return any(item.matches_all for item in self.items)

    def matches(self, event: Event) -> bool:
        return any(item.matches(event) for item in self.items)

    def __str__(self) -> str:
        if self.matches_all:
            return "Query.all()"
        return "Query(" + " | ".join(f"[{item}]" for item in self.items) + ")"


@dataclass(frozen=True, slots=True)
class AppendCondition:
    """Fail the append if an event matching ``fail_if_events_match`` exists after ``after``.

    With ``after`` None, any matching event at all fails it. A command passes the query it
    decided on and the last position it read.
    """

    fail_if_events_match: Query
    after: Position | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.fail_if_events_match, Query):
            raise InvalidQuery(
                "fail_if_events_match must be a Query, not "
                f"{type(self.fail_if_events_match).__name__}"
            )
        check_after(self.after)


def _strings(values: Iterable[str], what: str, max_bytes: int) -> tuple[str, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidQuery(f"{what} must be a list of strings, not {values!r}")
    result = tuple(dict.fromkeys(values))  # duplicates mean nothing more; order is kept
    for value in result:
        if not isinstance(value, str) or not value:
            raise InvalidQuery(f"query {what} must be non-empty strings, not {value!r}")
        if utf8_size(value, f"query {what[:-1]}", InvalidQuery) > max_bytes:
            raise InvalidQuery(f"query {what[:-1]} {value[:40]!r}... is over {max_bytes} bytes")
    return result


_ALL = Query([QueryItem()])
