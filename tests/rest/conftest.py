"""The notes slices served over a test URLconf, on a store of each test's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import override_settings
from rest_framework.test import APIClient

from fairway_django.framework import registry
from fairway_django.rest.routes import urlconf

from .notes import NOTES


@pytest.fixture
def store_url(tmp_path: Path) -> Iterator[str]:
    url = f"embedded://{tmp_path}/store?durability=none"
    with override_settings(FAIRWAY={**settings.FAIRWAY, "STORE_URL": url}):
        yield url


@pytest.fixture
def notes(store_url: str) -> Iterator[None]:
    """The notes slices registered, and served under /api/ by the URLconf."""
    with registry.temporarily(*NOTES), override_settings(ROOT_URLCONF=urlconf(registry)):
        yield


@pytest.fixture
def user() -> User:
    return User(pk=7, username="ann")  # unsaved: force_authenticate needs no database


@pytest.fixture
def client(notes: None, user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def anonymous(notes: None) -> APIClient:
    return APIClient()
