"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import override_settings


@pytest.fixture(scope="session", autouse=True)
def _store_outside_the_work_tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point ``FAIRWAY["STORE_URL"]`` at a fresh directory for the test session.

    The project's default is ``var/store`` in the work tree, the developer's own demo data;
    a test run must neither read it nor write to it. Tests that need a store of their own
    still override the setting themselves.
    """
    store = tmp_path_factory.mktemp("fairway-store")
    with override_settings(FAIRWAY={**settings.FAIRWAY, "STORE_URL": f"embedded://{store}"}):
        yield
