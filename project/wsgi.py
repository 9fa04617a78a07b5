"""WSGI entry point for gunicorn (``gunicorn project.wsgi``)."""

from __future__ import annotations

import gc
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

application = get_wsgi_application()

# Django raises ImproperlyConfigured for an empty SECRET_KEY only when something first signs
# a value; reading it here makes a server started without DJANGO_SECRET_KEY fail at boot.
settings.SECRET_KEY  # noqa: B018

# What start-up loaded (Django, DRF, every app and slice, the URLconf) lives as long as the
# worker. Freezing it moves it out of the garbage collector's reach: a full collection then
# walks only what requests allocate, instead of pausing a request for tens of milliseconds to
# walk the whole process (measured in bench/admin.py; docs/benchmarks.md).
gc.freeze()
