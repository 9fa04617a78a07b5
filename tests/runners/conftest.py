"""A store of the test's own, and the environment that points runner subprocesses at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fairway_django.dcb import DcbStore, open_store

from .process import runner_env


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return runner_env(tmp_path)


@pytest.fixture
def store(env: dict[str, str]) -> Iterator[DcbStore]:
    with open_store(env["FAIRWAY_STORE_URL"]) as opened:
        yield opened
