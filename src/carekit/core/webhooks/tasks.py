"""Webhook jobs: send one delivery (by id) and recover lost sends."""

from __future__ import annotations

from carekit.core.jobs import periodic, task
from carekit.core.webhooks import delivery


@task()
def deliver_webhook(delivery_id: int) -> str | None:
    return delivery.attempt(delivery_id)


@periodic(minute="*", description="re-enqueue due webhook deliveries whose job was lost")
def sweep_webhooks() -> int:
    return delivery.sweep()
