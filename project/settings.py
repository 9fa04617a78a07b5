"""Settings for the example project, read from the environment (twelve-factor style).

Every value that differs between a laptop, CI and a server comes from an environment variable,
optionally set in a ``.env`` file next to ``manage.py``; real environment variables win over
the file. The defaults are safe for production (DEBUG off, no secret key) except where a
development default costs nothing: a SQLite database and an embedded event store in ``var/``.
"""

from __future__ import annotations

from pathlib import Path

import environ

import fairway_django

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Without a key Django refuses to sign anything (sessions, CSRF, password resets): the
# development key is only ever used with DEBUG on. project.wsgi/asgi read it at start-up so a
# server without DJANGO_SECRET_KEY fails to boot instead of failing its first request.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "django-insecure-fairway-development-only"

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "fairway_django",
    "slices",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Django's own bookkeeping (admin users, sessions, the admin log); domain facts live in the
# event store below.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

FAIRWAY = {
    "STORE_URL": env.str("FAIRWAY_STORE_URL", default=f"embedded://{VAR_DIR / 'store'}"),
}
# Fairway's other settings keep their defaults (fairway_django.conf.DEFAULTS) unless the
# environment sets them.
for _name in ("IDEMPOTENCY_KEY_TTL", "IDEMPOTENCY_WAIT", "MIN_POSITION_TIMEOUT", "LEASE_SECONDS"):
    if f"FAIRWAY_{_name}" in env:
        FAIRWAY[_name] = env.float(f"FAIRWAY_{_name}")

# The example domain's own: the share of waiting-list notifications that fail (a flaky
# notification service), to see retries and dead letters at work (slices/waiting_list_notifier.py).
SLICES_NOTIFY_FAILURE_RATE = env.float("SLICES_NOTIFY_FAILURE_RATE", default=0.0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# WhiteNoise serves the admin's and Swagger UI's static files from gunicorn, so the Docker
# image needs no separate web server.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Tokens for API clients (``Authorization: Token <key>``; the first class answers 401 with a
    # WWW-Authenticate header), sessions for the browsable API and Swagger UI after an admin login.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Fairway example API",
    "DESCRIPTION": "The example domain's commands and views, built as Fairway slices.",
    "VERSION": fairway_django.__version__,
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response components, so that a request's required text fields
    # are published with minLength 1 (DRF refuses blank ones) and clients are not misled.
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc from drf-spectacular-sidecar's static files: the docs work offline
    # and load nothing from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# One console handler on the root logger, so Fairway's processes (web, projectors, workers)
# log progress the same way; Django's own loggers propagate to it instead of printing twice.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django": {"handlers": [], "level": "INFO"}},
}
