"""Given/when/then for slices: facts in the store, one command or request, what came out.

A slice's test reads like its behaviour: *given* these events happened, *when* this command
runs (or this HTTP request is made), *then* these events were appended, or it was rejected
with this code, or the view shows this. Everything runs for real: the events go into an
isolated store, commands run through ``run_command`` with its retry loop, requests through
Django and DRF. Failures raise ``AssertionError`` with a message that says what was expected
and what happened, so the helpers work with plain pytest and with any other runner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..dcb import DcbStore, Position
from ..framework import (
    Command,
    CommandResult,
    Event,
    Rejected,
    View,
    compute_view,
    registry,
    run_command,
)
from ..framework.automations import Automation
from ..framework.codec import decode, encode
from ..framework.keyspace import keyspace_of
from ..framework.leases import Lease, process_owner
from ..framework.projections import Projection
from ..framework.projector import catch_up
from ..framework.readmodels import ReadModel
from ..framework.stopping import Stopping
from ..framework.tasks import run_to_head
from ..framework.watcher import AutomationWatcher
from ..framework.workers import JobWorker

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse


class Scenario:
    """One slice test: ``given(...)``, then ``when(...)`` or ``when_request(...)``, then checks.

    ``store`` is where events go and come from; ``user`` makes the user that
    ``when_request`` acts as when it is given none (the ``fairway`` fixture creates one in
    the test database on first use). Each ``when`` replaces the previous outcome, so one test
    can tell a longer story: given, when, then, when, then.
    """

    def __init__(self, store: DcbStore, *, user: Callable[[], AbstractBaseUser]) -> None:
        self.store = store
        self._default_user = user
        #: What the last ``when`` returned, or None (rejected, or it was a request).
        self.result: CommandResult | None = None
        #: The rejection of the last ``when``, or None.
        self.rejection: Rejected | None = None
        #: The response to the last ``when_request``, or None.
        self.response: HttpResponse | None = None
        #: The events the last ``when`` or ``when_request`` appended, in order.
        self.appended: list[Event] = []
        self._acted = ""

    def given(self, *events: Event) -> Scenario:
        """Append ``events`` (in one append) as the facts the test starts from."""
        if events:
            self.store.append([encode(event) for event in events])
        return self

    def when(self, command: type[Command], **data: Any) -> Scenario:
        """Run ``command`` with ``data`` as ``decide``'s arguments, as ``run_command`` does.

        ``data`` goes to ``decide`` as given, not through the command's ``Input`` serializer:
        that is the HTTP layer's part, tested with ``when_request``. A ``Rejected`` is kept
        for ``then_rejected``; any other error propagates, since it is a bug, not an outcome.
        """
        self._start(f"when({command.__name__})")
        try:
            self.result = run_command(command, data, store=self.store)
        except Rejected as rejection:
            self.rejection = rejection
        else:
            self.appended = [recorded.event for recorded in self.result.events]
        return self

    def when_request(
        self, method: str, path: str, data: Mapping[str, Any] | None = None, *,
        user: AbstractBaseUser | AnonymousUser | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Scenario:
        """Make an HTTP request through Django, as ``user`` (default: the scenario's user).

        ``path`` is the full path (``"/api/courses"``); ``data`` is sent as JSON, or as the
        query string of a GET. Pass ``AnonymousUser()`` to send the request without a login.
        """
        from rest_framework.test import APIClient

        self._start(f"when_request({method} {path})")
        before = self.store.head()
        client = APIClient()
        acting = self._default_user() if user is None else user
        if acting.is_authenticated:
            client.force_authenticate(acting)
        send = getattr(client, method.lower())
        body = {} if method.upper() in ("GET", "HEAD") else {"format": "json"}
        self.response = send(path, data, headers=dict(headers or {}), **body)
        self.appended = self._events_after(before)
        return self

    def then(self, *events: Event) -> Scenario:
        """The ``when`` succeeded and appended exactly ``events``, in this order."""
        self._check_succeeded("then()")
        if self.appended != list(events):
            raise AssertionError(
                f"then(): {self._acted} appended {_listed(self.appended)}, "
                f"expected {_listed(events)}"
            )
        return self

    def then_nothing(self) -> Scenario:
        """The ``when`` succeeded and appended nothing (it decided that nothing happens)."""
        return self.then()

    def then_rejected(self, code: str) -> Scenario:
        """The ``when`` was rejected with ``code`` and appended nothing."""
        actual = self._rejection_code()
        if actual != code:
            raise AssertionError(
                f"then_rejected({code!r}): {self._acted} {self._outcome()}, "
                f"expected the rejection {code!r}"
            )
        if self.appended:
            raise AssertionError(
                f"then_rejected({code!r}): {self._acted} was rejected but appended "
                f"{_listed(self.appended)}"
            )
        return self

    def then_view(self, view: type[View], expected: Any, **params: Any) -> Scenario:
        """The live view ``view`` with ``params`` now has the state ``expected``."""
        state = compute_view(view, params, store=self.store).state
        if state != expected:
            raise AssertionError(
                f"then_view({view.__name__}): the state is {state!r}, expected {expected!r}"
            )
        return self

    def catch_up(self, *projections: type[Projection]) -> Scenario:
        """Apply the events so far to ``projections``' read models, in this thread, as
        ``run_projectors --once`` would: before a ``when_request`` that reads them."""
        for projection in projections:
            catch_up(projection, self.store)
        return self

    def then_document(
        self, projection: type[Projection], key: str, expected: Mapping[str, Any] | None
    ) -> Scenario:
        """Caught up, ``projection`` holds ``expected`` at ``key`` (None: no document)."""
        catch_up(projection, self.store)
        document = ReadModel(projection, self.store).get(key)
        if document != expected:
            raise AssertionError(
                f"then_document({projection.__name__}, {key!r}): the document is "
                f"{document!r}, expected {expected!r}"
            )
        return self

    def run_jobs(self, *automations: type[Automation]) -> Scenario:
        """Queue the jobs of the events so far and run every job that is due, in this thread,
        as ``run_automations --once`` would (a job that fails waits out its backoff, so it is
        not run again here); then ``then`` checks what the jobs appended."""
        before = self.store.head()
        owner = process_owner()
        for automation in automations:
            watcher = AutomationWatcher(automation, self.store)
            lease = Lease(keyspace_of(self.store).lease(watcher.lease_name), owner, 30.0)
            step = run_to_head(watcher, self.store.database, lease)
            if step.failed or step.lost_lease:
                failure = watcher.queue.stats().failure
                raise AssertionError(
                    f"run_jobs({automation.__name__}): its watcher stopped: "
                    f"{failure.error if failure else 'another process holds it'}"
                )
        JobWorker(automations, self.store, owner=owner).run(Stopping(), once=True)
        self._start(f"run_jobs({', '.join(a.__name__ for a in automations)})")
        self.appended = self._events_after(before)
        return self

    def then_status(self, status: int, json: Any = None) -> Scenario:
        """The response has ``status`` and, if ``json`` is given, exactly that JSON body.

        Use ``unittest.mock.ANY`` for values a test cannot know, such as positions.
        """
        response = self._require_response(f"then_status({status})")
        if response.status_code != status or (json is not None and _body(response) != json):
            raise AssertionError(
                f"then_status({status}{'' if json is None else f', {json!r}'}): "
                f"{self._acted} {self._outcome()}"
            )
        return self

    def _start(self, acted: str) -> None:
        self._acted = acted
        self.result = self.rejection = self.response = None
        self.appended = []

    def _events_after(self, before: Position | None) -> list[Event]:
        return [decode(event, registry.events).event for event in self.store.read(after=before)]

    def _rejection_code(self) -> str | None:
        if self.rejection is not None:
            return self.rejection.code
        if self.response is not None and self.response.status_code >= 400:
            body = _body(self.response)
            return body.get("code") if isinstance(body, dict) else None
        return None

    def _check_succeeded(self, check: str) -> None:
        if not self._acted:
            raise AssertionError(f"{check}: call when() or when_request() first")
        failed = self.rejection is not None or (
            self.response is not None and self.response.status_code >= 400
        )
        if failed:
            raise AssertionError(f"{check}: {self._acted} {self._outcome()}, expected success")

    def _require_response(self, check: str) -> HttpResponse:
        if self.response is None:
            raise AssertionError(f"{check}: call when_request() first (there is no response)")
        return self.response

    def _outcome(self) -> str:
        if not self._acted:
            return "has not happened: call when() or when_request() first"
        if self.rejection is not None:
            return f"was rejected with {self.rejection.code!r}: {self.rejection.detail}"
        if self.response is not None:
            return f"answered {self.response.status_code} {_body(self.response)!r}"
        return f"succeeded and appended {_listed(self.appended)}"


def _body(response: HttpResponse) -> Any:
    """The response's JSON body, or its text when it is not JSON."""
    try:
        return response.json()  # type: ignore[attr-defined]
    except ValueError:
        return response.content.decode(errors="replace")


def _listed(events: Any) -> str:
    return "nothing" if not events else "[" + ", ".join(repr(event) for event in events) + "]"
