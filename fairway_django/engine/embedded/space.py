"""Disk space allocated ahead of the data's writable map, so that a full disk is an error.

The data environment is mapped writable (LMDB's MDB_WRITEMAP, see ``checkpoints.open_data``):
LMDB builds a commit's new pages (it copies every page it changes) straight in the map, that is
in the page cache, instead of in memory of its own that it then writes to the file with a
system call per page. On a store of 100,000 events that took a single append from some 38
system calls to 4, and 16 to 37% off its time.

The price is how LMDB then sizes the file: to the whole map, as a sparse file whose used part
alone takes disk blocks. A page written into a hole needs a block, and when the disk is full
the kernel cannot report that as an error: it kills the process with SIGBUS. So before a batch
writes anything, the committer has the file's blocks allocated (``posix_fallocate``) past the
furthest the batch can reach. A full disk then fails that call, and the batch fails with
StorageFull, having written nothing.
"""

from __future__ import annotations

import errno
import os

import lmdb

from ..errors import StorageFull

#: Allocated beyond what a batch can reach, so that most batches find it done; it also covers
#: the engine's own few keys per batch and LMDB's record of the pages it freed.
AHEAD_BYTES = 4 << 20
#: macOS has no posix_fallocate: there, writes allocate as they go (APFS files are sparse).
_CAN_ALLOCATE = hasattr(os, "posix_fallocate")


class SpaceReserve:
    """This process's view of how far the data file is allocated.

    Several processes write the store, one at a time under LMDB's writer lock; each allocates
    for its own batches. Allocated blocks are never given back, so what this process allocated
    stays allocated whoever writes next; what others allocated it may allocate again, which
    costs the file system a lookup and nothing else.
    """

    def __init__(self, env: lmdb.Environment, path: str) -> None:
        self._env = env
        self._path = path
        self._fd = os.open(path, os.O_RDWR)
        self._page = int(env.stat()["psize"])
        self._allocated = 0  # by this process, from the start of the file

    def used(self) -> int:
        """Bytes of the file LMDB has used so far (its apparent size is the whole map)."""
        return (int(self._env.info()["last_pgno"]) + 1) * self._page

    def reserve(self, mutations: int, size: int) -> None:
        """Allocate the file past the furthest a batch can reach; StorageFull if the disk is full.

        Called under the store's write lock, before the batch writes: ``mutations`` keys set,
        cleared or added, ``size`` bytes of keys and values. LMDB copies each page it changes
        to a new one, which may split in two: per mutation its leaf and the branch pages above
        it, though never more branch pages than the tree has; values too large for a page take
        pages of their own. (A cleared range frees its pages as it goes, and LMDB reuses them
        at once.)
        """
        if not _CAN_ALLOCATE:
            return
        tree = self._env.stat()
        branches = min(int(tree["branch_pages"]), mutations * int(tree["depth"]))
        used = self.used()
        reach = used + 2 * (mutations + branches) * self._page + 2 * size + AHEAD_BYTES // 2
        if reach <= self._allocated:
            return
        start = max(self._allocated, used)  # everything before it is allocated
        end = reach + AHEAD_BYTES
        try:
            os.posix_fallocate(self._fd, start, end - start)
        except OSError as error:
            full = storage_full(error, self._path)
            if full is not None:
                raise full from error
            if error.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                raise
            # A file system that cannot allocate ahead: writes then allocate as they go.
        self._allocated = end

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def storage_full(error: BaseException, path: str) -> StorageFull | None:
    """The StorageFull to raise for ``error`` if it says the disk holding ``path`` is full.

    LMDB reports a write cut short as an I/O error (EIO), which is what a file growing on a
    full disk gets: an LMDB error on a disk with no room left counts as a full disk too.
    """
    if isinstance(error, lmdb.DiskError) or (
        isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)
    ) or (isinstance(error, lmdb.Error) and _no_room(path)):
        return StorageFull(
            f"the disk holding the embedded store's {path} is full: nothing was written; free "
            "some space on it and retry"
        )
    return None


def _no_room(path: str) -> bool:
    try:
        stats = os.statvfs(path)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < AHEAD_BYTES
