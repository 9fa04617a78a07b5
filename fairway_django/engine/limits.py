"""FoundationDB's documented limits, which every engine enforces with FDB's errors."""

from __future__ import annotations

#: Largest key, in bytes (key_too_large, 2102).
KEY_SIZE_LIMIT = 10_000
#: Largest value, in bytes (value_too_large, 2103).
VALUE_SIZE_LIMIT = 100_000
#: Largest transaction: mutations plus conflict ranges, in bytes (transaction_too_large, 2101).
TRANSACTION_SIZE_LIMIT = 10_000_000
#: How long after its read version a transaction may still read or commit
#: (transaction_too_old, 1007).
MVCC_WINDOW_SECONDS = 5.0
#: Keys at or above this prefix belong to the system (key_outside_legal_range, 2004).
SYSTEM_KEY_PREFIX = b"\xff"
#: A versionstamp: 8-byte commit version + 2-byte order of the transaction within its batch.
VERSIONSTAMP_SIZE = 10
