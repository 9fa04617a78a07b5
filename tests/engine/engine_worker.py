"""A second process for the engine conformance tests (run as a script, never imported by them).

Usage: ``python engine_worker.py <store-url> <prefix-hex> <command> [args...]``. The worker opens
its own handle on the store, prints ``ready``, waits for one line on stdin (so the test can
release several workers at once), runs the command and prints its result as one JSON line.
Any error ends the process with a traceback on stderr and a non-zero exit status.

Commands (all keys under the prefix):
  add <key-hex> <count>        count transactions, each a blind atomic add of 1 (8 bytes LE),
                               committed without a retry loop: a conflict would be an error
  versionstamps <count> <tag>  count transactions, each writing one versionstamped key
                               ``vs/<versionstamp><tag>``; prints [[versionstamp-hex, version]...]
  serial <count>               count read-modify-write increments of ``counter`` (retried), each
                               logging its versionstamp at ``log/<old counter, 8 bytes BE>``
  set <key-hex> <value-hex>    one transaction setting one key
"""

from __future__ import annotations

import json
import struct
import sys


def placeholder_at(offset: int) -> bytes:
    return struct.pack("<I", offset)


def main(url: str, prefix_hex: str, command: str, *args: str) -> object:
    from fairway_django.engine import open_engine

    prefix = bytes.fromhex(prefix_hex)
    db = open_engine(url)
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        if command == "add":
            key, count = prefix + bytes.fromhex(args[0]), int(args[1])
            for _ in range(count):
                tr = db.create_transaction()
                tr.add(key, (1).to_bytes(8, "little"))
                tr.commit()
            return {"adds": count}
        if command == "versionstamps":
            count, tag = int(args[0]), args[1].encode()
            stamps = []
            head = prefix + b"vs/"
            for _ in range(count):
                tr = db.create_transaction()
                future = tr.get_versionstamp()
                tr.set_versionstamped_key(
                    head + b"\xff" * 10 + tag + placeholder_at(len(head)), tag
                )
                tr.commit()
                stamps.append(
                    [future.result(timeout=10).hex(), tr.get_committed_version()]
                )
            return stamps
        if command == "serial":
            count = int(args[0])

            def increment(tr):  # type: ignore[no-untyped-def]
                raw = tr.get(prefix + b"counter")
                current = 0 if raw is None else int.from_bytes(raw, "big")
                tr.set(prefix + b"counter", (current + 1).to_bytes(8, "big"))
                tr.set_versionstamped_value(
                    prefix + b"log/" + current.to_bytes(8, "big"),
                    b"\xff" * 10 + b"\x00\x00" + placeholder_at(0),
                )

            for _ in range(count):
                db.transact(increment)
            return {"increments": count}
        if command == "set":
            key, value = prefix + bytes.fromhex(args[0]), bytes.fromhex(args[1])
            db.transact(lambda tr: tr.set(key, value))
            return {"set": args[0]}
        raise SystemExit(f"unknown command {command!r}")
    finally:
        db.close()


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:])), flush=True)
