"""Bytes per event on disk: every file of a store's directory, by the blocks it occupies.

Counted after the store was closed: our store's last checkpoint is then finished and its
journal holds what was committed since (its steady size, see docs/engine.md). Blocks, not
apparent sizes: LMDB's data file is as large as its whole map, but sparse.
"""

from __future__ import annotations

from pathlib import Path

from bench._dcb_report import DISK_LIMIT_BYTES, PEER, Figure

#: Files in a store's directory that are not the store's: UmaDB's server log, which we write.
NOT_THE_STORE = ("umadb.log",)


def footprint(directory: Path) -> dict[str, int]:
    """Allocated bytes per part of the directory: its top-level files and folders, with our
    journal's checkpoints apart from the journal."""
    parts: dict[str, int] = {}
    for path in directory.rglob("*"):
        relative = path.relative_to(directory).parts
        if not path.is_file() or relative[0] in NOT_THE_STORE:
            continue
        part = "checkpoints" if relative[:2] == ("journal", "checkpoints") else relative[0]
        parts[part] = parts.get(part, 0) + path.stat().st_blocks * 512
    return parts


def disk_figure(metric: str, directory: Path, events: int, label: str) -> Figure:
    """Bytes per event of the store in ``directory``, with its parts in the note."""
    parts = footprint(directory)
    total = sum(parts.values())
    per_event = total / events
    detail = ", ".join(
        f"{name} {size / 1e6:,.1f} MB" for name, size in sorted(parts.items()) if size
    )
    note = f"{events:,} events, {total / 1e6:,.1f} MB: {detail}"
    if label != PEER:
        ok = "ok" if per_event <= DISK_LIMIT_BYTES else "NOT MET"
        note += f"  (<= {DISK_LIMIT_BYTES:,} B/event: {ok})"
    return Figure(metric, per_event, note)
