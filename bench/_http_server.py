"""gunicorn for bench/http.py: started on a free port, ready when it answers, stopped after.

Two workers, as on a 2-core machine; ``sync`` workers handle one request at a time each (and
close the connection after it), ``gthread`` workers run ``threads`` requests at once each and
keep connections alive. The server's log goes to a file in the scratch directory, printed if
it fails to start.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from bench._timing import REPO_ROOT

WORKERS = 2
THREADS = 4
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def gunicorn(
    app: str, env: Mapping[str, str], worker_class: str, log: Path, threads: int = THREADS
) -> Iterator[int]:
    """Serve ``app`` (``module:callable``); yields the port once a worker answers."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--worker-class",
        worker_class,
        "--error-logfile",
        str(log),
        "--log-level",
        "warning",
    ]
    if worker_class == "gthread":
        command += ["--threads", str(threads)]
    with open(log, "ab") as sink:
        server = subprocess.Popen(
            command, cwd=REPO_ROOT, env={**os.environ, **env}, stdout=sink, stderr=sink
        )
    try:
        _wait_until_ready(server, port, log)
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_ready(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{_tail(log)}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT:.0f} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
