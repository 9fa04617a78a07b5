#!/usr/bin/env bash
# Create the FoundationDB database on first start, and only then; wait until it is available.
#
# Run once by docker compose (service fdb-init) before the web service starts. A new cluster's
# coordinators "have no record of this database": that, and nothing else, triggers
# `configure new single ssd`. A configured database is left alone, so re-running is harmless.
# Exits non-zero if the database is not available within FDB_INIT_ATTEMPTS tries.
set -uo pipefail

cluster_file=${FDB_CLUSTER_FILE:?FDB_CLUSTER_FILE must name the cluster file}
attempts=${FDB_INIT_ATTEMPTS:-60}
interval=${FDB_INIT_INTERVAL:-2}

fdb() { fdbcli -C "$cluster_file" --timeout 10 --exec "$1" 2>&1; }

for ((attempt = 1; attempt <= attempts; attempt++)); do
    if [[ -s $cluster_file ]]; then
        # Match the text: "unavailable" contains "available", and fdbcli's exit status does not
        # tell an unconfigured database from an unreachable one.
        if [[ $(fdb "status minimal") == *"The database is available"* ]]; then
            echo "fdb-init: the database is available."
            exit 0
        fi
        if [[ $(fdb status) == *"no record of this database"* ]]; then
            echo "fdb-init: new cluster; creating the database (configure new single ssd)."
            fdb "configure new single ssd" || true
        fi
    fi
    sleep "$interval"
done

echo "fdb-init: the database did not become available after $attempts tries; see the fdb service's log." >&2
exit 1
