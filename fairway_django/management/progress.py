"""What a runner shows while it works: a progress bar per catching-up task on a terminal, log
lines otherwise.

A task reports every step. While it is behind, the display counts the events still to go once
(a bounded read of the log), then shows events done, the rate and what is left; when the task
catches up it says so once. On a terminal that is a ``tqdm`` bar per task; when the output is a
file or a pipe (a container's log, systemd), a line through the ``fairway`` logger every few
seconds, which log collectors read better than carriage returns.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from tqdm import tqdm

from ..framework.tasks import Step, Task

logger = logging.getLogger("fairway")

#: Seconds between two progress lines of one task when the output is not a terminal.
LOG_EVERY_SECONDS = 5.0
#: Counting what is left stops here: a task further behind shows "over" this many.
COUNT_LIMIT = 10_000_000

Counter = Callable[[Task, Step], int]


@dataclass
class _Progress:
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    total: int | None = None  # events left when catching up began, once counted
    bar: tqdm[Any] | None = None
    logged: float = 0.0


class ProgressDisplay:
    """Receives every task's steps (from their threads) and shows how far each has come.

    ``remaining(task, step)`` counts the work a task has left after ``step``; it is called once
    per catch-up, in the reporting thread.
    """

    def __init__(self, remaining: Counter, *, stream: IO[str] | None = None, noun: str = "events"
                 ) -> None:
        self._remaining = remaining
        self._stream = stream or sys.stderr
        self._terminal = self._stream.isatty()
        self._noun = noun
        self._lock = threading.Lock()
        self._tasks: dict[str, _Progress] = {}

    def __call__(self, task: Task, step: Step) -> None:
        if step.failed or step.lost_lease or step.finished:
            self._end(task)
            return
        progress = self._tasks.get(task.name)
        if step.caught_up:
            if progress is not None:
                self._end(task)
                rate = progress.done / max(time.monotonic() - progress.started, 1e-9)
                logger.info(
                    "%s: caught up at %s after %s %s (%s/s)", task.name, step.position,
                    f"{progress.done:,}", self._noun, f"{rate:,.0f}",
                )
            return
        if progress is None:
            progress = self._start(task, step)
        progress.done += step.done
        if progress.bar is not None:
            progress.bar.update(step.done)
        elif time.monotonic() - progress.logged >= LOG_EVERY_SECONDS:
            self._log(task, progress)

    def close(self) -> None:
        for name in list(self._tasks):
            self._close_bar(self._tasks.pop(name))

    def _start(self, task: Task, step: Step) -> _Progress:
        left = step.done + self._remaining(task, step)
        progress = _Progress(total=left, logged=time.monotonic())
        with self._lock:
            if self._terminal:
                progress.bar = tqdm(
                    total=left, desc=task.name, unit=f" {self._noun}", unit_scale=True,
                    file=self._stream, position=len(self._tasks), leave=True, dynamic_ncols=True,
                )
            self._tasks[task.name] = progress
        logger.info("%s: catching up, %s %s to go", task.name, f"{left:,}", self._noun)
        return progress

    def _log(self, task: Task, progress: _Progress) -> None:
        now = time.monotonic()
        rate = progress.done / max(now - progress.started, 1e-9)
        left = max((progress.total or 0) - progress.done, 0)
        logger.info(
            "%s: %s %s done (%s/s), about %s to go", task.name, f"{progress.done:,}",
            self._noun, f"{rate:,.0f}", f"{left:,}",
        )
        progress.logged = now

    def _end(self, task: Task) -> None:
        with self._lock:
            progress = self._tasks.pop(task.name, None)
        if progress is not None:
            self._close_bar(progress)

    @staticmethod
    def _close_bar(progress: _Progress) -> None:
        if progress.bar is not None:
            progress.bar.close()
