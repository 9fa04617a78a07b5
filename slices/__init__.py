"""The example domain, written as vertical slices on top of Fairway.

Each slice is one module: a command (a serializer and a decision over the events it reads),
a view (live or projected) or an automation, together with its test. The package is an
installed Django app so that slices can use Django's URLs, admin and test tools like any
app's code. It holds no slices yet.
"""

from __future__ import annotations
