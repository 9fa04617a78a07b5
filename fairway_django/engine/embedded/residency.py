"""Keeping long scans from leaving the whole store resident in the process.

LMDB reads straight from its memory map, so every page a scan touches stays mapped into the
process, and counts in its resident memory, until the kernel needs the memory back. Streaming
a million events would show a resident set the size of the store (3 GB), although the process
itself holds 15 MB. Worse, each page fault maps neighbouring pages that are in the page cache
("fault-around", and whole large folios on recent kernels: touching 1,000 random pages of a
400 MB cached file mapped all of it).

So the engine maps the store without read-ahead (LMDB's MDB_NORDAHEAD) and, for transactions
marked as part of a long scan (``disable_read_cache``, FDB's option for reads that will not be
repeated), every ``CHECK_EVERY_PAIRS`` pairs they read (by range reads and by ``get_many``)
looks at how much of files the process has resident (``RssFile`` in ``/proc/self/status``,
some 20 us); past ``RESIDENT_LIMIT_BYTES``, it tells the kernel the process no longer needs
the store's mapped pages (``MADV_DONTNEED``). The pages stay in the page cache, and the next
access maps them back from there. The map is writable (see ``space``), and the kernel keeps
what was written: it marks a changed page dirty in the page cache as it unmaps it, and writes
it back as it would any other.

Measured streaming 100,000 events three times: peak resident memory 59 MB instead of 309 MB,
for 5% of the streaming rate, when the pages were released every 4,096 pairs whatever the
process held. The limit is the process's resident file pages against 96 MB per store it has
open, since reading one store's own share (``/proc/self/smaps``) takes 2 to 5 ms, too slow to
look often enough. Streaming a million events peaks at 115 to 135 MB, the process's own memory
included.

A store whose data fits in the limit releases nothing either: it cannot map more than the
limit allows it, and releasing it would only make the next scan fault its pages back in. With
the store of the benchmark's D line (100,000 events, an 81 MB data file) open beside a
process's libraries, each stream of one type went over the limit and released, and streamed
15 to 18% slower than with its pages kept.

Other reads release nothing. Reads through an index look each event up in the log, one page
per event at random in the file: a read of an entity's 1,000 events on a store of a million
maps more than the limit by itself, so when every read counted, nearly each one released the
pages the next needed, and took 11.9 ms instead of 3.1 to 4. A process's working set therefore
stays mapped, as in any LMDB application.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from collections.abc import Callable

logger = logging.getLogger(__name__)

#: Pairs read between two looks at the process's resident file pages.
CHECK_EVERY_PAIRS = 4096
#: Resident file pages (the stores' and the libraries') per store open in the process, past
#: which a store's are released.
RESIDENT_LIMIT_BYTES = 96 << 20
_MADV_DONTNEED = 4


class Residency:
    def __init__(
        self, data_file: str, stores_open: Callable[[], int], store_bytes: Callable[[], int]
    ) -> None:
        self._path = os.path.realpath(data_file)
        self._stores_open = stores_open
        self._store_bytes = store_bytes
        self._since_check = 0
        self._libc: ctypes.CDLL | None = None

    def scanned(self, pairs: int) -> None:
        self._since_check += pairs
        if self._since_check >= CHECK_EVERY_PAIRS:
            self._since_check = 0
            if (
                self._store_bytes() > RESIDENT_LIMIT_BYTES
                and resident_file_bytes() > RESIDENT_LIMIT_BYTES * max(1, self._stores_open())
            ):
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


def resident_file_bytes() -> int:
    """The process's resident file-backed memory, shared memory included (a store on tmpfs);
    0 where /proc is missing (not Linux: there the kernel's own reclaim is all there is)."""
    total = 0
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(("RssFile:", "RssShmem:")):
                    total += int(line.split()[1]) * 1024
    except OSError:
        pass
    return total
