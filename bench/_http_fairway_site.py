"""Settings and URLs of the Fairway side of bench/http.py: the example project, served as a
team would deploy it, plus DRF's token auth.

Everything comes from ``project.settings`` (so ``FAIRWAY_STORE_URL``, ``DATABASE_URL`` and
``DJANGO_SECRET_KEY`` from the environment choose the store, the database of Django's own
bookkeeping (users and tokens) and the key). This module adds token authentication, persistent
database connections and the slices' URLs under ``api/``, quiets the log of 4xx answers as the peer's is quiet, and adds a
DRF view that does nothing (in ``bench._http_fairway_urls``), so that the layer costs can set
apart what Django and DRF cost a request on their own.
"""

from __future__ import annotations

from project.settings import *  # the example project's settings, extended below
from project.settings import ALLOWED_HOSTS, DATABASES, INSTALLED_APPS, LOGGING, REST_FRAMEWORK

DEBUG = False
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework.authtoken"]
if INSTALLED_APPS.count("rest_framework.authtoken") > 1:
    INSTALLED_APPS.remove("rest_framework.authtoken")
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
ROOT_URLCONF = "bench._http_fairway_urls"
# Persistent database connections, as the peer has: without them every request opens (and
# sets up) a new SQLite connection just to look up its token.
DATABASES = {**DATABASES, "default": {**DATABASES["default"], "CONN_MAX_AGE": None}}
# The example project logs every 4xx answer as a warning (Django's "django.request" logger);
# the peer, on Django's default logging, does not. A rejection is an ordinary answer here.
LOGGING = {**LOGGING, "loggers": {**LOGGING["loggers"], "django.request": {"level": "ERROR"}}}
