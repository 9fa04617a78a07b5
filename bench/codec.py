"""Which JSON library to keep event data in: msgspec, orjson with a dataclass, or pydantic v2.

One typical event (7 fields: strings, integers and a datetime, two of them constrained) is
built and encoded, encoded alone, and decoded with validation by each contender, in the same
process, in interleaved rounds (best round kept, as the other benchmarks do):

- **msgspec**: a ``msgspec.Struct`` with ``Meta`` constraints. A Struct does not validate when
  it is built, so building and encoding is followed by decoding the bytes again, which is how
  Fairway's codec makes sure an invalid event never reaches the log;
- **orjson + dataclass**: a frozen, slotted dataclass whose ``__post_init__`` checks the types
  and constraints by hand; ``orjson`` encodes the dataclass (and its datetime) natively, and
  decoding builds the dataclass from ``orjson.loads`` after parsing the datetime;
- **pydantic**: a v2 ``BaseModel`` with ``Field`` constraints, validated when built and by
  ``model_validate_json``;
- **fairway codec**: ``fairway_django.framework``'s ``encode``/``decode`` on the same event as
  a Fairway ``Event`` (msgspec plus its tags and metadata), to show what the framework adds.

Before timing, every contender must decode what it encoded to an equal event and reject data
breaking a constraint. ``ratio`` is a contender's time over msgspec's: above 1 is slower.

Run:  python bench/codec.py [--seconds 1.5]   (about 20 seconds)
pydantic and orjson: .venv/bin/pip install -r bench/requirements.txt
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script, bench/ would come first on the path, where http.py would shadow the
    # standard library's http package: the repository root takes bench/'s place.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import dataclasses
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
import orjson
import pydantic

from bench._timing import Rate, machine, race
from fairway_django.dcb import Position, SequencedEvent
from fairway_django.framework import Event, Tag
from fairway_django.framework.codec import decode, encode

FIELDS: dict[str, Any] = {
    "invoice_number": 1042,
    "student_id": "student-000042",
    "course_id": "course-00007",
    "amount_cents": 129_900,
    "currency": "EUR",
    "description": "Spring term: Introduction to event sourcing",
    "issued_at": datetime(2026, 12, 3, 21, 15, 30, 123456, tzinfo=UTC),
}
INVALID = {**FIELDS, "amount_cents": 0}
Positive = Annotated[int, msgspec.Meta(ge=1)]
Currency = Annotated[str, msgspec.Meta(min_length=3, max_length=3)]


class InvoiceStruct(msgspec.Struct, frozen=True, kw_only=True):
    invoice_number: Positive
    student_id: str
    course_id: str
    amount_cents: Positive
    currency: Currency
    description: str
    issued_at: datetime


class InvoiceIssued(Event):
    invoice_number: Annotated[int, Tag("invoice"), msgspec.Meta(ge=1)]
    student_id: Annotated[str, Tag]
    course_id: Annotated[str, Tag]
    amount_cents: Positive
    currency: Currency
    description: str
    issued_at: datetime


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceDataclass:
    invoice_number: int
    student_id: str
    course_id: str
    amount_cents: int
    currency: str
    description: str
    issued_at: datetime

    def __post_init__(self) -> None:
        for name in ("invoice_number", "amount_cents"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, not {value!r}")
        for name in ("student_id", "course_id", "currency", "description"):
            if type(getattr(self, name)) is not str:
                raise ValueError(f"{name} must be a string")
        if len(self.currency) != 3:
            raise ValueError(f"currency must have 3 characters, not {self.currency!r}")
        if type(self.issued_at) is not datetime:
            raise ValueError("issued_at must be a datetime")

    @classmethod
    def from_json(cls, data: bytes) -> InvoiceDataclass:
        fields = orjson.loads(data)
        fields["issued_at"] = datetime.fromisoformat(fields["issued_at"])
        return cls(**fields)


class InvoiceModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(frozen=True, strict=False)

    invoice_number: int = pydantic.Field(ge=1)
    student_id: str
    course_id: str
    amount_cents: int = pydantic.Field(ge=1)
    currency: str = pydantic.Field(min_length=3, max_length=3)
    description: str
    issued_at: datetime


@dataclasses.dataclass(frozen=True)
class Contender:
    """How one library builds and encodes (validated), encodes alone, and decodes (validated)."""

    name: str
    build_and_encode: Callable[[], object]
    encode: Callable[[], object]
    decode: Callable[[], object]
    rejects_invalid: Callable[[], bool]
    round_trips: Callable[[], bool]


def contenders() -> list[Contender]:
    struct_decoder = msgspec.json.Decoder(InvoiceStruct)
    struct = InvoiceStruct(**FIELDS)
    struct_bytes = msgspec.json.encode(struct)

    def struct_build_and_encode() -> bytes:
        data = msgspec.json.encode(InvoiceStruct(**FIELDS))
        struct_decoder.decode(data)
        return data

    record = InvoiceDataclass(**FIELDS)
    record_bytes = orjson.dumps(record)
    model = InvoiceModel(**FIELDS)
    model_bytes = model.model_dump_json().encode()
    event = InvoiceIssued(**FIELDS)
    stored = SequencedEvent(Position(bytes(12)), encode(event))
    classes = {InvoiceIssued.event_type: InvoiceIssued}

    return [
        Contender(
            "msgspec",
            struct_build_and_encode,
            lambda: msgspec.json.encode(struct),
            lambda: struct_decoder.decode(struct_bytes),
            lambda: _raises(lambda: struct_decoder.decode(msgspec.json.encode(INVALID))),
            lambda: struct_decoder.decode(struct_bytes) == struct,
        ),
        Contender(
            "orjson+dataclass",
            lambda: orjson.dumps(InvoiceDataclass(**FIELDS)),
            lambda: orjson.dumps(record),
            lambda: InvoiceDataclass.from_json(record_bytes),
            lambda: _raises(lambda: InvoiceDataclass.from_json(orjson.dumps(INVALID))),
            lambda: InvoiceDataclass.from_json(record_bytes) == record,
        ),
        Contender(
            "pydantic",
            lambda: InvoiceModel(**FIELDS).model_dump_json(),
            model.model_dump_json,
            lambda: InvoiceModel.model_validate_json(model_bytes),
            lambda: _raises(lambda: InvoiceModel.model_validate_json(orjson.dumps(INVALID))),
            lambda: InvoiceModel.model_validate_json(model_bytes) == model,
        ),
        Contender(
            "fairway codec",
            lambda: encode(InvoiceIssued(**FIELDS)),
            lambda: encode(event),
            lambda: decode(stored, classes),
            lambda: _raises(lambda: encode(InvoiceIssued(**INVALID))),
            lambda: decode(stored, classes).event == event,
        ),
    ]


def _raises(call: Callable[[], object]) -> bool:
    try:
        call()
    except (ValueError, msgspec.ValidationError, pydantic.ValidationError):
        return True
    except Exception as error:  # noqa: BLE001 - the framework's own error types
        return type(error).__name__ == "InvalidEventData"
    return False


OPERATIONS: Sequence[tuple[str, Callable[[Contender], Callable[[], object]]]] = [
    ("build + encode, validated", lambda c: c.build_and_encode),
    ("encode a built event", lambda c: c.encode),
    ("decode + validate", lambda c: c.decode),
]


def counted(call: Callable[[], object]) -> Callable[[], int]:
    """``call`` 100 times per operation, so the timing loop's own cost stays out of the figure."""

    def op() -> int:
        for _ in range(100):
            call()
        return 100

    return op


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="per contender and operation")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(
        f"# event codecs: msgspec {msgspec.__version__}, orjson {orjson.__version__},"
        f" pydantic {pydantic.VERSION}; one 7-field event"
        f" ({len(msgspec.json.encode(InvoiceStruct(**FIELDS)))} bytes of JSON); {machine()}"
    )
    all_ = contenders()
    for contender in all_:
        if not contender.round_trips():
            raise SystemExit(f"{contender.name} does not decode what it encoded to an equal event")
        if not contender.rejects_invalid():
            raise SystemExit(f"{contender.name} accepts amount_cents=0, which breaks ge=1")
    print("# every contender round-trips the event and rejects amount_cents=0")
    for what, pick in OPERATIONS:
        rates = race(args.seconds, args.rounds, [counted(pick(c)) for c in all_])
        print(line(what, [c.name for c in all_], rates), flush=True)
    print(f"# done in {time.perf_counter() - started:,.0f} s; {machine()}")


def line(what: str, names: Sequence[str], rates: Sequence[Rate]) -> str:
    base = rates[0].micros_per_op
    cells = [
        f"{name} {rate.micros_per_op:6.2f} us (x{rate.micros_per_op / base:4.1f})"
        for name, rate in zip(names, rates, strict=True)
    ]
    return f"{what:<27} " + "   ".join(cells)


if __name__ == "__main__":
    main()
