"""Every domain event may start scenario runs or resume waiting ones (runs exactly once per event)."""

from __future__ import annotations

from carekit.core.events import subscribe
from carekit.core.models import Event
from carekit.scenarios import runtime


@subscribe("*", name="scenarios.on_event")
def on_event(event: Event) -> None:
    if event.type.startswith("scenarios."):
        return  # our own events (webhook requests, publishes) never trigger scenarios: no feedback loops
    runtime.handle_event(event)
