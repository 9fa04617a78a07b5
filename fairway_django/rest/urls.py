"""Fairway's URLs; include them under a prefix of your choice:
``path("api/fairway/", include("fairway_django.rest.urls"))``."""

from __future__ import annotations

from django.urls import path

from .health import StoreHealthView

app_name = "fairway"
urlpatterns = [path("health/", StoreHealthView.as_view(), name="health")]
