"""Fairway's pytest plugin: isolated stores and given/when/then scenarios for slices.

Opt in from your root ``conftest.py`` with ``pytest_plugins = ["fairway_django.testing"]``
(or ``-p fairway_django.testing`` in ``addopts``); it needs pytest-django. Fixtures:
``fairway_store`` (an empty store per test, ``FAIRWAY["STORE_URL"]`` pointing at it),
``fairway`` (a :class:`Scenario` on it), ``fairway_user`` and ``fairway_client`` (a logged-in
DRF test client). The ini option ``fairway_faults = 0.2`` runs every test using ``fairway``
a second time with the engine's fault injection on. See docs/testing.md.
"""

from __future__ import annotations

from .plugin import (
    fairway,
    fairway_client,
    fairway_faults,
    fairway_store,
    fairway_user,
    pytest_addoption,
    pytest_configure,
    pytest_generate_tests,
)
from .scenario import Scenario

__all__ = [
    "Scenario",
    "fairway",
    "fairway_client",
    "fairway_faults",
    "fairway_store",
    "fairway_user",
    "pytest_addoption",
    "pytest_configure",
    "pytest_generate_tests",
]
