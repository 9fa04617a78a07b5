"""A stop request that every worker thread of a runner can wait on, together with a change.

Runner threads sleep until something happens: new events (an engine watch), a lease to renew
(a timeout), or a request to stop. ``Stopping.wait`` wakes on whichever comes first, so a stop
is seen at once and no thread polls.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future


class Stopping:
    """Set once to ask every thread to finish what it is doing and return."""

    def __init__(self) -> None:
        self._set = threading.Event()
        self._lock = threading.Lock()
        self._waiting: set[threading.Event] = set()

    def set(self) -> None:
        with self._lock:
            self._set.set()
            for wake in self._waiting:
                wake.set()

    def is_set(self) -> bool:
        return self._set.is_set()

    def wait(self, timeout: float, change: Future[None] | None = None) -> bool:
        """Sleep up to ``timeout`` seconds, until ``change`` completes or a stop is requested.

        Returns True when a stop was requested. ``change`` is cancelled before returning, so
        an engine watch does not outlive the wait.
        """
        wake = threading.Event()
        with self._lock:
            if self._set.is_set():
                if change is not None:
                    change.cancel()
                return True
            self._waiting.add(wake)
        try:
            if change is not None:
                change.add_done_callback(lambda _: wake.set())
            wake.wait(timeout)
        finally:
            with self._lock:
                self._waiting.discard(wake)
            if change is not None:
                change.cancel()
        return self._set.is_set()


def first_of(futures: list[Future[None]]) -> Future[None] | None:
    """A future that completes when any of ``futures`` does (None for none); cancelling it
    cancels them all, so watches it stands for do not linger."""
    if not futures:
        return None
    combined: Future[None] = Future()

    def finish(_: Future[None]) -> None:
        if not combined.done():
            try:
                combined.set_result(None)
            except Exception:  # noqa: S110 (completed or cancelled meanwhile by another thread)
                pass

    def cancel_all(_: Future[None]) -> None:
        for future in futures:
            future.cancel()

    for future in futures:
        future.add_done_callback(finish)
    combined.add_done_callback(cancel_all)
    return combined
