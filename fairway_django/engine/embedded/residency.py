"""Keeping long scans from leaving the whole store resident in the process.

LMDB reads straight from its memory map, so every page a scan touches stays mapped into the
process, and counts in its resident memory, until the kernel needs the memory back. Streaming
a million events would show a resident set the size of the store (3 GB), although the process
itself holds 15 MB. Worse, each page fault maps up to 16 neighbouring pages that are in the page
cache ("fault-around"), so a scan maps some 4 KB per pair read.

So the engine maps the store without read-ahead (LMDB's MDB_NORDAHEAD) and, every
``CHECK_EVERY_PAIRS`` pairs read (by range reads and by ``get_many``), looks at how much of
the store's file the process has resident (its mapping's ``Rss`` in ``/proc/self/smaps``); past
``RESIDENT_LIMIT_BYTES``, it tells the kernel the process no longer needs the store's mapped
pages (``MADV_DONTNEED``). The pages stay in the page cache, and the next access maps them
back from there. The map is writable (see ``space``), and the kernel keeps what was written: it
marks a changed page dirty in the page cache as it unmaps it, and writes it back as it would
any other.

Measured streaming 100,000 events three times: peak resident memory 59 MB instead of 309 MB,
for 5% of the streaming rate, when the pages were released every 4,096 pairs whatever the
process held. Reads through an index look each event up in the log, one page per event: after
each such release every lookup faulted its page in again, which doubled the time of reading
an entity's 100 events (0.5 ms instead of 0.23 ms). Releasing only past a limit, counted for
each store, keeps the pages of a working set that fits mapped, and still bounds a stream of
the whole store.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import time

logger = logging.getLogger(__name__)

#: Pairs read, and seconds passed, between two looks at the store's resident pages: a look
#: reads /proc/self/smaps, which takes 2 to 5 ms.
CHECK_EVERY_PAIRS = 16_384
CHECK_EVERY_SECONDS = 0.2
#: Resident pages of the store's file past which they are released.
RESIDENT_LIMIT_BYTES = 64 << 20
_MADV_DONTNEED = 4


class Residency:
    def __init__(self, data_file: str) -> None:
        self._path = os.path.realpath(data_file)
        self._since_check = 0
        self._next_check = 0.0
        self._libc: ctypes.CDLL | None = None

    def scanned(self, pairs: int) -> None:
        self._since_check += pairs
        if self._since_check >= CHECK_EVERY_PAIRS and (
            time.monotonic() >= self._next_check
        ):
            self._since_check = 0
            self._next_check = time.monotonic() + CHECK_EVERY_SECONDS
            if self.resident() > RESIDENT_LIMIT_BYTES:
                self.release()

    def resident(self) -> int:
        """Bytes of the store's file resident in this process (0 where /proc is missing: not
        Linux, where the kernel's own reclaim is all there is)."""
        total, current = 0, False
        try:
            with open("/proc/self/smaps") as smaps:
                for line in smaps:
                    if line.startswith("Rss:"):
                        if current:
                            total += int(line.split()[1]) * 1024
                    elif not line[0].isupper():  # a mapping's first line: its range and file
                        fields = line.split(maxsplit=5)
                        current = len(fields) == 6 and fields[5].rstrip("\n") == self._path
        except OSError:
            return 0
        return total

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

