"""Watches that fire across processes without polling the store.

Each process that watches binds a Unix datagram socket and lists, in the store's coordination
environment, the keys it watches with that socket's address. A commit that writes a listed key sends
one datagram to each watching process after it is durable; the process's listener thread then
re-reads its watched keys and completes the futures whose value changed. A datagram carries no
information, so a full socket buffer loses nothing: the pending datagram already asks for the
same re-check. Entries of processes that died are removed by the first commit that cannot
reach them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import struct
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, cast

import lmdb

from ..errors import TooManyWatches
from .conflicts import Written

if TYPE_CHECKING:
    from .environment import Environment

logger = logging.getLogger(__name__)

#: FDB's default limit on outstanding watches per database handle.
MAX_WATCHES = 10_000
#: A key nobody here watches any more stays registered this long, because the usual pattern
#: (a subscriber re-watching after every change) would otherwise cost two writes per change.
_UNREGISTER_AFTER_SECONDS = 2.0
_EPOCH_KEY = b"watch_epoch"
_EPOCH = struct.Struct(">Q")
_DIGEST_SIZE = 20
_WAKE = b"!"
_STOP = b"stop"


class WatchRegistry:
    """The store-wide table of watched keys: which process address watches which key."""

    def __init__(self, environment: Environment) -> None:
        self._environment = environment
        self._epoch: bytes | None = None
        self._keys: list[bytes] = []
        self._addresses: list[bytes] = []
        self._sender: socket.socket | None = None
        self._lock = threading.Lock()

    def watchers_of(self, written: Written) -> set[bytes]:
        """Addresses of the processes watching a key ``written`` wrote (after a commit)."""
        coordination = self._environment.coordination
        with coordination.env.begin() as txn:
            epoch = txn.get(_EPOCH_KEY, db=coordination.meta)
            if epoch != self._epoch:
                self._reload(txn, epoch)
        if not self._keys:
            return set()
        return {self._addresses[index] for index in written.touched(self._keys)}

    def notify(self, addresses: set[bytes]) -> None:
        gone = []
        for address in addresses:
            try:
                self.send(address, _WAKE)
            except BlockingIOError:
                pass  # its buffer is full of wake-ups already
            except (ConnectionRefusedError, FileNotFoundError):
                gone.append(address)
            except OSError as error:  # the commit is done: report, never fail it
                logger.warning("could not wake the watching process at %r: %s", address, error)
        if gone:
            self._write(lambda txn: self._drop_addresses(txn, gone))

    def register(self, address: bytes, key: bytes) -> None:
        self._write(lambda txn: txn.put(address + _digest(key), key, db=self._table))

    def unregister(self, address: bytes, keys: Iterable[bytes]) -> None:
        self._write(lambda txn: [txn.delete(address + _digest(k), db=self._table) for k in keys])

    def send(self, address: bytes, message: bytes) -> None:
        with self._lock:
            if self._sender is None:
                self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sender.setblocking(False)
            self._sender.sendto(message, _sockaddr(address))

    @property
    def _table(self) -> lmdb._Database:
        return self._environment.coordination.watches

    def _write(self, change: Callable[[lmdb.Transaction], object]) -> None:
        """Change the table and bump its epoch, so that committers reload their copy."""
        meta = self._environment.coordination.meta
        with self._environment.coordination.write() as txn:
            change(txn)
            raw = txn.get(_EPOCH_KEY, db=meta)
            epoch = 0 if raw is None else _EPOCH.unpack(raw)[0]
            txn.put(_EPOCH_KEY, _EPOCH.pack(epoch + 1), db=meta)

    def _drop_addresses(self, txn: lmdb.Transaction, addresses: list[bytes]) -> None:
        cursor = txn.cursor(db=self._table)
        for address in addresses:
            if cursor.set_range(address):
                while bytes(cursor.key())[:-_DIGEST_SIZE] == address:
                    if not cursor.delete():
                        break

    def _reload(self, txn: lmdb.Transaction, epoch: bytes | None) -> None:
        pairs = cast("Iterator[tuple[bytes, bytes]]", txn.cursor(db=self._table).iternext())
        entries = sorted((key, entry[:-_DIGEST_SIZE]) for entry, key in pairs)
        self._keys = [key for key, _ in entries]
        self._addresses = [address for _, address in entries]
        self._epoch = epoch

    def close(self) -> None:
        with self._lock:
            if self._sender is not None:
                self._sender.close()
                self._sender = None


class WatchHub:
    """This process's watches on one store, and the thread that completes them."""

    def __init__(self, environment: Environment) -> None:
        self._environment = environment
        self._lock = threading.Lock()
        self._watches: dict[bytes, list[tuple[bytes | None, Future[None]]]] = {}
        self._count = 0
        self._socket: socket.socket | None = None
        self._address = b""
        self._registered: dict[bytes, float | None] = {}  # key -> unwatched since (monotonic)

    def add(self, key: bytes, expected: bytes | None, future: Future[None]) -> None:
        """Watch ``key`` until its value differs from ``expected`` (after the watch's commit)."""
        with self._lock:
            if self._count >= MAX_WATCHES:
                future.set_exception(TooManyWatches(f"at most {MAX_WATCHES} watches at once"))
                return
            self._listen()
            unregistered = key not in self._registered
            self._registered[key] = None
            self._watches.setdefault(key, []).append((expected, future))
            self._count += 1
        if unregistered:
            self._environment.watch_registry.register(self._address, key)
        self._check([key])  # catch changes made before the registration was visible

    def _listen(self) -> None:
        if self._socket is not None:
            return
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._address = _new_address()
        self._socket.bind(_sockaddr(self._address))
        thread = threading.Thread(
            target=self._serve, args=(self._socket,), name="fairway-watches", daemon=True
        )
        thread.start()

    def _serve(self, sock: socket.socket) -> None:
        while True:
            messages = [sock.recv(64)]
            sock.setblocking(False)
            try:
                while True:
                    messages.append(sock.recv(64))
            except BlockingIOError:
                pass
            sock.setblocking(True)
            if _STOP in messages:
                sock.close()
                return
            with self._lock:
                keys = list(self._watches)
            self._check(keys)
            self._forget_unwatched()

    def _forget_unwatched(self) -> None:
        cutoff = time.monotonic() - _UNREGISTER_AFTER_SECONDS
        with self._lock:
            stale = [k for k, since in self._registered.items() if since and since < cutoff]
            for key in stale:
                del self._registered[key]
        if stale:
            self._environment.watch_registry.unregister(self._address, stale)

    def _check(self, keys: list[bytes]) -> None:
        environment = self._environment
        with environment.snapshot() as txn:
            values = {key: environment.keyspace.get(txn, key) for key in keys}
        fired: list[Future[None]] = []
        now = time.monotonic()
        with self._lock:
            for key, value in values.items():
                remaining = []
                for expected, future in self._watches.get(key, []):
                    if future.done():
                        self._count -= 1
                    elif value != expected:
                        fired.append(future)
                        self._count -= 1
                    else:
                        remaining.append((expected, future))
                if remaining:
                    self._watches[key] = remaining
                elif self._watches.pop(key, None) is not None:
                    self._registered[key] = now
        for future in fired:
            if future.set_running_or_notify_cancel():
                future.set_result(None)

    def close(self) -> None:
        with self._lock:
            sock, self._socket = self._socket, None
            watches, self._watches = self._watches, {}
            registered, self._registered = list(self._registered), {}
        if sock is None:
            return
        self._environment.watch_registry.unregister(self._address, registered)
        try:
            self._environment.watch_registry.send(self._address, _STOP)
        except OSError:
            sock.close()
        for entries in watches.values():
            for _, future in entries:
                future.cancel()


def _digest(key: bytes) -> bytes:
    return hashlib.blake2b(key, digest_size=_DIGEST_SIZE).digest()


def _new_address() -> bytes:
    name = f"fairway-watch-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    if os.uname().sysname == "Linux":  # the abstract namespace: no file to clean up
        return b"\0" + name.encode()
    return os.path.join(tempfile.gettempdir(), name).encode()


def _sockaddr(address: bytes) -> bytes | str:
    return address if address.startswith(b"\0") else address.decode()
