"""The automations page: each automation's watcher cursor and lag, its queue, the jobs workers
hold, its dead letters with their errors and tracebacks, and the actions on them: replay one or
all, discard (after a confirmation), skip the event a stopped watcher failed on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_safe

from fairway_django.dcb import InvalidPosition, Position
from fairway_django.framework import registry
from fairway_django.framework.automations import Automation as AutomationClass
from fairway_django.framework.jobs import JobQueue
from fairway_django.framework.leases import now_ms
from fairway_django.framework.status import AutomationStatus, automation_statuses, lag_text
from fairway_django.models import Automation
from fairway_django.store import get_store

from .base import NothingDone, Page, StoreAdmin

#: Queued jobs and dead letters listed on an automation's page.
JOBS_LISTED = 50


class AutomationAdmin(StoreAdmin):
    def pages(self) -> list[tuple[str, Page, str]]:
        return [
            ("<str:name>/", self.automation_view, "detail"),
            ("<str:name>/dead/<str:position>/replay/", self.replay_view, "replay"),
            ("<str:name>/dead/<str:position>/discard/", self.discard_view, "discard"),
            ("<str:name>/replay-all/", self.replay_all_view, "replay_all"),
            ("<str:name>/discard-all/", self.discard_all_view, "discard_all"),
            ("<str:name>/skip/", self.skip_view, "skip"),
        ]

    @method_decorator(require_safe)
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self.require_view(request)
        statuses = automation_statuses(get_store(), dict(registry.automations))
        return self.render(request, "admin/fairway/automations.html", {
            "title": "Automations", "trail": [("Automations", None)],
            "rows": [self._row(status) for status in statuses],
        })

    @method_decorator(require_safe)
    def automation_view(self, request: HttpRequest, name: str) -> HttpResponse:
        self.require_view(request)
        automation = self._automation(name)
        store = get_store()
        queue = JobQueue(store, automation)
        after_text = request.GET.get("after")
        try:
            after = Position.parse(after_text) if after_text else None
        except InvalidPosition as error:
            return self.problem(request, "Not a position", [str(error)], 400)
        (status,) = automation_statuses(store, {name: automation})
        dead = queue.dead_letters(after, JOBS_LISTED + 1)
        return self.render(request, "admin/fairway/automation.html", {
            "title": f"Automation {name}", "name": name, "row": self._row(status),
            "trail": [("Automations", self.url("changelist")), (name, None)],
            "jobs": queue.jobs(limit=JOBS_LISTED),
            "dead": [
                (letter, datetime.fromtimestamp(letter.failed_ms / 1000, UTC))
                for letter in dead[:JOBS_LISTED]
            ],
            "more_dead": f"?after={dead[JOBS_LISTED - 1].position}"
            if len(dead) > JOBS_LISTED else None,
            "first_dead": "?" if after is not None else None,
            "may_replay": self.may(request, "replay_job"),
            "may_discard": self.may(request, "discard_job"),
            "may_skip": self.may(request, "skip_automation_event"),
        })

    def replay_view(self, request: HttpRequest, name: str, position: str) -> HttpResponse:
        return self._on_letter(request, name, position, replay=True)

    def discard_view(self, request: HttpRequest, name: str, position: str) -> HttpResponse:
        return self._on_letter(request, name, position, replay=False)

    def replay_all_view(self, request: HttpRequest, name: str) -> HttpResponse:
        return self._on_all_letters(request, name, replay=True)

    def discard_all_view(self, request: HttpRequest, name: str) -> HttpResponse:
        return self._on_all_letters(request, name, replay=False)

    def skip_view(self, request: HttpRequest, name: str) -> HttpResponse:
        queue = JobQueue(get_store(), self._automation(name))

        def skip() -> str:
            failure = queue.skip_failed_event()
            if failure is None:
                raise NothingDone(f"{name}: the watcher has no failed event to skip")
            return f"{name}: skipped {failure.describe()}"

        return self.action(
            request, permission="skip_automation_event", subject=Automation(name=name),
            question=(
                f"Skip the event {name}'s watcher failed on? No job will be queued for it."
            ),
            perform=skip, back=self.url("detail", name),
        )

    def _on_letter(
        self, request: HttpRequest, name: str, position: str, *, replay: bool
    ) -> HttpResponse:
        queue = JobQueue(get_store(), self._automation(name))
        try:
            at = Position.parse(position)
        except InvalidPosition as error:
            return self.problem(request, "Not a position", [str(error)], 400)

        def act() -> str:
            done = queue.replay(at) if replay else queue.discard(at)
            if not done:
                raise NothingDone(f"{name}: no dead letter is at {at} (replayed or discarded?)")
            return f"{name}: {'replayed' if replay else 'discarded'} the dead letter at {at}"

        return self.action(
            request, permission="replay_job" if replay else "discard_job",
            subject=Automation(name=name),
            question=f"Discard {name}'s dead letter at {at}? Its job will never run.",
            perform=act, back=self.url("detail", name), confirm=not replay,
        )

    def _on_all_letters(self, request: HttpRequest, name: str, *, replay: bool) -> HttpResponse:
        queue = JobQueue(get_store(), self._automation(name))

        def act() -> str:
            if replay:
                return f"{name}: replayed {queue.replay_all():,} dead letters"
            return f"{name}: discarded {queue.discard_all():,} dead letters"

        return self.action(
            request, permission="replay_job" if replay else "discard_job",
            subject=Automation(name=name),
            question=f"Queue every dead letter of {name} again, attempts from zero?" if replay
            else f"Discard every dead letter of {name}? Their jobs will never run.",
            perform=act, back=self.url("detail", name),
        )

    def _automation(self, name: str) -> type[AutomationClass]:
        automation = registry.automations.get(name)
        if automation is None:
            raise Http404(f"no automation named {name!r} is in the code")
        return automation

    def _row(self, status: AutomationStatus) -> dict[str, Any]:
        now = now_ms()
        return {
            "status": status, "name": status.name, "queue": status.queue,
            "url": self.url("detail", status.name),
            "lag": lag_text(status.lag_events),
            "leased": [
                (held, max(held.expires_ms - now, 0) / 1000) for held in status.queue.leased
            ],
        }
