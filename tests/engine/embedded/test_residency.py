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
