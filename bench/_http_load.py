"""The clients of bench/http.py: processes of threads, each thread one client on a keep-alive
HTTP connection, posting subscriptions of random students to random courses.

A client is ``http.client`` rather than ``requests``: both keep the connection alive (and
reconnect when a sync gunicorn worker closes it), but ``http.client`` spends a fraction of the
CPU per request, and the clients share the machine's two cores with the server. Every process
starts at one barrier; the first ``warmup`` seconds are not counted (the workers load Django,
open the store, fill caches), then each request started in the next ``seconds`` is timed from
sending it to having read its whole response.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Sequence
from multiprocessing.synchronize import Barrier

from bench._http_world import World
from bench._timing import fan_out, percentile


@dataclasses.dataclass(frozen=True)
class Load:
    port: int
    token: str
    world: World
    processes: int
    threads: int
    warmup: float
    seconds: float
    seed: int = 1
    #: The endpoint, with ``{}`` for the course id.
    path: str = "/api/courses/{}/subscriptions"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a set of clients saw: every counted request's latency, and the answers by kind."""

    latencies: list[float]
    answers: Counter[str]
    errors: int
    seconds: float
    #: CPU time the clients themselves used (warm-up included): CPU the server did not get.
    client_cpu: float = 0.0

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1e3

    @classmethod
    def merged(cls, parts: Sequence[Outcome]) -> Outcome:
        latencies = sorted(x for part in parts for x in part.latencies)
        answers: Counter[str] = Counter()
        for part in parts:
            answers.update(part.answers)
        errors = sum(part.errors for part in parts)
        cpu = sum(part.client_cpu for part in parts)
        return cls(latencies, answers, errors, max(part.seconds for part in parts), cpu)


def drive(load: Load) -> Outcome:
    """Run the clients in fresh processes and merge what they saw."""
    return Outcome.merged(fan_out(_client_process, load.processes, load))


def _client_process(index: int, barrier: Barrier, load: Load) -> Outcome:
    outcomes: list[Outcome] = []
    barrier.wait()
    start = time.perf_counter()
    cpu = time.process_time()
    threads = [
        threading.Thread(target=lambda n=n: outcomes.append(_client(load, index, n, start)))
        for n in range(load.threads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    merged = Outcome.merged(outcomes)
    return dataclasses.replace(merged, client_cpu=time.process_time() - cpu)


def _client(load: Load, process: int, thread: int, start: float) -> Outcome:
    world = load.world
    rng = random.Random(load.seed * 10_000 + process * 100 + thread)
    headers = {
        "Authorization": f"Token {load.token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    connection = http.client.HTTPConnection("127.0.0.1", load.port, timeout=60)
    clock = time.perf_counter
    counted_from = start + load.warmup
    deadline = counted_from + load.seconds
    latencies: list[float] = []
    answers: Counter[str] = Counter()
    errors = 0
    try:
        while (sent := clock()) < deadline:
            course = world.course_id(rng.randrange(world.courses))
            body = (
                b'{"student_id": "%s"}' % world.student_id(rng.randrange(world.students)).encode()
            )
            try:
                connection.request("POST", load.path.format(course), body, headers)
                response = connection.getresponse()
                content = response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                errors += 1
                continue
            if sent >= counted_from:
                latencies.append(clock() - sent)
                answers[_answer(response.status, content)] += 1
    finally:
        connection.close()
    return Outcome(latencies, answers, errors, load.seconds)


def _answer(status: int, content: bytes) -> str:
    """``201``, or the status with the body's rejection code (``409 course_full``)."""
    if status == 201:
        return "201"
    try:
        code = json.loads(content).get("code", "")
    except (ValueError, AttributeError):
        code = ""
    return f"{status} {code}".strip()
