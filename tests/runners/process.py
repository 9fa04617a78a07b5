"""``manage.py`` commands as real subprocesses: started with the runners app's settings and a
store of the test's own, signalled and killed like a deployment would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.gunicorn import ROOT, server_env

#: A lease this short makes takeover tests quick; runners renew it three times per period.
LEASE_SECONDS = "1"


def runner_env(tmp_path: Path, **variables: str) -> dict[str, str]:
    return server_env(
        tmp_path, DJANGO_SETTINGS_MODULE="tests.runners.settings",
        FAIRWAY_LEASE_SECONDS=LEASE_SECONDS, **variables,
    )


class ManagePy:
    """One ``manage.py`` process; its output (stdout and stderr) goes to ``log``."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.log = log
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                stdout=output, stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text()

    def signal(self, number: signal.Signals) -> None:
        os.kill(self.process.pid, number)

    def wait(self, timeout: float = 60) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def wait_until(condition: Callable[[], object], timeout: float = 60, what: str = "") -> None:
    """Poll ``condition`` (a test's observation, not the product's) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(0.02)


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run a ``manage.py`` command to its end."""
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )
