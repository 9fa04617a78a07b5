"""A projection's read model: JSON documents by key, and lookups by declared fields.

Under one generation's prefix (see :mod:`.generations`)::

    ("d", key)                        a document, JSON
    ("i", lookup, value, key)         the lookup entry of a document whose field has that value

Lookups are kept in the transaction that writes the document, so a lookup never points at a
stale value. Listing pages by key order with a cursor (the last key of the page): a page costs
one range read however deep it is, and no page needs a count.

Handlers write through :class:`Documents`, a unit of work over one projector batch: each
document is read from the engine once per batch and written once when the batch commits,
however many of the batch's events change it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import msgspec

from fairway_django.engine import ReadTransaction, Transaction, keys
from fairway_django.engine.limits import VALUE_SIZE_LIMIT

from .errors import InvalidDocument

Document = dict[str, Any]
LookupValue = str | int | bool | None
#: The longest document key and the longest text lookup value, in characters (so at most
#: 1,000 bytes of UTF-8: a lookup entry stays well inside the engine's 10,000-byte keys, and a
#: key fits in a URL as a page's cursor, percent-encoded, within servers' request-line limits).
MAX_KEY_LENGTH = 250
#: The most documents a page holds.
MAX_PAGE_SIZE = 1_000
LOOKUP_TYPES: tuple[type, ...] = (str, int, bool)

_encode = msgspec.json.encode
_decode = msgspec.json.decode


class Page(NamedTuple):
    """Documents in key order, and the cursor of the next page (None on the last)."""

    documents: list[tuple[str, Document]]
    next_cursor: str | None


class DocumentKeys:
    """The keys of one generation's read model."""

    def __init__(self, prefix: bytes, owner: str, lookups: Mapping[str, type]) -> None:
        self.prefix = prefix
        self.documents = prefix + keys.pack(("d",))
        self.lookups = prefix + keys.pack(("i",))
        self.owner = owner  # named in errors: "CourseList: ..."
        self.lookup_types = lookups

    def document(self, key: str) -> bytes:
        return self.documents + keys.pack((self.check_key(key),))

    def lookup(self, name: str, value: LookupValue, key: str) -> bytes:
        return self.lookups + keys.pack((name, value, key))

    def check_key(self, key: object) -> str:
        if not isinstance(key, str) or not key:
            raise InvalidDocument(f"{self.owner}: a document key is non-empty text, not {key!r}")
        if len(key) > MAX_KEY_LENGTH:
            raise InvalidDocument(
                f"{self.owner}: document key {key[:40]!r}... is over {MAX_KEY_LENGTH} characters"
            )
        return key

    def check_value(self, name: str, value: object) -> LookupValue:
        """``value`` as lookup ``name`` stores it: of its declared type, or None."""
        if name not in self.lookup_types:
            known = ", ".join(self.lookup_types) or "none"
            raise InvalidDocument(f"{self.owner} has no lookup {name!r} (its lookups: {known})")
        wanted = self.lookup_types[name]
        if value is None:
            return None
        # bool is an int in Python: an int lookup must not take True, nor a bool one 1.
        if type(value) is not wanted:
            raise InvalidDocument(
                f"{self.owner}: lookup {name!r} takes {wanted.__name__} values, not {value!r}"
            )
        if isinstance(value, str) and len(value) > MAX_KEY_LENGTH:
            raise InvalidDocument(
                f"{self.owner}: the {name!r} value {value[:40]!r}... is over {MAX_KEY_LENGTH} "
                "characters"
            )
        return value  # type: ignore[return-value]  # checked against LOOKUP_TYPES above

    def lookup_values(self, document: Document | None) -> dict[str, LookupValue]:
        if document is None:
            return {}
        return {name: self.check_value(name, document.get(name)) for name in self.lookup_types}


class Documents:
    """What a projection's handlers change: ``get``, ``put`` and ``delete`` documents by key.

    Changes are kept until :meth:`flush`, which the projector calls once per batch; ``get``
    sees them. A document is a dict of JSON values; ``put`` stores a copy, so changing a dict
    after putting it changes nothing stored.
    """

    def __init__(self, tr: Transaction, document_keys: DocumentKeys) -> None:
        self._tr = tr
        self._keys = document_keys
        self._stored: dict[str, dict[str, LookupValue]] = {}  # key -> its stored lookup values
        # key -> (new JSON, or None when deleted; its lookup values)
        self._changed: dict[str, tuple[bytes | None, dict[str, LookupValue]]] = {}

    def get(self, key: str) -> Document | None:
        """The document at ``key`` as this batch has left it, or None."""
        raw = self._changed[key][0] if key in self._changed else self._load(key)
        return None if raw is None else _decode(raw)

    def put(self, key: str, document: Mapping[str, Any]) -> None:
        """Store ``document`` at ``key``, replacing what was there."""
        if not isinstance(document, Mapping):
            raise InvalidDocument(f"{self._keys.owner}: a document is a dict, not {document!r}")
        try:
            raw = _encode(document)
        except (TypeError, msgspec.EncodeError) as error:
            raise InvalidDocument(
                f"{self._keys.owner}: document {key!r} is not JSON: {error}"
            ) from None
        if len(raw) > VALUE_SIZE_LIMIT:
            raise InvalidDocument(
                f"{self._keys.owner}: document {key!r} is {len(raw):,} bytes of JSON; the "
                f"engine stores at most {VALUE_SIZE_LIMIT:,} per value: split it"
            )
        values = self._keys.lookup_values(dict(document))  # a bad value fails here, not later
        self._remember(key)
        self._changed[key] = (raw, values)

    def delete(self, key: str) -> None:
        """Remove the document at ``key`` (nothing happens when there is none)."""
        self._remember(key)
        self._changed[key] = (None, {})

    def flush(self) -> int:
        """Write every changed document and its lookup entries; returns how many changed."""
        tr, document_keys = self._tr, self._keys
        for key, (raw, after) in self._changed.items():
            before = self._stored[key]
            for name, value in before.items():
                if after.get(name, _MISSING) != value:
                    tr.clear(document_keys.lookup(name, value, key))
            for name, value in after.items():
                if before.get(name, _MISSING) != value:
                    tr.set(document_keys.lookup(name, value, key), b"")
            if raw is None:
                tr.clear(document_keys.document(key))
            else:
                tr.set(document_keys.document(key), raw)
            self._stored[key] = after
        count = len(self._changed)
        self._changed.clear()
        return count

    def _remember(self, key: str) -> None:
        if key not in self._stored:
            self._load(key)

    def _load(self, key: str) -> bytes | None:
        """The stored JSON at ``key``; remembers its lookup values the first time."""
        raw = self._tr.snapshot.get(self._keys.document(key))
        if key not in self._stored:
            document = None if raw is None else _decode(raw)
            self._stored[key] = self._keys.lookup_values(document)
        return raw


_MISSING = object()


def get_document(tr: ReadTransaction, document_keys: DocumentKeys, key: str) -> Document | None:
    raw = tr.get(document_keys.document(key))
    return None if raw is None else _decode(raw)


def list_documents(
    tr: ReadTransaction, document_keys: DocumentKeys, *, after: str | None, limit: int,
    lookup: tuple[str, LookupValue] | None = None,
) -> Page:
    """A page of documents in key order after the key ``after``: all of them, or those whose
    ``lookup = (name, value)`` matches."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidDocument(f"a page holds 1 to {MAX_PAGE_SIZE} documents, not {limit!r}")
    if lookup is None:
        prefix = document_keys.documents
    else:
        name, value = lookup
        prefix = document_keys.lookups + keys.pack((name, document_keys.check_value(name, value)))
    begin = prefix
    if after is not None:
        begin += keys.pack((document_keys.check_key(after),)) + b"\x00"
    end = keys.strinc(prefix)
    rows = list(tr.get_range(begin, end, limit=limit + 1))
    more = len(rows) > limit
    found: list[tuple[str, Document]] = []
    for row_key, raw in rows[:limit]:
        (key,) = keys.unpack(row_key, len(prefix))
        assert isinstance(key, str)
        if lookup is None:
            found.append((key, _decode(raw)))
        else:
            document = get_document(tr, document_keys, key)
            if document is not None:
                found.append((key, document))
    return Page(found, found[-1][0] if more and found else None)
