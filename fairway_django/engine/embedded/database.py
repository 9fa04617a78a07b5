"""The embedded engine's database handle, opened from ``embedded:///path?options``."""

from __future__ import annotations

import os
import re
import time
from typing import TypeVar

from ..base import Database
from ..errors import EngineConfigurationError
from ..retry import RetryPolicy
from ..url import StoreURL
from . import environment as environments
from .environment import DEFAULT_MAP_SIZE, Durability, Environment
from .faults import FaultInjection
from .transaction import EmbeddedTransaction
from .turn import Turn

_OPTIONS = {"durability", "map_size", "faults", "fault_seed"}
_SIZE = re.compile(r"^(\d+)([KMGT]i?B?)?$", re.IGNORECASE)
N = TypeVar("N", int, float)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


class EmbeddedDatabase(Database):
    """FDB's transaction semantics in a directory on one machine, shared by its processes.

    Open it anywhere, even before forking: the store is opened by the first transaction of
    each process.
    """

    def __init__(
        self,
        path: str,
        *,
        durability: Durability = Durability.NORMAL,
        map_size: int = DEFAULT_MAP_SIZE,
        faults: FaultInjection | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.path = os.path.abspath(path)
        self.durability = durability
        self.map_size = map_size
        self.faults = faults or FaultInjection()
        query = "" if durability is Durability.NORMAL else f"?durability={durability.value}"
        super().__init__(f"embedded://{self.path}{query}", retry)
        self._environment: Environment | None = None

    @classmethod
    def from_url(cls, url: StoreURL) -> EmbeddedDatabase:
        url.reject_unknown_options(_OPTIONS)
        options = url.options
        return cls(
            url.path,
            durability=_durability(options.get("durability", "normal")),
            map_size=_map_size(options.get("map_size")),
            faults=FaultInjection(
                rate=_number(options.get("faults", "0"), float, "faults"),
                seed=_number(options["fault_seed"], int, "fault_seed")
                if "fault_seed" in options
                else None,
            ),
        )

    def create_transaction(self, *, timeout: float | None = None) -> EmbeddedTransaction:
        return EmbeddedTransaction(self, self._opened(), timeout)

    def turn(self) -> Turn:
        return self._opened().turn

    def _pause(self, seconds: float) -> None:
        with self._opened().turn.set_aside():
            time.sleep(seconds)

    def _opened(self) -> Environment:
        """This process's environment of the store, opened on first use (again after fork)."""
        environment = self._environment
        if environment is None or environment.pid != environments.pid:
            environment = self._environment = environments.acquire(
                self.path, self.durability, self.map_size
            )
        return environment

    def close(self) -> None:
        environment, self._environment = self._environment, None
        if environment is not None:
            environments.release(environment)


def _durability(text: str) -> Durability:
    try:
        return Durability(text)
    except ValueError:
        accepted = ", ".join(d.value for d in Durability)
        raise EngineConfigurationError(
            f"durability={text!r} is not one of {accepted}"
        ) from None


def _map_size(text: str | None) -> int:
    if text is None:
        return DEFAULT_MAP_SIZE
    match = _SIZE.match(text)
    if not match:
        raise EngineConfigurationError(
            f"map_size={text!r} is not a size; write bytes or a size like 64GiB or 512MiB"
        )
    return int(match.group(1)) * _UNITS[(match.group(2) or "")[:1].lower()]


def _number(text: str, kind: type[N], name: str) -> N:
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise EngineConfigurationError(f"{name}={text!r} is not {what}") from None
