"""ASGI entry point for ASGI servers (``uvicorn project.asgi:application`` and the like)."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

application = get_asgi_application()

# Django raises ImproperlyConfigured for an empty SECRET_KEY only when something first signs
# a value; reading it here makes a server started without DJANGO_SECRET_KEY fail at boot.
settings.SECRET_KEY  # noqa: B018
