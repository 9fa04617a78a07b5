"""A full disk is an error, StorageFull, that writes nothing: for the data file, allocated ahead of
its writable map (not SIGBUS), and for the journal."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fairway_django.engine import open_engine
from fairway_django.engine.embedded import journal, space

from .conftest import python


def used_bytes(path: Path) -> int:
    """What LMDB uses of the file: up to its last page, read from the meta pages."""
    import lmdb

    env = lmdb.open(str(path.parent), readonly=True, lock=False, max_dbs=2)
    try:
        return (int(env.info()["last_pgno"]) + 1) * int(env.stat()["psize"])
    finally:
        env.close()


def test_the_file_is_allocated_ahead_of_what_it_uses(tmp_path: Path) -> None:
    db = open_engine(f"embedded://{tmp_path}?durability=none&map_size=1GiB")
    for start in range(0, 30_000, 100):
        db.transact(lambda tr, start=start: [
            tr.set(b"k%09d" % i, b"v" * 500) for i in range(start, start + 100)
        ])
    db.close()
    data = tmp_path / "data.mdb"
    used = used_bytes(data)
    assert used > 15 << 20
    assert data.stat().st_size == 1 << 30  # the whole map, sparse...
    allocated = data.stat().st_blocks * 512
    assert allocated >= used + space.AHEAD_BYTES // 2  # ...allocated past what it uses
    assert allocated < used + 2 * space.AHEAD_BYTES  # ...and not much further


_WRITER = """
import os, sys
from fairway_django.engine import StorageFull, open_engine
db = open_engine(sys.argv[1])
written = 0
def commit():
    db.transact(lambda tr: [tr.set(b"k%06d.%02d" % (written, j), b"v" * 20_000) for j in range(10)])
if sys.argv[2] != "-":  # one commit gives the store its room ahead, then the disk fills up
    commit()
    written += 1
    fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\\1" * 4096)
    except OSError:
        pass
try:
    while True:
        commit()
        written += 1
except StorageFull as error:
    print(written, error, flush=True)
db.close()
"""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[Path], Path]]:
    """Mounts a 24 MB file system of its own (tmpfs, which needs root) at a given directory."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs to fill needs root")
    mounted: list[Path] = []

    def mount(at: Path) -> Path:
        at.mkdir(parents=True)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(at)],
            capture_output=True, text=True, check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(at)
        return at

    yield mount
    for at in mounted:
        subprocess.run(["umount", "-l", str(at)], check=True)


def fill(url: str, ballast: Path | None) -> tuple[int, str]:
    """Commit 10 keys of 20 KB at a time until StorageFull (after one commit, fill the disk
    holding ``ballast`` if given): the commits that succeeded, and the error's message."""
    writer = python(
        _WRITER, url, str(ballast or "-"), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = writer.communicate(timeout=120)
    # A process killed by SIGBUS for writing into a hole would end with -7 and print nothing.
    assert writer.returncode == 0, err
    written, message = out.split(" ", 1)
    return int(written), message.strip()


def assert_keeps_what_was_written_and_recovers(url: str, written: int, ballast: Path) -> None:
    """With room again (opening a store writes a little), the store holds exactly what the
    writer was told it committed, and takes writes again."""
    ballast.unlink()
    db = open_engine(url)
    keys = db.transact(lambda tr: [kv.key for kv in tr.get_range(b"k", b"l")])
    assert keys == [b"k%06d.%02d" % (i, j) for i in range(written) for j in range(10)]
    db.transact(lambda tr: tr.set(b"after", b"room"))
    assert db.transact(lambda tr: tr.get(b"after")) == b"room"
    db.close()


def test_a_full_disk_fails_commits_with_storage_full_and_loses_none(
    tmp_path: Path, small_disk: Callable[[Path], Path]
) -> None:
    disk = small_disk(tmp_path / "disk")
    url = f"embedded://{disk}/store?durability=none"
    ballast = disk / "ballast"
    ballast.write_bytes(b"\x01" * (6 << 20))
    written, message = fill(url, None)
    assert written > 10
    assert "disk" in message and "is full" in message and "nothing was written" in message
    assert_keeps_what_was_written_and_recovers(url, written, ballast)


def test_a_journal_that_cannot_grow_fails_commits_with_storage_full(
    tmp_path: Path, small_disk: Callable[[Path], Path]
) -> None:
    store = tmp_path / "store"
    ballast = small_disk(store / "journal") / "ballast"  # the data has room, the journal not
    url = f"embedded://{store}?durability=none"
    written, message = fill(url, ballast)
    # The records went into the journal's room ahead (200 KB each) until it ran out.
    assert written >= journal.PREALLOCATE_BYTES // 200_000
    assert message.startswith(f"the disk holding the embedded store's {store}/journal is full")
    assert_keeps_what_was_written_and_recovers(url, written, ballast)


def test_a_coordination_file_that_cannot_grow_fails_commits_with_storage_full(
    tmp_path: Path, small_disk: Callable[[Path], Path]
) -> None:
    store = tmp_path / "store"
    ballast = small_disk(store / "coordination") / "ballast"
    url = f"embedded://{store}?durability=none"
    written, message = fill(url, ballast)
    assert written >= 1
    assert message.startswith(f"the disk holding the embedded store's {store} is full")
    assert_keeps_what_was_written_and_recovers(url, written, ballast)
