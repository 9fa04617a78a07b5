"""Error bodies: every error a slice endpoint answers is ``{"code", "detail"}``, except
field validation, which keeps DRF's usual ``{"field": ["message", ...]}``.

A client branches on ``code`` (stable, snake_case) and shows ``detail`` (for people). The
codes are the framework's (``Rejected``'s own, ``consistency_conflict``, ``not_found``,
``not_caught_up``, ``projection_not_ready``), this package's (``invalid_position``, the ``idempotency_key_*`` ones) and
DRF's ``default_code``s (``not_authenticated``, ``permission_denied``, ``parse_error``...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..framework import ConsistencyConflict, FairwayError, NotCaughtUp, NotFound, Rejected
from ..framework.readmodels import ProjectionNotReady

#: The status of a rejection code a command does not declare in ``rejections``.
UNDECLARED_REJECTION_STATUS = status.HTTP_422_UNPROCESSABLE_ENTITY
#: Seconds a client should wait before asking a view that was not caught up again.
NOT_CAUGHT_UP_RETRY_AFTER = 1


class InvalidPositionParameter(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_position"
    default_detail = "min_position is not a position."


class InvalidIdempotencyKey(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_idempotency_key"
    default_detail = "The Idempotency-Key header is malformed."


def error_response(
    status_code: int, code: str, detail: str, headers: Mapping[str, str] | None = None
) -> Response:
    return Response({"code": code, "detail": detail}, status=status_code, headers=headers)


def rejection_response(exc: Rejected, rejections: Mapping[str, int]) -> Response:
    """A rejection answers its own status, else the one the command declares, else 422."""
    status_code = exc.status or rejections.get(exc.code, UNDECLARED_REJECTION_STATUS)
    return error_response(status_code, exc.code, exc.detail)


def conflict_response(exc: ConsistencyConflict) -> Response:
    return error_response(status.HTTP_409_CONFLICT, exc.code, str(exc))


def fairway_error_response(exc: FairwayError, rejections: Mapping[str, int]) -> Response | None:
    """The response for an error a slice raised, or None for one that is a bug (a 500)."""
    if isinstance(exc, Rejected):
        return rejection_response(exc, rejections)
    if isinstance(exc, ConsistencyConflict):
        return conflict_response(exc)
    if isinstance(exc, NotFound):
        return error_response(status.HTTP_404_NOT_FOUND, exc.code, str(exc))
    if isinstance(exc, NotCaughtUp):
        return error_response(
            status.HTTP_412_PRECONDITION_FAILED, exc.code, str(exc),
            headers={"Retry-After": str(NOT_CAUGHT_UP_RETRY_AFTER)},
        )
    if isinstance(exc, ProjectionNotReady):
        return error_response(status.HTTP_503_SERVICE_UNAVAILABLE, exc.code, str(exc))
    return None


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF's handler, with Fairway's errors mapped and every non-field error as code + detail.

    Slice endpoints use it whatever the project's ``EXCEPTION_HANDLER`` is, so their answers
    match the OpenAPI schema they publish.
    """
    if isinstance(exc, FairwayError):
        rejections = getattr(getattr(context.get("view"), "slice_class", None), "rejections", {})
        return fairway_error_response(exc, rejections)
    if isinstance(exc, Http404):  # as DRF's own handler converts them
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, dict(context))
    if response is not None and isinstance(exc, APIException):
        if not isinstance(exc, ValidationError):
            response.data = {"code": exc.get_codes(), "detail": str(exc.detail)}
    return response


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A ``handler404`` for API projects: ``404 {"code": "not_found", "detail"}`` as JSON.

    A browser asking for HTML gets Django's own page instead. Set it in the ROOT_URLCONF:
    ``handler404 = "fairway_django.rest.errors.page_not_found"``.
    """
    if request.get_preferred_type(["application/json", "text/html"]) == "text/html":
        return defaults.page_not_found(request, exception)
    return JsonResponse(
        {"code": "not_found", "detail": f"There is no endpoint at {request.path}."}, status=404
    )
