"""FDB's tuple encoding through ``engine.keys``: exact bytes, order, and no need for libfdb_c."""

from __future__ import annotations

import functools
import os
import struct
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import fdb.tuple  # type: ignore[import-untyped]
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairway_django.engine import keys
from fairway_django.engine.keys import KeyRange, Versionstamp

REPO_ROOT = Path(__file__).resolve().parents[2]
TR_VERSION = bytes(range(1, 11))
PLACEHOLDER = b"\xff" * 10

versionstamps = st.builds(
    Versionstamp, st.binary(min_size=10, max_size=10), st.integers(0, 0xFFFF)
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**80), 2**80),
    st.floats(allow_nan=False),
    st.binary(max_size=12),
    st.text(max_size=8),
    st.uuids(),
    versionstamps,
)
elements = st.recursive(scalars, lambda inner: st.tuples(inner, inner) | st.tuples(inner))
tuples = st.lists(elements, max_size=4).map(tuple)


def run_fresh_python(script: str) -> None:
    """Run ``script`` in a new interpreter, where ``fdb.impl`` can never be imported.

    A meta-path finder refuses the module, so the check holds on machines that do have
    libfdb_c; ``sys.modules`` stays free of ``fdb.impl``, unlike with a ``None`` entry.
    """
    prelude = textwrap.dedent(
        """
        import sys

        class RefuseFDBImpl:
            def find_spec(self, name, path=None, target=None):
                if name == "fdb.impl":
                    raise ImportError("fdb.impl (libfdb_c) is not available in this test")
                return None

        sys.meta_path.insert(0, RefuseFDBImpl())
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "items",
    [
        (),
        (None,),
        (b"", b"\x00", b"a\x00b\xff"),
        ("", "caf\u00e9", "\x00"),
        (0, 1, -1, 255, 256, -256, 2**64, -(2**64), 2**200),
        (True, False, 1.5, -0.0, uuid.UUID(int=7)),
        ((), (None,), (b"x", ("y", (None, 3)))),
        (Versionstamp(TR_VERSION, 0), (Versionstamp(TR_VERSION, 0xFFFF),)),
    ],
)
def test_unpack_reverses_pack(items: tuple[keys.TupleElement, ...]) -> None:
    assert keys.unpack(keys.pack(items)) == items


@given(tuples)
def test_unpack_reverses_pack_for_any_tuple(items: tuple[keys.TupleElement, ...]) -> None:
    assert keys.unpack(keys.pack(items)) == items


@given(tuples, tuples)
def test_packed_tuples_sort_as_the_tuples(
    a: tuple[keys.TupleElement, ...], b: tuple[keys.TupleElement, ...]
) -> None:
    # fdb.tuple.compare is the tuple layer's definition of order, across types too.
    expected = fdb.tuple.compare(a, b)
    packed_a, packed_b = keys.pack(a), keys.pack(b)
    assert (packed_a > packed_b) - (packed_a < packed_b) == expected


@pytest.mark.parametrize(
    "ordered",
    [
        [-(2**70), -256, -1, 0, 1, 255, 256, 2**64, 2**70],
        [b"", b"\x00", b"\x00\x00", b"\x01", b"a", b"ab", b"b", b"\xff"],
        ["", "\x00", "A", "a", "ab", "\u00e9", "\U0001f600"],
        [(), (None,), (b"a",), (0,), (0, None), (0, 0), (1,)],
        [
            Versionstamp(b"\x00" * 10, 5),
            Versionstamp(TR_VERSION, 0),
            Versionstamp(TR_VERSION, 1),
            Versionstamp(TR_VERSION, 256),
            Versionstamp(b"\x02" + b"\x00" * 9, 0),
        ],
    ],
    ids=["ints", "bytes", "str", "nested", "versionstamps"],
)
def test_keys_sort_as_their_values(ordered: list[keys.TupleElement]) -> None:
    assert sorted(ordered, key=lambda item: keys.pack((item,))) == ordered
    assert sorted(ordered, key=lambda item: keys.pack((item,)), reverse=True) == ordered[::-1]


def test_none_sorts_before_every_other_value() -> None:
    others: list[keys.TupleElement] = [b"", "", 0, -(2**70), (), False, Versionstamp(TR_VERSION)]
    assert all(keys.pack((None,)) < keys.pack((other,)) for other in others)


def test_a_versionstamp_is_code_0x33_then_tr_version_then_user_version() -> None:
    assert keys.pack((Versionstamp(TR_VERSION, 0x0102),)) == b"\x33" + TR_VERSION + b"\x01\x02"
    assert keys.pack((b"k", Versionstamp(TR_VERSION, 7))) == (
        b"\x01k\x00" + b"\x33" + TR_VERSION + b"\x00\x07"
    )


def test_versionstamps_of_the_bindings_own_class_pack_the_same() -> None:
    ours = (b"k", (Versionstamp(TR_VERSION, 3),))
    theirs = (b"k", (fdb.tuple.Versionstamp(TR_VERSION, 3),))
    assert keys.pack(theirs) == keys.pack(ours)
    assert keys.pack(theirs, prefix=b"p") == b"p" + keys.pack(ours)


def test_unpack_returns_versionstamps_of_this_module() -> None:
    packed = keys.pack((Versionstamp(TR_VERSION, 1), (Versionstamp(TR_VERSION, 2),)))
    top, nested_tuple = keys.unpack(packed)
    assert isinstance(nested_tuple, tuple)
    (nested,) = nested_tuple
    assert type(top) is Versionstamp and type(nested) is Versionstamp
    assert (top.tr_version, top.user_version) == (TR_VERSION, 1)
    assert nested == fdb.tuple.Versionstamp(TR_VERSION, 2)


def test_unpack_skips_a_prefix() -> None:
    assert keys.unpack(keys.pack(("a", 1), prefix=b"ns/"), prefix_len=3) == ("a", 1)


@pytest.mark.parametrize(
    ("items", "prefix", "body"),
    [
        ((Versionstamp.incomplete(3),), b"", b"\x33" + PLACEHOLDER + b"\x00\x03"),
        (
            (b"ev", Versionstamp.incomplete(), 5),
            b"",
            b"\x01ev\x00" + b"\x33" + PLACEHOLDER + b"\x00\x00" + b"\x15\x05",
        ),
        (
            ("t", ("n", Versionstamp.incomplete(1))),
            b"pre",
            b"pre" + b"\x02t\x00" + b"\x05" + b"\x02n\x00" + b"\x33" + PLACEHOLDER + b"\x00\x01"
            + b"\x00",
        ),
    ],
    ids=["alone", "between", "nested-with-prefix"],
)
def test_pack_with_versionstamp_appends_the_placeholder_offset(
    items: tuple[keys.TupleElement, ...], prefix: bytes, body: bytes
) -> None:
    packed = keys.pack_with_versionstamp(items, prefix=prefix)
    offset = body.index(b"\x33" + PLACEHOLDER) + 1
    assert packed == body + struct.pack("<I", offset)
    assert packed[offset : offset + 10] == PLACEHOLDER


def test_a_filled_placeholder_unpacks_to_the_commit_versionstamp() -> None:
    packed = keys.pack_with_versionstamp((b"ev", Versionstamp.incomplete(4)))
    body, offset = packed[:-4], struct.unpack("<I", packed[-4:])[0]
    stored = body[:offset] + TR_VERSION + body[offset + 10 :]  # what the commit writes
    assert keys.unpack(stored) == (b"ev", Versionstamp(TR_VERSION, 4))


def test_two_incomplete_versionstamps_are_refused() -> None:
    with pytest.raises(ValueError, match="2 incomplete versionstamps.*one placeholder only"):
        keys.pack_with_versionstamp((Versionstamp.incomplete(0), (Versionstamp.incomplete(1),)))


def test_pack_refuses_an_incomplete_versionstamp() -> None:
    with pytest.raises(ValueError, match="use pack_with_versionstamp|pack it with pack_with_"):
        keys.pack((b"k", fdb.tuple.Versionstamp()))


def test_pack_with_versionstamp_needs_an_incomplete_versionstamp() -> None:
    with pytest.raises(ValueError, match="no incomplete versionstamp"):
        keys.pack_with_versionstamp((b"k", Versionstamp(TR_VERSION)))


def test_other_errors_from_the_bindings_pass_through() -> None:
    with pytest.raises(ValueError, match="Unsupported data type"):
        keys.pack((object(),))  # type: ignore[arg-type]


def test_range_holds_every_longer_tuple_and_not_the_tuple_itself() -> None:
    head = ("orders", 7)
    span = keys.range(head)
    assert span == KeyRange(keys.pack(head) + b"\x00", keys.pack(head) + b"\xff")
    inside: list[tuple[keys.TupleElement, ...]] = [
        (*head, None), (*head, 0), (*head, "z", (1,)), (*head, b"")
    ]
    outside: list[tuple[keys.TupleElement, ...]] = [head, ("orders", 6, 9), ("orders", 8)]
    assert all(span.begin <= keys.pack(t) < span.end for t in inside)
    assert not any(span.begin <= keys.pack(t) < span.end for t in outside)
    begin, end = keys.range(("a",), prefix=b"ns/")
    assert (begin, end) == (b"ns/\x02a\x00\x00", b"ns/\x02a\x00\xff")


def test_strinc_is_the_first_key_after_the_prefix() -> None:
    assert keys.strinc(b"ab") == b"ac"
    assert keys.strinc(b"a\xff\xff") == b"b"
    with pytest.raises(ValueError):
        keys.strinc(b"\xff")


def test_the_bindings_alone_cannot_pack_a_versionstamp_without_libfdb_c() -> None:
    """Why ``keys.Versionstamp`` exists: if this starts failing, the bindings fixed it."""
    run_fresh_python(
        """
        import fdb.tuple
        try:
            fdb.tuple.pack((fdb.tuple.Versionstamp(b"\\x01" * 10),))
        except AttributeError as error:
            assert "impl" in str(error), error
        else:
            raise AssertionError("fdb.tuple packed a versionstamp without fdb.impl")
        """
    )


def test_versionstamps_pack_and_unpack_where_fdb_impl_cannot_load() -> None:
    run_fresh_python(
        """
        import struct, sys
        import fdb.tuple
        from fairway_django.engine import keys
        from fairway_django.engine.keys import Versionstamp

        tr = bytes(range(1, 11))
        assert keys.pack((b"k", Versionstamp(tr, 7))) == b"\\x01k\\x00\\x33" + tr + b"\\x00\\x07"
        assert keys.pack((fdb.tuple.Versionstamp(tr, 7),)) == b"\\x33" + tr + b"\\x00\\x07"
        packed = keys.pack_with_versionstamp((b"k", (Versionstamp.incomplete(2),)))
        placeholder = b"\\x33" + b"\\xff" * 10
        offset = struct.pack("<I", 5)
        assert packed == b"\\x01k\\x00\\x05" + placeholder + b"\\x00\\x02\\x00" + offset
        assert keys.pack_with_versionstamp((fdb.tuple.Versionstamp(),)) == (
            b"\\x33" + b"\\xff" * 10 + b"\\x00\\x00" + struct.pack("<I", 1)
        )
        assert keys.unpack(b"\\x33" + tr + b"\\x00\\x07") == (Versionstamp(tr, 7),)
        assert keys.range((Versionstamp(tr),)).begin == b"\\x33" + tr + b"\\x00\\x00\\x00"
        assert "fdb.impl" not in sys.modules, "packing loaded fdb.impl"
        """
    )


@pytest.mark.parametrize("api_version", [None, 730])
def test_bytes_match_the_bindings_own_encoder_when_fdb_impl_is_loaded(
    api_version: int | None,
) -> None:
    """Compare with ``fdb.tuple`` running its own ``Versionstamp.to_bytes``, as in production.

    Where libfdb_c is missing, a stand-in ``fdb.impl`` supplies the one name the encoder reads
    (``Value``, for an isinstance check); every byte still comes from the bindings' code. With
    ``api_version`` 730 the process looks as it does once the FDB engine has opened.
    """
    run_fresh_python(
        f"""
        import types, fdb
        stand_in = types.ModuleType("fdb.impl")
        stand_in.Value = type("Value", (), {{}})
        sys.modules["fdb.impl"] = fdb.impl = stand_in
        if {api_version!r} is not None:
            fdb._version = {api_version!r}  # what fdb.api_version() records
        import fdb.tuple as bindings
        from fairway_django.engine import keys
        from fairway_django.engine.keys import Versionstamp as Ours
        Theirs = bindings.Versionstamp

        tr = bytes(range(1, 11))
        for make in (
            lambda V: (V(tr, 0),),
            lambda V: (b"ev", "type", 12, V(tr, 65535), None, True),
            lambda V: (("nested", (V(tr, 9), None)), -5, 2**70),
        ):
            assert keys.pack(make(Ours)) == bindings.pack(make(Theirs)), make
        for make in (
            lambda V: (V.incomplete(0),),
            lambda V: (b"ev", 3, V.incomplete(258), "x"),
            lambda V: (("n", (None, V.incomplete(1))), b"tail"),
        ):
            ours = keys.pack_with_versionstamp(make(Ours), prefix=b"p/")
            theirs = bindings.pack_with_versionstamp(make(Theirs), prefix=b"p/")
            assert ours == theirs, make
        """
    )


def test_an_incomplete_versionstamp_is_completed_by_its_commits_versionstamp() -> None:
    """After commit, ``get_versionstamp()`` gives the 10 bytes that complete the placeholder."""
    incomplete = keys.Versionstamp(user_version=3)
    complete = incomplete.completed(b"\x00" * 8 + b"\x00\x07")
    assert complete.is_complete()
    assert complete.tr_version == b"\x00" * 8 + b"\x00\x07"
    assert complete.user_version == 3
    assert keys.unpack(keys.pack((b"p", complete))) == (b"p", complete)
    with pytest.raises(RuntimeError, match="already complete"):
        complete.completed(b"\x01" * 10)
