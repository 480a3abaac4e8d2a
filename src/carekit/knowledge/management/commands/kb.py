"""`carekit kb seed --workspace SLUG`: publish the shipped ru/en help-center articles in a workspace."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from carekit.core.errors import DomainError
from carekit.core.events import Actor
from carekit.core.models import Workspace
from carekit.knowledge import services


class Command(BaseCommand):
    help = "Knowledge-base chores: seed the default articles."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        seed = sub.add_parser("seed", help="publish the default ru/en e-commerce articles")
        seed.add_argument("--workspace", required=True, help="workspace slug")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        ws = Workspace.objects.filter(slug=opts["workspace"]).first()
        if ws is None:
            raise CommandError(f"no workspace with slug {opts['workspace']!r}")
        try:
            with transaction.atomic(durable=True):
                created = services.seed_default_articles(actor=Actor.system("cli"), workspace=ws)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Published {len(created)} articles in {ws.slug}: /help/{ws.slug}/")
