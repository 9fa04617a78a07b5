"""Store URL options of the embedded engine: each accepted form, each mistake named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fairway_django.engine import EngineConfigurationError, StorageFull, open_engine
from fairway_django.engine.embedded import Durability, EmbeddedDatabase


def test_defaults_to_normal_durability_and_no_faults(tmp_path: Path) -> None:
    db = open_engine(f"embedded://{tmp_path}/s")
    assert isinstance(db, EmbeddedDatabase)
    assert db.durability is Durability.NORMAL
    assert db.faults.rate == 0
    assert db.url == f"embedded://{tmp_path}/s"


@pytest.mark.parametrize("value", ["full", "normal", "none"])
def test_durability_settings(tmp_path: Path, value: str) -> None:
    db = open_engine(f"embedded://{tmp_path}/s?durability={value}")
    assert isinstance(db, EmbeddedDatabase)
    assert db.durability is Durability(value)
    db.transact(lambda tr: tr.set(b"k", b"v"))
    assert db.transact(lambda tr: tr.get(b"k")) == b"v"
    db.close()


@pytest.mark.parametrize(
    ("text", "size"), [("1048576", 1 << 20), ("64GiB", 64 << 30), ("512m", 512 << 20)]
)
def test_map_size_accepts_bytes_and_binary_units(tmp_path: Path, text: str, size: int) -> None:
    db = open_engine(f"embedded://{tmp_path}/s?map_size={text}")
    assert isinstance(db, EmbeddedDatabase)
    assert db.map_size == size


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("durability=fast", "durability='fast' is not one of full, normal, none"),
        ("map_size=lots", "map_size='lots' is not a size"),
        ("faults=often", "faults='often' is not a number"),
        ("faults=1.5", "faults must be a rate from 0 to 1"),
        ("fault_seed=x", "fault_seed='x' is not a whole number"),
        ("colour=blue", "unknown option(s) colour"),
    ],
)
def test_bad_options_are_named(tmp_path: Path, query: str, message: str) -> None:
    with pytest.raises(EngineConfigurationError, match=re.escape(message)):
        open_engine(f"embedded://{tmp_path}/s?{query}")


def test_same_store_with_other_settings_in_one_process_is_refused(tmp_path: Path) -> None:
    first = open_engine(f"embedded://{tmp_path}/s?durability=full")
    first.transact(lambda tr: tr.set(b"k", b"v"))
    second = open_engine(f"embedded://{tmp_path}/s?durability=none")
    with pytest.raises(EngineConfigurationError, match="already open in this process"):
        second.create_transaction()
    first.close()


def test_handles_on_one_store_share_it_and_close_independently(tmp_path: Path) -> None:
    first = open_engine(f"embedded://{tmp_path}/s")
    second = open_engine(f"embedded://{tmp_path}/s")
    first.transact(lambda tr: tr.set(b"k", b"1"))
    assert second.transact(lambda tr: tr.get(b"k")) == b"1"
    first.close()
    second.transact(lambda tr: tr.set(b"k", b"2"))
    assert second.transact(lambda tr: tr.get(b"k")) == b"2"
    second.close()


def test_a_full_store_says_which_option_to_raise_and_keeps_what_it_had(tmp_path: Path) -> None:
    db = open_engine(f"embedded://{tmp_path}/s?map_size=1MiB")
    db.transact(lambda tr: tr.set(b"kept", b"v"))
    with pytest.raises(StorageFull, match=r"is full \(map_size=1048576 bytes\).*\?map_size="):
        for i in range(40):
            db.transact(lambda tr, i=i: tr.set(b"big%02d" % i, bytes(90_000)))
    assert db.transact(lambda tr: tr.get(b"kept")) == b"v"
