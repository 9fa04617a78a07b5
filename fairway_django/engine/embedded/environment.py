"""One LMDB environment per store directory per process, safe across fork.

LMDB forbids opening the same environment twice in one process, and an environment inherited
through fork must not be used by the child. py-lmdb refuses to open it again until the inherited
one is closed, and closing it in the child frees the reader slots of the parent's *running*
transactions (LMDB clears the slots of the pid that opened it), which would let writers reuse
pages those transactions still read. So every database handle on a directory shares one
:class:`Environment`, opened lazily by the first transaction; at fork, the parent notes which
environments are idle (no transaction reading, no write in progress), and the child closes
those and opens its own on first use. A store that was busy at the fork cannot be used by the
child, which says so: fork before using the store, or use the ``spawn`` start method.
"""

from __future__ import annotations

import enum
import functools
import logging
import os
import threading

import lmdb

from ..errors import EngineConfigurationError
from . import checkpoints
from .committer import Committer
from .coordination import Coordination
from .durable import DurableVersion
from .journal import Journal, JournalSync
from .residency import Residency
from .space import SpaceReserve
from .turn import Turn
from .watches import WatchHub, WatchRegistry

logger = logging.getLogger(__name__)

#: Readers (open transactions) across all processes; each uses 64 bytes of the lock file.
MAX_READERS = 4096
DEFAULT_MAP_SIZE = 1 << 40


class Durability(enum.Enum):
    """What a commit survives. Every setting survives a crash of the process (``kill -9``).

    Durability is the journal's: LMDB's own file is never synced (see journal).
    """

    #: The journal is synced before a commit returns: a power loss loses no committed
    #: transaction.
    FULL = "full"
    #: The journal is synced within 0.1 s of a commit: a power loss can lose the commits of
    #: that last moment, never corrupt the store.
    NORMAL = "normal"
    #: Nothing is synced: a power loss can lose recent commits or damage the store. Tests only.
    NONE = "none"

    @property
    def journal_sync(self) -> JournalSync:
        return _JOURNAL_SYNC[self]


_JOURNAL_SYNC: dict[Durability, JournalSync] = {
    Durability.FULL: "always",
    Durability.NORMAL: "soon",
    Durability.NONE: "never",
}


class Environment:
    """One store in this process: its data (LMDB), its journal (synced as ``durability``
    says), its coordination state (never synced), the committer and the watches."""

    def __init__(self, path: str, durability: Durability, map_size: int) -> None:
        os.makedirs(path, exist_ok=True)
        self.path = path
        self.durability = durability
        self.map_size = map_size
        self.pid = os.getpid()
        synced = durability is not Durability.NONE
        # The first process to open the store checks it before anyone uses it (checkpoints).
        self.coordination = Coordination(
            path, first_open=functools.partial(checkpoints.prepare, path, map_size, synced)
        )
        # User keys are the keys of LMDB's main database, the cheapest to reach, but for the
        # few LMDB cannot hold as they are (see keyspace).
        self.env = checkpoints.open_data(path, map_size, MAX_READERS)
        self.env.reader_check()  # free reader slots left by processes that were killed
        self.keyspace, meta = checkpoints.databases(self.env)
        #: Threads of this process take turns at store work (see turn).
        self.turn = Turn()
        self.journal = Journal(checkpoints.journal_directory(path), meta, durability.journal_sync)
        #: Under full durability, how far the journal is synced (None: commits do not wait).
        self.durable = (
            DurableVersion(
                os.path.join(self.coordination.path, "durable"), self.env, meta,
                checkpoints.journal_directory(path), self.turn,
            )
            if durability is Durability.FULL else None
        )
        self.space = SpaceReserve(self.env, os.path.join(path, "data.mdb"))
        self.residency = Residency(
            os.path.join(path, "data.mdb"), lambda: len(_open), self.space.used
        )
        self._checkpointing: threading.Thread | None = None
        self._checkpoint_lock = threading.Lock()
        self.committer = Committer(self)
        self.watch_registry = WatchRegistry(self)
        self.watch_hub = WatchHub(self)
        self.users = 0
        self.idle_at_fork = False

    def is_idle(self) -> bool:
        """No write in progress and no transaction of this process holding a snapshot."""
        if self.committer.busy or self.coordination.writing:
            return False
        me = str(os.getpid())
        for env in (self.env, self.coordination.env):
            rows = (line.split() for line in env.readers().splitlines()[1:])
            if any(row[0] == me and row[2] != "-" for row in rows if len(row) == 3):
                return False
        return True

    def snapshot(self, wait_durable: bool = True) -> lmdb.Transaction:
        """A read snapshot of the data; under full durability, once all it holds is durable
        (without ``wait_durable``, at once: the caller then uses ``await_durable``)."""
        txn = self.env.begin()
        if wait_durable:
            self.await_durable(txn)
        return txn

    def await_durable(self, txn: lmdb.Transaction) -> None:
        """Return once all that snapshot ``txn`` holds is durable (under full durability)."""
        if self.durable is not None:
            self.durable.wait_for(txn.id())

    def full_message(self) -> str:
        return (
            f"the embedded store at {self.path} is full (map_size={self.map_size} bytes); "
            f"open it with a larger ?map_size= in its URL"
        )

    def data_size(self) -> int:
        """Bytes the data uses (the file's apparent size is its whole map, see ``space``)."""
        return self.space.used()

    def checkpoint_soon(self) -> None:
        """Take a checkpoint in the background (the journal was just rotated)."""
        with self._checkpoint_lock:
            if self._checkpointing is not None and self._checkpointing.is_alive():
                return
            self._checkpointing = threading.Thread(
                target=self._checkpoint, name="fairway-checkpoint", daemon=True
            )
            self._checkpointing.start()

    def _checkpoint(self) -> None:
        try:
            checkpoints.take(self.path, self.env, self.durability is not Durability.NONE)
        except Exception:  # the next rotation tries again; the journal keeps everything
            logger.exception("checkpointing the store at %s failed", self.path)

    def close(self) -> None:
        if self._checkpointing is not None:
            self._checkpointing.join()  # it copies from the environment about to close
        self.watch_hub.close()
        self.watch_registry.close()
        self.journal.close()
        if self.durable is not None:
            self.durable.close()
        self.coordination.close()
        self.space.close()
        self.env.close()

    def close_inherited(self) -> None:
        """In a forked child: close the parent's handles without touching its watches."""
        if self.durable is not None:
            self.durable.close()  # its lock belongs to the parent's open file
        self.coordination.close()
        self.space.close()
        self.env.close()


_lock = threading.Lock()
_open: dict[str, Environment] = {}
_busy_at_fork: set[str] = set()
#: This process's pid, refreshed after fork: cheaper than asking the kernel per transaction.
pid = os.getpid()
_inherited: list[Environment] = []


def acquire(path: str, durability: Durability, map_size: int) -> Environment:
    path = os.path.realpath(path)
    if path in _busy_at_fork:
        raise EngineConfigurationError(
            f"the embedded store at {path} was in use by another thread when this process "
            f"forked from its parent, so it cannot be opened here; open stores only after "
            f"forking, or start processes with multiprocessing's 'spawn' method"
        )
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


def _note_idle_before_fork() -> None:
    for environment in _open.values():
        environment.idle_at_fork = environment.is_idle()


def _forget_after_fork() -> None:
    global _lock, pid
    _lock = threading.Lock()
    pid = os.getpid()
    for path, environment in _open.items():
        if environment.idle_at_fork:
            environment.close_inherited()  # frees py-lmdb's record; no parent reader to disturb
        else:
            _busy_at_fork.add(path)
            _inherited.append(environment)  # kept referenced: never closed, never used
    _open.clear()


os.register_at_fork(before=_note_idle_before_fork, after_in_child=_forget_after_fork)
