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
- ``test_watches``: watches in one process and across processes, cancel, failed commits;
- ``test_retry``: the ``transact`` retry loop and the ``transactional`` decorator.

Errors are asserted by exact class and FoundationDB code. Where FoundationDB allows an error to
surface either at the call or at the latest at commit (its client defers errors from ``set``
and ``clear_range`` through the thread-safe API), the test accepts both. Cross-process tests
run real Python processes (``tests/engine/engine_worker.py``) on the same store URL.

What bites
----------

Recorded by breaking conflict detection on purpose; see below.
"""
