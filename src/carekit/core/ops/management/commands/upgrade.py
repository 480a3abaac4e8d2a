"""`carekit upgrade`: check, back up, migrate. `--check` only reports."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from carekit.core.ops.backup import create_backup
from carekit.core.ops.upgrade import preflight


class Command(BaseCommand):
    help = "Upgrade the database: pre-flight checks, a backup, then migrations."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="only run the pre-flight checks")
        parser.add_argument("--no-backup", action="store_true", help="skip the backup before migrating")

    def handle(self, *args, check: bool, no_backup: bool, **options):
        report = preflight()
        for problem in report.problems:
            self.stderr.write(f"pre-flight: {problem}")
        self.stdout.write(f"Pending migrations: {', '.join(report.pending) or 'none'}")
        if not report.ok:
            raise CommandError("pre-flight checks failed; nothing was changed")
        if check or not report.pending:
            return
        if not no_backup:
            result = create_backup(Path(settings.VAR_DIR) / "backups")
            self.stdout.write(f"Backup written to {result.path}")
        call_command("migrate", interactive=False, verbosity=1, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Applied {len(report.pending)} migration(s)."))
