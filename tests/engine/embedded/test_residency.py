"""Long scans do not leave the store mapped into the process; other reads keep what they map
(see engine/embedded/residency)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fairway_django.engine import Transaction, open_engine
from fairway_django.engine.embedded import residency


def mapped_kib(path: Path) -> int:
    """Resident KiB of this process's mappings of ``path``."""
    total, current = 0, ""
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            if re.match(r"[0-9a-f]+-[0-9a-f]+ ", line):
                current = line.split()[-1] if len(line.split()) > 5 else ""
            elif line.startswith("Rss:") and current == str(path):
                total += int(line.split()[1])
    return total


def test_a_scan_of_a_large_store_keeps_little_of_it_mapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past any resident file page (a limit per store open, and other tests may leave some
    # open): every look releases, as a scan far larger than the limit makes it do.
    monkeypatch.setattr(residency, "RESIDENT_LIMIT_BYTES", 1)
    db = open_engine(f"embedded://{tmp_path}?durability=none")
    for start in range(0, 200_000, 20_000):
        db.transact(lambda tr, start=start: [
            tr.set(b"k%09d" % i, b"v" * 300) for i in range(start, start + 20_000)
        ])
    data = (tmp_path / "data.mdb").resolve()
    assert data.stat().st_blocks * 512 > 64 << 20  # allocated: its apparent size is the map
    # A read not marked as a scan leaves what it mapped: a working set stays mapped.
    count = db.transact(lambda tr: sum(1 for _ in tr.get_range(b"k", b"l")))
    assert count == 200_000
    assert mapped_kib(data) > 32 << 10

    def scan(tr: Transaction) -> int:
        tr.disable_read_cache()
        return sum(1 for _ in tr.get_range(b"k", b"l"))

    assert db.transact(scan) == 200_000
    # What is mapped at the end was mapped since the last release, a few thousand pairs ago.
    assert mapped_kib(data) < 2 * residency.CHECK_EVERY_PAIRS * 4096 // 1024 + 4096
    db.close()


def test_a_scan_of_a_store_within_the_limit_keeps_it_mapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A store no bigger than the limit cannot map more than it allows: releasing it would only
    # make the next scan fault it back in (streaming a small store went 15-18% slower).
    db = open_engine(f"embedded://{tmp_path}?durability=none")
    db.transact(lambda tr: [tr.set(b"k%09d" % i, b"v" * 100) for i in range(10_000)])
    data = (tmp_path / "data.mdb").resolve()
    assert db._environment is not None
    used = db._environment.data_size()
    # The limit just above the store, and far below what the process has resident: the scan
    # would release on every look if the store's size did not count.
    monkeypatch.setattr(residency, "RESIDENT_LIMIT_BYTES", used + 1)
    # This store's budget alone, whatever other tests left open in the process.
    monkeypatch.setattr(db._environment.residency, "_stores_open", lambda: 1)
    assert residency.resident_file_bytes() > used + 1
    assert db.transact(lambda tr: sum(1 for _ in tr.get_range(b"k", b"l"))) == 10_000
    mapped = mapped_kib(data)

    def scan(tr: Transaction) -> int:
        tr.disable_read_cache()
        return sum(1 for _ in tr.get_range(b"k", b"l"))

    assert db.transact(scan) == 10_000
    assert mapped_kib(data) >= mapped > 0
    # The same scan once the store outgrows the limit releases its pages.
    monkeypatch.setattr(residency, "RESIDENT_LIMIT_BYTES", 4096)
    assert db.transact(scan) == 10_000
    assert mapped_kib(data) < mapped
    db.close()
