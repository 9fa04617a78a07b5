"""The example domain, written as vertical slices on top of Fairway.

Each slice is one module: a command (a serializer and a decision over the events it reads),
a view (live or projected) or an automation, with its test beside it (``test_<slice>.py``).
The package is an installed Django app so that slices can use Django's URLs, admin and test
tools like any app's code; Fairway's discovery registers every slice in it. The domain (courses,
students, subscriptions, invoices) and curl calls against the demo are in docs/example.md.
"""

from __future__ import annotations
