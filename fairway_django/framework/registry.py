"""The registry of event classes and slices: what the process knows how to decode and serve.

Discovery fills the default ``registry`` at start-up from every app's slices, as the admin's
autodiscover fills its site. Names must be unique (an event_type, a slice name, a route), and a
clash names both modules, so two slices written apart cannot silently shadow one another.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType, ModuleType
from typing import Any

from .commands import Command
from .errors import DuplicateRegistration, UnknownEventType
from .automations import Automation
from .events import Event, spec_of
from .projections import Projection
from .views import View

Slice = type[Command] | type[View] | type[Projection]
Registrable = type[Event] | Slice | type[Automation]
_SLICE_BASES: tuple[type, ...] = (Command, View, Projection, Automation)


class Registry:
    """Event classes by event_type; commands, views, projections and automations by slice
    name (unique across all four)."""

    def __init__(self) -> None:
        self._events: dict[str, type[Event]] = {}
        self._commands: dict[str, type[Command]] = {}
        self._views: dict[str, type[View]] = {}
        self._projections: dict[str, type[Projection]] = {}
        self._automations: dict[str, type[Automation]] = {}
        self._modules: dict[Any, str] = {}  # each registered class -> the module it came from

    @property
    def events(self) -> Mapping[str, type[Event]]:
        return MappingProxyType(self._events)

    @property
    def commands(self) -> Mapping[str, type[Command]]:
        return MappingProxyType(self._commands)

    @property
    def views(self) -> Mapping[str, type[View]]:
        return MappingProxyType(self._views)

    @property
    def projections(self) -> Mapping[str, type[Projection]]:
        return MappingProxyType(self._projections)

    @property
    def automations(self) -> Mapping[str, type[Automation]]:
        return MappingProxyType(self._automations)

    def register(self, obj: Registrable, module: str | None = None) -> None:
        """Register an event class or a slice (``module``: where it was found,
        named in error messages; its ``__module__`` by default). Registering it again is a
        no-op; another with the same name or route raises DuplicateRegistration."""
        if not isinstance(obj, type):
            raise TypeError(f"register() takes an Event or slice subclass, not {obj!r}")
        module = module or obj.__module__
        if issubclass(obj, Event) and obj is not Event:
            event_type = spec_of(obj).event_type  # fails on a bad declaration
            self._claim(self._events, event_type, obj, module, "event_type")
        elif issubclass(obj, Command) and obj is not Command:
            self._claim_slice(self._commands, obj, module)
        elif issubclass(obj, View) and obj is not View:
            self._claim_slice(self._views, obj, module)
        elif issubclass(obj, Projection) and obj is not Projection:
            self._claim_slice(self._projections, obj, module)
        elif issubclass(obj, Automation) and obj is not Automation:
            self._claim_slice(self._automations, obj, module)
        else:
            raise TypeError(
                "register() takes an Event, Command, View, Projection or Automation subclass, "
                f"not {obj!r}"
            )

    def register_module(self, module: ModuleType) -> None:
        """Register every Event and slice subclass defined in ``module``."""
        for value in list(vars(module).values()):
            if (
                isinstance(value, type)
                and value.__module__ == module.__name__
                and issubclass(value, (Event, *_SLICE_BASES))
            ):
                self.register(value, module.__name__)  # type: ignore[arg-type]  # checked above

    @contextmanager
    def temporarily(self, *objs: Registrable) -> Iterator[Registry]:
        """Register ``objs`` for the ``with`` block, then restore exactly the previous contents
        (even when registering or the block fails)."""
        saved = (
            dict(self._events), dict(self._commands), dict(self._views), dict(self._projections),
            dict(self._automations), dict(self._modules),
        )
        try:
            for obj in objs:
                self.register(obj)
            yield self
        finally:
            (self._events, self._commands, self._views, self._projections,
             self._automations, self._modules) = saved

    def event_class(self, name: str) -> type[Event]:
        """The event class registered for event_type ``name``."""
        try:
            return self._events[name]
        except KeyError:
            raise UnknownEventType(
                f"no event class is registered for event_type {name!r}; is its module among "
                "the slices discovered (or registered)?"
            ) from None

    def slices(self) -> list[Slice]:
        """Every registered command, view and projection, by slice name."""
        found: list[Slice] = [
            *self._commands.values(), *self._views.values(), *self._projections.values()
        ]
        return sorted(found, key=lambda cls: cls.slice_name)

    def _claim_slice(
        self, table: dict[str, Any], cls: Slice | type[Automation], module: str
    ) -> None:
        name = cls.slice_name
        for other_kind in (self._commands, self._views, self._projections, self._automations):
            if other_kind is not table and name in other_kind:
                raise self._duplicate("slice_name", name, other_kind[name], cls, module)
        if isinstance(cls, type) and issubclass(cls, Automation):  # no route: nothing to serve
            self._claim(table, name, cls, module, "slice_name")
            return
        # A command and a view may share a route (POST and GET); a projection's is its own.
        shares = {id(self._commands): self._views, id(self._views): self._commands}.get(id(table))
        for kind in (self._commands, self._views, self._projections):
            if kind is shares or cls.route is None:
                continue
            for known in kind.values():
                if known is not cls and known.route == cls.route:
                    raise self._duplicate("route", cls.route, known, cls, module)
        self._claim(table, name, cls, module, "slice_name")

    def _claim(
        self, table: dict[str, Any], name: str, cls: Any, module: str, what: str
    ) -> None:
        known = table.get(name)
        if known is not None and known is not cls:
            raise self._duplicate(what, name, known, cls, module)
        table[name] = cls
        self._modules[cls] = module

    def _duplicate(
        self, what: str, name: str, known: Any, cls: Any, module: str
    ) -> DuplicateRegistration:
        first = self._modules.get(known, known.__module__)
        return DuplicateRegistration(
            f"{cls.__qualname__} (module {module}) has the {what} {name!r} of "
            f"{known.__qualname__} (module {first}), registered first; give one of them "
            f"another {what}"
        )


#: The process's registry, filled by discovery at start-up.
registry = Registry()
