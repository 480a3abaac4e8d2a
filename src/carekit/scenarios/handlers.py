"""Every domain event may start scenario runs or resume waiting ones (runs exactly once per event)."""

from __future__ import annotations

from carekit.core.events import subscribe
from carekit.core.models import Event
from carekit.scenarios import runtime


def _wants(workspace_id: int, event_type: str) -> bool:
    """Decline at emit time the events no published scenario triggers on or waits for (most of them),
    so they get no delivery row; uses the runtime's per-workspace index (refreshed every second)."""
    if event_type.startswith("scenarios."):
        return False
    idx = runtime.index_for(workspace_id)
    return event_type in idx.listening or event_type in idx.by_trigger


@subscribe("*", name="scenarios.on_event", wants=_wants)
def on_event(event: Event) -> None:
    if event.type.startswith("scenarios."):
        return  # our own events (webhook requests, publishes) never trigger scenarios: no feedback loops
    runtime.handle_event(event)
