"""Many clients at once against a real server: the slices' rules hold under concurrency.

gunicorn serves the example project (2 worker processes with 4 threads each) on one embedded
store; client processes fire their requests together, so the decisions race across
processes as they would in production. Afterwards the store itself, not the responses, is
checked: no course over capacity, no student over 5 courses, one student per username,
invoices numbered 1..n, and every 201 matching exactly the events that were appended.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import requests

from fairway_django.dcb import open_store
from slices.subscribe_student import MAX_COURSES_PER_STUDENT

from .gunicorn import create_user_with_token, gunicorn, server_env

CLIENT_PROCESSES = 4
THREADS_PER_CLIENT = 4
SMALL_CAPACITY = 3
CROWD = [f"s{n:02}" for n in range(12)]  # all want the small course
BUSY_COURSES = [f"m{n}" for n in range(1, 9)]  # one student wants all of them

pytestmark = pytest.mark.timeout(90)



class Request(NamedTuple):
    label: str
    path: str
    body: dict[str, Any]
    idempotency_key: str | None = None


class Answer(NamedTuple):
    label: str
    status: int
    body: Any
    replayed: bool


class Server(NamedTuple):
    url: str
    token: str
    store_url: str


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    env = server_env(tmp_path)
    token = create_user_with_token(env)
    with gunicorn(env, tmp_path / "gunicorn.log", workers=2, threads=4) as url:
        yield Server(url, token, env["FAIRWAY_STORE_URL"])


def send(session: requests.Session, server: Server, request: Request) -> Answer:
    headers = {"Authorization": f"Token {server.token}"}
    if request.idempotency_key:
        headers["Idempotency-Key"] = request.idempotency_key
    response = session.post(f"{server.url}/api/{request.path}", json=request.body,
                            headers=headers, timeout=30)
    try:
        body = response.json()
    except ValueError:
        body = response.text
    replayed = response.headers.get("Idempotent-Replayed") == "true"
    return Answer(request.label, response.status_code, body, replayed)


def fire(server: Server, requests_: list[Request], start: Any, results: Any) -> None:
    """One client process: wait for the others, then send ``requests_`` from several threads."""
    local = threading.local()

    def send_from_this_thread(request: Request) -> Answer:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return send(local.session, server, request)

    start.wait(timeout=60)
    with ThreadPoolExecutor(THREADS_PER_CLIENT) as pool:
        results.put(list(pool.map(send_from_this_thread, requests_)))


def fire_together(server: Server, all_requests: list[Request]) -> list[Answer]:
    """Send ``all_requests`` from CLIENT_PROCESSES processes at once.

    They are dealt round-robin, so the requests that compete for one thing (the small
    course's places, say) leave in the same wave from different processes.
    """
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(CLIENT_PROCESSES), context.Queue()
    dealt = [all_requests[n::CLIENT_PROCESSES] for n in range(CLIENT_PROCESSES)]
    clients = [context.Process(target=fire, args=(server, hand, start, results)) for hand in dealt]
    for client in clients:
        client.start()
    try:
        return [answer for _ in clients for answer in results.get(timeout=60)]
    finally:
        for client in clients:
            client.join(timeout=10)
            if client.is_alive():
                client.kill()


def setup_requests() -> list[Request]:
    courses = [("small", SMALL_CAPACITY)] + [(course, 50) for course in BUSY_COURSES]
    students = [*CROWD, "busy"]
    return [
        *(Request("course", "courses", {"course_id": c, "title": c, "capacity": n})
          for c, n in courses),
        *(Request("student", "students", {"student_id": s, "username": s, "name": s})
          for s in students),
    ]


def racing_requests() -> list[Request]:
    invoice = {"amount_cents": 1000, "description": "tuition"}
    return [
        *(Request("crowd", "courses/small/subscriptions", {"student_id": s}) for s in CROWD),
        *(Request("busy", f"courses/{c}/subscriptions", {"student_id": "busy"})
          for c in BUSY_COURSES),
        *(Request("username", "students", {"student_id": f"p{n}", "username": "popular",
                                           "name": f"Popular {n}"}) for n in range(10)),
        *(Request("invoice", "invoices", {"student_id": s, **invoice}) for s in CROWD * 2),
        # Each keyed invoice is sent twice, at the same time: one invoice, one answer.
        *(Request(f"keyed-{n}", "invoices", {"student_id": "busy", **invoice}, f"invoice-{n}")
          for n in range(8) for _ in range(2)),
    ]


def test_the_rules_hold_with_many_clients_at_once(server: Server) -> None:
    with requests.Session() as session:
        setup = [send(session, server, request) for request in setup_requests()]
    assert [answer.status for answer in setup] == [201] * len(setup), setup
    started = time.monotonic()
    answers = fire_together(server, racing_requests())
    elapsed = time.monotonic() - started
    outcomes = Counter((a.label, a.status, code_of(a.body)) for a in answers if a.status != 201)
    created = Counter(a.label for a in answers if a.status == 201)

    events = read_store(server.store_url)
    subscriptions = [data for kind, data in events.values() if kind == "StudentSubscribedToCourse"]
    by_course = Counter(data["course_id"] for data in subscriptions)
    by_student = Counter(data["student_id"] for data in subscriptions)
    assert by_course["small"] == created["crowd"] == SMALL_CAPACITY, outcomes
    assert by_student["busy"] == created["busy"] == MAX_COURSES_PER_STUDENT, outcomes
    assert max(by_student.values()) <= MAX_COURSES_PER_STUDENT
    usernames = Counter(data["username"] for kind, data in events.values()
                        if kind == "StudentRegistered")
    assert usernames["popular"] == created["username"] == 1, outcomes
    assert set(usernames.values()) == {1}
    assert {(label, code) for label, _, code in outcomes} <= {
        ("crowd", "course_full"), ("busy", "too_many_courses"), ("username", "username_taken"),
    }, outcomes

    numbers = sorted(data["invoice_number"] for kind, data in events.values()
                     if kind == "InvoiceIssued")
    assert numbers == list(range(1, len(CROWD) * 2 + 8 + 1)), f"{numbers} {outcomes}"

    assert_each_201_is_exactly_its_events(setup + answers, events)
    assert elapsed < 45, f"the racing requests took {elapsed:.1f} s"


def assert_each_201_is_exactly_its_events(
    answers: list[Answer], events: dict[str, tuple[str, Any]]
) -> None:
    """Every appended event was reported by a 201, and every 201 reports stored events.

    Of the two answers to one idempotency key, one ran the command and the other replays its
    answer exactly, events and all.
    """
    reported: dict[str, tuple[str, Any]] = {}
    keyed: dict[str, list[Answer]] = {}
    for answer in answers:
        if answer.label.startswith("keyed-"):
            keyed.setdefault(answer.label, []).append(answer)
        for event in answer.body["events"] if answer.status == 201 else ():
            reported[event["position"]] = (event["type"], event["data"])
    assert reported == events
    for label, (one, other) in keyed.items():
        assert (one.status, other.status) == (201, 201), (label, one, other)
        assert one.body == other.body, f"{label}: the replay differs from the first answer"
        assert sorted([one.replayed, other.replayed]) == [False, True], (label, one, other)


def code_of(body: Any) -> Any:
    return body.get("code") if isinstance(body, dict) else body


def read_store(url: str) -> dict[str, tuple[str, Any]]:
    """Every stored event, position -> (type, data)."""
    store = open_store(url)
    try:
        return {str(e.position): (e.event.type, json.loads(e.event.data)) for e in store.read()}
    finally:
        store.close()
