"""Keeping long scans from leaving the whole store resident in the process.

LMDB reads straight from its memory map, so every page a scan touches stays mapped into the
process, and counts in its resident memory, until the kernel needs the memory back. Streaming
a million events would show a resident set the size of the store (3 GB), although the process
itself holds 15 MB. Worse, each page fault maps up to 16 neighbouring pages that are in the page
cache ("fault-around"), so a scan maps some 4 KB per pair read.

So the engine maps the store without read-ahead (LMDB's MDB_NORDAHEAD) and, every
``RELEASE_EVERY_PAIRS`` pairs read by range reads, tells the kernel the process no longer needs
the mapped pages (``MADV_DONTNEED``). The pages stay in the page cache, and the next access maps
them back from there. The map is writable (see ``space``), and the kernel keeps what was
written: it marks a changed page dirty in the page cache as it unmaps it, and writes it back as
it would any other.

Measured streaming 100,000 events three times: peak resident memory 59 MB instead of 309 MB,
for 5% of the streaming rate.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

logger = logging.getLogger(__name__)

#: Pairs read by range reads, across the process's transactions, between two releases.
RELEASE_EVERY_PAIRS = 4096
_MADV_DONTNEED = 4


class Residency:
    def __init__(self, data_file: str) -> None:
        self._path = os.path.realpath(data_file)
        self._since_release = 0
        self._libc: ctypes.CDLL | None = None

    def scanned(self, pairs: int) -> None:
        self._since_release += pairs
        if self._since_release >= RELEASE_EVERY_PAIRS:
            self._since_release = 0
            self.release()

    def release(self) -> None:
        """Unmap the store's pages from this process (they stay cached by the kernel)."""
        if self._libc is None:
            self._libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        for start, end in self._mappings():
            if self._libc.madvise(ctypes.c_void_p(start), ctypes.c_size_t(end - start),
                                  _MADV_DONTNEED) != 0:
                logger.debug("madvise failed: %s", os.strerror(ctypes.get_errno()))

    def _mappings(self) -> list[tuple[int, int]]:
        try:
            with open("/proc/self/maps") as maps:
                lines = [line.split(maxsplit=5) for line in maps]
        except OSError:  # not Linux: the kernel's own reclaim is all there is
            return []
        found = []
        for fields in lines:
            if len(fields) == 6 and fields[5].rstrip("\n") == self._path:
                start, end = fields[0].split("-")
                found.append((int(start, 16), int(end, 16)))
        return found
