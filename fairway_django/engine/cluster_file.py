"""FoundationDB cluster files: which one the client uses, and whether it can use it.

A cluster file holds one connection string, ``description:ID@host:port,host:port``. FDB's
client keeps trying to reach whatever a malformed or stale file names, so a wrong file looks
like an unreachable cluster; the FDB engine checks the file first and names it in every error.
"""

from __future__ import annotations

import os
import re
import sys

from .errors import EngineConfigurationError

#: Where FDB's client looks for its cluster file when it is given none, after
#: ``$FDB_CLUSTER_FILE`` and ``./fdb.cluster``.
_PLATFORM_CLUSTER_FILE = (
    "/usr/local/etc/foundationdb/fdb.cluster"
    if sys.platform == "darwin"
    else "/etc/foundationdb/fdb.cluster"
)
#: Errors that say the cluster file, not the cluster, is at fault.
CLUSTER_FILE_ERRORS = {
    1513: "the file cannot be read",
    1515: "no cluster file was found",
    2104: "its connection string is malformed",
}
#: A cluster file's connection string: ``description:ID@coordinator,coordinator,...``, each
#: coordinator an IPv4 address, a bracketed IPv6 address or a host name, with a port and an
#: optional ``:tls``.
_COORDINATOR = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.\-]*):[0-9]{1,5}(?::tls)?"
_CONNECTION_STRING = re.compile(
    rf"[A-Za-z0-9_]+:[A-Za-z0-9]+@{_COORDINATOR}(?:,{_COORDINATOR})*"
)
_MAX_CLUSTER_FILE_BYTES = 60_000


def default_cluster_file() -> str | None:
    """The cluster file FDB's client uses when given none, or None when it finds none."""
    for candidate in (
        os.environ.get("FDB_CLUSTER_FILE"),
        os.path.abspath("fdb.cluster"),
        _PLATFORM_CLUSTER_FILE,
    ):
        if candidate and os.path.isfile(candidate):
            return candidate
    return None


def describe_cluster_file(cluster_file: str | None) -> str:
    if cluster_file is not None:
        return f"the cluster file {cluster_file}"
    found = default_cluster_file()
    if found is None:
        return (
            "the default cluster file (none found: $FDB_CLUSTER_FILE, ./fdb.cluster, "
            f"{_PLATFORM_CLUSTER_FILE})"
        )
    return f"the default cluster file {found}"


def check_cluster_file(path: str | None) -> None:
    """Refuse a cluster file that FDB's client could not use, at once, naming it.

    The client would otherwise keep trying to reach a cluster its file cannot name. Lines
    beginning with ``#`` are skipped; what remains must be one connection string.
    """
    if path is None:
        return  # FDB reports that itself (no_cluster_file_found)
    try:
        with open(path, "rb") as file:
            raw = file.read(_MAX_CLUSTER_FILE_BYTES + 1)
    except OSError as error:
        raise EngineConfigurationError(
            f"the FoundationDB cluster file {path} cannot be read: {error.strerror or error}"
        ) from error
    lines = [
        line.strip()
        for line in raw.decode("utf-8", "replace").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if (
        len(raw) > _MAX_CLUSTER_FILE_BYTES
        or len(lines) != 1
        or not _CONNECTION_STRING.fullmatch(lines[0])
    ):
        raise EngineConfigurationError(
            f"the FoundationDB cluster file {path} does not hold a connection string of the "
            "form description:ID@host:port[,host:port...] (as fdbserver writes it); copy the "
            "cluster's fdb.cluster here"
        )
