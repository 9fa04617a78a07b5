"""The pytest side of ``fairway_django.testing``: its ini option, fixtures and parametrization.

Every test gets a store of its own in its ``tmp_path``, which pytest (and pytest-xdist, per
worker) already keeps apart, so tests never see each other's events and need no cleanup. With
``fairway_faults`` set, tests using ``fairway`` also run on an engine that fails that share of
its commits the way FoundationDB can (``not_committed``, ``commit_unknown_result``, ...): a
slice must behave the same either way.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest

from ..dcb import DcbStore
from .scenario import Scenario

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from rest_framework.test import APIClient

FAULTS_OPTION = "fairway_faults"
_RATE = pytest.StashKey[float]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        FAULTS_OPTION,
        "Share of engine commits (0 to 1) that fail on purpose: when above 0, every test "
        "using the `fairway` fixture runs twice, as [plain] and as [faults].",
        default="0",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fairway_faults(rate): the engine fault rate of this test's [faults] run "
        "(0 runs it [plain] only)",
    )
    config.stash[_RATE] = _rate(config.getini(FAULTS_OPTION), f"the ini option {FAULTS_OPTION}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "fairway" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker(FAULTS_OPTION)
    rate = metafunc.config.stash[_RATE]
    if marker is not None:
        rate = _rate(marker.args[0] if marker.args else None, "the fairway_faults marker")
    if rate > 0:
        metafunc.parametrize(
            FAULTS_OPTION, [0.0, rate], ids=["plain", "faults"], indirect=True, scope="function"
        )


@pytest.fixture
def fairway_faults(request: pytest.FixtureRequest) -> float:
    """The share of this test's commits that the engine fails on purpose (0: none)."""
    return float(getattr(request, "param", 0.0))


@pytest.fixture
def fairway_store(
    tmp_path: Path, fairway_faults: float, request: pytest.FixtureRequest
) -> Iterator[DcbStore]:
    """An empty store of this test's own, in ``tmp_path``; ``FAIRWAY["STORE_URL"]`` points at
    it meanwhile."""
    from django.conf import settings
    from django.test import override_settings

    from ..store import get_store

    options = {"durability": "none"}
    if fairway_faults:
        # Seeded by the test's id: a failing [faults] run fails the same way when run again.
        seed = zlib.crc32(request.node.nodeid.encode())
        options |= {"faults": str(fairway_faults), "fault_seed": str(seed)}
    url = f"embedded://{tmp_path / 'fairway-store'}?{urlencode(options)}"
    with override_settings(FAIRWAY={**getattr(settings, "FAIRWAY", {}), "STORE_URL": url}):
        yield get_store()


@pytest.fixture
def fairway_user(db: None, django_user_model: Any) -> AbstractBaseUser:
    """A user in the test database, for requests that need a login."""
    user: AbstractBaseUser = django_user_model.objects.create_user(
        username="fairway-user", password="fairway-user-password"
    )
    return user


@pytest.fixture
def fairway_client(fairway_store: DcbStore, fairway_user: AbstractBaseUser) -> APIClient:
    """A DRF test client logged in as ``fairway_user``, on this test's own store."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(fairway_user)
    return client


@pytest.fixture
def fairway(db: None, fairway_store: DcbStore, request: pytest.FixtureRequest) -> Scenario:
    """A given/when/then :class:`Scenario` on this test's own store.

    ``when_request`` acts as ``fairway_user``, created on first use. The test database is
    requested up front (``db``), not on first use: pytest-django creates test databases only
    when a collected test declares that it needs one, and otherwise leaves Django connected
    to the project's real database.
    """
    return Scenario(fairway_store, user=lambda: request.getfixturevalue("fairway_user"))


def _rate(value: object, where: str) -> float:
    try:
        rate = float(str(value))
    except ValueError:
        rate = -1.0
    if not 0.0 <= rate <= 1.0:
        raise pytest.UsageError(f"{where} must be a rate from 0 to 1, not {value!r}")
    return rate
