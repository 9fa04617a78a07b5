"""A real gunicorn serving the project, for the tests where processes and sockets matter.

Concurrency across worker processes, the Idempotency-Key race between two workers and the
schemathesis run all need the server the way production runs it, not Django's test client.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 30.0

#: Migrates Django's tables and prints a DRF token of a new user ``tester``.
MIGRATE_AND_PRINT_TOKEN = """
import django
django.setup()
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token
call_command("migrate", verbosity=0, interactive=False)
user = get_user_model().objects.create_user("tester", password="tester-password")
print(Token.objects.create(user=user).key)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(tmp_path: Path, **variables: str) -> dict[str, str]:
    """This process's environment with the repository importable, a SQLite database and an
    embedded store of its own under ``tmp_path``, and ``variables`` on top."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "FAIRWAY_STORE_URL": f"embedded://{tmp_path / 'store'}?durability=none",
        **variables,
    }


def create_user_with_token(env: Mapping[str, str]) -> str:
    """Migrate the server's database and return the token of a new user."""
    setup = subprocess.run(
        [sys.executable, "-c", MIGRATE_AND_PRINT_TOKEN], cwd=ROOT, env=dict(env),
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert setup.returncode == 0, setup.stderr
    return setup.stdout.strip()


@contextmanager
def gunicorn(
    env: Mapping[str, str], log: Path, *, workers: int = 2, threads: int = 1
) -> Iterator[str]:
    """Serve ``project.wsgi`` on a free port until the block ends; yields the base URL.

    Waits for the health endpoint to answer, and fails the test with gunicorn's log if the
    server exits or does not answer within ``START_SECONDS``.
    """
    port = free_port()
    with log.open("w") as output:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "project.wsgi", "--workers", str(workers),
             "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
            cwd=ROOT, env=dict(env), stdout=output, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(f"{url}/api/fairway/health/", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    pytest.fail(f"gunicorn did not answer within {START_SECONDS:.0f} s:\n{log.read_text()}")
