"""Settings of a real server (gunicorn) serving the notes slices; the store comes from
``FAIRWAY_STORE_URL``, the idempotency wait from ``FAIRWAY_IDEMPOTENCY_WAIT``."""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.rest.server_urls"
FAIRWAY = {
    "STORE_URL": os.environ["FAIRWAY_STORE_URL"],
    "IDEMPOTENCY_WAIT": float(os.environ["FAIRWAY_IDEMPOTENCY_WAIT"]),
}
