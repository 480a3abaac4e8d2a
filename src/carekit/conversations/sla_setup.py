"""SLA configuration: business-hours calendars and SLA policies (the clocks themselves live in sla.py)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from carekit.conversations.models import (
    BusinessCalendar,
    SlaPolicy,
)
from carekit.core.errors import DomainError
from carekit.core.events import Actor, emit
from carekit.core.models import Workspace

TIME_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")


# --- SLA configuration ------------------------------------------------------------------------------


def calendar_create(
    *, actor: Actor, workspace: Workspace, name: str, time_zone: str, hours: dict, holidays: list[str]
) -> BusinessCalendar:
    for spans in hours.values():
        for opening, closing in spans:
            if not (TIME_RE.match(opening) and TIME_RE.match(closing)) or opening >= closing:
                raise DomainError(_('Working hours look like ["09:00", "19:00"].'), field="hours")
    for day in holidays:
        try:
            date.fromisoformat(day)
        except ValueError:
            raise DomainError(_("Holidays are dates like 2026-12-31."), field="holidays") from None
    cal = BusinessCalendar.objects.create(
        workspace=workspace, name=name, time_zone=time_zone, hours=hours, holidays=sorted(set(holidays))
    )
    emit(
        workspace_id=workspace.pk,
        type="conversations.calendar.created",
        subject_type="calendar",
        subject_id=cal.public_id,
        actor=actor,
        payload={"calendar_id": cal.public_id, "time_zone": time_zone},
    )
    return cal


def sla_policy_create(*, actor: Actor, workspace: Workspace, **fields: Any) -> SlaPolicy:
    if not any(
        fields.get(f) for f in ("first_response_minutes", "next_response_minutes", "resolution_minutes")
    ):
        raise DomainError(_("A policy needs at least one target."), field="first_response_minutes")
    policy = SlaPolicy.objects.create(workspace=workspace, **fields)
    emit(
        workspace_id=workspace.pk,
        type="conversations.sla_policy.created",
        subject_type="sla_policy",
        subject_id=policy.public_id,
        actor=actor,
        payload={"policy_id": policy.public_id},
    )
    return policy
