"""URLs of the Fairway side of bench/http.py: the slices under ``api/``, as a project includes
them, and a DRF view that does nothing, to set apart what Django and DRF cost a request."""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class DoNothing(APIView):
    """Token auth, permission check, JSON parsing and rendering: a request with no work in it."""

    def post(self, request: Request, course_id: str) -> Response:
        return Response({"course_id": course_id, **request.data}, status=201)


urlpatterns: list[Any] = [
    path("api/", include("fairway_django.urls")),
    path("bench/nothing/<str:course_id>", DoNothing.as_view()),
]
