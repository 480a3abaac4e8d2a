"""Writing events: inside the caller's transaction, with deliveries, enqueued after commit."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from carekit.core.events.actors import Actor
from carekit.core.events.registry import EVENT_TYPE_RE, handlers_wanting
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


@dataclass(frozen=True, slots=True)
class EmittedEvent:
    """What emit() returns: the stored event's keys and identity (not a model instance, for speed)."""

    pk: int
    public_id: str
    workspace_id: int
    type: str
    subject_type: str
    subject_id: str


# Below this many events the ORM's INSERT ... RETURNING is cheaper than allocating ids and COPY.
COPY_THRESHOLD = 50
EVENT_COLUMNS = (
    "id, public_id, workspace_id, type, subject_type, subject_id, payload, actor_type, actor_id, occurred_at"
)
DELIVERY_COLUMNS = (
    "id, event_id, workspace_id, handler, status, attempts, available_at, last_error, created_at"
)
# Binary COPY: the server parses nothing, which roughly halves its share of the insert cost.
EVENT_TYPES = [
    "int8",
    "varchar",
    "int8",
    "varchar",
    "varchar",
    "varchar",
    "jsonb",
    "varchar",
    "varchar",
    "timestamptz",
]
DELIVERY_TYPES = ["int8", "int8", "int8", "varchar", "varchar", "int4", "timestamptz", "text", "timestamptz"]


def emit_many(specs: Sequence[EventSpec]) -> list[EmittedEvent]:
    """Record many events and their deliveries in the current transaction.

    On PostgreSQL, large batches take their ids from the sequences in one query each and go in by
    COPY: Django's bulk_create spends most of its time building model objects and quoting arrays.
    """
    if not specs:
        return []
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise EventError("emit() must run inside the entry point's transaction (transaction.atomic)")
    for spec in specs:
        _check(spec)
    now = timezone.now()
    public_ids = [new_public_id("evt") for _ in specs]
    if connection.vendor == "postgresql" and len(specs) == 1:
        return [_insert_one_pg(connection, specs[0], public_ids[0], now)]
    if connection.vendor == "postgresql" and len(specs) < COPY_THRESHOLD:
        return _insert_few_pg(connection, specs, public_ids, now)
    if connection.vendor == "postgresql" and len(specs) >= COPY_THRESHOLD:
        pks = _copy_events(connection, specs, public_ids, now)
    else:
        pks = _orm_events(specs, public_ids, now)
    emitted = [
        EmittedEvent(pk, pid, s.workspace_id, s.type, s.subject_type, s.subject_id)
        for pk, pid, s in zip(pks, public_ids, specs, strict=True)
    ]
    targets = [(ev, name) for ev in emitted for name in handlers_wanting(ev.workspace_id, ev.type)]
    if targets:
        if connection.vendor == "postgresql" and len(targets) >= COPY_THRESHOLD:
            _copy_deliveries(connection, targets, now)
        else:
            _orm_deliveries(targets, now)
        transaction.on_commit(_wake_after_commit)
    return emitted


_ONE_EVENT_SQL = """
WITH ev AS (
    INSERT INTO core_event
        (public_id, workspace_id, type, subject_type, subject_id, payload, actor_type, actor_id, occurred_at)
    VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s) RETURNING id
), d AS (
    INSERT INTO core_eventdelivery
        (event_id, workspace_id, handler, status, attempts, available_at, last_error, created_at)
    SELECT ev.id, %s, h, 'pending', 0, %s, '', %s FROM ev, unnest(%s::varchar[]) AS h
)
SELECT id FROM ev
"""


def _insert_one_pg(connection, spec: EventSpec, public_id: str, now: datetime) -> EmittedEvent:
    """The common case, one event: event and deliveries in one round trip."""
    handlers = handlers_wanting(spec.workspace_id, spec.type)
    payload = json.dumps(dict(spec.payload), cls=DjangoJSONEncoder)
    with connection.cursor() as cursor:
        cursor.execute(
            _ONE_EVENT_SQL,
            [
                public_id,
                spec.workspace_id,
                spec.type,
                spec.subject_type,
                spec.subject_id,
                payload,
                spec.actor.kind,
                spec.actor.id,
                spec.occurred_at or now,
                spec.workspace_id,
                now,
                now,
                handlers,
            ],
        )
        pk = cursor.fetchone()[0]
    if handlers:
        transaction.on_commit(_wake_after_commit)
    return EmittedEvent(pk, public_id, spec.workspace_id, spec.type, spec.subject_type, spec.subject_id)


_FEW_EVENTS_SQL = """
WITH ev AS (
    INSERT INTO core_event
        (public_id, workspace_id, type, subject_type, subject_id, payload, actor_type, actor_id, occurred_at)
    SELECT * FROM unnest(%s::varchar[], %s::int8[], %s::varchar[], %s::varchar[], %s::varchar[],
                         %s::jsonb[], %s::varchar[], %s::varchar[], %s::timestamptz[])
    RETURNING id, public_id
), d AS (
    INSERT INTO core_eventdelivery
        (event_id, workspace_id, handler, status, attempts, available_at, last_error, created_at)
    SELECT ev.id, w.workspace_id, w.handler, 'pending', 0, %s, '', %s
    FROM unnest(%s::varchar[], %s::int8[], %s::varchar[]) AS w(public_id, workspace_id, handler)
    JOIN ev ON ev.public_id = w.public_id
)
SELECT public_id, id FROM ev
"""


def _insert_few_pg(
    connection, specs: Sequence[EventSpec], public_ids: list[str], now: datetime
) -> list[EmittedEvent]:
    """A handful of events (a service that records two or three facts): events and their deliveries
    in one round trip, as for one event, instead of two ORM bulk inserts."""
    targets = [
        (pid, s.workspace_id, name)
        for pid, s in zip(public_ids, specs, strict=True)
        for name in handlers_wanting(s.workspace_id, s.type)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            _FEW_EVENTS_SQL,
            [
                public_ids,
                [s.workspace_id for s in specs],
                [s.type for s in specs],
                [s.subject_type for s in specs],
                [s.subject_id for s in specs],
                [json.dumps(dict(s.payload), cls=DjangoJSONEncoder) for s in specs],
                [s.actor.kind for s in specs],
                [s.actor.id for s in specs],
                [s.occurred_at or now for s in specs],
                now,
                now,
                [t[0] for t in targets],
                [t[1] for t in targets],
                [t[2] for t in targets],
            ],
        )
        pks = dict(cursor.fetchall())
    if targets:
        transaction.on_commit(_wake_after_commit)
    return [
        EmittedEvent(pks[pid], pid, s.workspace_id, s.type, s.subject_type, s.subject_id)
        for pid, s in zip(public_ids, specs, strict=True)
    ]


def _orm_events(specs: Sequence[EventSpec], public_ids: list[str], now: datetime) -> list[int]:
    from carekit.core.models import Event

    rows = [
        Event(
            public_id=pid,
            workspace_id=s.workspace_id,
            type=s.type,
            subject_type=s.subject_type,
            subject_id=s.subject_id,
            payload=dict(s.payload),
            actor_type=s.actor.kind,
            actor_id=s.actor.id,
            occurred_at=s.occurred_at or now,
        )
        for s, pid in zip(specs, public_ids, strict=True)
    ]
    return [ev.pk for ev in Event.objects.bulk_create(rows)]


def _orm_deliveries(targets: list[tuple[EmittedEvent, str]], now: datetime) -> list[int]:
    from carekit.core.models import EventDelivery

    rows = [
        EventDelivery(
            event_id=ev.pk, workspace_id=ev.workspace_id, handler=name, available_at=now, created_at=now
        )
        for ev, name in targets
    ]
    return [d.pk for d in EventDelivery.objects.bulk_create(rows)]


def _next_ids(cursor, table: str, n: int) -> list[int]:
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n])
    return [row[0] for row in cursor.fetchall()]


def _copy_events(connection, specs: Sequence[EventSpec], public_ids: list[str], now: datetime) -> list[int]:
    from psycopg.types.json import Jsonb

    dumps = json.JSONEncoder(default=DjangoJSONEncoder().default).encode
    with connection.cursor() as cursor:
        pks = _next_ids(cursor, "core_event", len(specs))
        with cursor.cursor.copy(f"COPY core_event ({EVENT_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(EVENT_TYPES)
            for pk, pid, s in zip(pks, public_ids, specs, strict=True):
                copy.write_row(
                    (
                        pk,
                        pid,
                        s.workspace_id,
                        s.type,
                        s.subject_type,
                        s.subject_id,
                        Jsonb(s.payload, dumps),
                        s.actor.kind,
                        s.actor.id,
                        s.occurred_at or now,
                    )
                )
    return pks


def _copy_deliveries(connection, targets: list[tuple[EmittedEvent, str]], now: datetime) -> list[int]:
    with connection.cursor() as cursor:
        pks = _next_ids(cursor, "core_eventdelivery", len(targets))
        with cursor.cursor.copy(
            f"COPY core_eventdelivery ({DELIVERY_COLUMNS}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(DELIVERY_TYPES)
            for pk, (ev, name) in zip(pks, targets, strict=True):
                copy.write_row((pk, ev.pk, ev.workspace_id, name, "pending", 0, now, "", now))
    return pks


def _wake_after_commit() -> None:
    from carekit.core.events.delivery import wake_workers

    try:
        wake_workers()
    except Exception:  # the data is committed; a lost wake-up is recovered by the sweeper
        logger.exception("waking the workers failed; the sweeper will pick the deliveries up")
