"""`carekit telegram poll`: long-poll getUpdates for Telegram channels in polling mode (a worker that
runs beside `carekit serve`); `carekit telegram connect`: setWebhook/deleteWebhook for each channel."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from carekit.channels import selectors
from carekit.channels.adapters.telegram import polling


class Command(BaseCommand):
    help = "Telegram channels: long polling (getUpdates) and webhook registration."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        poll = sub.add_parser("poll", help="long-poll channels in polling mode until stopped")
        poll.add_argument("--channel", default="", help="one channel id (default: every polling channel)")
        poll.add_argument("--timeout", type=int, default=25, help="getUpdates long-poll seconds")
        poll.add_argument("--once", action="store_true", help="one round, then exit")
        connect = sub.add_parser("connect", help="register the webhook (or remove it in polling mode)")
        connect.add_argument("--channel", default="")

    def _channels(self, channel_id: str) -> list[Any]:
        qs = selectors.active_of_kind("telegram")
        return list(qs.filter(public_id=channel_id) if channel_id else qs)

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "connect":
            for ch in self._channels(opts["channel"]):
                error = polling.webhook_register(ch)
                self.stdout.write(f"{ch.public_id}: {error or 'ok'}")
            return
        while True:
            channels = [c for c in self._channels(opts["channel"]) if c.config.get("mode") == "polling"]
            if not channels:
                self.stdout.write("no Telegram channel in polling mode")
                if opts["once"]:
                    return
                time.sleep(30)
                continue
            # With several channels each waits its turn; a short timeout keeps the round fair.
            timeout = opts["timeout"] if len(channels) == 1 else min(opts["timeout"], 2)
            for ch in channels:
                result = polling.poll_once(ch, timeout=0 if opts["once"] else timeout)
                if result.fetched or result.error:
                    self.stdout.write(
                        f"{ch.public_id}: {result.handled}/{result.fetched} {result.error}".rstrip()
                    )
                if result.error:
                    time.sleep(5)
            if opts["once"]:
                return
