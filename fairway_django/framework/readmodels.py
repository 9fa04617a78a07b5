"""Reading a projection's read model: a document by key, pages by lookup, read-your-writes.

Reads go to the generation that serves (see :mod:`.generations`), chosen in the same snapshot
as the documents, so a page never mixes two generations. ``wait_for`` gives read-your-writes:
a client that ran a command passes the command's position, and the read waits until the serving
generation's checkpoint has reached it, sleeping on an engine watch of the checkpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from fairway_django.dcb import DcbStore, Position
from fairway_django.engine import ReadTransaction, Transaction

from .documents import Document, DocumentKeys, LookupValue, Page, get_document, list_documents
from .errors import FairwayError, InvalidDocument, NotCaughtUp
from .generations import Generation, Generations
from .projections import Projection

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 50


class ProjectionNotReady(FairwayError):
    """No generation of the projection exists yet: no runner has started it."""

    code = "projection_not_ready"


class ReadModel:
    """The documents ``projection`` keeps in ``store``, as its serving generation has them."""

    def __init__(self, projection: type[Projection], store: DcbStore) -> None:
        self.projection = projection
        self.store = store
        self.generations = Generations(store, projection.slice_name)
        self._lookups = dict(projection.lookups)

    def get(self, key: str) -> Document | None:
        """The document at ``key``, or None."""
        return self._read(lambda tr, keys: get_document(tr, keys, key))

    def page(
        self, *, after: str | None = None, limit: int = DEFAULT_PAGE_SIZE,
        **lookup: LookupValue,
    ) -> Page:
        """Documents in key order after the key ``after``; with one ``name=value``, only those
        whose lookup ``name`` has that value."""
        if len(lookup) > 1:
            raise InvalidDocument(
                f"{self.projection.__qualname__}: look up by one field at a time, not "
                f"{', '.join(lookup)}"
            )
        chosen = next(iter(lookup.items()), None)
        return self._read(
            lambda tr, keys: list_documents(tr, keys, after=after, limit=limit, lookup=chosen)
        )

    def checkpoint(self) -> Position | None:
        """How far into the log the serving generation is."""
        return self._read(lambda tr, keys: self.generations.checkpoint(tr, self._serving(tr).number))

    def wait_for(self, position: Position, timeout: float) -> None:
        """Return once the serving generation has applied every event up to ``position``;
        ``NotCaughtUp`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            reached, change = self.store.database.transact(lambda tr: self._reached(tr, position))
            if reached:
                return
            remaining = deadline - time.monotonic()
            assert change is not None
            try:
                if remaining > 0:
                    change.result(timeout=remaining)
            except TimeoutError:
                pass
            except Exception:  # a failed watch: read again
                time.sleep(min(0.05, max(remaining, 0)))
            finally:
                change.cancel()
            if time.monotonic() >= deadline:
                raise NotCaughtUp(
                    f"{self.projection.__qualname__} has not reached position {position} after "
                    f"{timeout} s; is run_projectors running (manage.py fairway_status)?"
                )

    def _reached(
        self, tr: Transaction, position: Position
    ) -> tuple[bool, Future[None] | None]:
        serving = self.generations.catalog(tr).serving()
        if serving is None:  # no runner has started it yet: wait for one to
            return False, tr.watch(self.generations.catalog_key)
        number = serving.number
        checkpoint = self.generations.checkpoint(tr, number)
        if checkpoint is not None and checkpoint >= position:
            return True, None
        return False, tr.watch(self.generations.checkpoint_key(number))

    def _serving(self, tr: ReadTransaction) -> Generation:
        generation = self.generations.catalog(tr).serving()
        if generation is None:
            raise ProjectionNotReady(
                f"{self.projection.__qualname__} has no read model yet: start "
                "`manage.py run_projectors` to build it"
            )
        return generation

    def _read(self, fn: Callable[[ReadTransaction, DocumentKeys], T]) -> T:
        def read(tr: Transaction) -> T:
            number = self._serving(tr.snapshot).number
            keys = self.generations.document_keys(
                number, self.projection.__qualname__, self._lookups
            )
            return fn(tr.snapshot, keys)

        return self.store.database.transact(read)
