"""The Django side of one bench/http.py variant, in a fresh interpreter of its own.

Each variant has its own settings (the Fairway site or the ORM peer), and Django sets up once
per process, so bench/http.py runs these steps as ``python -m bench._http_child <step> <side>``
with the variant's environment and reads the JSON line this prints last:

- ``prepare``: create the tables Django needs, a user with a token, and the world's courses and
  students; prints ``{"token": ...}``.
- ``check``: read back every subscription; prints ``{"subscriptions": n, "violations": [...]}``.
- ``layers``: prepare, then time one subscribe at each layer in this process; prints
  ``{"token": ..., "layers": [[name, micros, note], ...]}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

USERNAME = "bench"


def prepare(side: str, world: Any) -> str:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    call_command("migrate", verbosity=0, interactive=False)
    user = get_user_model().objects.create_user(USERNAME, password=None)
    token: str = Token.objects.create(user=user).key
    if side == "fairway":
        from bench._http_fairway import seed

        seed(world, os.environ["BENCH_SEED_STORE_URL"])
    else:
        from bench._http_orm import seed as seed_tables

        seed_tables(world)
    return token


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["prepare", "check", "layers"])
    parser.add_argument("side", choices=["fairway", "orm"])
    parser.add_argument("--world", required=True, help="the World's fields as JSON")
    parser.add_argument("--scratch", type=Path)
    parser.add_argument("--durability", default="normal")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)

    import django

    # WhiteNoise warns that the example project's static files were never collected.
    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    from bench._http_world import World

    world = World(**json.loads(args.world))
    result: dict[str, Any] = {}
    if args.step in ("prepare", "layers"):
        result["token"] = prepare(args.side, world)
    if args.step == "check":
        from bench import _http_fairway, _http_orm

        checker = _http_fairway.check if args.side == "fairway" else _http_orm.check
        result["subscriptions"], result["violations"] = checker(world)
    if args.step == "layers":
        if args.side == "fairway":
            from bench._http_fairway import layers

            result["layers"] = layers(
                world, args.scratch, args.durability, result["token"], args.seconds, args.rounds
            )
        else:
            from bench._http_orm import layers as orm_layers

            result["layers"] = orm_layers(world, result["token"], args.seconds, args.rounds)
    sys.stdout.flush()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
