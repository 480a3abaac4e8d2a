"""`carekit restore ARCHIVE`: restore into an empty database, verify every table, re-apply erasures."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from carekit.core.ops.restore import RestoreError, restore_backup


class Command(BaseCommand):
    help = "Restore a backup archive into the configured, empty database and var/ directory."

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument(
            "--journal",
            action="append",
            default=[],
            help="an extra copy of the erasure journal to replay (may repeat)",
        )

    def handle(self, *args, archive: str, journal: list[str], **options):
        try:
            result = restore_backup(Path(archive), extra_journals=[Path(j) for j in journal])
        except (RestoreError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored and verified {result.tables} tables ({result.rows} rows) "
                f"and {result.files} files; "
                f"re-applied {result.erasures_reapplied} erasure(s) recorded since the backup."
            )
        )
