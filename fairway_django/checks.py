"""System checks, so that a misconfigured project fails at ``manage.py check`` / start-up.

- ``fairway.E001``: ``settings.FAIRWAY`` is not a dict, has keys Fairway does not know, or a
  value of the wrong kind.
- ``fairway.E002``: ``FAIRWAY["STORE_URL"]`` is missing or is not a valid store URL.
- ``fairway.E003``: a view handles, or a command's ``decide`` names, an event class that is not
  registered (its events could be appended but never decoded by name).
- ``fairway.E004``: a command has an ``Input`` but no ``route``: it can never be served.
- ``fairway.E005``: a view's route parameter is not a Tag of every event class it handles, so
  its default query cannot select by it.
- ``fairway.W001``: slices have routes, but ``fairway_django.urls`` is not in the URLconf.

The checks only validate the configuration; they never open the store, so ``check`` stays
fast and works on a machine that cannot reach FoundationDB (a CI job, a build step).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from types import CodeType
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLResolver, get_resolver

from .conf import DEFAULTS, SETTING_NAME, fairway_settings, read_user_settings
from .dcb import InvalidNamespace
from .dcb.keyspace import DcbKeyspace
from .engine import open_engine, parse_store_url
from .engine.errors import EngineConfigurationError
from .framework import Command, Event, InvalidSelection, Registry, View, registry, select
from .framework.registry import Slice
from .rest.routes import NAMESPACE
from .rest.schema import ROUTE_PARAMETER

STORE_URL_FORMS = "embedded:///absolute/path/to/store, fdb:///path/to/fdb.cluster or fdb://"
#: A ``<converter:name>`` or ``<name>`` part of a Django ``path()`` route.


def check_settings(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    try:
        user = read_user_settings()
        for name in ("IDEMPOTENCY_KEY_TTL", "IDEMPOTENCY_WAIT", "MIN_POSITION_TIMEOUT"):
            getattr(fairway_settings, name)
    except ImproperlyConfigured as exc:
        return [
            Error(
                str(exc),
                hint="Every key and its default is listed in fairway_django.conf.DEFAULTS.",
                id="fairway.E001",
            )
        ]
    return _check_store_url(user.get("STORE_URL", DEFAULTS["STORE_URL"]))


def check_slices(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    return slice_errors(registry)


def check_urls(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    return url_warnings(registry)


def slice_errors(slices: Registry) -> list[CheckMessage]:
    """E003, E004 and E005 for the slices of ``slices``."""
    errors: list[CheckMessage] = []
    for automation in slices.automations.values():
        errors.extend(_unregistered(slices, automation, automation.handled_events()))
    for slice_class in slices.slices():
        errors.extend(_unregistered(slices, slice_class, _events_used(slice_class)))
        if issubclass(slice_class, Command) and slice_class.Input and slice_class.route is None:
            errors.append(
                Error(
                    f"{_name(slice_class)} has an Input serializer but no route, so it can "
                    "never be served over HTTP",
                    hint='Give it a route (route = "things/<str:thing_id>"), or drop Input if '
                    "only code runs it.",
                    id="fairway.E004",
                )
            )
        if issubclass(slice_class, View):
            errors.extend(_route_parameter_errors(slice_class))
    return errors


def url_warnings(slices: Registry) -> list[CheckMessage]:
    """W001 when a routed slice has no URL under the ``fairway`` namespace of the URLconf."""
    served = set(_url_names(get_resolver(), ()))
    missing = [
        slice_class.slice_name
        for slice_class in slices.slices()
        if slice_class.route is not None and f"{NAMESPACE}:{slice_class.slice_name}" not in served
    ]
    if not missing:
        return []
    return [
        Warning(
            f"{len(missing)} slice(s) have a route but no URL: {', '.join(missing)}; "
            f"settings.ROOT_URLCONF ({settings.ROOT_URLCONF!r}) does not include "
            "fairway_django.urls",
            hint='Add path("api/", include("fairway_django.urls")) to your ROOT_URLCONF.',
            id="fairway.W001",
        )
    ]


def _check_store_url(url: object) -> list[CheckMessage]:
    name = f"settings.{SETTING_NAME}['STORE_URL']"
    hint = f"Use {STORE_URL_FORMS}."
    if url is None:
        problem = f"{name} is not set"
    elif not isinstance(url, str):
        problem = f"{name} must be a string, not {type(url).__name__}"
    else:
        try:
            parsed = parse_store_url(url)
            namespace = parsed.options.get("namespace")
            if namespace is not None:
                DcbKeyspace(namespace)
            open_engine(parsed.without("namespace")).close()  # validates; opens nothing
        except (EngineConfigurationError, InvalidNamespace) as exc:
            # The message already names the accepted forms.
            problem, hint = f"{name} is not a valid store URL: {exc}", ""
        else:
            return []
    return [Error(problem, hint=hint or None, id="fairway.E002")]


def _unregistered(
    slices: Registry, slice_class: type, used: Iterable[type[Event]]
) -> list[CheckMessage]:
    """E003 for each of the event classes ``slice_class`` uses that is not registered."""
    return [
        Error(
            f"{_name(slice_class)} uses the event class {_name(event_class)}, "
            "which is not registered",
            hint=f"Define {event_class.__qualname__} in a slice module (one that "
            "discovery imports) or register it with registry.register().",
            id="fairway.E003",
        )
        for event_class in used
        if slices.events.get(event_class.event_type) is not event_class
    ]


def _events_used(slice_class: Slice) -> list[type[Event]]:
    """A view's or projection's handled classes; the event classes a command's ``decide``
    refers to by name."""
    if not issubclass(slice_class, Command):
        return list(slice_class.handled_events())
    decide = slice_class.decide
    names = {name for code in _code_objects(decide.__code__) for name in code.co_names}
    used = [decide.__globals__.get(name) for name in sorted(names)]
    return [cls for cls in used if isinstance(cls, type) and issubclass(cls, Event)]


def _code_objects(code: CodeType) -> Iterator[CodeType]:
    yield code
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield from _code_objects(constant)


def _route_parameter_errors(view: type[View]) -> list[CheckMessage]:
    handled = view.handled_events()
    if view.route is None or not handled or view.query is not View.query:
        return []  # a view with its own query() selects however it likes
    parameters = [name for _, name in ROUTE_PARAMETER.findall(view.route)]
    try:
        select(*handled, **dict.fromkeys(parameters, "x"))
    except InvalidSelection as exc:
        return [
            Error(
                f"{_name(view)}'s route {view.route!r} has parameters its default query cannot "
                f"select by: {exc}",
                hint="Make each route parameter a Tag field (Annotated[str, Tag]) of every "
                "event class the view handles, or override query().",
                id="fairway.E005",
            )
        ]
    return []


def _url_names(resolver: URLResolver, namespaces: tuple[str, ...]) -> Iterator[str]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from _url_names(pattern, inner)
        elif pattern.name:
            yield ":".join((*namespaces, pattern.name))


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
