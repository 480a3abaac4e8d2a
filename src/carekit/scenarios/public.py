"""What other contexts may use from scenarios: the inbox registers its port here; frozen views of a
customer's runs for sidebars. Functions run inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from carekit.scenarios.definition import parse_duration
from carekit.scenarios.ports import InboxPort, InboxRequest, InboxResult, register_inbox_port

__all__ = [
    "InboxPort",
    "InboxRequest",
    "InboxResult",
    "RunView",
    "customer_runs",
    "parse_duration",
    "register_inbox_port",
]


@dataclass(frozen=True)
class RunView:
    run_id: str
    scenario_id: str
    scenario_name: str
    status: str
    started_at: datetime
    steps: int


def customer_runs(workspace_id: int, customer_id: str, *, limit: int = 20) -> list[RunView]:
    from carekit.scenarios.models import Run

    qs = (
        Run.objects.filter(workspace_id=workspace_id, customer_id=customer_id)
        .select_related("scenario")
        .order_by("-started_at", "-pk")[:limit]
    )
    return [
        RunView(r.public_id, r.scenario.public_id, r.scenario.name, r.status, r.started_at, r.seq) for r in qs
    ]
