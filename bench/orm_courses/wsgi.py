"""WSGI entry point for gunicorn (``gunicorn bench.orm_courses.wsgi``)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.orm_courses.settings")

application = get_wsgi_application()
