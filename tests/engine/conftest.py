"""Fixtures for the engine tests: every engine under test, with a key prefix of its own.

``engine`` (and the ``db`` and ``prefix`` fixtures derived from it) is parametrized with the ids
``embedded`` (always, in a fresh store under ``tmp_path``) and ``fdb`` (only when
``FAIRWAY_TEST_FDB_CLUSTER_FILE`` names a cluster file; skipped with the reason otherwise).
Every key a test touches lies under its ``prefix``, which is cleared afterwards, so the suite
can run against a shared FoundationDB cluster.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fairway_django.engine import Database
from fairway_django.engine.keys import strinc

FDB_CLUSTER_FILE_ENV = "FAIRWAY_TEST_FDB_CLUSTER_FILE"
WORKER = Path(__file__).with_name("engine_worker.py")
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass
class EngineUnderTest:
    """One engine opened for one test: its handle, its store URL and the test's key prefix."""

    name: str
    url: str
    db: Database
    prefix: bytes

    def key(self, *parts: bytes | str) -> bytes:
        """A key under this test's prefix."""
        return self.prefix + b"".join(
            p.encode() if isinstance(p, str) else p for p in parts
        )

    def put(self, key: bytes, value: bytes) -> None:
        """Commit ``key = value`` in a transaction of its own."""
        self.db.transact(lambda tr: tr.set(key, value))

    def read(self, key: bytes) -> bytes | None:
        """The committed value of ``key``, read in a fresh transaction."""
        return self.db.transact(lambda tr: tr.get(key))

    def read_prefix(self, suffix: bytes = b"") -> list[tuple[bytes, bytes]]:
        """Every committed pair under ``prefix + suffix``, in key order."""
        return self.db.transact(
            lambda tr: [
                tuple(kv) for kv in tr.get_range_startswith(self.prefix + suffix)
            ]
        )

    def spawn(self, command: str, *args: str) -> subprocess.Popen[str]:
        """Start ``engine_worker.py`` in a new Python process on this store and prefix.

        The worker opens its own handle on ``url``, prints ``ready``, waits for a line on its
        stdin (so that several workers can be released together), runs ``command`` and prints
        its result as one JSON line.
        """
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])
        )
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), self.url, self.prefix.hex(), command, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO_ROOT,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.strip() != "ready":
            proc.kill()
            _, err = proc.communicate(timeout=10)
            raise AssertionError(f"worker {command} did not start: {line!r}\n{err}")
        return proc

    @staticmethod
    def release(*procs: subprocess.Popen[str]) -> None:
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()

    @staticmethod
    def result(proc: subprocess.Popen[str], timeout: float = 60) -> Any:
        """Wait for a released worker and return what it printed, failing on any error."""
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(
                f"worker did not finish in {timeout}s\n{err}"
            ) from None
        assert proc.returncode == 0, f"worker failed ({proc.returncode}):\n{err}"
        return json.loads(out.strip().splitlines()[-1])

    def run(self, command: str, *args: str, timeout: float = 60) -> Any:
        """Run one worker to completion and return its result."""
        proc = self.spawn(command, *args)
        self.release(proc)
        return self.result(proc, timeout)


def _url_for(name: str, tmp_path: Path) -> str:
    if name == "embedded":
        return f"embedded://{tmp_path}/store?durability=none"
    cluster_file = os.environ.get(FDB_CLUSTER_FILE_ENV)
    if not cluster_file:
        pytest.skip(
            f"{FDB_CLUSTER_FILE_ENV} is not set: no FoundationDB cluster to test against"
        )
    return f"fdb://{os.path.abspath(cluster_file)}"


@pytest.fixture(params=["embedded", "fdb"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EngineUnderTest]:
    from fairway_django.engine import open_engine

    url = _url_for(request.param, tmp_path)
    db = open_engine(url)
    prefix = b"fairway-conformance/" + uuid.uuid4().hex.encode() + b"/"
    try:
        yield EngineUnderTest(request.param, url, db, prefix)
    finally:
        try:
            db.transact(lambda tr: tr.clear_range(prefix, strinc(prefix)))
        finally:
            db.close()


@pytest.fixture
def db(engine: EngineUnderTest) -> Database:
    return engine.db


@pytest.fixture
def prefix(engine: EngineUnderTest) -> bytes:
    return engine.prefix
