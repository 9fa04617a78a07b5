"""Namespaces: several independent logs in one engine, chosen by the URL's ``namespace``.

Stores in different namespaces never see each other's events (reads, head, conditions,
subscriptions); handles on the same namespace share one log.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fairway_django.dcb import (
    AppendCondition,
    Event,
    InvalidInput,
    InvalidNamespace,
    Query,
    QueryItem,
    open_store,
)

from .conftest import StoreOpener, engine_url, unique_namespace, with_options


def test_different_namespaces_do_not_see_each_others_events(open_stores: StoreOpener) -> None:
    # Names where one extends the other: a namespace must not be a key prefix of another's.
    base = unique_namespace()
    first, second, third = (
        open_stores.open(base),
        open_stores.open(base + "-2"),
        open_stores.open(base + "2"),
    )
    a = first.append([Event("T", b"first", ["x"])])
    assert second.head() is None and third.head() is None
    assert list(second.read()) == [] and list(third.read()) == []
    assert list(second.read(Query([QueryItem(types=["T"], tags=["x"])]))) == []
    b = second.append([Event("T", b"second", ["x"]), Event("U", b"second 2")])
    assert first.head() == a and second.head() == b and third.head() is None
    assert [e.event.data for e in first.read()] == [b"first"]
    assert [e.event.data for e in second.read(backwards=True)] == [b"second 2", b"second"]
    assert [e.event.data for e in first.read(Query([QueryItem(tags=["x"])]))] == [b"first"]


def test_conditions_only_see_their_own_namespace(open_stores: StoreOpener) -> None:
    first, second = open_stores.open(), open_stores.open()
    first.append([Event("T", b"", ["x"])])
    condition = AppendCondition(Query([QueryItem(tags=["x"])]))
    second.append([Event("T", b"", ["y"])], condition)  # first's event does not fail it
    assert [e.event.tags for e in second.read()] == [("y",)]


def test_two_handles_on_one_namespace_share_the_log(
    open_stores: StoreOpener, namespace: str
) -> None:
    one, two = open_stores.open(namespace), open_stores.open(namespace)
    assert one.namespace == two.namespace == namespace
    p1 = one.append([Event("T", b"one")])
    p2 = two.append([Event("T", b"two")])
    assert one.head() == two.head() == p2
    assert list(one.read()) == list(two.read())
    assert [e.position for e in two.read()] == [p1, p2]


def test_a_url_without_namespace_is_the_default_namespace(tmp_path: Path) -> None:
    url = engine_url("embedded", tmp_path / "store")
    with (
        open_store(url) as plain,
        open_store(with_options(url, namespace="default")) as named,
        open_store(with_options(url, namespace="other")) as other,
    ):
        assert plain.namespace == "default"
        plain.append([Event("T", b"x")])
        assert [e.event.data for e in named.read()] == [b"x"]
        assert list(other.read()) == []


def test_a_namespace_is_reopened_with_its_events(tmp_path: Path) -> None:
    url = with_options(engine_url("embedded", tmp_path / "store"), namespace="app")
    with open_store(url) as store:
        position = store.append([Event("T", b"kept")])
    with open_store(url) as store:
        assert store.head() == position
        assert [e.event.data for e in store.read()] == [b"kept"]


@pytest.mark.parametrize(
    "namespace",
    ["", "a/b", "a b", "x" * 65, "héllo", "a:b", "ns\x00", "%00", "a%0Ab", "a%2Fb"],
    ids=[
        "empty",
        "slash",
        "space",
        "too long",
        "non-ascii",
        "colon",
        "nul",
        "pct-nul",
        "pct-newline",
        "pct-slash",
    ],
)
def test_a_bad_namespace_is_refused(tmp_path: Path, namespace: str) -> None:
    url = engine_url("embedded", tmp_path / "store") + "&namespace=" + namespace
    with pytest.raises(InvalidNamespace, match="namespace") as raised:
        open_store(url)
    assert raised.value.code == "invalid_namespace"
    assert isinstance(raised.value, InvalidInput)


def test_namespace_limits_accepted(tmp_path: Path) -> None:
    url = engine_url("embedded", tmp_path / "store")
    for namespace in ("x" * 64, "A-b_c.9", "0"):
        with open_store(with_options(url, namespace=namespace)) as store:
            assert store.namespace == namespace
            store.append([Event("T", namespace.encode())])
            assert [e.event.data for e in store.read()] == [namespace.encode()]
