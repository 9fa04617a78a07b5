"""How our store's costs grow with its size: D's and C1's operations on M's big store.

D times reads of one entity on a store of 100,000 events, C1 decisions on 10,000, A appends on
a store that starts empty; none of that says whether a read or an append costs more once the
store holds ten or a hundred times as much. M loads a store of a million events anyway, so the
memory part's child process times the same operations on it once the stream's peak memory has
been taken (nothing here may run before it: it would be counted as the stream's). Ours only:
the question is how our indexes scale, not how we compare with UmaDB.

At a million events each of the 1,000 entities has 1,000 events, ten times D's 100, so the
entity is also read with ``limit`` = D's count: that read does D's work on the bigger store.
Every entity's events share one type (1,000 is a multiple of the 4 types), so a decision's read
of types A and B finds all of an entity's events or none of them.
"""

from __future__ import annotations

import random
import time
from typing import Any

from bench._dcb_api import entity_tag, make_events, tenant_tag
from bench._dcb_ours import OursClient
from bench._dcb_workloads import DECISION_TYPES, WARMUP_READS, count, decide
from bench._timing import percentile


def measure(
    client: OursClient,
    events: int,
    entities: int,
    reads: int,
    limit: int,
    decisions: int,
    appends: int,
) -> dict[str, Any]:
    """Entity reads (all of one entity's events, then ``limit`` of them), then sequential
    decisions, then single-event appends continuing the stored events' pattern; one dict."""
    rng = random.Random(11)
    result: dict[str, Any] = {"events": events, "per_entity": events // entities, "limit": limit}
    result.update(entity_reads(client, rng, events // entities, entities, reads, limit))
    result.update(sequential_decisions(client, rng, entities, decisions))
    more = make_events(client, events, events + appends, entities)
    start = time.perf_counter()
    for event in more:
        client.append([event])
    result.update(appends=appends, append_seconds=time.perf_counter() - start)
    return result


def entity_reads(
    client: OursClient,
    rng: random.Random,
    per_entity: int,
    entities: int,
    reads: int,
    limit: int,
) -> dict[str, Any]:
    """Read random entities in full and ``limit`` of the events of other random entities, in
    turns so that noise on the machine lands on both alike; p50 and p95 of each.

    No read follows one of the same entity, which would find its pages fresh in the cache:
    D's reads, which the limited ones are set beside, don't either.
    """
    full: list[float] = []
    limited: list[float] = []
    wrong = 0
    clock = time.perf_counter
    for n in range(WARMUP_READS + reads):
        query = client.query((), (entity_tag(rng.randrange(entities)),))
        start = clock()
        found = count(client, query)
        wait = clock() - start
        query = client.query((), (entity_tag(rng.randrange(entities)),))
        start = clock()
        found_limited = sum(1 for _ in client.store.read(query, limit=limit))
        wait_limited = clock() - start
        wrong += (found != per_entity) + (found_limited != min(limit, per_entity))
        if n >= WARMUP_READS:
            full.append(wait)
            limited.append(wait_limited)
    full.sort()
    limited.sort()
    return {
        "reads": reads,
        "wrong_reads": wrong,
        "read_all_ms": [percentile(full, q) * 1e3 for q in (0.5, 0.95)],
        "read_limited_ms": [percentile(limited, q) * 1e3 for q in (0.5, 0.95)],
    }


def sequential_decisions(
    client: OursClient, rng: random.Random, entities: int, decisions: int
) -> dict[str, Any]:
    """C1's decision (``decide``) on random entities, one after another, each one timed."""
    waits: list[float] = []
    found = 0
    clock = time.perf_counter
    for _ in range(decisions):
        entity = rng.randrange(entities)
        tag = entity_tag(entity)
        start = clock()
        decide(client, tag, tenant_tag(entity))
        waits.append(clock() - start)
        # What its read found: what the query matches now, less the event it appended. Counted
        # after the decision, so that reading it first does not warm the decision's read.
        found += count(client, client.query(DECISION_TYPES, (tag,))) - 1
    seconds = sum(waits)
    waits.sort()
    return {
        "decisions": decisions,
        "decision_seconds": seconds,
        "decision_ms": [percentile(waits, q) * 1e3 for q in (0.5, 0.95)],
        "decision_events_read": found / decisions if decisions else 0.0,
    }
