"""The error bodies of errors no slice test provokes: Django's own 404 and 403 exceptions."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from fairway_django.rest.errors import exception_handler


def test_django_s_own_exceptions_get_a_code_as_drf_s_do() -> None:
    not_found = exception_handler(Http404("No such page."), {})
    denied = exception_handler(PermissionDenied(), {})

    assert not_found is not None and denied is not None
    assert (not_found.status_code, not_found.data) == (
        404, {"code": "not_found", "detail": "No such page."},
    )
    assert (denied.status_code, denied.data["code"]) == (403, "permission_denied")


def test_other_exceptions_are_left_to_django_as_500s() -> None:
    assert exception_handler(ValueError("a bug"), {}) is None
