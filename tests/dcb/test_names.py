"""The dictionary of names: an append numbers the names it brings, in its own transaction.

What users rely on: a command that creates something (a new tag) commits once, not twice; a
failed append leaves nothing behind, not even a number; and however appends race to bring
the same new name, from handles with their own picks of numbers, each name ends up with one
number, no two names share one, and every event is found through each of its names.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from fairway_django.dcb import (
    AppendCondition,
    AppendConditionFailed,
    DcbStore,
    Event,
    InvalidAppend,
    Query,
    QueryItem,
    open_store,
)
from fairway_django.dcb.keyspace import TAG, TYPE
from fairway_django.dcb.limits import MAX_APPEND_BYTES
from fairway_django.dcb.names import FIRST_BLOCK
from fairway_django.engine import keys
from fairway_django.engine.keys import strinc

from .conftest import StoreOpener
from .support import run_threads


def dictionary(store: DcbStore) -> dict[tuple[str, str], int]:
    """Every name the store has numbered, with its number, as stored."""
    begin = store.keyspace.names
    entries = store.database.transact(
        lambda tr: list(tr.snapshot.get_range(begin, strinc(begin)))
    )
    numbered: dict[tuple[str, str], int] = {}
    for key, value in entries:
        kind, name = keys.unpack(key, len(begin))
        assert isinstance(kind, str) and isinstance(name, str)
        numbered[kind, name] = int.from_bytes(value, "big")
    return numbered


def tagged_with(store: DcbStore, tag: str) -> list[bytes]:
    return [e.event.data for e in store.read(Query([QueryItem(tags=[tag])]))]


def commits_of(store: DcbStore, action: Callable[[], object]) -> int:
    """How many commits the engine made while ``action()`` ran (the embedded engine's read
    version is its count of commits)."""
    def version() -> int:
        return store.database.transact(lambda tr: tr.get_read_version())

    before = version()
    action()
    return version() - before


def test_an_append_bringing_new_names_commits_once(tmp_path: Path) -> None:
    store = open_store(f"embedded://{tmp_path}/store?durability=none")
    store.append([Event("Opened", b"", ["account:1"])])  # the short root and a block of numbers
    created = Event("Opened", b"new", ["account:2", "branch:9"])  # two names never seen

    assert commits_of(store, lambda: store.append([created])) == 1
    assert commits_of(store, lambda: store.append([created])) == 1  # and once known
    assert tagged_with(store, "branch:9") == [b"new", b"new"]
    store.close()


def test_a_process_reserves_numbers_a_block_at_a_time(tmp_path: Path) -> None:
    """The shared counter is read by a small transaction once per block, never by an append:
    after the first block, FIRST_BLOCK - 1 appends of new names commit once each."""
    store = open_store(f"embedded://{tmp_path}/store?durability=none")
    store.append([Event("Opened", b"", [])])  # the first block: "Opened" takes its first number
    fresh = [Event("Opened", b"", [f"account:{n}"]) for n in range(FIRST_BLOCK - 1)]

    assert [commits_of(store, partial(store.append, [e])) for e in fresh] == [1] * len(fresh)
    assert commits_of(store, lambda: store.append([Event("Opened", b"", ["account:x"])])) == 2
    store.close()


def test_a_failed_append_leaves_no_number(store: DcbStore) -> None:
    store.append([Event("Opened", b"first", ["account:1"])])
    query = Query([QueryItem(tags=["account:1"])])
    with pytest.raises(AppendConditionFailed):
        store.append([Event("Opened", b"", ["account:1", "ghost:1"])], AppendCondition(query))
    huge = Event("Opened", b"x" * 90_000, ["ghost:2"])
    with pytest.raises(InvalidAppend, match="one append writes at most"):
        store.append([huge] * (MAX_APPEND_BYTES // 90_000 + 1))

    assert set(dictionary(store)) == {(TYPE, "Opened"), (TAG, "account:1")}
    assert tagged_with(store, "ghost:1") == []
    # The name then numbered by an append that lands is found like any other.
    store.append([Event("Opened", b"later", ["ghost:1"])])
    assert tagged_with(store, "ghost:1") == [b"later"]


def test_a_name_another_handle_numbered_first_is_used_as_numbered(
    open_stores: StoreOpener,
) -> None:
    """Two handles pick numbers from blocks of their own. The first picks a number for
    ``order:7`` in an append that fails; the second numbers it with its own pick; the first
    then appends with the store's number, not the one it picked, and both events are found."""
    first = open_stores.open()
    second = open_stores.open(first.namespace)
    first.append([Event("Placed", b"", ["customer:1"])])
    second.append([Event("Placed", b"", ["customer:2"])])
    query = Query([QueryItem(tags=["customer:1"])])
    with pytest.raises(AppendConditionFailed):  # picks a number for order:7, writes none
        first.append([Event("Placed", b"", ["customer:1", "order:7"])], AppendCondition(query))

    second.append([Event("Placed", b"by second", ["order:7"])])
    first.append([Event("Shipped", b"by first", ["order:7"])])

    for handle in (first, second):
        assert tagged_with(handle, "order:7") == [b"by second", b"by first"]
    assert len(set(dictionary(first).values())) == len(dictionary(first))


def test_handles_racing_to_number_the_same_names_agree(open_stores: StoreOpener) -> None:
    """8 threads, each with a handle of its own (its own dictionary and block of numbers),
    append at the same moment, 20 rounds: every append brings a name all of them bring that
    round and one of its own. Every append lands (the losers of a name retry with the
    winner's number); each name has one number, no two names share one; every event is found
    through each of its tags."""
    threads, rounds = 8, 20
    namespace = open_stores.open().namespace
    handles = [open_stores.open(namespace) for _ in range(threads)]
    together = threading.Barrier(threads, timeout=30)

    def run(index: int) -> None:
        for r in range(rounds):
            together.wait()
            handles[index].append(
                [Event(f"Round{r}", f"{r}:{index}".encode(), [f"shared:{r}", f"own:{r}:{index}"])]
            )

    run_threads(threads, run)

    numbered = dictionary(handles[0])
    assert len(numbered) == 2 * rounds + threads * rounds  # types, shared tags, own tags
    assert len(set(numbered.values())) == len(numbered)
    for r in range(rounds):
        everyone = sorted(f"{r}:{i}".encode() for i in range(threads))
        assert sorted(tagged_with(handles[r % threads], f"shared:{r}")) == everyone
        for i in range(threads):
            assert tagged_with(handles[(i + 1) % threads], f"own:{r}:{i}") == [everyone[i]]


def test_threads_sharing_a_handle_bring_new_names_as_its_blocks_run_out(tmp_path: Path) -> None:
    """8 threads share one handle (one dictionary, one block at a time), and every append
    brings a new name, so blocks run out while the other threads' appends are under way. A
    block's reservation waits for its sync (full durability), letting the others run: none
    of them may then wait for the reservation while it waits for them."""
    store = open_store(f"embedded://{tmp_path}/store?durability=full")
    threads, rounds = 8, 25
    together = threading.Barrier(threads, timeout=30)

    def run(index: int) -> None:
        for r in range(rounds):
            together.wait()
            store.append([Event("Opened", f"{r}:{index}".encode(), [f"account:{r}:{index}"])])

    run_threads(threads, run)

    numbered = dictionary(store)
    assert len(numbered) == 1 + threads * rounds  # the type, and every account
    assert len(set(numbered.values())) == len(numbered)
    assert tagged_with(store, f"account:{rounds - 1}:{threads - 1}") == [b"24:7"]
    store.close()


def _append_in_child(store: DcbStore) -> None:
    store.append([Event("Opened", b"child", ["account:child"])])


def test_a_forked_child_picks_numbers_of_its_own(tmp_path: Path) -> None:
    """A handle used before a fork keeps working in the child (the embedded engine allows
    it); the block of numbers it had reserved stays the parent's, so the names the child
    and the parent bring next get different numbers."""
    store = open_store(f"embedded://{tmp_path}/store?durability=none")
    store.append([Event("Opened", b"parent", ["account:1"])])  # reserves a block, uses 2
    child = multiprocessing.get_context("fork").Process(target=_append_in_child, args=(store,))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    store.append([Event("Opened", b"parent again", ["account:parent"])])

    numbered = dictionary(store)
    assert numbered[TAG, "account:child"] != numbered[TAG, "account:parent"]
    assert tagged_with(store, "account:child") == [b"child"]
    assert tagged_with(store, "account:parent") == [b"parent again"]
    store.close()
