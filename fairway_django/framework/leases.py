"""Leases: one process at a time runs a task (a projection, an automation's watcher, a job).

A lease is an engine key holding its owner and an expiry time. Taking it and every unit of work
done under it happen in one transaction that reads the key, so two processes that both believe
they hold it cannot both commit: the engine's conflict check fences the one that lost it. A
holder extends the lease as it works; when it dies, the lease expires and another process takes
it over. Expiry uses the machines' clocks, so hosts sharing a store keep them in sync (NTP);
a skew shortens or lengthens a takeover by as much, and never lets two holders commit work.
"""

from __future__ import annotations

import os
import socket
import time
import uuid

import msgspec

from fairway_django.engine import ReadTransaction, Transaction


class Holder(msgspec.Struct, frozen=True):
    """Who holds a lease, and until when (milliseconds since the epoch)."""

    owner: str
    expires_ms: int

    def expired(self, now_ms: int) -> bool:
        return self.expires_ms <= now_ms


_encode = msgspec.json.encode
_decode = msgspec.json.Decoder(Holder).decode


def process_owner() -> str:
    """A name for this process that says where it runs: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def now_ms() -> int:
    return int(time.time() * 1000)


class Lease:
    """The lease on the task at engine key ``key``, as ``owner`` wants to hold it."""

    def __init__(self, key: bytes, owner: str, seconds: float) -> None:
        if not seconds > 0:
            raise ValueError(f"a lease lasts a positive number of seconds, not {seconds!r}")
        self.key = key
        self.owner = owner
        self.seconds = seconds

    def take(self, tr: Transaction) -> bool:
        """Hold or extend the lease in ``tr``: True when it is free, expired or ours already.

        The key is read with a conflict range, so whatever else ``tr`` writes commits only if
        nobody took the lease in between.
        """
        now = now_ms()
        holder = read_holder(tr, self.key)
        if holder is not None and holder.owner != self.owner and not holder.expired(now):
            return False
        tr.set(self.key, _encode(Holder(self.owner, now + int(self.seconds * 1000))))
        return True

    def release(self, tr: Transaction) -> None:
        """Give the lease up at once (when ours), so another process need not wait for expiry."""
        holder = read_holder(tr, self.key)
        if holder is not None and holder.owner == self.owner:
            tr.clear(self.key)


def read_holder(tr: ReadTransaction, key: bytes) -> Holder | None:
    """Who holds the lease at ``key`` (expired or not), or None."""
    raw = tr.get(key)
    return None if raw is None else _decode(raw)
