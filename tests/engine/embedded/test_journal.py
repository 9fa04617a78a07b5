"""The journal and checkpoints: what makes commits durable, and how a store survives a reboot.

A power loss cannot be staged in a test, but its effect on the store can: the LMDB file, never
synced, may have lost any of its recent pages. The tests below take the worst case, losing the
data file altogether, and make the store believe the machine restarted (another boot id), then
check that every acknowledged commit comes back from the checkpoint and the journal.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import zstandard

from fairway_django.engine import open_engine
from fairway_django.engine.embedded import EmbeddedDatabase, journal
from fairway_django.engine.keys import strinc

from .conftest import python

_WRITER = """
import sys
from fairway_django.engine import open_engine
db = open_engine(sys.argv[1])
i = 0
while True:
    def write(tr):
        tr.set(b"n%08d" % i, b"x" * 200)
        tr.add(b"count", (1).to_bytes(8, "little"))
        tr.set_versionstamped_key(b"vs" + bytes(10) + (2).to_bytes(4, "little"), b"%d" % i)
    db.transact(write)
    print(i, flush=True)
    i += 1
"""


def simulate_reboot(store: Path) -> None:
    """No process has the store open: lose LMDB's file and pretend the machine restarted."""
    (store / "journal" / "boot_id").write_text("a-boot-before-this-one")
    (store / "data.mdb").unlink()


def keys(url: str, prefix: bytes = b"") -> list[bytes]:
    db = open_engine(url)
    end = strinc(prefix) if prefix else b"\xff"
    try:
        return db.transact(lambda tr: [kv.key for kv in tr.get_range(prefix, end)])
    finally:
        db.close()


def test_a_reboot_rebuilds_every_acknowledged_commit(tmp_path: Path) -> None:
    url = f"embedded://{tmp_path}/s?durability=full"
    writer = python(_WRITER, url, stdout=-1)
    assert writer.stdout is not None
    deadline, line = time.monotonic() + 1.0, ""
    while time.monotonic() < deadline:
        line = writer.stdout.readline()
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    acknowledged = int(line) + 1
    before = keys(url, b"vs")

    simulate_reboot(tmp_path / "s")
    stored = keys(url, b"n")
    assert len(stored) >= acknowledged
    assert stored == [b"n%08d" % i for i in range(len(stored))]  # nothing half applied
    db = open_engine(url)
    count = int.from_bytes(db.transact(lambda tr: tr.get(b"count")) or b"", "little")
    assert count == len(stored)
    # Versionstamped keys come back byte for byte, and later commits still stamp above them.
    assert keys(url, b"vs")[: len(before)] == before
    db.transact(lambda tr: tr.set_versionstamped_key(b"vs" + bytes(10) + b"\x02\x00\x00\x00", b""))
    assert keys(url, b"vs")[-1] > max(before)
    db.close()


def test_rotated_journal_files_are_checkpointed_and_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal, "ROTATE_MIN_BYTES", 0)  # every commit starts a new file
    store = tmp_path / "s"
    db = open_engine(f"embedded://{store}?durability=full")
    for i in range(6):
        db.transact(lambda tr, i=i: tr.set(b"k%d" % i, b"v%d" % i))
    deadline = time.monotonic() + 10
    while len(journal.files(str(store / "journal"))) > 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # checkpoints run in the background
    assert len(journal.files(str(store / "journal"))) <= 2
    assert len(list((store / "journal" / "checkpoints").glob("*.mdb.zst"))) == 1
    db.close()

    simulate_reboot(store)
    db = open_engine(f"embedded://{store}")
    assert db.transact(lambda tr: [tuple(kv) for kv in tr.get_range(b"k", b"l")]) == [
        (b"k%d" % i, b"v%d" % i) for i in range(6)
    ]
    db.close()


def test_a_checkpoint_of_an_earlier_version_uncompressed_is_restored(tmp_path: Path) -> None:
    store = tmp_path / "s"
    db = open_engine(f"embedded://{store}?durability=full")
    db.transact(lambda tr: tr.set(b"k", b"v"))
    db.close()
    compressed = next((store / "journal" / "checkpoints").glob("*.mdb.zst"))
    plain = compressed.with_suffix("")  # 000...N.mdb, as earlier versions named them
    plain.write_bytes(zstandard.ZstdDecompressor().decompressobj().decompress(compressed.read_bytes()))
    compressed.unlink()

    simulate_reboot(store)
    assert keys(f"embedded://{store}") == [b"k"]


def test_a_record_of_a_writer_that_died_before_committing_is_not_replayed(
    tmp_path: Path,
) -> None:
    store = tmp_path / "s"
    db = open_engine(f"embedded://{store}?durability=full")
    assert isinstance(db, EmbeddedDatabase)
    db.transact(lambda tr: tr.set(b"before", b"1"))
    version = db.transact(lambda tr: tr.get_read_version())
    # The record a writer wrote (and synced) just before dying, its LMDB commit never made.
    (_, path), = journal.files(str(store / "journal"))
    end = sum(len(journal.encode(v, ops)) for v, ops in journal.records(path))
    with open(path, "r+b") as file:
        file.seek(end)
        file.write(journal.encode(version + 1, [(journal.SET, [(b"orphan", b"!")])]))
    db.transact(lambda tr: tr.set(b"after", b"1"))  # the next writer writes over it
    db.close()

    simulate_reboot(store)
    assert keys(f"embedded://{store}") == [b"after", b"before"]


def test_records_end_at_the_first_torn_or_unwritten_one(tmp_path: Path) -> None:
    whole = [
        journal.encode(7, [(journal.SET, [(b"a", b"1")]), (journal.CLEAR_RANGE, [(b"b", b"c")])]),
        journal.encode(9, [(journal.DELETE, [(b"a", b"")])]),
    ]
    torn = journal.encode(10, [(journal.SET, [(b"z", b"x" * 100)])])[:-1]
    for tail in (b"", bytes(4096), torn, whole[0]):  # end, zeros, torn, an older record
        path = tmp_path / "j.log"
        path.write_bytes(b"".join(whole) + tail)
        assert [version for version, _ in journal.records(str(path))] == [7, 9]
    assert list(journal.records(str(path)))[0][1] == [
        [journal.SET, [[b"a", b"1"]]], [journal.CLEAR_RANGE, [[b"b", b"c"]]]
    ]


def test_the_same_boot_trusts_the_store_and_rebuilds_nothing(tmp_path: Path) -> None:
    store = tmp_path / "s"
    db = open_engine(f"embedded://{store}")
    db.transact(lambda tr: tr.set(b"k", b"v"))
    db.close()
    checkpoint = next((store / "journal" / "checkpoints").glob("*.mdb.zst"))
    db = open_engine(f"embedded://{store}")
    assert db.transact(lambda tr: tr.get(b"k")) == b"v"
    db.close()
    assert next((store / "journal" / "checkpoints").glob("*.mdb.zst")) == checkpoint


@pytest.mark.parametrize(
    ("durability", "synced_on_return", "synced_soon"),
    [("full", True, True), ("normal", None, True), ("none", False, False)],
)
def test_each_durability_syncs_the_journal_when_it_promises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, durability: str,
    synced_on_return: bool | None, synced_soon: bool,
) -> None:
    """full: before the commit returns; normal: within 0.1 s, by a background thread; none:
    never. (What the syncs protect against, a power loss, is staged by the tests above.)"""
    db = open_engine(f"embedded://{tmp_path}/s?durability={durability}")
    db.transact(lambda tr: tr.set(b"first", b"1"))  # the store's opening syncs are not counted
    time.sleep(3 * journal.NORMAL_SYNC_SECONDS)
    synced: list[int] = []
    fdatasync = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: (synced.append(fd), fdatasync(fd))[1])
    db.transact(lambda tr: tr.set(b"k", b"v"))
    if synced_on_return is not None:  # normal's thread may or may not have run by now
        assert bool(synced) is synced_on_return
    time.sleep(3 * journal.NORMAL_SYNC_SECONDS)
    assert bool(synced) is synced_soon
    db.close()
