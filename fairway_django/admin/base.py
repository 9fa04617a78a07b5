"""What the event, projection and automation pages share: an admin entry with no table.

Each page is a view of the store, served under the placeholder model's admin URL
(``admin/fairway/<model>/...``) by ``get_urls``, wrapped in ``admin_site.admin_view`` (staff
only, login redirect, no caching) and rendered in the admin's own templates with its context
(sidebar, breadcrumbs, user links). Browsing needs the model's ``view`` permission; each action
its own permission, checked again when the form is posted, and every action done is written to
the admin log against the placeholder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.forms.utils import pretty_name
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from fairway_django.framework.errors import FairwayError

Page = Callable[..., HttpResponse]


class NothingDone(FairwayError):
    """An action found nothing to act on (a dead letter replayed by someone else meanwhile)."""


class StoreAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """An admin entry for data in the store: read-only through Django, acted on by actions."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def pages(self) -> list[tuple[str, Page, str]]:
        """``(route, view, name suffix)`` of each page after the list (``changelist_view``)."""
        return []

    def get_urls(self) -> list[URLPattern]:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        pages = [("", self.changelist_view, "changelist"), *self.pages()]
        return [
            path(route, self.admin_site.admin_view(view), name=f"{prefix}_{suffix}")
            for route, view, suffix in pages
        ]

    def url(self, suffix: str, *args: object, query: QueryDict | None = None) -> str:
        name = f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{suffix}"
        found = reverse(name, args=args)
        return f"{found}?{query.urlencode()}" if query else found

    def require_view(self, request: HttpRequest) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def may(self, request: HttpRequest, permission: str) -> bool:
        return bool(request.user.has_perm(f"{self.opts.app_label}.{permission}"))

    def render(
        self, request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
    ) -> TemplateResponse:
        return TemplateResponse(request, template, {
            **self.admin_site.each_context(request), "opts": self.opts,
            "has_view_permission": True, **context,
        }, status=status)

    def problem(
        self, request: HttpRequest, title: str, lines: list[str], status: int
    ) -> TemplateResponse:
        """A page that says what was wrong with the request, in the admin's frame."""
        return self.render(
            request, "admin/fairway/problem.html", {"title": title, "problems": lines}, status
        )

    def action(
        self, request: HttpRequest, *, permission: str, subject: Model, question: str,
        perform: Callable[[], str], back: str, confirm: bool = True,
    ) -> HttpResponse:
        """An action on ``subject``: a confirmation page on GET (when ``confirm``), and on POST
        ``perform()``, whose message is shown and written to the admin log.

        An action the store refuses (a projection already rebuilding, a dead letter replayed
        meanwhile) becomes an error message on the page it came from, and is not logged.
        """
        self.require_view(request)
        if not self.may(request, permission):
            raise PermissionDenied
        if request.method == "POST":
            try:
                message = perform()
            except FairwayError as error:
                messages.error(request, str(error))
            else:
                self.log_change(request, subject, message)
                messages.success(request, message)
            return HttpResponseRedirect(back)
        if not confirm:
            return HttpResponse(status=405, headers={"Allow": "POST"})
        return self.render(request, "admin/fairway/confirm.html", {
            "title": "Are you sure?", "question": question, "subject": subject, "back": back,
        })


def problems(form: forms.Form) -> list[str]:
    """A form's errors, one line each, naming the field (by its label) they are about."""
    lines: list[str] = []
    for field, errors in form.errors.items():
        label = "" if field == "__all__" else f"{form.fields[field].label or pretty_name(field)}: "
        lines.extend(f"{label}{error}" for error in errors)
    return lines
