"""Typed events: the contracts between slices, and how each maps onto the store's tags.

An event class is a frozen ``msgspec.Struct``: it encodes and validates in C, and its fields
are the schema. A field marked ``Annotated[str, Tag]`` becomes a tag (``course_id`` ->
``course:<value>``), which is what DCB queries select on. What the framework needs to know about
a class (its stored name, version, tags and decoder) is worked out once, on first use, and
cached; a wrong declaration fails then with the class named.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, TypeVar, dataclass_transform

import msgspec

from .errors import EventDefinitionError

#: Turns one version's data into the next version's.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
U = TypeVar("U", bound=Upcaster)


class Tag:
    """Marks an event field as a tag: ``course_id: Annotated[str, Tag]`` tags an event with
    ``course:<course_id>`` (a trailing ``_id`` is dropped; any other field name is kept whole),
    and ``Annotated[str, Tag("student")]`` gives the prefix explicitly. Tag fields are str or int.
    """

    __slots__ = ("prefix",)

    def __init__(self, prefix: str | None = None) -> None:
        if prefix is not None and (not isinstance(prefix, str) or not prefix or ":" in prefix):
            raise EventDefinitionError(
                f"Tag(prefix) takes a non-empty prefix without ':', not {prefix!r}"
            )
        self.prefix = prefix

    def __repr__(self) -> str:
        return f"Tag({self.prefix!r})"


# Tells type checkers what msgspec does at run time: a subclass of a frozen, keyword-only
# Struct is frozen and keyword-only too, so event classes need not repeat it.
@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(msgspec.field,))
class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every event class: subclass it and declare typed fields.

    ``event_type`` is the name events are stored under (the class name unless the class body
    sets it: set it before renaming a class that has stored events). ``schema_version`` counts
    changes to the fields; register an :func:`upcaster` for each older version still stored.
    """

    event_type: ClassVar[str] = "Event"
    schema_version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" not in cls.__dict__:
            cls.event_type = cls.__name__

    def tags(self) -> tuple[str, ...]:
        """The event's tags, e.g. ``("course:c1", "student:s1")``."""
        return tuple(
            tag_string(prefix, getattr(self, field)) for field, prefix in spec_of(type(self)).tags
        )


@dataclass(frozen=True)
class EventSpec:
    """What the framework knows about one event class, worked out once."""

    cls: type[Event]
    event_type: str
    version: int
    #: (field name, tag prefix), in declaration order.
    tags: tuple[tuple[str, str], ...]
    decoder: msgspec.json.Decoder[Any]
    #: The same tags, by field name.
    prefixes: Mapping[str, str]

    def prefix(self, field: str) -> str | None:
        """The tag prefix of ``field``, or None when it is not a tag."""
        return self.prefixes.get(field)


_specs: dict[type[Event], EventSpec] = {}
_upcasters: dict[type[Event], dict[int, Upcaster]] = {}


def spec_of(cls: type[Event]) -> EventSpec:
    """The cached spec of an event class; EventDefinitionError names what is declared wrong."""
    spec = _specs.get(cls)
    if spec is None:
        spec = _specs[cls] = _make_spec(cls)
    return spec


def tag_string(prefix: str, value: object) -> str:
    return f"{prefix}:{value}"


def upcaster(event_class: type[Event], *, from_version: int) -> Callable[[U], U]:
    """Register ``fn(data) -> data`` turning ``event_class``'s version ``from_version`` data
    (a dict, as decoded from JSON) into version ``from_version + 1``'s.

    Decoding an event stored at version k applies the upcasters of k, k+1, ... up to the class's
    ``schema_version``.
    """
    if not (isinstance(event_class, type) and issubclass(event_class, Event)):
        raise EventDefinitionError(f"upcaster() takes an Event subclass, not {event_class!r}")
    name = event_class.__qualname__
    if (
        isinstance(from_version, bool)
        or not isinstance(from_version, int)
        or not 1 <= from_version < event_class.schema_version
    ):
        raise EventDefinitionError(
            f"upcaster for {name}: from_version must be a version before its schema_version "
            f"{event_class.schema_version} (1 to {event_class.schema_version - 1}), "
            f"not {from_version!r}"
        )

    def register(fn: U) -> U:
        steps = _upcasters.setdefault(event_class, {})
        if from_version in steps and steps[from_version] is not fn:
            raise EventDefinitionError(
                f"{name} already has an upcaster from version {from_version}: "
                f"{steps[from_version].__qualname__}; keep one"
            )
        steps[from_version] = fn
        return fn

    return register


def upcaster_of(cls: type[Event], version: int) -> Upcaster | None:
    return _upcasters.get(cls, {}).get(version)


def _make_spec(cls: type[Event]) -> EventSpec:
    name = f"{cls.__module__}.{cls.__qualname__}"
    if not (isinstance(cls, type) and issubclass(cls, Event)) or cls is Event:
        raise EventDefinitionError(f"{cls!r} is not an Event subclass")
    event_type = cls.event_type
    if not isinstance(event_type, str) or not event_type or len(event_type.encode()) > 256:
        raise EventDefinitionError(
            f"{name}.event_type must be a non-empty string of at most 256 bytes, "
            f"not {event_type!r}"
        )
    version = cls.schema_version
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise EventDefinitionError(
            f"{name}.schema_version must be a whole number >= 1, not {version!r}"
        )
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception as error:
        raise EventDefinitionError(
            f"cannot resolve the field types of {name}: {error}. Define event classes at module "
            "level, with every type they name importable there"
        ) from error
    tags = tuple(
        (field, prefix)
        for field in cls.__struct_fields__
        if (prefix := _tag_prefix(name, field, hints[field])) is not None
    )
    try:
        decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(cls)
    except (TypeError, ValueError) as error:
        raise EventDefinitionError(f"{name} cannot be decoded by msgspec: {error}") from error
    return EventSpec(cls, event_type, version, tags, decoder, MappingProxyType(dict(tags)))


def _tag_prefix(name: str, field: str, hint: object) -> str | None:
    if typing.get_origin(hint) is not Annotated:
        return None
    base, *metadata = typing.get_args(hint)
    marks = [m for m in metadata if m is Tag or isinstance(m, Tag)]
    if not marks:
        return None
    if len(marks) > 1:
        raise EventDefinitionError(f"{name}.{field} is marked as a Tag twice; mark it once")
    if base not in (str, int):
        raise EventDefinitionError(
            f"{name}.{field} is a Tag of type {getattr(base, '__name__', base)}; "
            "tag fields must be str or int"
        )
    mark = marks[0]
    if isinstance(mark, Tag) and mark.prefix is not None:
        return mark.prefix
    return field.removesuffix("_id") or field
