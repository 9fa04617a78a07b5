"""One LMDB environment per store directory per process, safe across fork.

LMDB forbids opening the same environment twice in one process, and an environment inherited
through fork must never be used (nor closed: closing it would drop the child's own file locks).
So every database handle on a directory shares one :class:`Environment`, opened lazily by the
first transaction, and a forked child forgets the parent's environments and opens its own.
"""

from __future__ import annotations

import enum
import os
import threading

import lmdb

from ..errors import EngineConfigurationError
from .committer import Committer
from .watches import WatchHub, WatchRegistry

#: Readers (open transactions) across all processes; each uses 64 bytes of the lock file.
MAX_READERS = 4096
DEFAULT_MAP_SIZE = 1 << 40


class Durability(enum.Enum):
    """What a commit survives. Every setting survives a crash of the process (``kill -9``)."""

    #: Sync data and metadata on every commit: a power loss loses no committed transaction.
    FULL = "full"
    #: Sync data on every commit but metadata only with the next one: a power loss can undo
    #: the last committed transaction, never corrupt the store (LMDB's MDB_NOMETASYNC).
    NORMAL = "normal"
    #: No sync: a power loss can lose recent commits or damage the store. Tests only.
    NONE = "none"

    @property
    def lmdb_flags(self) -> dict[str, bool]:
        return {"sync": self is not Durability.NONE, "metasync": self is Durability.FULL}


class Environment:
    def __init__(self, path: str, durability: Durability, map_size: int) -> None:
        os.makedirs(path, exist_ok=True)
        self.path = path
        self.durability = durability
        self.map_size = map_size
        self.pid = os.getpid()
        self.env = lmdb.open(
            path,
            map_size=map_size,
            max_dbs=4,
            max_readers=MAX_READERS,
            **durability.lmdb_flags,
        )
        self.env.reader_check()  # free reader slots left by processes that were killed
        with self.env.begin(write=True) as txn:
            self.data = self.env.open_db(b"data", txn=txn)
            self.log = self.env.open_db(b"log", txn=txn)
            self.watches = self.env.open_db(b"watches", txn=txn)
            self.meta = self.env.open_db(b"meta", txn=txn)
        self.committer = Committer(self)
        self.watch_registry = WatchRegistry(self)
        self.watch_hub = WatchHub(self)
        self.users = 0

    def full_message(self) -> str:
        return (
            f"the embedded store at {self.path} is full (map_size={self.map_size} bytes); "
            f"open it with a larger ?map_size= in its URL"
        )

    def close(self) -> None:
        self.watch_hub.close()
        self.watch_registry.close()
        self.env.close()


_lock = threading.Lock()
_open: dict[str, Environment] = {}
_inherited: list[Environment] = []


def acquire(path: str, durability: Durability, map_size: int) -> Environment:
    path = os.path.realpath(path)
    with _lock:
        environment = _open.get(path)
        if environment is None:
            environment = _open[path] = Environment(path, durability, map_size)
        elif environment.durability is not durability or environment.map_size != map_size:
            raise EngineConfigurationError(
                f"the embedded store at {path} is already open in this process with "
                f"durability={environment.durability.value}, map_size={environment.map_size}; "
                f"open it with the same settings"
            )
        environment.users += 1
        return environment


def release(environment: Environment) -> None:
    with _lock:
        if environment.pid != os.getpid():
            return
        environment.users -= 1
        if environment.users == 0:
            _open.pop(environment.path, None)
            environment.close()


def _forget_after_fork() -> None:
    global _lock
    _lock = threading.Lock()
    _inherited.extend(_open.values())  # kept referenced: never closed, never used
    _open.clear()


os.register_at_fork(after_in_child=_forget_after_fork)
