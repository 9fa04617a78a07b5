"""``@on(EventClass)``: how views, projections and automations say which method takes which event.

A class marks its methods; when the class is defined, ``collect_handlers`` turns the marks into
an event class -> method name table, so a class that handles one event class in two methods
fails at import instead of folding it twice. :class:`HandlesEvents` is the base that does it
for every such kind of slice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from .commands import snake_case
from .events import Event

F = TypeVar("F", bound=Callable[..., Any])
_HANDLES = "__fairway_handles__"


def on(*event_classes: type[Event]) -> Callable[[F], F]:
    """Mark a method as handling ``event_classes`` (its signature depends on the kind of slice:
    a view's is ``(self, state, event) -> new state``)."""
    for cls in event_classes:
        if not (isinstance(cls, type) and issubclass(cls, Event)) or cls is Event:
            raise TypeError(f"@on takes Event subclasses, not {cls!r}")
    if not event_classes:
        raise TypeError("@on needs at least one event class")

    def mark(method: F) -> F:
        setattr(method, _HANDLES, (*getattr(method, _HANDLES, ()), *event_classes))
        return method

    return mark


def collect_handlers(cls: type) -> Mapping[type[Event], str]:
    """``cls``'s handlers: its bases' (from their ``handlers``), then its own marked methods,
    which may take over an event class a base handles."""
    own: dict[type[Event], str] = {}
    for name, attribute in vars(cls).items():
        for event_class in getattr(attribute, _HANDLES, ()):
            if own.setdefault(event_class, name) != name:
                raise TypeError(
                    f"{cls.__qualname__} handles {event_class.__qualname__} in both "
                    f"{own[event_class]}() and {name}(); keep one"
                )
    inherited: dict[type[Event], str] = {}
    for base in reversed(cls.__mro__[1:]):
        inherited.update(getattr(base, "handlers", {}))
    return {**inherited, **own}


class HandlesEvents:
    """Base of the slices made of ``@on`` methods: their name and their handlers table."""

    #: The slice's name; defaults to the class name in snake_case.
    slice_name: ClassVar[str] = ""
    #: Event class -> the name of the method handling it (filled from the ``@on`` marks).
    handlers: ClassVar[Mapping[type[Event], str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "slice_name" not in cls.__dict__:
            cls.slice_name = snake_case(cls.__name__)
        cls.handlers = collect_handlers(cls)

    @classmethod
    def handled_events(cls) -> tuple[type[Event], ...]:
        return tuple(cls.handlers)
