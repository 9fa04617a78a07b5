"""Running a command: decide, append with the reader's condition, and retry on a conflict.

Each attempt gets a new command instance and a new reader, so a retry decides afresh from the
log as it now is. With an idempotency key, the append is ``append_once``: it appends at most
once per key, even when an earlier request died after appending, or two requests race.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fairway_django.dcb import AppendConditionFailed, DcbStore, Position

from .codec import Recorded, decode, encode
from .commands import Command, CommandResult
from .errors import ConsistencyConflict, Rejected
from .events import Event, spec_of
from .reader import Reader
from .registry import registry


def run_command(
    command_class: type[Command],
    data: Mapping[str, Any],
    *,
    store: DcbStore,
    idempotency_key: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> CommandResult:
    """Run ``command_class``'s decision on ``data`` and append its events; see the module doc.

    Raises ``Rejected`` and ``InvalidEventData`` at once, and ``ConsistencyConflict`` when
    concurrent writers changed what it read on every one of its ``retry.attempts`` attempts.
    With ``idempotency_key``, a key already used returns the first run's events (decoded with
    the registry's classes, so they must be registered) with ``duplicate=True``.
    """
    run = _Run(command_class, data, store, idempotency_key, correlation_id, causation_id)
    if idempotency_key is not None and (replay := run.replay()) is not None:
        return replay
    retry = command_class.retry
    for attempt in range(1, retry.attempts + 1):
        try:
            return run.attempt(attempt)
        except AppendConditionFailed as conflict:
            if attempt == retry.attempts:
                raise ConsistencyConflict(
                    f"{command_class.__qualname__} gave up after {attempt} attempts: each time, "
                    "another writer appended an event it had read before it could append. "
                    "Nothing was appended. Retry the request later; if this command is often "
                    "contended, give it a larger retry = Backoff(attempts=...)."
                ) from conflict
            time.sleep(retry.delay(attempt))
    raise AssertionError("unreachable: Backoff.attempts is at least 1")


@dataclass(frozen=True)
class _Run:
    command_class: type[Command]
    data: Mapping[str, Any]
    store: DcbStore
    key: str | None
    correlation_id: str | None
    causation_id: str | None

    def attempt(self, attempt: int) -> CommandResult:
        """Decide once and append; AppendConditionFailed when what was read has changed."""
        read = Reader(self.store)
        try:
            decided = self._events(self.command_class().decide(read, **self.data))
        except Rejected:
            # A concurrent request with the same key may have appended since the replay check,
            # and its events are why this decision says no: report that run instead.
            if self.key is not None and (replay := self.replay()) is not None:
                return replay
            raise
        finally:
            read.close()
        if not decided:
            return CommandResult([], None, duplicate=False, attempts=attempt)
        occurred_at = datetime.now(UTC)
        stored = [
            encode(
                event, occurred_at=occurred_at, correlation_id=self.correlation_id,
                causation_id=self.causation_id,
            )
            for event in decided
        ]
        condition = read.condition()
        if self.key is None:
            position = self.store.append(stored, condition)
        else:
            position, duplicate = self.store.append_once(stored, self.key, condition)
            if duplicate:
                classes = {spec_of(type(event)).event_type: type(event) for event in decided}
                return self._result_of(position, {**registry.events, **classes}, attempt)
        version = position.raw[:-2]  # an append's events: consecutive orders of one version
        recorded = [
            Recorded(
                Position(version + order.to_bytes(2, "big")), event,
                spec_of(type(event)).version, occurred_at, record.metadata or {},
            )
            for order, (event, record) in enumerate(zip(decided, stored, strict=True))
        ]
        return CommandResult(recorded, position, duplicate=False, attempts=attempt)

    def replay(self) -> CommandResult | None:
        """The earlier run's result when the key was used (None when it was not), without
        deciding again: a decision re-run now could be refused because of that run's own
        events. Its events are decoded with the registry's classes."""
        assert self.key is not None
        last = self.store.appended_under(self.key)
        return None if last is None else self._result_of(last, registry.events, attempts=0)

    def _result_of(
        self, last: Position, classes: Mapping[str, type[Event]], attempts: int
    ) -> CommandResult:
        """The result of the earlier run that used the key: its events, read back."""
        events = [decode(sequenced, classes) for sequenced in self.store.read_append(last)]
        return CommandResult(events, last, duplicate=True, attempts=attempts)

    def _events(self, decision: object) -> list[Event]:
        if decision is None:
            return []
        if isinstance(decision, Event):
            return [decision]
        if isinstance(decision, Iterable) and not isinstance(decision, (str, bytes, dict)):
            events = list(decision)
            if all(isinstance(event, Event) for event in events):
                return events
        raise TypeError(
            f"{self.command_class.__qualname__}.decide returned {decision!r}; it must return "
            "an Event, a list of Events, or None"
        )
