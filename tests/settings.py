"""Test settings: the project's own, plus what a test run needs and a deployment must not have."""

from __future__ import annotations

from project.settings import *  # noqa: F403

# The project has no secret key unless DJANGO_SECRET_KEY is set; tests sign sessions and CSRF
# tokens, so they get a fixed one.
SECRET_KEY = "tests-only-not-a-secret"

# The default hasher is slow on purpose; tests that log users in do not need that.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Serve static files from the apps, as runserver does, rather than from a collectstatic run.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
