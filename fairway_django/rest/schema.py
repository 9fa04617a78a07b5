"""What drf-spectacular publishes for a slice: its input, its output, and every error it can
answer, with the error codes as enums, so a client generator knows each one.

Each slice's ``Input``/``Output`` becomes a component named after the slice
(``SubscribeStudentToCourseInput``): every slice calls its serializers ``Input`` and ``Output``,
and components must have distinct names. Error bodies are inline schemas, so each operation
lists exactly its own codes.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from ..framework import Command, View
from ..framework.projections import Projection
from .errors import UNDECLARED_REJECTION_STATUS
from .idempotency import HEADER, KEY_FORMAT, REPLAYED_HEADER
from .views import MIN_POSITION_HEADER, MIN_POSITION_PARAMETER, POSITION_HEADER

#: Codes any command can answer, by status, besides those it declares. ``not_found``: a URL
#: that no route matches (a path parameter holding a ``/``, say) answers it on any path.
COMMAND_CODES: Mapping[int, tuple[str, ...]] = {
    400: ("invalid_idempotency_key", "parse_error"),
    404: ("not_found",),
    409: ("consistency_conflict", "idempotency_key_in_use"),
    422: ("idempotency_key_reused",),
}
#: Codes any view can answer, by status.
VIEW_CODES: Mapping[int, tuple[str, ...]] = {
    400: ("invalid_position",),
    404: ("not_found",),
    412: ("not_caught_up",),
}
#: A route's parameter: ``<name>`` or ``<converter:name>``.
ROUTE_PARAMETER = re.compile(r"<(?:([^>:]+):)?([^>]+)>")

#: Codes of a slice that not everyone may use.
GUARDED_CODES: Mapping[int, tuple[str, ...]] = {
    401: ("not_authenticated", "authentication_failed"),
    403: ("permission_denied",),
}

_RECORDED_EVENT = inline_serializer(
    "RecordedEvent",
    {
        "type": serializers.CharField(help_text="The event's type."),
        "position": serializers.CharField(help_text="Where the event sits in the log."),
        "tags": serializers.ListField(child=serializers.CharField()),
        "data": serializers.DictField(help_text="The event's fields."),
    },
)
COMMAND_ACCEPTED = inline_serializer(
    "CommandAccepted",
    {
        "position": serializers.CharField(
            allow_null=True,
            help_text="The last event's position (null when the command decided nothing); "
            f"pass it as a view's {MIN_POSITION_PARAMETER} to read your own write.",
        ),
        "correlation_id": serializers.CharField(help_text="Stored with every event appended."),
        "events": serializers.ListField(child=_RECORDED_EVENT),
    },
)
#: DRF's field errors: each field's messages (nested serializers nest them).
FIELD_ERRORS: dict[str, Any] = {
    "type": "object",
    "description": "Each invalid field with its messages.",
    "additionalProperties": {},
}


def command_schema(command: type[Command], *, open_to_anyone: bool) -> dict[str, Any]:
    """``extend_schema`` arguments for a command's ``POST``."""
    guarded = {} if open_to_anyone else GUARDED_CODES
    codes = _merge(COMMAND_CODES, guarded, _declared(command.rejections))
    responses: dict[int, Any] = {201: COMMAND_ACCEPTED}
    responses.update({status: _error(status, names) for status, names in codes.items()})
    return {
        "operation_id": command.slice_name,
        "description": _description(command),
        "request": None if command.Input is None else _request_body(command, command.Input),
        "responses": responses,
        "parameters": [
            *path_parameters(command.route),
            OpenApiParameter(
                HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER,
                pattern=f"^{KEY_FORMAT.pattern}$",
                description="Makes a retry safe: a repeat of this request (same user, same body) "
                "gets the first one's response instead of running the command again. 1 to 200 "
                "printable ASCII characters without spaces; a UUID is a good choice.",
            ),
            OpenApiParameter(
                REPLAYED_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, enum=["true"],
                response=sorted({201, UNDECLARED_REJECTION_STATUS, *command.rejections.values()}),
                description="Present when this is the first response to this Idempotency-Key, "
                "replayed.",
            ),
        ],
    }


def view_schema(view: type[View], *, open_to_anyone: bool) -> dict[str, Any]:
    """``extend_schema`` arguments for a view's ``GET``."""
    output = OpenApiTypes.OBJECT if view.Output is None else _named(view.Output, view, "Output")
    codes = _merge(VIEW_CODES, {} if open_to_anyone else GUARDED_CODES)
    responses: dict[int, Any] = {200: output}
    responses.update({status: _error(status, names) for status, names in codes.items()})
    return {
        "operation_id": view.slice_name,
        "description": _description(view),
        "responses": responses,
        "parameters": [
            *path_parameters(view.route),
            *_freshness_parameters(),
            OpenApiParameter(
                POSITION_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200],
                description="The last event folded into this answer.",
            ),
        ],
    }


#: Codes any projection endpoint can answer, by status.
PROJECTION_CODES: Mapping[int, tuple[str, ...]] = {
    **VIEW_CODES, 503: ("projection_not_ready",),
}


def projection_schema(
    projection: type[Projection], *, detail: bool, open_to_anyone: bool, filters: type | None
) -> dict[str, Any]:
    """``extend_schema`` arguments for a projection's list (``filters``: its query parameters'
    serializer) or detail ``GET``."""
    named = _document_component(projection)
    document = OpenApiTypes.OBJECT if named is None else named
    codes = _merge(PROJECTION_CODES, {} if open_to_anyone else GUARDED_CODES)
    results = (
        serializers.ListField(child=serializers.DictField()) if named is None
        else named(many=True)
    )
    page = inline_serializer(
        "".join(part.capitalize() for part in projection.slice_name.split("_")) + "Page",
        {
            "results": results,
            "next_cursor": serializers.CharField(allow_null=True),
            "next": serializers.URLField(allow_null=True),
        },
    )
    responses: dict[int, Any] = {200: document if detail else page}
    responses.update({status: _error(status, names) for status, names in codes.items()})
    route = projection.route or ""
    parameters = [*path_parameters(route), *_freshness_parameters()]
    if detail:
        parameters.append(
            OpenApiParameter("key", OpenApiTypes.STR, OpenApiParameter.PATH, pattern="^[^/]+$")
        )
    return {
        "operation_id": projection.slice_name + ("_detail" if detail else "_list"),
        "description": _description(projection),
        "responses": responses,
        "parameters": parameters if detail else [filters, *parameters],
    }


_document_components: dict[type[Projection], type | None] = {}


def _document_component(projection: type[Projection]) -> type | None:
    """One component for the list's and the detail's document (one class: one component)."""
    if projection not in _document_components:
        output = projection.Output
        named = None if output is None else _named(output, projection, "Output")
        _document_components[projection] = named
    return _document_components[projection]


def _freshness_parameters() -> list[OpenApiParameter]:
    return [
        OpenApiParameter(
            MIN_POSITION_PARAMETER, OpenApiTypes.STR, OpenApiParameter.QUERY,
            description="Wait until the answer reflects this position (a command's answer).",
            pattern="^[0-9a-f]{24}$",
        ),
        OpenApiParameter(
            MIN_POSITION_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER,
            description=f"The same as {MIN_POSITION_PARAMETER}, as a header.",
            pattern="^[0-9a-f]{24}$",
        ),
    ]


def path_parameters(route: str | None) -> list[OpenApiParameter]:
    """The route's ``str`` parameters (Django's default converter) as strings without ``/``:
    drf-spectacular leaves out the pattern, and a value with a ``/`` would match no route."""
    return [
        OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.PATH, pattern="^[^/]+$")
        for converter, name in ROUTE_PARAMETER.findall(route or "")
        if converter in ("", "str")
    ]


def _declared(rejections: Mapping[str, int]) -> dict[int, tuple[str, ...]]:
    by_status: defaultdict[int, list[str]] = defaultdict(list)
    for code, status in rejections.items():
        by_status[status].append(code)
    return {status: tuple(codes) for status, codes in by_status.items()}


def _merge(*tables: Mapping[int, Iterable[str]]) -> dict[int, tuple[str, ...]]:
    merged: defaultdict[int, list[str]] = defaultdict(list)
    for table in tables:
        for status, codes in table.items():
            merged[status].extend(code for code in codes if code not in merged[status])
    return {status: tuple(codes) for status, codes in sorted(merged.items())}


def _error(status: int, codes: tuple[str, ...]) -> dict[str, Any]:
    error = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "enum": list(codes)},
            "detail": {"type": "string"},
        },
        "required": ["code", "detail"],
    }
    return {"anyOf": [FIELD_ERRORS, error]} if status == 400 else error


def _named(
    serializer: type, slice_class: type[Command] | type[View] | type[Projection], suffix: str,
    fields: Mapping[str, Any] | None = None,
) -> type:
    """The serializer under a component name of its own: the slice's name, camel-cased, and
    ``suffix`` (slice names are unique, class names need not be), with ``fields`` replaced
    (None removes one, as in any DRF subclass)."""
    name = "".join(part.capitalize() for part in slice_class.slice_name.split("_")) + suffix
    return type(name, (serializer,), {"__module__": slice_class.__module__, **(fields or {})})


#: What DRF's ``CharField`` accepts by default: no NUL character, and (trimmed) not blank.
NOT_BLANK_TEXT = r"^[^\x00]*[^\s\x00][^\x00]*$"


def _request_body(command: type[Command], input_class: type) -> type:
    """The ``Input`` as a client sends it: without the fields the URL's parameters fill (the
    URL wins a clash), and with its text fields' rules spelt out as patterns, so that what
    the schema allows is what the serializer accepts."""
    in_path = {name for _, name in ROUTE_PARAMETER.findall(command.route or "")}
    declared = input_class().fields
    fields: dict[str, Any] = dict.fromkeys(in_path & set(declared))
    for name, field in declared.items():
        if name in in_path or type(field) is not serializers.CharField:
            continue
        if not field.allow_blank and field.trim_whitespace:
            # A new field from the declared arguments: DRF copies fields that way, so a
            # validator appended to a copy would not survive into the schema.
            args: tuple[Any, ...] = getattr(field, "_args")  # noqa: B009 (not in the stubs)
            kwargs: dict[str, Any] = getattr(field, "_kwargs")  # noqa: B009
            validators = [*kwargs.get("validators", ()), RegexValidator(NOT_BLANK_TEXT)]
            fields[name] = type(field)(*args, **{**kwargs, "validators": validators})
    return _named(input_class, command, "Input", fields)


def _description(slice_class: type) -> str:
    """The slice's docstring, else its module's (a slice module's docstring says what it does)."""
    module = sys.modules.get(slice_class.__module__)
    return (slice_class.__doc__ or getattr(module, "__doc__", None) or "").strip()
