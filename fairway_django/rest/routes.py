"""Slices become endpoints: a small ``APIView`` subclass per slice, at its ``route``, named
``fairway:<slice_name>`` for ``reverse()``.

A command is a ``POST``, a view a ``GET``. Authentication and permissions are the slice's own
``authentication_classes`` / ``permission_classes`` when it sets them, else DRF's defaults,
except that a command defaults to ``IsAuthenticated``: changing state anonymously is a choice
to make explicitly (``permission_classes = [AllowAny]``), not by omission.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from types import ModuleType
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import URLPattern, URLResolver, include, path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..framework import Command, Registry, View
from ..framework.projections import Projection
from .commands import CommandEndpoint
from .errors import page_not_found
from .health import StoreHealthView
from .projections import (
    ProjectionDetailEndpoint, ProjectionListEndpoint, detail_route, filters_serializer,
)
from .schema import command_schema, projection_schema, view_schema
from .views import ViewEndpoint

#: The URL namespace of every Fairway endpoint: ``reverse("fairway:<slice_name>", ...)``.
NAMESPACE = "fairway"

_urlconf_numbers = itertools.count()


def endpoint(
    slice_class: type[Command] | type[View] | type[Projection], *, detail: bool = False
) -> type[APIView]:
    """The ``APIView`` serving one command or view (or a projection's list, or with
    ``detail`` its documents), documented for drf-spectacular."""
    attributes: dict[str, Any] = {
        "slice_class": slice_class,
        "__module__": slice_class.__module__,
        "__qualname__": f"{slice_class.__qualname__}Endpoint",
        "__doc__": slice_class.__doc__,
    }
    if slice_class.authentication_classes is not None:
        attributes["authentication_classes"] = list(slice_class.authentication_classes)
    permissions = permissions_of(slice_class)
    attributes["permission_classes"] = permissions
    open_to_anyone = all(permission is AllowAny for permission in permissions)
    if issubclass(slice_class, Command):

        @extend_schema(**command_schema(slice_class, open_to_anyone=open_to_anyone))
        def post(self: CommandEndpoint, request: Request, **kwargs: Any) -> Response:
            return CommandEndpoint.post(self, request, **kwargs)

        attributes["post"] = post
        base: type[APIView] = CommandEndpoint
    elif issubclass(slice_class, Projection):
        filters = None if detail else filters_serializer(slice_class)
        schema = projection_schema(
            slice_class, detail=detail, open_to_anyone=open_to_anyone, filters=filters
        )
        base = ProjectionDetailEndpoint if detail else ProjectionListEndpoint

        handler = (ProjectionDetailEndpoint if detail else ProjectionListEndpoint).get

        @extend_schema(**schema)
        def get_document(self: Any, request: Request, **kwargs: Any) -> Response:
            return handler(self, request, **kwargs)

        attributes["get"] = get_document
        attributes["__qualname__"] = f"{slice_class.__qualname__}{'Detail' if detail else ''}Endpoint"
    else:

        @extend_schema(**view_schema(slice_class, open_to_anyone=open_to_anyone))
        def get(self: ViewEndpoint, request: Request, **kwargs: Any) -> Response:
            return ViewEndpoint.get(self, request, **kwargs)

        attributes["get"] = get
        base = ViewEndpoint
    return type(attributes["__qualname__"].rsplit(".", 1)[-1], (base,), attributes)


def permissions_of(slice_class: type[Command] | type[View] | type[Projection]) -> list[Any]:
    """The slice's own permission classes, else IsAuthenticated (commands) or DRF's default.

    (Any: DRF also takes composed permissions, ``IsAdminUser | ReadOnly``, which are no types.)
    """
    if slice_class.permission_classes is not None:
        return list(slice_class.permission_classes)
    if issubclass(slice_class, Command):
        return [IsAuthenticated]
    return list(APIView.permission_classes)


def build_urlpatterns(
    registry: Registry, *, health: bool = True
) -> list[URLPattern | URLResolver]:
    """A URL pattern for every routed slice in ``registry`` (and the health check).

    Include them under the ``fairway`` namespace; ``fairway_django.urls`` does exactly that
    for the process's registry. A command and a view may share a route (``POST`` and ``GET``
    on ``notes/<id>``): Django resolves a path to its first pattern, so that one dispatches by
    method, and the view's own pattern stays for ``reverse()`` and the schema's ``GET``.
    """
    by_route: dict[str, list[type[Command] | type[View]]] = {}
    patterns: list[URLPattern | URLResolver] = []
    for slice_class in registry.slices():
        if slice_class.route is None:
            continue
        if issubclass(slice_class, Projection):
            patterns.append(path(
                slice_class.route, endpoint(slice_class).as_view(), name=slice_class.slice_name
            ))
            patterns.append(path(
                detail_route(slice_class.route), endpoint(slice_class, detail=True).as_view(),
                name=f"{slice_class.slice_name}_detail",
            ))
        else:
            by_route.setdefault(slice_class.route, []).append(slice_class)
    for route, group in by_route.items():
        served = {slice_class: endpoint(slice_class).as_view() for slice_class in group}
        if len(group) == 2:  # the registry allows one command and one view per route
            command, view = sorted(group, key=lambda cls: issubclass(cls, View))
            dispatcher = by_method(post=served[command], get=served[view])
            patterns.append(path(route, dispatcher, name=command.slice_name))
            patterns.append(path(route, served[view], name=view.slice_name))
        else:
            patterns.extend(path(route, view, name=cls.slice_name) for cls, view in served.items())
    if health:
        patterns.append(path("fairway/health/", StoreHealthView.as_view(), name="health"))
    return patterns


def by_method(*, post: Callable[..., HttpResponseBase], get: Callable[..., HttpResponseBase]
              ) -> Callable[..., HttpResponseBase]:
    """One Django view answering ``POST`` with ``post`` and every other method with ``get``."""

    @csrf_exempt  # each endpoint enforces CSRF itself, as DRF's views do
    def dispatch(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return (post if request.method == "POST" else get)(request, *args, **kwargs)

    # drf-spectacular documents a pattern by its callback's class: this one, the POST.
    dispatch.cls = post.cls  # type: ignore[attr-defined]
    dispatch.initkwargs = post.initkwargs  # type: ignore[attr-defined]
    return dispatch


def urlconf(registry: Registry, prefix: str = "api/") -> ModuleType:
    """A whole ``ROOT_URLCONF`` serving ``registry`` under ``prefix``, for tests:
    ``override_settings(ROOT_URLCONF=urlconf(my_registry))``. Unknown URLs answer JSON 404s.
    """
    module = ModuleType(f"fairway_urlconf_{next(_urlconf_numbers)}")
    patterns = build_urlpatterns(registry)
    vars(module).update(
        urlpatterns=[path(prefix, include((patterns, NAMESPACE)))], handler404=page_not_found
    )
    return module
