"""Fixtures for the framework tests: a real embedded store per test, with or without faults."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from fairway_django.dcb import DcbStore, open_store


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"embedded://{tmp_path / 'store'}?durability=none"


@pytest.fixture
def store(store_url: str) -> Iterator[DcbStore]:
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture
def faulty_store(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[DcbStore]:
    """A store failing a fifth of its commits, commit_unknown_result included (applied or not);
    the seed is fixed per test so that a failure replays."""
    seed = zlib.crc32(request.node.nodeid.encode())
    url = f"embedded://{tmp_path / 'faulty'}?durability=none&faults=0.2&fault_seed={seed}"
    with open_store(url) as opened:
        yield opened
