"""`carekit bench list | <name> [--json] [--db sqlite|postgres] [--set key=value ...]`."""

from __future__ import annotations

import importlib
import json
import pkgutil
from typing import Any

from django.core.management.base import BaseCommand, CommandError


def _available() -> dict[str, str]:
    import bench

    out = {}
    for mod in pkgutil.iter_modules(bench.__path__):
        if mod.name == "support" or mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{mod.name}")
        if hasattr(module, "run"):
            out[mod.name] = (module.__doc__ or "").strip().splitlines()[0]
    return out


def _value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


class Command(BaseCommand):
    help = "Run a benchmark and print its figures (never used as a timed test)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="a benchmark name, or `list`")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--db", choices=["sqlite", "postgres"], help="database to measure on")
        parser.add_argument(
            "--set", action="append", default=[], metavar="KEY=VALUE", help="workload parameter"
        )

    def handle(self, *args, name: str, json: bool, db: str | None, set: list[str], **options):
        available = _available()
        if name == "list":
            for key, doc in sorted(available.items()):
                self.stdout.write(f"{key:<14} {doc}")
            return
        if name not in available:
            raise CommandError(f"unknown benchmark {name!r}; `carekit bench list` shows them")
        params: dict[str, Any] = {}
        for item in set:
            key, sep, raw = item.partition("=")
            if not sep:
                raise CommandError(f"--set takes KEY=VALUE, not {item!r}")
            params[key] = _value(raw)
        if db:
            params["db"] = db
        result = importlib.import_module(f"bench.{name}").run(params)
        if json:
            import json as _json

            self.stdout.write(_json.dumps(result))
        else:
            for key, value in result.items():
                self.stdout.write(f"{key}: {value}")
