"""The journal: the embedded engine's write-ahead log, and what makes a commit durable.

LMDB makes a commit durable by syncing every page the commit changed, at random places in its
file: a commit writing ten scattered keys syncs some thirty pages. The engine instead keeps
LMDB unsynced and appends each batch's effect (the keys and values it wrote, after versionstamps
and atomic adds were resolved) to the journal: one sequential write, before the batch commits
in LMDB, and under ``full`` durability one ``fdatasync`` before the commit returns or any
reader sees it (``durable``: the sync happens after the writer lock is released, so syncs are
shared between processes). That is the classic write-ahead log; measured side by side on the
same disk, it makes a ten-key commit 5-8x cheaper than LMDB's own sync.

Records are written by the commit leader while it holds LMDB's write transaction, the writer
lock shared by every process, so they are in commit order. The current file and the offset of
the next record are kept in LMDB, in the same transaction as the data: bytes past that offset
are zeros, or the record of a writer that died before its LMDB commit, which the next writer
overwrites.

LMDB's file is trusted while the machine stays up (the page cache survives any process dying).
After a reboot it is not: the first process to open the store rebuilds it from the last
checkpoint and the journal after it (see ``checkpoints``). A file is rotated once it holds
``ROTATE_MIN_BYTES`` and an eighth of the store's size, and deleted once a checkpoint covers
it: the journal stays within an eighth of the store (8 MB for a small one), while the
checkpoints it sets off copy the store once per eighth of it written. (Rotating only when the
journal outgrew the store kept up to a second store's worth of journal on disk.)
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from typing import Literal

import lmdb
import msgpack

from ..errors import CommitUnknownResult
from .space import storage_full

logger = logging.getLogger(__name__)

#: Per record: payload length, CRC-32 of version and payload, version.
_HEADER = struct.Struct("<IIQ")
_VERSION = struct.Struct("<Q")
SET, DELETE, CLEAR_RANGE = 1, 2, 3
#: A run of operations of one kind, in commit order: (SET, [(key, value), ...]),
#: (DELETE, [(key, b""), ...]) or (CLEAR_RANGE, [(begin, end), ...]). A record's payload is
#: its list of runs in MessagePack, encoded and decoded in C: an event store's batch writes
#: hundreds of keys, and a Python loop per key cost it several microseconds each.
Run = tuple[int, list[tuple[bytes, bytes]]]
#: When the journal is synced: before each commit returns, by a thread soon after, or never.
JournalSync = Literal["always", "soon", "never"]

#: LMDB key (in the engine's meta database) of the current file and the next record's offset.
_STATE_KEY = b"journal"
_STATE = struct.Struct("<QQ")
#: A file is rotated once it is larger than this and than 1/ROTATE_SHARE of the data file.
ROTATE_MIN_BYTES = 8 << 20
ROTATE_SHARE = 8
#: Files grow by this much at a time, filled with zeros (see ``_make_room``).
PREALLOCATE_BYTES = 1 << 20
#: Under ``normal`` durability, how long a journal write may stay unsynced.
NORMAL_SYNC_SECONDS = 0.1


def file_name(first_version: int) -> str:
    return f"{first_version:020d}.log"


def files(directory: str) -> list[tuple[int, str]]:
    """The journal files, oldest first, each with the first version it may hold."""
    found = []
    for name in os.listdir(directory):
        stem, _, suffix = name.partition(".")
        if suffix == "log" and stem.isdigit():
            found.append((int(stem), os.path.join(directory, name)))
    return sorted(found)


def encode(version: int, runs: list[Run]) -> bytes:
    payload: bytes = msgpack.packb(runs)
    return _HEADER.pack(len(payload), _checksum(version, payload), version) + payload


def records(path: str) -> Iterator[tuple[int, list[Run]]]:
    """The whole records of a journal file, up to the first that is not one."""
    with open(path, "rb") as file:
        data = file.read()
    offset = previous = 0
    while offset + _HEADER.size <= len(data):
        length, checksum, version = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        payload = data[start : start + length]
        if (
            version <= previous
            or len(payload) < length
            or _checksum(version, payload) != checksum
        ):
            return  # zeros never written over, a torn record, or what is left of an old one
        yield version, msgpack.unpackb(payload, use_list=True)
        previous, offset = version, start + length


def _checksum(version: int, payload: bytes) -> int:
    return zlib.crc32(payload, zlib.crc32(_VERSION.pack(version)))


def current_file(txn: lmdb.Transaction, meta: lmdb._Database) -> int | None:
    """The first version of the file the next record goes to, as of ``txn`` (None: the store
    has no journal yet)."""
    raw = txn.get(_STATE_KEY, db=meta)
    return None if raw is None else int(_STATE.unpack(raw)[0])


def start(txn: lmdb.Transaction, meta: lmdb._Database, first_version: int) -> None:
    """Begin the journal at ``first_version`` (a new store, or one just rebuilt)."""
    txn.put(_STATE_KEY, _STATE.pack(first_version, 0), db=meta)


class Journal:
    """This process's writer of the store's journal."""

    def __init__(self, directory: str, meta: lmdb._Database, sync: JournalSync) -> None:
        self.directory = directory
        self._meta = meta
        self._sync = sync
        self._fd = -1
        self._first_version = -1
        self._size = 0  # of the open file, at least: only ever grows (any process may grow it)
        self._unsynced = False
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._syncer: threading.Thread | None = None  # started by the first unsynced write

    def append(
        self, txn: lmdb.Transaction, version: int, runs: list[Run],
        data_size: Callable[[], int],
    ) -> bool:
        """Write one batch's record, inside the batch's LMDB write transaction.

        Returns True when the file was rotated, so a checkpoint is due. An I/O error is a
        commit_unknown_result: the record may be on disk although the batch then aborts. A full
        disk found while making room, before the record is written, is StorageFull.
        """
        raw = txn.get(_STATE_KEY, db=self._meta)
        if raw is None:
            raise RuntimeError(
                "the store has no journal state: a process running an older Fairway created it "
                "and is still using it. Stop every process using the store, then open it again "
                "with this version; the first process to open it sets the journal up"
            )
        first_version, offset = (int(n) for n in _STATE.unpack(raw))
        record = encode(version, runs)
        try:
            with self._lock:
                fd = self._file(first_version)
                if offset + len(record) > self._size:
                    try:
                        self._size = _make_room(fd, offset + len(record))
                    except OSError as error:
                        full = storage_full(error, self.directory)
                        if full is None:
                            raise
                        raise full from error
                os.pwrite(fd, record, offset)
                self._unsynced = True
                if self._sync == "soon" and self._syncer is None:
                    self._syncer = threading.Thread(
                        target=self._flush_regularly, name="fairway-journal-sync",
                        daemon=True,
                    )
                    self._syncer.start()
                offset += len(record)
                rotate = offset >= ROTATE_MIN_BYTES and offset * ROTATE_SHARE >= data_size()
                if rotate and self._sync == "always":  # later syncs concern the new file only
                    self._flush()
        except OSError as error:
            raise CommitUnknownResult(f"writing the journal failed: {error}") from error
        if rotate:
            first_version, offset = version + 1, 0
        txn.put(_STATE_KEY, _STATE.pack(first_version, offset), db=self._meta)
        return rotate

    def _file(self, first_version: int) -> int:
        if first_version != self._first_version:
            self._close_file()
            path = os.path.join(self.directory, file_name(first_version))
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            self._first_version = first_version
            self._size = 0
            sync_path(self.directory)  # the new file's name is durable too
        return self._fd

    def _flush(self) -> None:
        if self._unsynced and self._fd >= 0 and self._sync != "never":
            os.fdatasync(self._fd)
        self._unsynced = False

    def _flush_regularly(self) -> None:
        while not self._closed.wait(NORMAL_SYNC_SECONDS):
            with self._lock:
                try:
                    self._flush()
                except OSError as error:  # the next commit's own write reports it too
                    logger.error("syncing the journal in %s failed: %s", self.directory, error)

    def _close_file(self) -> None:
        if self._fd >= 0:
            self._flush()
            os.close(self._fd)
            self._fd, self._first_version = -1, -1

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            self._close_file()


def _make_room(fd: int, end: int) -> int:
    """Extend the file with written zeros, ahead of need, and sync them; returns its size.

    Syncing a record that overwrites blocks already written touches no file-system metadata;
    syncing one that grows the file makes the file system commit its own journal first.
    """
    size = os.fstat(fd).st_size
    if end > size:
        grow = max(PREALLOCATE_BYTES, end - size)
        os.pwrite(fd, bytes(grow), size)
        os.fsync(fd)
        size += grow
    return size


def sync_path(path: str) -> None:
    """fsync a file or a directory by name."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
