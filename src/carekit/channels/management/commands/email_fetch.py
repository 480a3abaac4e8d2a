"""`carekit email_fetch`: read the IMAP mailboxes of email channels (IDLE where offered, else polling).

`--once` reads what is new and exits (cron-friendly); without it one watcher thread per mailbox runs
until interrupted. The worker's periodic job does the `--once` pass every minute as well.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from carekit.channels.adapters.email import imap, jobs
from carekit.channels.enums import ChannelKind
from carekit.channels.models import Channel


class Command(BaseCommand):
    help = "Fetch inbound mail of email channels over IMAP."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="fetch what is new, then exit")
        parser.add_argument("--channel", default="", help="only this channel (its public id)")

    def handle(self, *args: Any, once: bool = False, channel: str = "", **options: Any) -> None:
        qs = Channel.objects.filter(kind=ChannelKind.EMAIL, is_active=True)
        if channel:
            qs = qs.filter(public_id=channel)
            if not qs.exists():
                raise CommandError(f"no active email channel {channel}")
        if once:
            if channel:
                report = imap.fetch_new(qs.get())
                self.stdout.write(f"{channel}: {report.seen} mail(s) {report.dispositions}")
            else:
                self.stdout.write(f"{jobs.poll_all()}")
            return
        stop = threading.Event()
        watchers = [
            threading.Thread(target=imap.watch, args=(c.pk, stop), name=f"imap-{c.public_id}", daemon=True)
            for c in qs
            if c.config.get("imap_host")
        ]
        for w in watchers:
            w.start()
        self.stdout.write(f"watching {len(watchers)} mailbox(es); Ctrl-C stops")
        try:
            while any(w.is_alive() for w in watchers):
                stop.wait(1.0)
        except KeyboardInterrupt:
            stop.set()
        for w in watchers:
            w.join(timeout=10)
