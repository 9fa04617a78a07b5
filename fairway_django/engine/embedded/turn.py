"""The store's turn: this process's threads run their store work one at a time.

py-lmdb lets the GIL go inside every LMDB call: each get, each cursor step (twice per pair of
a scan: the step, then touching the value's pages). When one thread does that while others run
Python, every release wakes a thread waiting for the GIL and the caller waits to get it back:
with 8 threads deciding at once, those hand-overs (futex wake-ups, context switches) took a
quarter of the process's CPU, and at ``durability=normal`` the 8 threads made half the
decisions a second that one thread makes.
A thread that runs store work first takes the store's turn; the others wait for the turn asleep,
not for the GIL, so the GIL is released to nobody. Python runs one thread at a time anyway:
taking turns loses no parallelism, only hand-overs.

The engine takes the turn around its runs of LMDB calls; the event store takes it around a
whole chunk read and a whole append (``Database.turn``), which run no code of its caller's, so
that the Python between the calls takes turns too. The turn is re-entrant, and is set aside
(released entirely, taken back afterwards) around every wait for another thread or process:
LMDB's writer lock, a batch another thread leads, a sync, a retry's pause. A thread never holds
it while blocked, so no wait can deadlock on it, and a thread waiting for a sync lets the others
work.

A ``threading.RLock`` cannot be set aside entirely without its private ``_release_save``; this
is the same lock with that operation public, in a few lines.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Turn:
    __slots__ = ("_lock", "_owner", "_depth")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner = 0  # the holding thread's ident; only that thread writes its own
        self._depth = 0

    def __enter__(self) -> None:
        me = threading.get_ident()
        if self._owner == me:
            self._depth += 1
            return
        self._lock.acquire()
        self._owner, self._depth = me, 1

    def __exit__(self, *exc_info: object) -> None:
        self._depth -= 1
        if not self._depth:
            self._owner = 0
            self._lock.release()

    @property
    def held(self) -> bool:
        """Whether the calling thread holds the turn."""
        return self._owner == threading.get_ident()

    @contextmanager
    def set_aside(self) -> Iterator[None]:
        """Around a wait: let the turn go if this thread holds it, and take it back after."""
        if not self.held:
            yield
            return
        depth, self._owner, self._depth = self._depth, 0, 0
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()
            self._owner, self._depth = threading.get_ident(), depth
