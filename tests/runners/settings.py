"""The test project plus the ``tests.runners`` app; the store comes from ``FAIRWAY_STORE_URL``
and the lease period from ``FAIRWAY_LEASE_SECONDS`` (the project's settings read both)."""

from __future__ import annotations

from tests.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.runners"]  # noqa: F405
