"""``GET …/health/``: is the store reachable? For load balancers, orchestrators and people.

It pings the engine (one read-only transaction fetching a read version), the cheapest round
trip that proves the engine works: the embedded store opens, or the FoundationDB cluster
answers within the store URL's ``connect_timeout`` (5 s unless the URL says otherwise), so a
probe never hangs on an unreachable cluster. A missing or malformed cluster file is
``store_misconfigured``.
"""

from __future__ import annotations

import time

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..engine import EngineConfigurationError, FDBError
from ..store import get_database

_HEALTHY = inline_serializer(
    "StoreHealth",
    {
        "status": serializers.ChoiceField(choices=["ok"]),
        "engine": serializers.ChoiceField(choices=["embedded", "fdb"]),
        "read_version": serializers.IntegerField(),
        "latency_ms": serializers.FloatField(),
    },
)
_UNHEALTHY = inline_serializer(
    "StoreUnavailable",
    {
        "status": serializers.ChoiceField(choices=["unavailable"]),
        "code": serializers.ChoiceField(choices=["store_misconfigured", "store_unavailable"]),
        "detail": serializers.CharField(),
    },
)


class StoreHealthView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Check that the event store answers",
        responses={200: _HEALTHY, 503: _UNHEALTHY},
        tags=["fairway"],
    )
    def get(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            database = get_database()
            read_version = database.ping()
        except EngineConfigurationError as error:
            return _unavailable("store_misconfigured", str(error))
        except (FDBError, OSError) as error:
            return _unavailable("store_unavailable", str(error))
        return Response(
            {
                "status": "ok",
                "engine": database.url.split(":", 1)[0],
                "read_version": read_version,
                "latency_ms": round((time.perf_counter() - started) * 1000, 3),
            }
        )


def _unavailable(code: str, detail: str) -> Response:
    return Response({"status": "unavailable", "code": code, "detail": detail}, status=503)
