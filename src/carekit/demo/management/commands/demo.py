"""`carekit demo`: load the demo shop once (idempotent); each context's `demo.py` adds its own data."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from carekit.core.events import Actor
from carekit.core.models import Workspace
from carekit.demo.public import DEMO_PASSWORD, SHOP_SLUG, DemoContext


class Command(BaseCommand):
    help = "Load a deterministic demo workspace (an online clothing shop) unless it is already there."

    def handle(self, *args, **options):
        if Workspace.objects.filter(slug=SHOP_SLUG).exists():
            self.stdout.write("Demo data is already loaded.")
            return
        ctx = DemoContext(actor=Actor.system("demo"))
        loaded = []
        with transaction.atomic(durable=True):
            for config in apps.get_app_configs():
                module_name = f"{config.name}.demo"
                if not config.name.startswith("carekit.") or find_spec(module_name) is None:
                    continue
                import_module(module_name).load(ctx)
                loaded.append(config.label)
            if SHOP_SLUG not in ctx.workspaces:
                raise CommandError(
                    "no demo loader created the shop workspace (is carekit.accounts installed?)"
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo shop loaded ({', '.join(loaded)}). Sign in as {' or '.join(ctx.sign_in)} "
                f"(any demo person) with the password {DEMO_PASSWORD}"
            )
        )
