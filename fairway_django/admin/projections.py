"""The projections page: every generation's checkpoint, lag, runner and failure, the actions
that fix them (rebuild, skip the failed event, drop an old generation), and each read model's
documents by key and by lookup."""

from __future__ import annotations

from typing import Any

import msgspec
from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_safe

from fairway_django.dcb import DcbStore
from fairway_django.framework import registry
from fairway_django.framework.documents import MAX_KEY_LENGTH, Document
from fairway_django.framework.errors import InvalidDocument
from fairway_django.framework.generations import GenerationError, Generations
from fairway_django.framework.leases import now_ms
from fairway_django.framework.projections import Projection as ProjectionClass
from fairway_django.framework.query import select
from fairway_django.framework.readmodels import ProjectionNotReady, ReadModel
from fairway_django.framework.status import GenerationStatus, lag, lag_text, projection_statuses
from fairway_django.models import Projection
from fairway_django.store import get_store

from .base import Page, StoreAdmin, problems

#: Documents on a page of a read model.
DOCUMENTS_PER_PAGE = 50


class ProjectionAdmin(StoreAdmin):
    def pages(self) -> list[tuple[str, Page, str]]:
        return [
            ("<str:name>/rebuild/", self.rebuild_view, "rebuild"),
            ("<str:name>/<int:number>/skip/", self.skip_view, "skip"),
            ("<str:name>/<int:number>/drop/", self.drop_view, "drop"),
            ("<str:name>/drop/", self.drop_view, "drop_all"),
            ("<str:name>/documents/", self.documents_view, "documents"),
        ]

    @method_decorator(require_safe)
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self.require_view(request)
        store = get_store()
        statuses = projection_statuses(store, dict(registry.projections))
        started = {status.projection for status in statuses}
        rows = [self._row(request, status) for status in statuses] + [
            self._not_started(store, projection)
            for name, projection in sorted(registry.projections.items()) if name not in started
        ]
        return self.render(request, "admin/fairway/projections.html", {
            "title": "Projections", "trail": [("Projections", None)], "rows": rows,
        })

    def rebuild_view(self, request: HttpRequest, name: str) -> HttpResponse:
        projection = self._projection(name)
        store = get_store()
        generations = Generations(store, name)

        def rebuild() -> str:
            made = store.database.transact(lambda tr: generations.rebuild(tr, projection.version))
            return (
                f"{name}: rebuilding as generation {made.number} (version {made.version}); "
                "the serving generation answers until it has caught up"
            )

        return self.action(
            request, permission="rebuild_projection", subject=Projection(name=name),
            question=(
                f"Rebuild {name} from the start of the log? A new generation builds beside the "
                "serving one, which keeps answering until the new one has caught up."
            ),
            perform=rebuild, back=self.url("changelist"),
        )

    def skip_view(self, request: HttpRequest, name: str, number: int) -> HttpResponse:
        store = get_store()
        generations = Generations(store, name)

        def skip() -> str:
            _, failure = store.database.transact(lambda tr: generations.skip_failed(tr, number))
            return f"{name}@{number}: skipped {failure.describe()}"

        failure = store.database.transact(lambda tr: generations.failure(tr.snapshot, number))
        about = (
            f"the {failure.event_type} event at {failure.position}" if failure else "its event"
        )
        return self.action(
            request, permission="skip_projection_event", subject=Projection(name=name),
            question=(
                f"Skip {about} in {name}'s generation {number}? Its read model will never "
                "apply that event (rebuild it once the handler is fixed to have it applied)."
            ),
            perform=skip, back=self.url("changelist"),
        )

    def drop_view(self, request: HttpRequest, name: str, number: int | None = None) -> HttpResponse:
        if number is None and name in registry.projections:
            return self.problem(request, "Cannot drop", [
                f"{name} is in the code: drop one of its old generations, not all of them"
            ], 400)
        store = get_store()
        generations = Generations(store, name)

        def drop() -> str:
            dropped = store.database.transact(lambda tr: generations.drop(tr, number))
            if not dropped:
                raise GenerationError(f"the store holds no projection named {name!r}")
            return f"{name}: dropped generation {', '.join(map(str, dropped))}"

        what = f"generation {number} of {name}" if number is not None else f"every generation of {name}"
        return self.action(
            request, permission="drop_projection", subject=Projection(name=name),
            question=f"Drop {what}? Its documents are deleted; the events stay.",
            perform=drop, back=self.url("changelist"),
        )

    @method_decorator(require_safe)
    def documents_view(self, request: HttpRequest, name: str) -> HttpResponse:
        self.require_view(request)
        projection = self._projection(name)
        form = DocumentFilterForm(request.GET, projection)
        context: dict[str, Any] = {
            "title": f"{name}: documents", "form": form, "projection": name,
            "trail": [("Projections", self.url("changelist")), (f"{name} documents", None)],
        }
        if not form.is_valid():
            return self.render(request, "admin/fairway/documents.html", {
                **context, "problems": problems(form),
            }, status=400)
        read_model = ReadModel(projection, get_store())
        data = form.cleaned_data
        try:
            if data["key"]:
                document = read_model.get(data["key"])
                documents = [] if document is None else [(data["key"], document)]
                next_cursor = None
            else:
                lookup = {name: data[name] for name in projection.lookups if data[name] is not None}
                page = read_model.page(
                    after=data["after"] or None, limit=DOCUMENTS_PER_PAGE, **lookup
                )
                documents, next_cursor = page.documents, page.next_cursor
        except (ProjectionNotReady, InvalidDocument) as error:
            return self.render(request, "admin/fairway/documents.html", {
                **context, "problems": [str(error)],
            }, status=200 if isinstance(error, ProjectionNotReady) else 400)
        following = request.GET.copy()
        following["after"] = next_cursor or ""
        return self.render(request, "admin/fairway/documents.html", {
            **context, "documents": [(key, _pretty(doc)) for key, doc in documents],
            "next": "?" + following.urlencode() if next_cursor else None,
            "first": "?" + _without(request.GET, "after").urlencode() if data["after"] else None,
        })

    def _projection(self, name: str) -> type[ProjectionClass]:
        projection = registry.projections.get(name)
        if projection is None:
            raise Http404(f"no projection named {name!r} is in the code")
        return projection

    def _row(self, request: HttpRequest, status: GenerationStatus) -> dict[str, Any]:
        name, generation = status.projection, status.generation
        failure, runner = status.failure, status.runner
        in_code = status.projection_class is not None
        tone = "ok"
        if failure is not None:
            state, tone = "failed", "failed"
        elif not in_code:
            state = "not in the code"
        elif runner is None:
            state = "no runner" if status.lag_events else "up to date, no runner"
            tone = "behind" if status.lag_events else "ok"
        else:
            state = "catching up" if status.lag_events else "up to date"
        return {
            "name": name, "number": generation.number, "version": generation.version,
            "generation_state": generation.state, "checkpoint": status.checkpoint,
            "lag": lag_text(status.lag_events), "lag_seconds": status.lag_seconds,
            "state": state, "tone": tone, "failure": failure, "runner": runner,
            "runner_seconds": None if runner is None else max(runner.expires_ms - now_ms(), 0) / 1000,
            "documents": self.url("documents", name) if in_code else None,
            "rebuild": self.url("rebuild", name)
            if in_code and generation.state == "serving"
            and self.may(request, "rebuild_projection") else None,
            "skip": self.url("skip", name, generation.number)
            if failure is not None and self.may(request, "skip_projection_event") else None,
            "drop": self.url("drop", name, generation.number)
            if generation.state != "serving" and self.may(request, "drop_projection") else None,
            "drop_all": self.url("drop_all", name)
            if not in_code and self.may(request, "drop_projection") else None,
        }

    def _not_started(self, store: DcbStore, projection: type[ProjectionClass]) -> dict[str, Any]:
        """A projection in the code that no runner has started: all its events wait."""
        count, seconds = lag(store, select(*projection.handled_events()).dcb, None)
        return {
            "name": projection.slice_name, "version": projection.version,
            "state": "not started: no runner has run it yet", "tone": "behind",
            "lag": lag_text(count),
            "lag_seconds": seconds,
        }


class DocumentFilterForm(forms.Form):
    """A read model's documents: one by ``key``, or a page, by one lookup or all, after a key."""

    key = forms.CharField(required=False, max_length=MAX_KEY_LENGTH)
    after = forms.CharField(required=False, max_length=MAX_KEY_LENGTH, widget=forms.HiddenInput)

    def __init__(self, data: QueryDict, projection: type[ProjectionClass]) -> None:
        super().__init__(data)
        self.lookups = list(projection.lookups)
        for name, kind in projection.lookups.items():
            self.fields[name] = lookup_field(kind)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        given = [name for name in self.lookups if cleaned.get(name) is not None]
        if len(given) > 1:
            raise ValidationError(
                f"look up by one of {', '.join(self.lookups)} at a time, not {', '.join(given)}"
            )
        if given and cleaned.get("key"):
            raise ValidationError("a key names one document: leave the lookups empty with it")
        return cleaned


def lookup_field(kind: type) -> forms.Field:
    if kind is bool:
        return forms.TypedChoiceField(
            required=False, choices=[("", "any"), ("true", "yes"), ("false", "no")],
            coerce=lambda value: value == "true", empty_value=None,
        )
    if kind is int:
        return forms.IntegerField(required=False)
    return forms.CharField(required=False, max_length=MAX_KEY_LENGTH, empty_value=None)


def _pretty(document: Document) -> str:
    return msgspec.json.format(msgspec.json.encode(document), indent=2).decode()


def _without(params: QueryDict, name: str) -> QueryDict:
    changed = params.copy()
    changed.pop(name, None)
    return changed
