"""UmaDB as a benchmark contender: its server in a child process, and its Python client.

The ``umadb`` wheel ships the Rust server inside its extension module and a console script
(``umadb``) that runs it in the foreground; the client talks gRPC to it. Each fresh store is a
server of its own on a free port of 127.0.0.1 with its database file in the given directory,
stopped when the store is closed, whatever happened in between: a server left behind would
keep its port and a core busy for every later measurement.

Importing this module imports ``umadb``, which installs its own SIGINT handler (it cancels the
client's open read streams, then raises KeyboardInterrupt as Python's default handler would).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import umadb

#: How long a server may take to start answering, and to stop after being asked to.
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
#: The database file inside the store's directory.
DB_FILE = "uma.db"
LOG_FILE = "umadb.log"


def version() -> str:
    """The installed wheel's version (the module itself does not carry one)."""
    from importlib.metadata import version as dist_version

    return dist_version("umadb")


class UmaClient:
    """The UmaDB client behind :class:`bench._dcb_api.DcbClient`: each call is one client call."""

    def __init__(self, url: str) -> None:
        self.client = umadb.Client(url)

    @property
    def conflict(self) -> type[Exception]:
        return umadb.IntegrityError

    def event(self, type_: str, data: bytes, tags: Sequence[str]) -> umadb.Event:
        return umadb.Event(type_, data, list(tags))

    def query(self, types: Sequence[str] = (), tags: Sequence[str] = ()) -> umadb.Query:
        return umadb.Query([umadb.QueryItem(types=list(types), tags=list(tags))])

    def append(
        self,
        events: Sequence[umadb.Event],
        fail_if: umadb.Query | None = None,
        after: int | None = None,
    ) -> int:
        condition = None if fail_if is None else umadb.AppendCondition(fail_if, after)
        return self.client.append(events, condition)

    def read(self, query: umadb.Query) -> Iterator[umadb.SequencedEvent]:
        return self.client.read(query)

    def fields(self, recorded: umadb.SequencedEvent) -> tuple[object, ...]:
        event = recorded.event
        return recorded.position, event.event_type, event.data, event.tags

    def close(self) -> None:
        self.client.close()


@contextmanager
def umadb_store(directory: Path) -> Iterator[UmaClient]:
    """A fresh UmaDB server with its data in ``directory``, and a client connected to it."""
    with umadb_server(directory) as url:
        client = UmaClient(url)
        try:
            yield client
        finally:
            client.close()


@contextmanager
def umadb_server(directory: Path) -> Iterator[str]:
    """Run ``umadb --listen 127.0.0.1:<free port> --db-path <directory>/uma.db`` until exit.

    The server gets a session of its own, so a Ctrl-C at the terminal reaches only the
    benchmark, which then stops the server here like any other way out of the block.
    """
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with open(directory / LOG_FILE, "wb") as log:
        process = subprocess.Popen(
            [
                *server_command(),
                "--listen",
                f"127.0.0.1:{port}",
                "--db-path",
                str(directory / DB_FILE),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_serving(process, url, directory / LOG_FILE)
            yield url
        finally:
            stop(process)


def server_command() -> list[str]:
    """The wheel's ``umadb`` script beside this interpreter, or the same entry point via -c."""
    script = Path(sys.executable).parent / "umadb"
    if script.exists():
        return [str(script)]
    # The entry point passes sys.argv to the server's argument parser, which skips argv[0].
    return [sys.executable, "-c", "from umadb.umadb_server_cli import main; main()"]


def free_port() -> int:
    """A port nobody listens on now; the server binds it a moment later."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_serving(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Poll until the port accepts connections and the gRPC health check says SERVING."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"umadb exited with {process.returncode}:\n{tail(log)}")
        try:
            socket.create_connection((host, int(port)), timeout=0.5).close()
            if umadb.Client(url).check_health() == umadb.ServingStatus.SERVING:
                return
        except (OSError, umadb.TransportError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"umadb did not start serving within {START_TIMEOUT:g} s:\n{tail(log)}"
            )
        time.sleep(0.02)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT (the server shuts down cleanly on it), then SIGKILL if it does not exit in time.

    The signals go to the server's process group (its own, from ``start_new_session``): the
    server runs inside the script's interpreter today, but nothing it might spawn may outlive
    the store.
    """
    if process.poll() is not None:
        return  # already reaped: its pid (and group id) may belong to someone else by now
    _signal_group(process, signal.SIGINT)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"(no log: {error})"
