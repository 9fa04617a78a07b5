"""``Idempotency-Key``: a client retrying a command gets the first request's response.

A client that timed out cannot know whether its command ran; sending it again with the same
key is always safe. The first request with a key claims it; a repeat replays the stored
response (``Idempotent-Replayed: true``) without running the command; a repeat that arrives
while the first still runs waits for it (on an engine watch, not by polling) up to
``IDEMPOTENCY_WAIT``, then answers 409 ``idempotency_key_in_use``. The same key with another
body is a client bug: 422 ``idempotency_key_reused``. Keys are scoped per user and per slice.

Records live in the engine beside the events, so every web process sees the same ones:

    ("fairway", "http-idempotency", "k", user, slice, key)          the record
    ("fairway", "http-idempotency", "x", expires_ms, user, slice, key)  expiry index, pruned

A claim is a lease: a request that crashed frees its key after ``LEASE_SECONDS``, and the
request that takes it over runs the command again. That is safe because the command itself
appends with an idempotency key derived from the same (user, slice, key) and the record's
expiry: if the crashed request had appended, the rerun gets its events back instead of
appending twice. Once the record expires, a new one (a new expiry) runs the command afresh.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import wait as wait_for
from typing import Any, NamedTuple, TypeAlias

import msgspec
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from ..engine import Database, Transaction, keys
from .errors import InvalidIdempotencyKey, error_response

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
#: Printable ASCII without spaces (a UUID, a ULID, a random token); at most 200 characters.
KEY_FORMAT = re.compile(r"[\x21-\x7e]{1,200}")
#: Seconds a claim holds a key; a request that crashed (or hangs) frees it after this.
LEASE_SECONDS = 30.0
#: Most expired records one finished request clears.
PRUNE_BATCH = 64

_ROOT = ("fairway", "http-idempotency")


class Scope(NamedTuple):
    """Whose key it is: the user's primary key ("" when anonymous), the slice, the key."""

    user: str
    slice_name: str
    key: str

    def command_key(self, expires_ms: int) -> str:
        """The key the command appends with: the same for every run under one record."""
        digest = hashlib.sha256("\0".join((*self, str(expires_ms))).encode()).hexdigest()
        return f"http:{digest}"


class Record(msgspec.Struct, frozen=True):
    fingerprint: str
    token: str  # the claim holding the key
    lease_ms: int  # while pending: when the claim lapses
    expires_ms: int
    status: int = 0  # 0 while pending
    body: str = ""  # the response's JSON


class Claimed(NamedTuple):
    token: str
    command_key: str


class Replay(NamedTuple):
    status: int
    body: str


class Busy(NamedTuple):
    watch: Future[None]
    lease_ms: int


class Reused(NamedTuple):
    pass


Claim: TypeAlias = Claimed | Replay | Busy | Reused

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Record).decode


def requested_key(request: Request) -> str | None:
    """The request's ``Idempotency-Key``, None without one; 400 when it is malformed."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if KEY_FORMAT.fullmatch(key) is None:
        raise InvalidIdempotencyKey(
            f"{HEADER} must be 1 to 200 printable ASCII characters without spaces "
            "(a UUID is a good choice)."
        )
    return key


def scope_of(request: Request, slice_name: str, key: str) -> Scope:
    user = request.user
    return Scope(str(user.pk) if user.is_authenticated else "", slice_name, key)


def fingerprint(data: Mapping[str, Any]) -> str:
    """What makes two requests "the same": their input, whatever its key order."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), cls=JSONEncoder)
    return hashlib.sha256(text.encode()).hexdigest()


class IdempotencyKeys:
    """The records of one engine. ``respond`` is the whole protocol; the rest are its steps."""

    def __init__(
        self, database: Database, *, ttl: float, wait: float, lease: float = LEASE_SECONDS
    ) -> None:
        self.database = database
        self.ttl_ms = int(ttl * 1000)
        self.wait = wait
        self.lease_ms = int(lease * 1000)

    def respond(
        self, scope: Scope, fingerprint: str, run: Callable[[str], tuple[Response, bool]]
    ) -> Response:
        """The first response for ``scope``: run now, replayed, or an idempotency error.

        ``run(command_key)`` answers the request, running the command with that idempotency
        key, and says whether its response is final (kept for repeats); a response that is not
        (a conflict worth retrying) frees the key instead.
        """
        deadline = time.monotonic() + self.wait
        while True:
            claim = self.database.transact(lambda tr: self.claim(tr, scope, fingerprint))
            if isinstance(claim, Claimed):
                return self._run(scope, claim, run)
            if isinstance(claim, Replay):
                return Response(
                    json.loads(claim.body), status=claim.status, headers={REPLAYED_HEADER: "true"}
                )
            if isinstance(claim, Reused):
                return error_response(
                    status.HTTP_422_UNPROCESSABLE_ENTITY, "idempotency_key_reused",
                    f"{HEADER} {scope.key!r} was used with a different request; "
                    "use a new key for a new request.",
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                claim.watch.cancel()
                return error_response(
                    status.HTTP_409_CONFLICT, "idempotency_key_in_use",
                    f"A request with {HEADER} {scope.key!r} is still running; "
                    "retry later to get its response.",
                )
            lapses_in = claim.lease_ms / 1000 - time.time()
            wait_for([claim.watch], timeout=max(0.0, min(remaining, lapses_in)))
            claim.watch.cancel()

    def claim(self, tr: Transaction, scope: Scope, fingerprint: str) -> Claim:
        key = _record_key(scope)
        raw = tr.get(key)
        now_ms = _now_ms()
        record = None if raw is None else _decode(raw)
        if record is None or record.expires_ms <= now_ms:
            return self._write_claim(tr, scope, fingerprint, now_ms + self.ttl_ms)
        if record.fingerprint != fingerprint:
            return Reused()
        if record.status:
            return Replay(record.status, record.body)
        if record.lease_ms <= now_ms:  # the request holding it crashed or hangs
            return self._write_claim(tr, scope, fingerprint, record.expires_ms)
        return Busy(tr.watch(key), record.lease_ms)

    def finish(self, tr: Transaction, scope: Scope, token: str, response: Response) -> None:
        record = self._held(tr, scope, token)
        if record is not None:
            body = json.dumps(response.data, cls=JSONEncoder)
            final = msgspec.structs.replace(record, status=response.status_code, body=body)
            tr.set(_record_key(scope), _encode(final))
        self.prune(tr)

    def release(self, tr: Transaction, scope: Scope, token: str) -> None:
        if self._held(tr, scope, token) is not None:
            tr.clear(_record_key(scope))

    def prune(self, tr: Transaction) -> None:
        """Clear up to ``PRUNE_BATCH`` expired records (and their expiry entries)."""
        begin = keys.pack((*_ROOT, "x"))
        end = keys.pack((*_ROOT, "x", _now_ms()))
        for entry in tr.snapshot.get_range(begin, end, limit=PRUNE_BATCH):
            _, _, _, _, *scope = keys.unpack(entry.key)
            record_key = _record_key(Scope(*map(str, scope)))
            raw = tr.get(record_key)
            if raw is not None and _decode(raw).expires_ms <= _now_ms():
                tr.clear(record_key)
            tr.clear(entry.key)

    def _run(
        self, scope: Scope, claim: Claimed, run: Callable[[str], tuple[Response, bool]]
    ) -> Response:
        token = claim.token
        try:
            response, final = run(claim.command_key)
        except BaseException:
            self.database.transact(lambda tr: self.release(tr, scope, token))
            raise
        if final:
            self.database.transact(lambda tr: self.finish(tr, scope, token, response))
        else:
            self.database.transact(lambda tr: self.release(tr, scope, token))
        return response

    def _write_claim(
        self, tr: Transaction, scope: Scope, fingerprint: str, expires_ms: int
    ) -> Claimed:
        token = uuid.uuid4().hex
        record = Record(fingerprint, token, _now_ms() + self.lease_ms, expires_ms)
        tr.set(_record_key(scope), _encode(record))
        tr.set(keys.pack((*_ROOT, "x", expires_ms, *scope)), b"")
        return Claimed(token, scope.command_key(expires_ms))

    def _held(self, tr: Transaction, scope: Scope, token: str) -> Record | None:
        """The pending record if ``token`` still holds it (a lapsed claim may have moved on)."""
        raw = tr.get(_record_key(scope))
        record = None if raw is None else _decode(raw)
        if record is None or record.token != token or record.status:
            return None
        return record


def _record_key(scope: Scope) -> bytes:
    return keys.pack((*_ROOT, "k", *scope))


def _now_ms() -> int:
    return int(time.time() * 1000)
