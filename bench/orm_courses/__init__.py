"""The subscribe-a-student API as a Django team would write it without Fairway: the peer of
bench/http.py.

Three ORM models (a course, a student, a subscription unique per pair) and one DRF view that
enforces the same rules as ``slices/subscribe_student.py`` inside ``transaction.atomic()``,
locking the course and the student rows with ``select_for_update()``. It runs on PostgreSQL or
on SQLite (``settings.py`` reads which from the environment) and exists only for the benchmark:
the product never imports it.
"""
