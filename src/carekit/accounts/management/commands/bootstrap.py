"""`carekit bootstrap`: make sure an administrator and a first workspace exist; print the login."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from carekit.accounts import services
from carekit.accounts.models import User
from carekit.core.events import Actor
from carekit.core.models import Workspace


class Command(BaseCommand):
    help = "Create the first administrator and workspace if missing (idempotent) and print the login."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="admin@carekit.local")
        parser.add_argument("--password", default="open-sesame-4821")
        parser.add_argument("--workspace", default="Demo shop")

    def handle(self, *args, email: str, password: str, workspace: str, **options):
        actor = Actor.system("bootstrap")
        with transaction.atomic(durable=True):
            user = User.objects.filter(email=email.lower()).first()
            if user is None:
                user = services.user_create(
                    actor=actor, email=email, password=password, full_name="Administrator", operator=True
                )
            if not Workspace.objects.filter(memberships__user=user).exists():
                services.workspace_create(actor=actor, name=workspace, owner=user)
        self.stdout.write(
            self.style.SUCCESS(f"Sign in at http://127.0.0.1:8000/login/ as {email} / {password}")
        )
