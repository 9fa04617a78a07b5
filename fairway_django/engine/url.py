"""Store URLs: ``embedded:///path/to/dir`` and ``fdb:///path/to/fdb.cluster`` (or ``fdb://``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit

from .errors import EngineConfigurationError

ACCEPTED = (
    "embedded:///absolute/path/to/store-dir (the default engine), "
    "fdb:///path/to/fdb.cluster, or fdb:// for FoundationDB's default cluster file"
)


@dataclasses.dataclass(frozen=True)
class StoreURL:
    scheme: str
    path: str
    options: Mapping[str, str]

    def without(self, *names: str) -> StoreURL:
        """The same URL minus some options (a layer above consumes its own, like namespace)."""
        kept = {k: v for k, v in self.options.items() if k not in names}
        return dataclasses.replace(self, options=kept)

    def reject_unknown_options(self, known: set[str]) -> None:
        unknown = sorted(set(self.options) - known)
        if unknown:
            accepted = ", ".join(sorted(known)) or "none"
            raise EngineConfigurationError(
                f"unknown option(s) {', '.join(unknown)} in {self.scheme}: store URL; "
                f"accepted options: {accepted}"
            )

    def __str__(self) -> str:
        query = urlencode(dict(self.options))
        return f"{self.scheme}://{self.path}" + (f"?{query}" if query else "")


def parse_store_url(url: str) -> StoreURL:
    if not isinstance(url, str) or not url:
        raise EngineConfigurationError(f"a store URL is required; use {ACCEPTED}")
    parts = urlsplit(url)
    if parts.scheme not in ("embedded", "fdb"):
        raise EngineConfigurationError(
            f"unknown store URL scheme {parts.scheme or '(none)'!r} in {url!r}; use {ACCEPTED}"
        )
    if parts.netloc:
        raise EngineConfigurationError(
            f"{url!r} names a host ({parts.netloc!r}); store URLs take a local path after "
            f"three slashes: {ACCEPTED}"
        )
    if parts.fragment:
        raise EngineConfigurationError(f"{url!r} has a #fragment; use {ACCEPTED}")
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise EngineConfigurationError(
            f"malformed query {parts.query!r} in {url!r}; write options as ?name=value&name=value"
        ) from None
    options = dict(pairs)
    if len(options) != len(pairs):
        raise EngineConfigurationError(f"an option is repeated in {url!r}")
    if parts.scheme == "embedded" and not parts.path.startswith("/"):
        raise EngineConfigurationError(
            f"{url!r} has no absolute path; use embedded:///absolute/path/to/store-dir"
        )
    return StoreURL(parts.scheme, parts.path, options)
