# The example project served by gunicorn, talking to FoundationDB (see docker-compose.yml).
FROM python:3.11-slim

# The client library must match the server's protocol and the pinned `foundationdb` bindings.
ARG FDB_VERSION=7.3.69
ARG TARGETARCH

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libfdb_c (and fdbcli) from FoundationDB's release packages; apt installs the .deb so that
# its own dependencies (adduser) come along.
RUN set -eux; \
    case "${TARGETARCH:-$(dpkg --print-architecture)}" in \
        amd64) fdb_arch=amd64 ;; \
        arm64) fdb_arch=aarch64 ;; \
        *) echo "FoundationDB publishes no client package for this architecture" >&2; exit 1 ;; \
    esac; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates curl; \
    curl -fsSL -o /tmp/foundationdb-clients.deb \
        "https://github.com/apple/foundationdb/releases/download/${FDB_VERSION}/foundationdb-clients_${FDB_VERSION}-1_${fdb_arch}.deb"; \
    apt-get install -y --no-install-recommends /tmp/foundationdb-clients.deb; \
    rm /tmp/foundationdb-clients.deb; \
    apt-get purge -y --auto-remove curl; \
    rm -rf /var/lib/apt/lists/*

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are collected at build time and served by WhiteNoise.
RUN python manage.py collectstatic --noinput \
    && mkdir -p /app/var \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin fairway \
    && chown -R fairway /app/var

USER fairway
EXPOSE 8000

# Migrate Django's own tables, then serve. No --preload: FoundationDB's client network thread
# does not survive fork, so every worker opens the database itself after forking.
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn project.wsgi --bind 0.0.0.0:8000 --workers 2 --access-logfile -"]
