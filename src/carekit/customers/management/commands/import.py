"""`carekit import customers|orders FILE [--dry-run] [--mode skip|all_or_nothing] --workspace SLUG`."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from carekit.core.errors import DomainError
from carekit.core.events import Actor
from carekit.core.models import Workspace
from carekit.customers.importing import customers_import
from carekit.customers.importing_orders import orders_import


class Command(BaseCommand):
    help = "Import customers from a CSV file (header row; see carekit/customers/README.md for columns)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["customers", "orders"])
        parser.add_argument("file")
        parser.add_argument("--workspace", required=True, help="the workspace slug")
        parser.add_argument("--mode", choices=["skip", "all_or_nothing"], default="skip")
        parser.add_argument("--dry-run", action="store_true")

    def _bar(self, done: int, total: int) -> None:
        width = 40
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def handle(self, *args: Any, **opts: Any) -> None:
        ws = Workspace.objects.filter(slug=opts["workspace"]).first()
        if ws is None:
            raise CommandError(f"no workspace {opts['workspace']!r}")
        try:
            with open(opts["file"], encoding="utf-8-sig") as fh:
                text = fh.read()
        except OSError as exc:
            raise CommandError(str(exc)) from None
        try:
            with transaction.atomic(durable=True):
                run = orders_import if opts["what"] == "orders" else customers_import
                report = run(
                    actor=Actor.system("import"),
                    workspace=ws,
                    text=text,
                    mode=opts["mode"],
                    dry_run=opts["dry_run"],
                    progress=self._bar,
                )
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from None
        for err in report.errors:
            self.stdout.write(f"line {err.row}: {err.field}: {err.reason}")
        verb = "would import" if report.dry_run else "imported"
        self.stdout.write(
            f"{report.rows} rows: {verb} {report.imported}, updated {report.updated}, "
            f"skipped {report.skipped}, {len({e.row for e in report.errors})} bad"
        )
