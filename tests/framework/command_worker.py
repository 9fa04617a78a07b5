"""A separate process running one command with an idempotency key (run by the tests with
``python -m tests.framework.command_worker <store-url> <key> <course> <student>``).

It opens its own store, prints ``ready``, waits for one line on stdin (so that the test can
release several workers at once), runs ``Subscribe`` and prints the result as one JSON line.
"""

from __future__ import annotations

import json
import sys


def main(url: str, key: str, course_id: str, student_id: str) -> None:
    from fairway_django.dcb import open_store
    from fairway_django.framework import registry, run_command

    from .model import SeminarDefined, SeminarJoined, Subscribe

    with open_store(url) as store, registry.temporarily(SeminarDefined, SeminarJoined):
        print("ready", flush=True)
        sys.stdin.readline()
        result = run_command(
            Subscribe, {"course_id": course_id, "student_id": student_id}, store=store,
            idempotency_key=key,
        )
        print(json.dumps({"position": str(result.position), "duplicate": result.duplicate}))


if __name__ == "__main__":
    main(*sys.argv[1:])
