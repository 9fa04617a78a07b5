"""URL routes: the admin, Fairway's endpoints, and the OpenAPI schema with Swagger UI and Redoc."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    # Every slice at its route under api/, and the store's health check at api/fairway/health/.
    path("api/", include("fairway_django.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="redoc_offline.html"),
        name="redoc",
    ),
]

# An unknown URL answers JSON ({"code": "not_found", ...}) to API clients, HTML to browsers.
handler404 = "fairway_django.rest.errors.page_not_found"
