"""``GET`` a projection's read model: ``<route>`` lists documents, ``<route>/<key>`` shows one.

The list takes the projection's lookups as filter parameters (one at a time: each is one
index range), ``limit`` and ``cursor``: pages follow key order, and ``next`` is the URL of the
next page, so a client pages through any number of documents at the same cost per page.
``min_position`` (or the ``Fairway-Min-Position`` header) waits until the projection has
applied that position, so a client reads its own write.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.validators import RegexValidator
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..conf import fairway_settings
from ..framework import NotFound
from ..framework.documents import MAX_KEY_LENGTH, MAX_PAGE_SIZE, Document
from ..framework.projections import Projection
from ..framework.readmodels import DEFAULT_PAGE_SIZE, ReadModel
from ..store import get_store
from .errors import exception_handler
from .schema import NOT_BLANK_TEXT
from .views import requested_position

CURSOR_PARAMETER = "cursor"
LIMIT_PARAMETER = "limit"
KEY_PARAMETER = "key"


def lookup_field(kind: type) -> serializers.Field[Any, Any, Any, Any]:
    if kind is bool:
        return serializers.BooleanField(required=False)
    if kind is int:
        return serializers.IntegerField(required=False)
    return text_field()


def text_field() -> serializers.CharField:
    """A text parameter whose schema says what DRF's CharField takes: no NUL, not blank."""
    return serializers.CharField(
        required=False, max_length=MAX_KEY_LENGTH, validators=[RegexValidator(NOT_BLANK_TEXT)]
    )


def filters_serializer(projection: type[Projection]) -> type[serializers.Serializer[Any]]:
    """The list's query parameters: each lookup, ``cursor`` and ``limit``."""
    fields: dict[str, Any] = {
        name: lookup_field(kind) for name, kind in projection.lookups.items()
    }
    fields[CURSOR_PARAMETER] = text_field()
    fields[LIMIT_PARAMETER] = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )
    lookups = list(projection.lookups)

    def validate(self: serializers.Serializer[Any], attrs: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in lookups if name in attrs]
        if len(given) > 1:
            raise serializers.ValidationError(
                f"filter by one of {', '.join(lookups)} at a time, not {', '.join(given)}"
            )
        return attrs

    name = "".join(part.capitalize() for part in projection.slice_name.split("_")) + "Filters"
    return type(name, (serializers.Serializer,), {**fields, "validate": validate})


class ProjectionEndpoint(APIView):
    """Base of the endpoints of one projection; :func:`~.routes.endpoint` makes subclasses."""

    slice_class: ClassVar[type[Projection]]

    def get_exception_handler(self) -> Any:
        return exception_handler

    def read_model(self, request: Request) -> ReadModel:
        read_model = ReadModel(self.slice_class, get_store())
        position = requested_position(request)
        if position is not None:
            read_model.wait_for(position, fairway_settings.MIN_POSITION_TIMEOUT)
        return read_model

    def show(self, key: str, document: Document) -> Any:
        shown = {"key": key, **document}
        output = self.slice_class.Output
        return shown if output is None else output(shown).data


class ProjectionListEndpoint(ProjectionEndpoint):
    def get(self, request: Request, **url_kwargs: Any) -> Response:
        filters = filters_serializer(self.slice_class)(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        chosen = dict(filters.validated_data)
        cursor = chosen.pop(CURSOR_PARAMETER, None)
        limit = chosen.pop(LIMIT_PARAMETER)
        page = self.read_model(request).page(after=cursor, limit=limit, **chosen)
        next_url = None
        if page.next_cursor is not None:
            query = request.query_params.copy()
            query[CURSOR_PARAMETER] = page.next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response({
            "results": [self.show(key, document) for key, document in page.documents],
            "next_cursor": page.next_cursor,
            "next": next_url,
        })


class ProjectionDetailEndpoint(ProjectionEndpoint):
    def get(self, request: Request, **url_kwargs: Any) -> Response:
        key = url_kwargs[KEY_PARAMETER]
        document = self.read_model(request).get(key)
        if document is None:
            raise NotFound(f"{self.slice_class.__qualname__} has no document {key!r}")
        return Response(self.show(key, document))


def detail_route(route: str) -> str:
    """The detail's route: the list's, then the key."""
    return f"{route.rstrip('/')}/<str:{KEY_PARAMETER}>"
