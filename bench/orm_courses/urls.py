"""The peer's one route, at the same path as the Fairway slice's."""

from __future__ import annotations

from django.urls import path

from .views import SubscribeStudentToCourse

urlpatterns = [
    path("api/courses/<str:course_id>/subscriptions", SubscribeStudentToCourse.as_view()),
]
