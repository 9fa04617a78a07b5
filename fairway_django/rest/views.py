"""``GET`` a live view's route: fold its events now and answer with the state.

``min_position`` (query parameter) or ``Fairway-Min-Position`` (header) gives read-your-writes:
a client passes the ``position`` its command answered, and the view waits until the store has
reached it (up to ``MIN_POSITION_TIMEOUT``) instead of answering from before its own write.
The answer's ``Fairway-Position`` header is the last event folded into it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..conf import fairway_settings
from ..dcb import InvalidPosition, Position
from ..framework import View, compute_view
from ..store import get_store
from .errors import InvalidPositionParameter, exception_handler

MIN_POSITION_PARAMETER = "min_position"
MIN_POSITION_HEADER = "Fairway-Min-Position"
POSITION_HEADER = "Fairway-Position"


class ViewEndpoint(APIView):
    """The endpoint of one view; :func:`~.routes.endpoint` makes a subclass per view."""

    slice_class: ClassVar[type[View]]

    def get_exception_handler(self) -> Any:
        return exception_handler

    def get(self, request: Request, **params: Any) -> Response:
        result = compute_view(
            self.slice_class, params, store=get_store(),
            min_position=requested_position(request),
            timeout=fairway_settings.MIN_POSITION_TIMEOUT,
        )
        output = self.slice_class.Output
        body = result.state if output is None else output(result.state).data
        headers = {} if result.position is None else {POSITION_HEADER: str(result.position)}
        return Response(body, headers=headers)


def requested_position(request: Request) -> Position | None:
    """The position the client needs the view to reflect, or None; 400 when malformed.

    The parameter and the header may both be given (each must be valid); the later one wins.
    """
    given = [
        (name, text)
        for name, text in (
            (MIN_POSITION_PARAMETER, request.query_params.get(MIN_POSITION_PARAMETER)),
            (MIN_POSITION_HEADER, request.headers.get(MIN_POSITION_HEADER)),
        )
        if text is not None
    ]
    positions = []
    for name, text in given:
        try:
            positions.append(Position.parse(text))
        except InvalidPosition as exc:
            raise InvalidPositionParameter(
                f"{name} is the position a command answered: {exc}"
            ) from None
    return max(positions, default=None)
