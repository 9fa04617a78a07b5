"""The admin pages over a store of each test's own, with the example project's slices, seen by
three users: a superuser, a read-only support user (staff with the view permissions) and a
staff user without any Fairway permission."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.test import Client, override_settings

from fairway_django.dcb import DcbStore
from fairway_django.store import get_store
from fairway_django.testing import Scenario

VIEW_PERMISSIONS = ("view_event", "view_projection", "view_automation")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DcbStore]:
    url = f"embedded://{tmp_path}/store?durability=none"
    with override_settings(FAIRWAY={**settings.FAIRWAY, "STORE_URL": url}):
        yield get_store()


@pytest.fixture
def scenario(store: DcbStore) -> Scenario:
    return Scenario(store, user=lambda: User(username="scenario"))


@pytest.fixture
def admin_client(db: None, client: Client) -> Client:
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.fixture
def support_client(db: None) -> Client:
    """Staff with the view permissions only: may browse everything, act on nothing."""
    user = User.objects.create_user("support", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        content_type__app_label="fairway", codename__in=VIEW_PERMISSIONS
    ))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff_client(db: None) -> Client:
    """Staff without any Fairway permission."""
    client = Client()
    client.force_login(User.objects.create_user("intern", is_staff=True))
    return client
