"""A projection's generations: versions of its read model, one serving reads at a time.

Each generation has its own keyspace, checkpoint and failure record. A projection's first
generation serves reads at once and fills as the projector catches up. A new ``version`` in the
code, or ``rebuild_projection``, starts a new generation that builds from the start of the log
while the serving one keeps answering (and, if its version is the code's, keeps being updated);
the batch in which the new one reaches the head switches reads to it, in the same transaction,
and the old one is kept as ``retired`` until dropped. A projection removed from the code keeps
its generations, listed by ``fairway_status`` and dropped with ``drop_projection``.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from fairway_django.dcb import DcbStore, Position
from fairway_django.engine import ReadTransaction, Transaction, keys

from .documents import DocumentKeys
from .errors import FairwayError
from .keyspace import keyspace_of
from .leases import now_ms

State = Literal["serving", "building", "retired"]


class Generation(msgspec.Struct, frozen=True):
    number: int
    #: The projection's ``version`` whose handlers fill it.
    version: int
    created_ms: int
    state: State


class Catalog(msgspec.Struct):
    generations: list[Generation] = []

    def serving(self) -> Generation | None:
        return next((g for g in self.generations if g.state == "serving"), None)

    def find(self, number: int) -> Generation | None:
        return next((g for g in self.generations if g.number == number), None)

    def replace(self, changed: Generation) -> None:
        self.generations = [changed if g.number == changed.number else g for g in self.generations]


class Failure(msgspec.Struct, frozen=True):
    """Why a generation's projector stopped: the event it could not apply, and the error."""

    position: str
    event_type: str
    error: str
    traceback: str
    failed_ms: int

    def describe(self) -> str:
        """What failed, as messages name it: 'the T event at P (error)'."""
        return f"the {self.event_type} event at {self.position} ({self.error})"


class GenerationError(FairwayError):
    """An operation on generations that cannot be done (dropping the serving one, ...)."""

    code = "generation_error"


_encode = msgspec.json.encode
_decode_catalog = msgspec.json.Decoder(Catalog).decode
_decode_failure = msgspec.json.Decoder(Failure).decode


class Generations:
    """The generations of the projection ``name`` in ``store``."""

    def __init__(self, store: DcbStore, name: str) -> None:
        keyspace = keyspace_of(store)
        self.name = name
        self.catalog_key = keyspace.catalog(name)
        self.prefix = keyspace.projection(name)

    def _generation(self, number: int) -> bytes:
        return self.prefix + keys.pack((number,))

    def checkpoint_key(self, number: int) -> bytes:
        return self._generation(number) + keys.pack(("c",))

    def failure_key(self, number: int) -> bytes:
        return self._generation(number) + keys.pack(("f",))

    def document_keys(self, number: int, owner: str, lookups: dict[str, type]) -> DocumentKeys:
        return DocumentKeys(self._generation(number), owner, lookups)

    def catalog(self, tr: ReadTransaction) -> Catalog:
        raw = tr.get(self.catalog_key)
        return Catalog() if raw is None else _decode_catalog(raw)

    def write(self, tr: Transaction, catalog: Catalog) -> None:
        if catalog.generations:
            tr.set(self.catalog_key, _encode(catalog))
        else:
            tr.clear(self.catalog_key)

    def checkpoint(self, tr: ReadTransaction, number: int) -> Position | None:
        raw = tr.get(self.checkpoint_key(number))
        return None if raw is None else Position(raw)

    def failure(self, tr: ReadTransaction, number: int) -> Failure | None:
        raw = tr.get(self.failure_key(number))
        return None if raw is None else _decode_failure(raw)

    def record_failure(self, tr: Transaction, number: int, failure: Failure) -> None:
        tr.set(self.failure_key(number), _encode(failure))

    def skip(self, tr: Transaction, number: int) -> Failure:
        """Move generation ``number``'s checkpoint past the event it failed on, so its runner
        goes on with the next one; the failure is cleared and returned."""
        failure = self.failure(tr, number)
        if failure is None:
            raise GenerationError(f"{self.name}: generation {number} has no failed event to skip")
        tr.set(self.checkpoint_key(number), Position.parse(failure.position).raw)
        tr.clear(self.failure_key(number))
        return failure

    def skip_failed(self, tr: Transaction, number: int | None = None) -> tuple[int, Failure]:
        """:meth:`skip` generation ``number``'s failed event, or with None the first failed
        generation's; returns the generation's number and the failure skipped."""
        if number is None:
            failed = [
                g.number for g in self.catalog(tr).generations
                if self.failure(tr, g.number) is not None
            ]
            if not failed:
                raise GenerationError(f"no generation of {self.name!r} has a failed event")
            number = failed[0]
        return number, self.skip(tr, number)

    def prepare(self, tr: Transaction, version: int) -> list[Generation]:
        """The generations a runner of ``version`` keeps up to date, creating the first one
        (serving) or a new one for a new version (building) when there is none."""
        catalog = self.catalog(tr)
        current = [
            g for g in catalog.generations if g.version == version and g.state != "retired"
        ]
        if not current:
            current = [self._add(tr, catalog, version)]
        return current

    def rebuild(self, tr: Transaction, version: int) -> Generation:
        """Start a new generation of ``version`` that builds beside the serving one."""
        catalog = self.catalog(tr)
        building = [g for g in catalog.generations if g.state == "building"]
        if building:
            raise GenerationError(
                f"{self.name}: generation {building[0].number} is already building; let it "
                f"catch up, or drop it first (drop_projection {self.name} "
                f"--generation {building[0].number})"
            )
        return self._add(tr, catalog, version)

    def switch(self, tr: Transaction, number: int) -> None:
        """Serve reads from generation ``number``; the serving one retires."""
        catalog = self.catalog(tr)
        for generation in catalog.generations:
            if generation.state == "serving":
                catalog.replace(msgspec.structs.replace(generation, state="retired"))
        target = catalog.find(number)
        if target is None:
            raise GenerationError(f"{self.name} has no generation {number}")
        catalog.replace(msgspec.structs.replace(target, state="serving"))
        self.write(tr, catalog)

    def drop(self, tr: Transaction, number: int | None = None) -> list[int]:
        """Delete generation ``number`` (not the serving one), or, with None, every generation
        of a projection that is gone from the code. Returns the numbers dropped."""
        catalog = self.catalog(tr)
        if number is None:
            dropped = [g.number for g in catalog.generations]
            tr.clear_range(*keys.range((), self.prefix))
            tr.clear(self.catalog_key)
            return dropped
        generation = catalog.find(number)
        if generation is None:
            raise GenerationError(f"{self.name} has no generation {number}")
        if generation.state == "serving":
            raise GenerationError(
                f"{self.name}: generation {number} serves reads; it cannot be dropped while "
                "serving (rebuild, or drop the whole projection once its code is gone)"
            )
        tr.clear_range(*keys.range((), self._generation(number)))
        catalog.generations = [g for g in catalog.generations if g.number != number]
        self.write(tr, catalog)
        return [number]

    def _add(self, tr: Transaction, catalog: Catalog, version: int) -> Generation:
        number = max((g.number for g in catalog.generations), default=0) + 1
        state: State = "building" if catalog.serving() is not None else "serving"
        generation = Generation(number, version, now_ms(), state)
        catalog.generations = [*catalog.generations, generation]
        self.write(tr, catalog)
        return generation


def projection_names(tr: ReadTransaction, store: DcbStore) -> list[str]:
    """The names of every projection with generations in ``store`` (in the code or not)."""
    prefix = keyspace_of(store).catalogs
    names = []
    for key, _ in tr.get_range(prefix, keys.strinc(prefix)):
        (name,) = keys.unpack(key, len(prefix))
        assert isinstance(name, str)
        names.append(name)
    return names
