"""Engine errors, carrying FoundationDB's error codes and names.

Layers above the engine branch on ``code`` (or on the subclass), never on the message, so the
same handling works whichever engine raised the error. The FDB engine translates the bindings'
``fdb.FDBError`` into these classes with :func:`error_for_code`.
"""

from __future__ import annotations


class FDBError(Exception):
    """An error with a FoundationDB code. ``retryable`` says whether the retry loop re-runs."""

    code: int = 4000
    name: str = "unknown_error"
    retryable: bool = False

    def __init__(
        self, message: str | None = None, *, code: int | None = None, name: str | None = None
    ) -> None:
        if code is not None:  # a code without a class of its own (see error_for_code)
            self.code, self.name = code, name or "fdb_error"
        self.message = message or self.name.replace("_", " ")
        super().__init__(f"{self.name} ({self.code}): {self.message}")


class TransactionTooOld(FDBError):
    code, name, retryable = 1007, "transaction_too_old", True


class NotCommitted(FDBError):
    code, name, retryable = 1020, "not_committed", True


class CommitUnknownResult(FDBError):
    """The commit may or may not have been applied; a retry must recognise its own success."""

    code, name, retryable = 1021, "commit_unknown_result", True


class TransactionCancelled(FDBError):
    code, name = 1025, "transaction_cancelled"


class TransactionTimedOut(FDBError):
    code, name = 1031, "transaction_timed_out"


class TooManyWatches(FDBError):
    code, name = 1032, "too_many_watches"


class AccessedUnreadable(FDBError):
    code, name = 1036, "accessed_unreadable"


class ClientInvalidOperation(FDBError):
    code, name = 2000, "client_invalid_operation"


class KeyOutsideLegalRange(FDBError):
    code, name = 2004, "key_outside_legal_range"


class InvertedRange(FDBError):
    code, name = 2005, "inverted_range"


class InvalidOptionValue(FDBError):
    code, name = 2006, "invalid_option_value"


class UsedDuringCommit(FDBError):
    code, name = 2017, "used_during_commit"


class NoCommitVersion(FDBError):
    code, name = 2021, "no_commit_version"


class TransactionTooLarge(FDBError):
    code, name = 2101, "transaction_too_large"


class KeyTooLarge(FDBError):
    code, name = 2102, "key_too_large"


class ValueTooLarge(FDBError):
    code, name = 2103, "value_too_large"


_BY_CODE: dict[int, type[FDBError]] = {
    cls.code: cls
    for cls in (
        TransactionTooOld,
        NotCommitted,
        CommitUnknownResult,
        TransactionCancelled,
        TransactionTimedOut,
        TooManyWatches,
        AccessedUnreadable,
        ClientInvalidOperation,
        KeyOutsideLegalRange,
        InvertedRange,
        InvalidOptionValue,
        UsedDuringCommit,
        NoCommitVersion,
        TransactionTooLarge,
        KeyTooLarge,
        ValueTooLarge,
    )
}


def error_for_code(code: int, message: str | None = None) -> FDBError:
    """Build the error for an FDB code; codes without a class of their own keep their code."""
    cls = _BY_CODE.get(code)
    return cls(message) if cls is not None else FDBError(message, code=code)


class StorageFull(RuntimeError):
    """The embedded store reached its configured size, or its disk is full: nothing was
    written, and the message says what to do."""


class EngineConfigurationError(ValueError):
    """A store URL or engine option is malformed; the message says what is accepted."""
