"""A second process for the DCB concurrency tests (run as a script, never imported by them).

Usage: ``python dcb_worker.py <store-url> <retry-limit|default> <command> [args...]``. The worker
opens its own store on the URL (``retry-limit`` 0 makes every engine conflict an error instead
of a retry), prints ``ready`` and waits for one line on stdin, so the test can release several
workers at once. One-shot commands then print their result as one JSON line; interactive
commands (``race``, ``publish``) keep talking one line at a time, as described below. Any
unexpected error ends the process with a traceback on stderr and a non-zero exit status.

Commands:
  decide <name> <entities> <count>
      ``count`` command-pattern decisions, round robin over the entities ``<name>-0`` ...:
      read the entity's events, note the head, append one with the condition (same query,
      after the last position read). Prints {"ok", "condition_failed", "engine_errors",
      "decisions": [[head after the read or null, appended position], ...]}.
  race <entity> <name>
      For every line ``read`` on stdin: read the entity, print ``read <position|->``; then on
      the line ``append <round>``: append ``<round>:<name>`` with the condition and print
      {"round", "won"}. Ends on ``stop`` (or end of input).
  append <name> <appends> <events-per-append>
      Unconditional appends; event ``k`` of append ``i`` has data ``<name>:<i>:<k>``.
      Prints {"positions": [last position of each append]}.
  count <name> <increments>
      Increments the counter entity ``counter`` by conditional appends (read its events,
      append ``count + 1`` with metadata {"by": name} after the last one read), retrying on
      AppendConditionFailed until ``increments`` succeeded. Prints {"increments": [[value,
      position], ...], "condition_failed": n}.
  publish <tag>
      For every line ``<n>`` on stdin: note ``time.time()``, append one event of type
      ``Ping`` with data ``<n>`` and the tag, then print {"n", "sent", "position"}. Ends on
      ``stop`` (or end of input).
"""

from __future__ import annotations

import json
import sys
import time

QUERY_TYPES = ("A", "B")


def main(url: str, retry_limit: str, command: str, *args: str) -> object:
    from fairway_django.dcb import (
        AppendCondition,
        AppendConditionFailed,
        Event,
        Query,
        QueryItem,
        open_store,
    )
    from fairway_django.engine import FDBError, RetryPolicy

    retry = None if retry_limit == "default" else RetryPolicy(retry_limit=int(retry_limit))
    store = open_store(url, retry=retry)

    def query_of(entity: str) -> Query:
        return Query([QueryItem(types=QUERY_TYPES, tags=[f"entity:{entity}"])])

    def emit(value: object) -> None:
        print(json.dumps(value), flush=True)

    print("ready", flush=True)
    sys.stdin.readline()
    try:
        if command == "decide":
            name, entities, count = args[0], int(args[1]), int(args[2])
            ok = failed = engine_errors = 0
            decisions: list[list[str | None]] = []
            for i in range(count):
                entity = f"{name}-{i % entities}"
                query = query_of(entity)
                seen = list(store.read(query))
                after = seen[-1].position if seen else None
                head = store.head()  # commits after this one came between read and append
                event = Event("A", b"%s:%d" % (name.encode(), i), [f"entity:{entity}"])
                try:
                    position = store.append([event], AppendCondition(query, after))
                    decisions.append([None if head is None else str(head), str(position)])
                    ok += 1
                except AppendConditionFailed:
                    failed += 1
                except FDBError:
                    engine_errors += 1
            return {
                "ok": ok,
                "condition_failed": failed,
                "engine_errors": engine_errors,
                "decisions": decisions,
            }
        if command == "race":
            entity, name = args[0], args[1]
            query = query_of(entity)
            while True:
                line = sys.stdin.readline().split()
                if not line or line[0] == "stop":
                    return {"stopped": True}
                assert line == ["read"], line
                seen = list(store.read(query))
                after = seen[-1].position if seen else None
                print(f"read {after if after is not None else '-'}", flush=True)
                line = sys.stdin.readline().split()
                assert len(line) == 2 and line[0] == "append", line
                round_ = int(line[1])
                event = Event("A", f"{round_}:{name}".encode(), [f"entity:{entity}"])
                try:
                    position = store.append([event], AppendCondition(query, after))
                except AppendConditionFailed:
                    emit({"round": round_, "won": False})
                else:
                    emit({"round": round_, "won": True, "position": str(position)})
        if command == "append":
            name, appends, per_append = args[0], int(args[1]), int(args[2])
            lasts = []
            for i in range(appends):
                events = [
                    Event("C", f"{name}:{i}:{k}".encode(), [f"writer:{name}"])
                    for k in range(per_append)
                ]
                lasts.append(str(store.append(events)))
            return {"positions": lasts}
        if command == "count":
            name, wanted = args[0], int(args[1])
            query = query_of("counter")
            done: list[list[object]] = []
            failures = 0
            while len(done) < wanted:
                seen = list(store.read(query))
                after = seen[-1].position if seen else None
                value = len(seen) + 1
                event = Event("B", str(value).encode(), ["entity:counter"], {"by": name})
                try:
                    position = store.append([event], AppendCondition(query, after))
                except AppendConditionFailed:
                    failures += 1
                    continue
                done.append([value, str(position)])
            return {"increments": done, "condition_failed": failures}
        if command == "publish":
            tag = args[0]
            while True:
                line = sys.stdin.readline().strip()
                if not line or line == "stop":
                    return {"stopped": True}
                sent = time.time()
                position = store.append([Event("Ping", line.encode(), [tag])])
                emit({"n": int(line), "sent": sent, "position": str(position)})
        raise SystemExit(f"unknown command {command!r}")
    finally:
        store.close()


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:])), flush=True)
