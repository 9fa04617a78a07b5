"""Every registered slice's endpoint, and the health check, under the ``fairway`` namespace.

Include it once, under the prefix of your API: ``path("api/", include("fairway_django.urls"))``.
The patterns are built from the registry when Django first loads the URLconf, after
discovery has filled it (see ``fairway_django.discovery``).
"""

from __future__ import annotations

from .framework import registry
from .rest.routes import NAMESPACE, build_urlpatterns

app_name = NAMESPACE
urlpatterns = build_urlpatterns(registry)
