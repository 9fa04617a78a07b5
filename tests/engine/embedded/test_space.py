"""The data file is allocated ahead of its writable map: a full disk is an error, not SIGBUS."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from fairway_django.engine import open_engine
from fairway_django.engine.embedded import space

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


_FILLER = """
import sys
from fairway_django.engine import StorageFull, open_engine
db = open_engine(sys.argv[1])
written = 0
try:
    while True:
        db.transact(lambda tr: [tr.set(b"k%06d.%02d" % (written, j), b"v" * 20_000) for j in range(10)])
        written += 1
except StorageFull as error:
    print(written, error, flush=True)
db.close()
"""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MB file system of its own (tmpfs, which needs root to mount)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs to fill needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_disk_fails_commits_with_storage_full_and_loses_none(small_disk: Path) -> None:
    url = f"embedded://{small_disk}/store?durability=none"
    ballast = small_disk / "ballast"
    ballast.write_bytes(b"\x01" * (6 << 20))
    filler = python(_FILLER, url, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = filler.communicate(timeout=120)
    # A process killed by SIGBUS for writing into a hole would end with -7 and print nothing.
    assert filler.returncode == 0, err
    written, message = out.split(" ", 1)
    assert int(written) > 10
    assert "disk" in message and "is full" in message and "nothing was written" in message

    db = open_engine(url)
    keys = db.transact(lambda tr: [kv.key for kv in tr.get_range(b"k", b"l")])
    assert keys == [b"k%06d.%02d" % (i, j) for i in range(int(written)) for j in range(10)]
    ballast.unlink()  # with room again, the store takes writes again
    db.transact(lambda tr: tr.set(b"after", b"room"))
    assert db.transact(lambda tr: tr.get(b"after")) == b"room"
    db.close()
