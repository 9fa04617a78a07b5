"""The durable version: how far a store's journal is synced, shared by all its processes.

Under full durability a commit must not return, and no reader may see it, before its journal
record is on disk: FDB hands out only read versions that its logs have made durable. The commit
leader used to sync the journal while it held LMDB's writer lock, so every process waited for
every other's sync: with four processes deciding at once, each spent a third of its time
waiting for the lock and a quarter in its own sync. Now the leader writes its batch's record
and commits LMDB under the lock, lets the lock go, and then syncs. A sync makes durable every
record written to the file before it began, by any process, so one sync in flight covers the
commits made behind it: group commit across processes, the way PostgreSQL flushes its WAL.

The version up to which the journal is synced lives in a small file of the coordination state,
mapped by every process (an aligned 8-byte word, read and written whole). Only the holder of
the sync lock (an ``flock`` on that file, so it works across processes) writes it, after its
sync, with the newest version committed when its sync began; so it only grows. A reader whose
snapshot is newer than it waits for durability the same way a commit does: it takes the sync
lock, which makes it wait for the sync in flight, and syncs itself if that one did not cover
its snapshot. So nothing is seen before it is durable, as in FDB, and a commit's caller and any
other reader find the same order of things after a power loss.

A file rotation syncs the file it closes before the rotating commit releases the writer lock
(``journal``): a sync then only ever concerns the newest file.
"""

from __future__ import annotations

import ctypes
import fcntl
import mmap
import os
import threading

import lmdb

from . import journal
from .turn import Turn

_WORD = 8


class DurableVersion:
    def __init__(
        self, path: str, env: lmdb.Environment, meta: lmdb._Database, journal_dir: str,
        turn: Turn,
    ) -> None:
        self._env = env
        self._turn = turn
        self._meta = meta
        self._journal_dir = journal_dir
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if os.fstat(self._fd).st_size < _WORD:  # a new file is all zeros: nothing synced yet
            os.ftruncate(self._fd, _WORD)
        self._map = mmap.mmap(self._fd, _WORD)
        self._word = ctypes.c_uint64.from_buffer(self._map)
        self._lock = threading.Lock()  # the flock belongs to the open file: one thread at a time
        self._sync_fd = -1
        self._sync_file = -1  # the first version of the journal file _sync_fd is open on

    @property
    def version(self) -> int:
        return self._word.value

    def wait_for(self, version: int) -> None:
        """Return once ``version`` is durable, syncing the journal unless a sync covered it.

        The store's turn is set aside meanwhile: the sync in flight, or this one, takes a disk's
        flush, and the process's other threads can use it."""
        if self._word.value >= version:
            return
        with self._turn.set_aside(), self._lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                if self._word.value < version:
                    self._sync()
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _sync(self) -> None:
        """Sync the newest journal file; then every version committed before is durable."""
        with self._env.begin() as txn:
            newest = txn.id()
            first_version = journal.current_file(txn, self._meta)
        if first_version is None:  # nothing was ever journaled
            self._word.value = newest
            return
        if first_version != self._sync_file:
            self._close_file()
            self._sync_fd = os.open(
                os.path.join(self._journal_dir, journal.file_name(first_version)),
                os.O_RDWR | os.O_CREAT, 0o644,
            )
            self._sync_file = first_version
        os.fdatasync(self._sync_fd)
        self._word.value = newest

    def _close_file(self) -> None:
        if self._sync_fd >= 0:
            os.close(self._sync_fd)
            self._sync_fd, self._sync_file = -1, -1

    def close(self) -> None:
        """Close (also in a forked child: so no lock is taken, a parent's thread may hold it)."""
        self._close_file()
        del self._word  # the map refuses to close while a ctypes view exports it
        self._map.close()
        os.close(self._fd)
