"""``POST`` to a command's route: validate the input, run the command, answer with its events.

The body and the URL's parameters together are the command's input (the URL wins a clash),
validated by its ``Input`` serializer. Success is ``201 {"position", "correlation_id",
"events"}``: ``position`` is what a client passes as a view's ``min_position`` to read its own
write. See docs/http.md for every status and code.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

import msgspec
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..conf import fairway_settings
from ..framework import Command, CommandResult, ConsistencyConflict, Rejected, run_command
from ..store import get_database, get_store
from .errors import conflict_response, exception_handler, rejection_response
from .idempotency import IdempotencyKeys, fingerprint, requested_key, scope_of


class CommandEndpoint(APIView):
    """The endpoint of one command; :func:`~.routes.endpoint` makes a subclass per command."""

    slice_class: ClassVar[type[Command]]

    def get_exception_handler(self) -> Any:
        return exception_handler

    def post(self, request: Request, **url_kwargs: Any) -> Response:
        key = requested_key(request)
        data = command_input(request, url_kwargs)
        validated = self.validate(data, url_kwargs)
        if key is None:
            return self.run(validated)[0]
        scope = scope_of(request, self.slice_class.slice_name, key)
        keys = IdempotencyKeys(
            get_database(),
            ttl=fairway_settings.IDEMPOTENCY_KEY_TTL,
            wait=fairway_settings.IDEMPOTENCY_WAIT,
        )
        return keys.respond(
            scope, fingerprint(data), lambda command_key: self.run(validated, command_key)
        )

    def validate(
        self, data: Mapping[str, Any], url_kwargs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """The input as the ``Input`` serializer validated it (400 if invalid); without an
        ``Input``, the command gets the URL's parameters alone."""
        if self.slice_class.Input is None:
            return dict(url_kwargs)
        serializer = self.slice_class.Input(data=data)
        serializer.is_valid(raise_exception=True)
        validated: Mapping[str, Any] = serializer.validated_data
        return validated

    def run(
        self, data: Mapping[str, Any], idempotency_key: str | None = None
    ) -> tuple[Response, bool]:
        """The response, and whether it is final: a conflict is worth retrying, the rest not."""
        correlation_id = str(uuid.uuid4())
        try:
            result = run_command(
                self.slice_class, data, store=get_store(),
                idempotency_key=idempotency_key, correlation_id=correlation_id,
            )
        except Rejected as exc:
            return rejection_response(exc, self.slice_class.rejections), True
        except ConsistencyConflict as exc:
            return conflict_response(exc), False
        return Response(accepted(result, correlation_id), status=status.HTTP_201_CREATED), True


def command_input(request: Request, url_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    body = request.data
    if not isinstance(body, Mapping):
        raise ParseError(f"The body must be a JSON object, not {type(body).__name__}.")
    return {**dict(body.items()), **url_kwargs}  # items(): a form's last value, as DRF does


def accepted(result: CommandResult, correlation_id: str) -> dict[str, Any]:
    """The 201 body. A duplicate run reports the correlation id its events were stored with."""
    if result.duplicate and result.events:
        correlation_id = result.events[0].metadata.get("correlation_id", correlation_id)
    return {
        "position": None if result.position is None else str(result.position),
        "correlation_id": correlation_id,
        "events": [
            {
                "type": recorded.event.event_type,
                "position": str(recorded.position),
                "tags": list(recorded.event.tags()),
                "data": msgspec.to_builtins(recorded.event),
            }
            for recorded in result.events
        ],
    }
