"""`carekit demo`: load the demo shop once (idempotent); later contexts add data through `demo.py` modules."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from carekit.core.events import Actor
from carekit.core.models import Workspace
from carekit.demo import shop


class Command(BaseCommand):
    help = "Load a deterministic demo workspace (an online clothing shop) unless it is already there."

    def handle(self, *args, **options):
        if Workspace.objects.filter(slug=shop.SHOP_SLUG).exists():
            self.stdout.write("Demo data is already loaded.")
            return
        with transaction.atomic(durable=True):
            ctx = shop.load_people(Actor.system("demo"))
            loaded = ["accounts"]
            for config in apps.get_app_configs():
                module_name = f"{config.name}.demo"
                if config.name == "carekit.demo" or find_spec(module_name) is None:
                    continue
                import_module(module_name).load(ctx)
                loaded.append(config.label)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo shop loaded ({', '.join(loaded)}). Sign in as {shop.PEOPLE[0][0]}, "
                f"{shop.PEOPLE[3][0]} or any other demo person with the password {shop.DEMO_PASSWORD}"
            )
        )
