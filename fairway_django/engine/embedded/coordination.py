"""What the processes of one store share but that need not outlive them.

FDB's resolvers keep the recent write history in memory, not on disk: nothing a crash
interrupts needs it afterwards. Likewise the embedded engine keeps its conflict log (with the
pruning horizon) and its watch registry apart from the data, in a second LMDB environment
that is never synced. Committing then syncs only the data's pages, and the coordination costs
a few page writes to the page cache.

A power loss can leave that unsynced environment damaged, but also leaves no process that
needs it: the first process to open the store while no other has it open starts it afresh.
"Has it open" is a shared ``flock`` each process holds on ``alive.lock`` for as long as it
uses the store (the kernel drops it when a process dies, ``kill -9`` included); deciding who is
first happens under an exclusive ``init.lock``, so two processes starting together agree.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Callable, Iterator

import lmdb

#: Address space for the coordination state (the file only grows as needed).
MAP_SIZE = 64 << 30
MAX_READERS = 4096
#: Its files, removed when the first process opens the store ("durable": see ``durable``).
_FILES = ("data.mdb", "lock.mdb", "durable")


class Coordination:
    def __init__(self, store_path: str, first_open: Callable[[], None]) -> None:
        """``first_open`` runs when no other process has the store open, before any can."""
        self.path = os.path.join(store_path, "coordination")
        os.makedirs(self.path, exist_ok=True)
        self._alive = os.open(os.path.join(self.path, "alive.lock"), os.O_RDWR | os.O_CREAT)
        try:
            with _exclusive(os.path.join(self.path, "init.lock")):
                if _alone(self._alive):
                    for name in _FILES:  # no process uses it: whatever is there is stale
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(os.path.join(self.path, name))
                    first_open()
                fcntl.flock(self._alive, fcntl.LOCK_SH)
                self.env = lmdb.open(
                    self.path,
                    map_size=MAP_SIZE,
                    max_dbs=3,
                    max_readers=MAX_READERS,
                    sync=False,
                    metasync=False,
                )
        except BaseException:
            os.close(self._alive)
            raise
        self.env.reader_check()
        with self.env.begin(write=True) as txn:
            self.log = self.env.open_db(b"log", txn=txn)
            self.watches = self.env.open_db(b"watches", txn=txn)
            self.meta = self.env.open_db(b"meta", txn=txn)
        self._writers = 0
        self._writers_lock = threading.Lock()

    @contextlib.contextmanager
    def write(self) -> Iterator[lmdb.Transaction]:
        """A write transaction outside the committer's, counted so a fork can tell."""
        with self._writers_lock:
            self._writers += 1
        try:
            with self.env.begin(write=True) as txn:
                yield txn
        finally:
            with self._writers_lock:
                self._writers -= 1

    @property
    def writing(self) -> bool:
        return self._writers > 0

    def close(self) -> None:
        """Close, also a copy inherited through fork: the flock belongs to the open file,
        which a parent still using the store keeps open."""
        self.env.close()
        os.close(self._alive)


def _alone(alive: int) -> bool:
    try:
        fcntl.flock(alive, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def _exclusive(path: str) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
