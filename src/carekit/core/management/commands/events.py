"""`carekit events failed|retry|sweep|handlers`: operate the event outbox."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from carekit.core.events import delivery
from carekit.core.events.registry import all_handlers
from carekit.core.models import Workspace


class Command(BaseCommand):
    help = "Inspect and operate event deliveries: dead letters, retry, sweep, subscribed handlers."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        failed = sub.add_parser("failed", help="list dead letters")
        failed.add_argument("--workspace", help="workspace slug")
        failed.add_argument("--json", action="store_true")
        retry = sub.add_parser("retry", help="re-queue dead letters")
        retry.add_argument("ids", nargs="*", type=int, help="delivery ids (default: all dead letters)")
        retry.add_argument("--workspace", help="workspace slug")
        sub.add_parser("sweep", help="recover expired leases and never-enqueued deliveries now")
        sub.add_parser("handlers", help="list subscribed handlers")

    def _workspace_id(self, slug: str | None) -> int | None:
        if not slug:
            return None
        ws = Workspace.objects.filter(slug=slug).first()
        if ws is None:
            raise CommandError(f"no workspace with slug {slug!r}")
        return ws.pk

    def handle(self, *args, action: str, **opts):
        if action == "failed":
            rows = delivery.dead_letters(self._workspace_id(opts.get("workspace")))[:1000]
            items = [
                {
                    "delivery": d.pk,
                    "event": d.event.public_id,
                    "type": d.event.type,
                    "handler": d.handler,
                    "attempts": d.attempts,
                    "error": d.last_error,
                }
                for d in rows
            ]
            if opts.get("json"):
                self.stdout.write(json.dumps(items, indent=2))
            elif not items:
                self.stdout.write("No dead letters.")
            else:
                for it in items:
                    line = f"{it['delivery']:>8}  {it['type']:<40} {it['handler']:<40} x{it['attempts']}"
                    self.stdout.write(f"{line}  {it['error']}")
        elif action == "retry":
            with transaction.atomic(durable=True):
                n = delivery.retry_dead(
                    workspace_id=self._workspace_id(opts.get("workspace")), ids=opts["ids"] or None
                )
            self.stdout.write(f"Re-queued {n} dead letter(s).")
        elif action == "sweep":
            self.stdout.write(json.dumps(delivery.sweep()))
        elif action == "handlers":
            for h in all_handlers():
                self.stdout.write(f"{h.name}: {', '.join(h.patterns)}")
