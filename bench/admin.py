"""What the admin's event browser costs on a big store: server time per page, at any depth.

Loads a store with ``--events`` events of the example project's types (a million by default,
spread over 30 days, most of them subscriptions to 5,000 courses), then requests each page
through the whole Django stack in this process (middleware, session login, admin view,
templates: Django's test client, so no network time) and prints the median and worst of
``--samples`` requests. Like ``project/wsgi.py``, the process freezes what start-up loaded out
of the garbage collector's reach (``gc.freeze()``); without it, a full collection every few
requests walks all of Django and adds 40 to 70 ms to that request:

- **first page**: the newest 50 events, the type filter with its counts, and the chart drawn
  from the newest 1,000 events;
- **filtered pages**: by type, by tag, by type and tag, by tag prefix, by a time range;
- **deep page**: 50 events before a position near the start of the log;
- **event detail**: one event, decoded through its class.

Run:  python bench/admin.py [--events 1000000] [--samples 20]   (about two minutes)
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/codec.py

import argparse
import gc
import os
import random
import time
from datetime import UTC, datetime, timedelta

from bench._timing import machine, percentile, scratch_dir

#: Each page must be served within this, at a million events (issue: the admin's browser).
BUDGET_MS = 100.0
COURSES = 5_000
SPAN = timedelta(days=30)


def load(url: str, count: int) -> None:
    from fairway_django.dcb import open_store
    from fairway_django.framework.codec import encode
    from slices.events import CourseDefined, StudentRegistered, StudentSubscribedToCourse

    rng = random.Random(1)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    step = SPAN / count
    with open_store(url) as store:
        for first in range(0, count, 1000):
            batch = []
            for n in range(first, min(first + 1000, count)):
                when = start + step * n
                if n < COURSES:
                    event: object = CourseDefined(course_id=f"c{n}", title=f"Course {n}",
                                                  capacity=50)
                elif n % 10 == 0:
                    event = StudentRegistered(student_id=f"s{n}", username=f"u{n}", name="S")
                else:
                    event = StudentSubscribedToCourse(
                        course_id=f"c{rng.randrange(COURSES)}", student_id=f"s{n - n % 10}"
                    )
                batch.append(encode(event, occurred_at=when))  # type: ignore[arg-type]
            store.append(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--dir", help="where to put the store (default: var/bench)")
    args = parser.parse_args()
    print(machine())
    with scratch_dir(args.dir) as directory:
        url = f"embedded://{directory}/store?durability=none"
        os.environ.update({
            "DJANGO_SETTINGS_MODULE": "tests.settings", "DJANGO_DEBUG": "false",
            "FAIRWAY_STORE_URL": url, "DATABASE_URL": f"sqlite:///{directory / 'db.sqlite3'}",
        })
        started = time.perf_counter()
        load(url, args.events)
        print(f"loaded {args.events:,} events in {time.perf_counter() - started:.1f} s "
              "(embedded engine, durability none)")
        measure(args.samples)


def measure(samples: int) -> None:
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    from fairway_django.store import get_store

    call_command("migrate", verbosity=0, interactive=False)
    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.create_superuser("bench", "bench@example.com", "pw"))
    client.get("/admin/fairway/event/")  # start-up done: URLconf, templates, store opened
    gc.freeze()  # as project/wsgi.py does after start-up
    store = get_store()
    near_start = list(store.read(limit=200))[-1].position
    middle = datetime(2026, 11, 16, tzinfo=UTC)
    pages = [
        ("first page (list, type counts, chart)", ""),
        ("filtered: type", "?type=StudentRegistered"),
        ("filtered: tag", "?tag=course:c42"),
        ("filtered: type and tag", "?type=StudentSubscribedToCourse&tag=course:c42"),
        ("filtered: tag prefix (student:)", "?tag_prefix=student:"),
        ("filtered: time range (one hour)",
         f"?since={middle:%Y-%m-%dT%H:%M}&until={middle + timedelta(hours=1):%Y-%m-%dT%H:%M}"),
        ("deep page (200th event from the start)", f"?before={near_start}"),
        ("event detail", f"{near_start}/"),
    ]
    worst = 0.0
    for label, query in pages:
        url = f"/admin/fairway/event/{query}"
        response = client.get(url)  # warm: templates compiled, caches filled
        assert response.status_code == 200, (url, response.status_code)
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1e3)
        times.sort()
        worst = max(worst, percentile(times, 0.5))
        print(f"{label:<42} p50 {percentile(times, 0.5):6.1f} ms  worst {times[-1]:6.1f} ms  "
              f"(p50 < {BUDGET_MS:.0f} ms: {'ok' if percentile(times, 0.5) < BUDGET_MS else 'NOT MET'})")
    print(f"slowest page's p50: {worst:.1f} ms")


if __name__ == "__main__":
    main()
