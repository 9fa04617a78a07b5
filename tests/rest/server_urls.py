"""The ROOT_URLCONF of a real server (gunicorn) serving the notes slices."""

from __future__ import annotations

from fairway_django.framework import Registry
from fairway_django.rest.routes import urlconf

from .notes import NOTES

_registry = Registry()
for _cls in NOTES:
    _registry.register(_cls)
_urlconf = urlconf(_registry)

urlpatterns = _urlconf.urlpatterns
handler404 = _urlconf.handler404
