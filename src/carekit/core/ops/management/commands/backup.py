"""`carekit backup`: write a consistent snapshot (database + var/ files) to an archive."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from carekit.core.ops.backup import create_backup


class Command(BaseCommand):
    help = "Back up the database and the files under var/ into one .tar.gz archive."

    def add_arguments(self, parser):
        parser.add_argument("--output", default=None, help="directory for the archive (default var/backups)")

    def handle(self, *args, output: str | None, **options):
        result = create_backup(Path(output) if output else Path(settings.VAR_DIR) / "backups")
        rows = sum(t["rows"] for t in result.manifest["tables"].values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {result.path} ({len(result.manifest['tables'])} tables, {rows} rows, "
                f"{len(result.manifest['files'])} files)."
            )
        )
