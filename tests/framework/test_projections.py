"""Projections: documents and lookups, the projector's exactly-once batches, failures, versions
and rebuilds, and read-your-writes, on the real embedded engine (also failing commits)."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest

from fairway_django.dcb import DcbStore
from fairway_django.framework import NotCaughtUp, on, run_command
from fairway_django.framework.codec import decode, encode
from fairway_django.framework.documents import Documents
from fairway_django.framework.errors import InvalidDocument
from fairway_django.framework.generations import GenerationError, Generations
from fairway_django.framework.projections import Projection
from fairway_django.framework.keyspace import keyspace_of
from fairway_django.framework.leases import Lease
from fairway_django.framework.projector import (
    ProjectionBusy, ProjectionFailed, ProjectionTask, catch_up,
)
from fairway_django.framework.readmodels import ProjectionNotReady, ReadModel

from .model import SeminarDefined, SeminarJoined, Seminars, Subscribe


def define(store: DcbStore, count: int, capacity: int = 2) -> None:
    store.append([
        encode(SeminarDefined(course_id=f"c{i:04}", title=f"T{i}", capacity=capacity))
        for i in range(count)
    ])


def logged(store: DcbStore) -> list[Any]:
    """Every event in the log, typed."""
    classes = {"SeminarDefined": SeminarDefined, "SeminarJoined": SeminarJoined}
    return [decode(sequenced, classes).event for sequenced in store.read()]


def expected_seminars(events: list[Any]) -> dict[str, dict[str, Any]]:
    """The read model a full replay gives, computed without the projector."""
    courses: dict[str, dict[str, Any]] = {}
    for event in events:
        if isinstance(event, SeminarDefined):
            courses[event.course_id] = {
                "title": event.title, "capacity": event.capacity, "students": 0,
                "has_free_places": True,
            }
        else:
            course = courses[event.course_id]
            course["students"] += 1
            course["has_free_places"] = course["students"] < course["capacity"]
    return courses


def all_documents(read_model: ReadModel, **lookup: Any) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    cursor = None
    while True:
        page = read_model.page(after=cursor, limit=7, **lookup)
        found.update(page.documents)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def test_documents_lookups_and_pages_follow_every_change(store: DcbStore) -> None:
    define(store, 30, capacity=1)
    for i in range(0, 30, 3):
        run_command(Subscribe, {"course_id": f"c{i:04}", "student_id": "s"}, store=store)
    assert catch_up(Seminars, store) == 40
    seminars = ReadModel(Seminars, store)
    assert seminars.get("c0003") == {
        "title": "T3", "capacity": 1, "students": 1, "has_free_places": False,
    }
    assert seminars.get("nope") is None
    full = all_documents(seminars, has_free_places=False)
    assert sorted(full) == [f"c{i:04}" for i in range(0, 30, 3)]
    free = all_documents(seminars, has_free_places=True)
    assert len(free) == 20 and not set(free) & set(full)
    assert len(all_documents(seminars)) == 30
    assert list(all_documents(seminars, title="T7")) == ["c0007"]
    assert seminars.page(has_free_places=True, limit=1000).next_cursor is None


def test_a_document_changed_many_times_in_one_batch_keeps_one_lookup_entry(store: DcbStore
                                                                           ) -> None:
    define(store, 1, capacity=3)
    for student in ("a", "b", "c"):
        run_command(Subscribe, {"course_id": "c0000", "student_id": student}, store=store)
    catch_up(Seminars, store)
    seminars = ReadModel(Seminars, store)
    assert list(all_documents(seminars, has_free_places=False)) == ["c0000"]
    assert all_documents(seminars, has_free_places=True) == {}


@pytest.mark.parametrize("document, message", [
    ({"has_free_places": "yes"}, "takes bool values"),
    ({"has_free_places": 1}, "takes bool values"),
    ({"title": "x" * 251}, "over 250 characters"),
    ({"blob": "x" * 100_001}, "split it"),
    ({"when": object()}, "not JSON"),
])
def test_a_handler_storing_what_the_model_cannot_hold_stops_with_the_reason(
    store: DcbStore, document: dict[str, Any], message: str
) -> None:
    class Bad(Projection):
        lookups = {"has_free_places": bool, "title": str}

        @on(SeminarDefined)
        def defined(self, docs: Documents, event: SeminarDefined) -> None:
            docs.put(event.course_id, document)

    define(store, 1)
    with pytest.raises(ProjectionFailed, match=message) as failed:
        catch_up(Bad, store)
    assert failed.value.failure.event_type == "SeminarDefined"
    with pytest.raises(InvalidDocument):
        ReadModel(Bad, store).page(nope=1)


def test_bad_reads_say_what_is_wrong(store: DcbStore) -> None:
    with pytest.raises(ProjectionNotReady, match="run_projectors"):
        ReadModel(Seminars, store).get("c1")
    define(store, 1)
    catch_up(Seminars, store)
    seminars = ReadModel(Seminars, store)
    with pytest.raises(InvalidDocument, match="one field at a time"):
        seminars.page(has_free_places=True, title="T1")
    with pytest.raises(InvalidDocument, match="1 to 1000 documents"):
        seminars.page(limit=0)
    with pytest.raises(InvalidDocument, match="non-empty text"):
        seminars.get("")


def test_each_event_takes_effect_exactly_once_when_commits_fail(faulty_store: DcbStore) -> None:
    rng = random.Random(7)
    define(faulty_store, 40, capacity=3)
    for _ in range(150):
        course = f"c{rng.randrange(40):04}"
        try:
            run_command(Subscribe, {"course_id": course, "student_id": f"s{rng.randrange(9)}"},
                        store=faulty_store)
        except Exception:  # noqa: S112 (full courses and repeats are rejected; not the point)
            continue
    catch_up(Seminars, faulty_store)
    assert all_documents(ReadModel(Seminars, faulty_store)) == expected_seminars(
        logged(faulty_store)
    )


def test_a_failing_handler_stops_at_its_event_and_skipping_goes_on(store: DcbStore) -> None:
    define(store, 3)
    store.append([encode(SeminarJoined(course_id="ghost", student_id="s"))])  # no such course
    define(store, 1, capacity=9)  # c0000 again, after the bad event
    with pytest.raises(ProjectionFailed, match="no course 'ghost'") as failed:
        catch_up(Seminars, store)
    generations = Generations(store, "seminars")
    # The events before the failing one took effect; the checkpoint is just before it.
    assert ReadModel(Seminars, store).get("c0002") is not None
    assert ReadModel(Seminars, store).get("c0000")["capacity"] == 2  # type: ignore[index]
    recorded = store.database.transact(lambda tr: generations.failure(tr, 1))
    assert recorded == failed.value.failure and "LookupError" in recorded.traceback
    with pytest.raises(ProjectionFailed):  # restarting without a fix fails on it again
        catch_up(Seminars, store)
    skipped = store.database.transact(lambda tr: generations.skip(tr, 1))
    assert skipped.position == failed.value.failure.position
    assert catch_up(Seminars, store) == 1
    assert ReadModel(Seminars, store).get("c0000")["capacity"] == 9  # type: ignore[index]
    assert store.database.transact(lambda tr: generations.failure(tr, 1)) is None
    with pytest.raises(GenerationError, match="no failed event"):
        store.database.transact(lambda tr: generations.skip(tr, 1))


def test_a_new_version_builds_beside_the_serving_one_and_takes_over(store: DcbStore) -> None:
    define(store, 20)
    catch_up(Seminars, store)

    class SeminarsV2(Seminars):
        slice_name = "seminars"
        version = 2

        @on(SeminarDefined)
        def defined(self, docs: Documents, event: SeminarDefined) -> None:
            docs.put(event.course_id, {"title": event.title.upper(), "capacity": event.capacity,
                                       "students": 0, "has_free_places": True})

    generations = Generations(store, "seminars")
    current = store.database.transact(lambda tr: generations.prepare(tr, 2))
    assert [(g.number, g.state) for g in current] == [(2, "building")]
    assert ReadModel(SeminarsV2, store).get("c0001")["title"] == "T1"  # type: ignore[index]
    catch_up(SeminarsV2, store)
    assert ReadModel(SeminarsV2, store).get("c0001")["title"] == "T1".upper()  # type: ignore[index]
    catalog = store.database.transact(lambda tr: generations.catalog(tr))
    assert [(g.number, g.version, g.state) for g in catalog.generations] == [
        (1, 1, "retired"), (2, 2, "serving"),
    ]
    with pytest.raises(GenerationError, match="serves reads"):
        store.database.transact(lambda tr: generations.drop(tr, 2))
    assert store.database.transact(lambda tr: generations.drop(tr, 1)) == [1]
    assert store.database.transact(lambda tr: generations.drop(tr, None)) == [2]
    assert not list(store.database.transact(
        lambda tr: list(tr.get_range_startswith(keyspace_of(store).root))
    ))


def test_a_rebuild_while_events_arrive_serves_reads_throughout(store: DcbStore) -> None:
    define(store, 200, capacity=50)
    catch_up(Seminars, store)
    generations = Generations(store, "seminars")
    store.database.transact(lambda tr: generations.rebuild(tr, 1))
    with pytest.raises(GenerationError, match="already building"):
        store.database.transact(lambda tr: generations.rebuild(tr, 1))
    stop = threading.Event()
    reads: list[int] = []

    def write() -> None:
        i = 0
        while not stop.is_set():
            run_command(Subscribe, {"course_id": f"c{i % 200:04}", "student_id": f"s{i}"},
                        store=store)
            i += 1

    def read() -> None:
        seminars = ReadModel(Seminars, store)
        while not stop.is_set():
            reads.append(len(seminars.page(limit=1000).documents))

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.3)
        catch_up(Seminars, store)  # runs generation 1 (serving) and 2 (building), then switches
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    catch_up(Seminars, store)
    catalog = store.database.transact(lambda tr: generations.catalog(tr))
    assert [(g.number, g.state) for g in catalog.generations] == [(1, "retired"), (2, "serving")]
    assert reads and set(reads) == {200}  # every read saw every course, before and after
    assert all_documents(ReadModel(Seminars, store)) == expected_seminars(logged(store))


def test_reading_your_write_waits_for_the_projection(store: DcbStore) -> None:
    define(store, 1)
    catch_up(Seminars, store)
    seminars = ReadModel(Seminars, store)
    result = run_command(Subscribe, {"course_id": "c0000", "student_id": "s"}, store=store)
    assert result.position is not None
    with pytest.raises(NotCaughtUp, match="run_projectors"):
        seminars.wait_for(result.position, timeout=0.2)
    runner = threading.Timer(0.2, catch_up, (Seminars, store))
    runner.start()
    try:
        seminars.wait_for(result.position, timeout=10)
        assert seminars.get("c0000")["students"] == 1  # type: ignore[index]
    finally:
        runner.join()  # it gives its lease back after the batch: let it, before the store closes


def test_a_projection_another_process_runs_is_left_alone(store: DcbStore) -> None:
    define(store, 1)
    generations = Generations(store, "seminars")
    (generation,) = store.database.transact(lambda tr: generations.prepare(tr, 1))
    task = ProjectionTask(Seminars, generation, store)
    other = Lease(keyspace_of(store).lease(task.lease_name), "elsewhere", 30)
    assert store.database.transact(other.take)
    with pytest.raises(ProjectionBusy):
        catch_up(Seminars, store)
    assert store.database.transact(lambda tr: generations.checkpoint(tr, 1)) is None
