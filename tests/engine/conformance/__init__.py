"""The engine conformance suite: one set of tests that every engine must pass.

Everything above the engine (the DCB event store, commands, projections, automations) relies on
FoundationDB's semantics, and is tested day to day on the embedded engine. Those tests prove
something about production only if the embedded engine behaves as FoundationDB does wherever
the layers above can tell. This suite pins that down: each test is named after one behaviour
someone relies on, and runs against every engine through the ``engine`` / ``db`` / ``prefix``
fixtures of ``tests/engine/conftest.py``:

- ``embedded``: always, in a fresh store under ``tmp_path`` (``durability=none`` for speed);
- ``fdb``: when ``FAIRWAY_TEST_FDB_CLUSTER_FILE`` names a cluster file, otherwise skipped with
  that reason. Every key lives under a per-test prefix that is cleared afterwards, so the suite
  can share a cluster.

The modules, by behaviour:

- ``test_reads``: read-your-writes (also against a model of the transaction's writes, with
  Hypothesis), snapshot isolation, range reads (order, reverse, limits, empty and inverted
  ranges, ``get_range_startswith``), ``clear_range``, ``cancel()``;
- ``test_conflicts``: a commit fails with not_committed (1020) exactly when a key inside one of
  its read-conflict ranges was written after its read version: range boundaries (begin
  inclusive, end exclusive), phantoms, limited and abandoned range reads, snapshot reads,
  explicit conflict ranges, blind writes, read-only commits, no lost updates under threads;
- ``test_conflict_model``: the same rule checked by Hypothesis against a model, for random
  read sets and write sets over keys that sit on each other's boundaries;
- ``test_versionstamps``: the committed versionstamp, versionstamped keys and values, order
  across threads and processes, committed versions;
- ``test_atomics``: atomic add (widths, read-your-writes, contention across threads and
  processes without conflicts);
- ``test_limits``: key, value and transaction sizes, keys of every length (the embedded engine
  stores long keys specially), the system key space, transaction_too_old, timeouts;
- ``test_watches``: watches in one process and across processes, cancel, failed commits, the
  read (and conflict range) a watch makes, and its firing on its own transaction's writes;
- ``test_after_commit``: what a transaction refuses once its commit started (used_during_commit):
  range reads continued, versionstamps asked for, watches created;
- ``test_outcome``: settling an unknown commit outcome (``engine.outcome``): a commit still in
  flight cannot happen once the lookup found nothing;
- ``test_retry``: the ``transact`` retry loop and the ``transactional`` decorator.

Errors are asserted by exact class and FoundationDB code. Where FoundationDB allows an error to
surface either at the call or at the latest at commit (its client defers errors from ``set``
and ``clear_range`` through the thread-safe API), the test accepts both. Cross-process tests
run real Python processes (``tests/engine/engine_worker.py``) on the same store URL.

What bites
----------

Recorded by breaking conflict detection on purpose; see below. Each mutation was made by hand in
the embedded engine, the suite run on it, and the mutation reverted (2026-11-28).

1. The committer never finds a conflict (conflict-log check and in-batch check removed):
   53 of 160 embedded cases fail. Every test of ``test_conflicts`` that expects a conflict
   (``test_write_inside_what_was_read_conflicts`` in all 24 variants, range boundaries,
   phantoms on missing keys and empty ranges, limited and abandoned range reads, explicit
   read and write conflict ranges, versionstamped keys written into a read range,
   ``test_concurrent_read_modify_write_loses_no_update``); the Hypothesis model in
   ``test_conflict_model``; ``test_conflicts_on_long_keys_sharing_a_long_prefix_are_exact``;
   the retry loop's re-run, give-up and retry-limit-zero tests; versionstamp order across
   processes (its counter loses updates); the failed-commit cases of versionstamps and watches.
2. Range ends treated as inclusive (an off-by-one in the overlap test): 5 fail:
   ``test_random_reads_conflict_exactly_with_overlapping_writes``,
   ``test_write_ending_where_a_read_range_begins_does_not_conflict`` (set, clear_range,
   add_write_conflict_range) and ``test_add_write_conflict_range_makes_readers_of_it_conflict``.
3. Limited range reads conflicting on the whole range: the 6 ``False`` cases of
   ``test_limited_range_read_conflicts_only_as_far_as_the_last_key_returned`` fail.
4. Snapshot reads recording conflicts: ``test_snapshot_reads_add_no_conflicts[get]`` fails.
"""
