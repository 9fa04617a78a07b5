"""The embedded engine: FoundationDB's transaction semantics on one machine, over LMDB."""

from __future__ import annotations

from .database import EmbeddedDatabase
from .environment import Durability
from .faults import Fault, FaultInjection

__all__ = ["Durability", "EmbeddedDatabase", "Fault", "FaultInjection"]
