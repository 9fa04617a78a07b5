"""A throwaway PostgreSQL server for bench/http.py: Debian's binaries, a data directory of its
own, a free port on 127.0.0.1, stopped afterwards whatever happens.

Nothing is installed here: the server comes from Debian's ``postgresql`` package
(``/usr/lib/postgresql/<version>/bin``). PostgreSQL refuses to run as root, so when the
benchmark runs as root the server runs as the package's ``postgres`` user. It keeps its
defaults, so every commit is flushed to disk (fsync and synchronous_commit on).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

INSTALL_HINT = "install it with: apt-get install -y postgresql"
SUPERUSER = "postgres"


def binaries() -> Path | None:
    """The newest installed server's ``bin`` directory, or None."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found and (found[-1].parent / "initdb").exists() else None


def version(bin_dir: Path) -> str:
    done = subprocess.run(
        [bin_dir / "postgres", "--version"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@contextmanager
def server(bin_dir: Path, directory: Path, port: int) -> Iterator[str]:
    """Run a server in ``directory`` on ``port``; yields the URL of its ``postgres`` database."""
    data = directory / "data"
    directory.mkdir(parents=True, exist_ok=True)
    as_user = _as_server_user(directory)
    initdb: list[str | Path] = [*as_user, bin_dir / "initdb", "-D", data, "-U", SUPERUSER]
    initdb += ["-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"]
    done = subprocess.run(initdb, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed ({done.returncode}): {done.stderr.strip()}")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {directory}"
    pg_ctl: list[str | Path] = [*as_user, bin_dir / "pg_ctl", "-D", data, "-s"]
    subprocess.run(
        [*pg_ctl, "-l", directory / "server.log", "-o", options, "-w", "-t", "60", "start"],
        check=True,
    )
    try:
        yield f"postgres://{SUPERUSER}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "-w", "-t", "60", "stop"], check=False)


def create_database(url: str, name: str) -> str:
    """A new empty database on the server at ``url``; returns its URL."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url.rsplit("/", 1)[0] + f"/{name}"


def _as_server_user(directory: Path) -> list[str]:
    """The command prefix that runs a PostgreSQL binary as a user it accepts."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise RuntimeError("PostgreSQL will not run as root, and runuser is missing")
    shutil.chown(directory, SUPERUSER, SUPERUSER)
    # The scratch directory above it is private (mkdtemp makes it 0700): let postgres through.
    parent = directory.parent
    parent.chmod(parent.stat().st_mode | 0o001)
    return [runuser, "-u", SUPERUSER, "--"]
