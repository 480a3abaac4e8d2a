"""Every domain event may feed webhooks: record deliveries for the subscriptions that match it."""

from __future__ import annotations

from carekit.core.events import subscribe
from carekit.core.models import Event
from carekit.core.webhooks import services


@subscribe("*", name="core.webhooks.record")
def record(event: Event) -> None:
    services.deliveries_record(event=event)
