"""Writing events: inside the caller's transaction, with deliveries, enqueued after commit."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from carekit.core.events.actors import Actor
from carekit.core.events.registry import EVENT_TYPE_RE, handlers_for
from carekit.core.ids import new_public_id

logger = logging.getLogger(__name__)

# Keys that name personal data. Events carry references, never the data itself (ARCHITECTURE.md rule 9).
PERSONAL_KEYS = frozenset(
    {
        "email",
        "phone",
        "name",
        "first_name",
        "last_name",
        "full_name",
        "address",
        "text",
        "body",
        "birth_date",
    }
)


class EventError(ValueError):
    pass


@dataclass(frozen=True)
class EventSpec:
    workspace_id: int
    type: str
    subject_type: str
    subject_id: str
    actor: Actor
    payload: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None


def _check(spec: EventSpec) -> None:
    if not EVENT_TYPE_RE.match(spec.type):
        raise EventError(f"event type {spec.type!r} is not <context>.<entity>.<verb>")
    bad = PERSONAL_KEYS.intersection(spec.payload)
    if bad:
        raise EventError(f"event payload carries personal data keys {sorted(bad)}; pass ids instead")


def emit(
    *,
    workspace_id: int,
    type: str,
    subject_type: str,
    subject_id: str,
    actor: Actor,
    payload: Mapping[str, Any] | None = None,
    occurred_at: datetime | None = None,
):
    """Record one domain event in the current transaction; handlers see it only after commit."""
    return emit_many(
        [EventSpec(workspace_id, type, subject_type, str(subject_id), actor, payload or {}, occurred_at)]
    )[0]


def emit_many(specs: Sequence[EventSpec]):
    """Record many events with two bulk inserts (events, deliveries) in the current transaction."""
    from carekit.core.models import Event, EventDelivery

    if not specs:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise EventError("emit() must run inside the entry point's transaction (transaction.atomic)")
    now = timezone.now()
    events = []
    for spec in specs:
        _check(spec)
        events.append(
            Event(
                public_id=new_public_id("evt"),
                workspace_id=spec.workspace_id,
                type=spec.type,
                subject_type=spec.subject_type,
                subject_id=spec.subject_id,
                payload=dict(spec.payload),
                actor_type=spec.actor.kind,
                actor_id=spec.actor.id,
                occurred_at=spec.occurred_at or now,
            )
        )
    Event.objects.bulk_create(events)
    deliveries = [
        EventDelivery(
            event_id=ev.pk, workspace_id=ev.workspace_id, handler=name, available_at=now, created_at=now
        )
        for ev in events
        for name in handlers_for(ev.type)
    ]
    if deliveries:
        EventDelivery.objects.bulk_create(deliveries)
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: _enqueue_after_commit(ids))
    return events


def _enqueue_after_commit(ids: list[int]) -> None:
    from carekit.core.events.delivery import enqueue_deliveries

    try:
        enqueue_deliveries(ids)
    except Exception:  # the data is committed; a lost enqueue is recovered by the sweeper
        logger.exception("enqueue of %d event deliveries failed; the sweeper will pick them up", len(ids))
