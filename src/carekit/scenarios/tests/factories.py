"""Scenario test helpers: customers, published scenarios, events emitted at a chosen (frozen) time."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from django.db import transaction

from carekit.core.events import Actor, emit
from carekit.core.models import Workspace
from carekit.customers import services as customer_services
from carekit.scenarios import services
from carekit.scenarios.library import TEMPLATES
from carekit.scenarios.models import Scenario

SYSTEM = Actor.system("test")
_n = [0]


def customer(ws: Workspace, *, time_zone: str = "Europe/Moscow", channel: str = "email") -> str:
    _n[0] += 1
    with transaction.atomic():
        c = customer_services.customer_create(
            actor=SYSTEM,
            workspace=ws,
            data=customer_services.ProfileInput(
                first_name="Anna",
                last_name=f"Test{_n[0]}",
                emails=[f"anna{_n[0]}@example.test"],
                preferred_channel=channel,
                time_zone=time_zone,
            ),
        )
    return c.public_id


def template(key: str) -> dict[str, Any]:
    return copy.deepcopy(TEMPLATES[key]["definition"])


def published(
    ws: Workspace, definition: dict[str, Any], name: str = "Test scenario", **changes: Any
) -> Scenario:
    with transaction.atomic():
        s = services.scenario_create(actor=SYSTEM, workspace=ws, name=name, definition=definition)
        services.version_publish(actor=SYSTEM, version=s.versions.get())
        if changes:
            services.scenario_update(actor=SYSTEM, scenario=s, **changes)
    s.refresh_from_db()
    return s


def emit_at(
    ws: Workspace,
    capture: Any,
    type_: str,
    payload: dict[str, Any],
    at: datetime,
    subject_type: str = "order",
) -> None:
    """Emit one event that occurred at `at`; handlers run at commit (Huey is immediate in tests)."""
    with capture(execute=True), transaction.atomic():
        emit(
            workspace_id=ws.pk,
            type=type_,
            subject_type=subject_type,
            subject_id=str(payload.get("order_id") or payload.get("customer_id") or "x"),
            actor=Actor.system("test"),
            payload=payload,
            occurred_at=at,
        )
