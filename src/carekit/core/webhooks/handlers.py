"""Every domain event may feed webhooks: record deliveries for the subscriptions that match it."""

from __future__ import annotations

from carekit.core.events import Actor, subscribe
from carekit.core.models import Event
from carekit.core.webhooks import interest, services

SYSTEM = Actor.system("webhooks")


@subscribe("*", name="core.webhooks.record", wants=interest.wants)
def record(event: Event) -> None:
    services.deliveries_record(actor=SYSTEM, event=event)
