"""Periodic jobs of the Telegram adapter (imported by the adapter's `register` hook)."""

from __future__ import annotations

from carekit.channels.adapters.telegram import polling
from carekit.core.jobs import periodic


@periodic(minute="*", description="Telegram channels in polling mode: fetch new updates (getUpdates)")
def telegram_poll() -> int:
    return polling.poll_all(timeout=0)
