"""Where the framework keeps its own state, beside the event log in the same engine.

Read models, checkpoints, job queues and leases are engine keys like the events, so one engine
(one directory, or one FoundationDB cluster) holds everything, and a read model's change commits
in the same transaction as the checkpoint that says which events it reflects. Everything lives
under the tuple ``("fairway", namespace)``, next to the log's ``("dcb", namespace)``::

    ("m", projection)             a projection's generations (listed even once its code is gone)
    ("p", projection, ...)        a projection: its read models, checkpoints and failures
    ("a", automation, ...)        an automation: its cursor, jobs, queues and dead letters
    ("l", task)                   the lease of a task that one process at a time may run
"""

from __future__ import annotations

from fairway_django.dcb import DcbStore
from fairway_django.engine import keys


class FrameworkKeyspace:
    """The key prefixes of one store namespace's framework state."""

    def __init__(self, namespace: str) -> None:
        self.root = keys.pack(("fairway", namespace))
        self.catalogs = self.root + keys.pack(("m",))
        self.projections = self.root + keys.pack(("p",))
        self.automations = self.root + keys.pack(("a",))
        self.leases = self.root + keys.pack(("l",))

    def catalog(self, name: str) -> bytes:
        return self.catalogs + keys.pack((name,))

    def projection(self, name: str) -> bytes:
        return self.projections + keys.pack((name,))

    def automation(self, name: str) -> bytes:
        return self.automations + keys.pack((name,))

    def lease(self, task: str) -> bytes:
        return self.leases + keys.pack((task,))


def keyspace_of(store: DcbStore) -> FrameworkKeyspace:
    """The framework keyspace beside ``store``'s log."""
    return FrameworkKeyspace(store.namespace)
