"""Fixtures for behaviour only the embedded engine has: its options, files and processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fairway_django.engine import open_engine
from fairway_django.engine.embedded import EmbeddedDatabase

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"embedded://{tmp_path}/store"


@pytest.fixture
def db(store_url: str) -> Iterator[EmbeddedDatabase]:
    database = open_engine(store_url)
    assert isinstance(database, EmbeddedDatabase)
    yield database
    database.close()


def python(code: str, *args: str, **popen: object) -> subprocess.Popen[str]:
    """Run ``code`` in a fresh interpreter that can import this repository."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", code, *args], env=env, text=True, **popen
    )
