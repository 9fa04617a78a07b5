"""gunicorn for bench/http.py: started on a free port, ready when it answers, stopped after.

Two workers, as on a 2-core machine; ``sync`` workers handle one request at a time each (and
close the connection after it), ``gthread`` workers run ``threads`` requests at once each and
keep connections alive. The server's log goes to a file in the scratch directory, printed if
it fails to start.

A keep-alive connection stays with the worker that accepted it, and which worker accepts is
up to the kernel and the workers' polling: now and then one ``gthread`` worker takes all of
the clients' connections, and the run then measures one worker, half the server.
``connections_per_worker`` says how the connections were spread, so a reader can tell.
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
from dataclasses import dataclass
from pathlib import Path

from bench._timing import REPO_ROOT

WORKERS = 2
THREADS = 4
START_TIMEOUT = 60.0
_ESTABLISHED = "01"  # TCP_ESTABLISHED, as /proc/net/tcp writes it


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    port: int
    pid: int  # gunicorn's master


@contextmanager
def gunicorn(
    app: str, env: Mapping[str, str], worker_class: str, log: Path, threads: int = THREADS
) -> Iterator[Server]:
    """Serve ``app`` (``module:callable``); yields the server once a worker answers."""
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
        yield Server(port, server.pid)
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


def connections_per_worker(server: Server) -> list[int] | None:
    """The open connections to ``server`` each worker holds, most first; None off Linux.

    Read from ``/proc``: a worker's sockets are the ``socket:[inode]`` links among its file
    descriptors, and ``/proc/net/tcp`` gives the local port and state of each inode.
    """
    proc = Path("/proc")
    if not (proc / "net" / "tcp").exists():
        return None
    established = set()
    for line in (proc / "net" / "tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == server.port and fields[3] == _ESTABLISHED:
            established.add(fields[9])
    counts = []
    for worker in _children(server.pid):
        held = 0
        for fd in (proc / str(worker) / "fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:  # closed since listed
                continue
            held += target.startswith("socket:[") and target[8:-1] in established
        counts.append(held)
    return sorted(counts, reverse=True)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # exited since listed
                continue
            # The parent pid is the second field after the command, which is in parentheses.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
