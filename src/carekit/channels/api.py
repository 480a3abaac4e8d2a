"""Channels API: list, create, configure, rotate the secret, read the quarantine, log phone calls.
Thin: parse, scope, call one service, serialize. Secrets are written, never read back (the signing
secret is shown once, when created or rotated)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from carekit.channels import selectors, services
from carekit.channels.adapters.phone.calls import CallIn, call_record
from carekit.channels.models import Channel, QuarantinedInput
from carekit.core.api import StrictSchema, need, paginate
from carekit.core.errors import DomainError
from carekit.core.models import Workspace

router = Router(tags=["channels"])


class NotFound(DomainError):
    code = "not_found"
    status = 404


class HealthOut(Schema):
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    undelivered: int
    quarantined: int


class ChannelOut(Schema):
    id: str
    kind: str
    name: str
    is_active: bool
    public_key: str
    config: dict[str, Any]
    secrets_set: list[str]
    health: HealthOut
    created_at: datetime


class ChannelCreated(ChannelOut):
    secret: str  # the signing secret, shown once


class ChannelPage(Schema):
    items: list[ChannelOut]
    next_cursor: str | None


class ChannelIn(StrictSchema):
    kind: Literal["webchat", "email", "telegram", "sms", "phone"]
    name: str = Field(max_length=120)
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)


class ChannelPatch(StrictSchema):
    name: str | None = Field(None, max_length=120)
    config: dict[str, Any] | None = None
    secrets: dict[str, str] | None = None
    is_active: bool | None = None


class RotatedOut(Schema):
    id: str
    secret: str
    previous_valid_until: datetime | None


class QuarantineOut(Schema):
    id: str
    reason: str
    detail: str
    size: int
    excerpt: str
    status: str
    created_at: datetime


class QuarantinePage(Schema):
    items: list[QuarantineOut]
    next_cursor: str | None


class CallBody(StrictSchema):
    direction: Literal["inbound", "outbound"]
    number: str = Field(max_length=40)
    outcome: Literal["answered", "missed", "voicemail", "busy", "failed"]
    duration_seconds: int = Field(0, ge=0, le=86400)
    call_id: str = Field("", max_length=100)
    recording_url: str = Field("", max_length=500)
    note: str = Field("", max_length=2000)
    customer_id: str = Field("", max_length=32)
    started_at: datetime | None = None


class CallOut(Schema):
    conversation_id: str
    message_id: str
    task_id: str
    tasks_completed: list[str]
    duplicate: bool


def _out(ch: Channel) -> dict[str, Any]:
    h = selectors.channel_health(ch)
    return {
        "id": ch.public_id,
        "kind": ch.kind,
        "name": ch.name,
        "is_active": ch.is_active,
        "public_key": ch.public_key,
        "config": ch.config,
        "secrets_set": sorted(k for k, v in ch.secrets.items() if v),
        "health": {
            "last_inbound_at": h.last_inbound_at,
            "last_outbound_at": h.last_outbound_at,
            "last_error": h.last_error,
            "last_error_at": h.last_error_at,
            "undelivered": h.undelivered,
            "quarantined": h.held,
        },
        "created_at": ch.created_at,
    }


def _get(workspace_id: int, channel_id: str) -> Channel:
    ch = selectors.channel_get(workspace_id, channel_id)
    if ch is None:
        raise NotFound("No such channel.", field="channel_id")
    return ch


@router.get("/channels", response=ChannelPage, summary="Channels of the workspace with their health")
def channels_list(request: HttpRequest, kind: str = "", cursor: str | None = None, limit: int = 50):
    p = need(request, "channels:read")
    page = paginate(selectors.channels_of(p.workspace_id, kind=kind or None), cursor=cursor, limit=limit)
    return {"items": [_out(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/channels", response={201: ChannelCreated}, summary="Create a channel (the secret is shown once)"
)
def channel_create(request: HttpRequest, body: ChannelIn):
    p = need(request, "channels:manage")
    with transaction.atomic(durable=True):
        ch = services.channel_create(
            actor=p.actor,
            workspace=Workspace.objects.get(pk=p.workspace_id),
            kind=body.kind,
            name=body.name,
            config=body.config,
            secrets=body.secrets,
        )
    return Status(201, {**_out(ch), "secret": ch.secrets[services.SIGNING]})


@router.get("/channels/{channel_id}", response=ChannelOut)
def channel_get(request: HttpRequest, channel_id: str):
    p = need(request, "channels:read")
    return _out(_get(p.workspace_id, channel_id))


@router.patch(
    "/channels/{channel_id}", response=ChannelOut, summary="Change settings; secrets only when given"
)
def channel_update(request: HttpRequest, channel_id: str, body: ChannelPatch):
    p = need(request, "channels:manage")
    with transaction.atomic(durable=True):
        ch = services.channel_update(
            actor=p.actor,
            channel=_get(p.workspace_id, channel_id),
            name=body.name,
            config=body.config,
            secrets=body.secrets,
            is_active=body.is_active,
        )
    return _out(ch)


@router.post(
    "/channels/{channel_id}/rotate",
    response=RotatedOut,
    summary="New signing secret (shown once); the old one works for 24 hours",
)
def channel_rotate(request: HttpRequest, channel_id: str):
    p = need(request, "channels:manage")
    with transaction.atomic(durable=True):
        ch = _get(p.workspace_id, channel_id)
        secret = services.channel_rotate_secret(actor=p.actor, channel=ch)
    ch.refresh_from_db()
    if ch.kind == "telegram" and ch.is_active:
        from carekit.channels.adapters.telegram import polling

        polling.webhook_register(ch)  # Telegram must present the new secret; a failure is the last error
    return {"id": ch.public_id, "secret": secret, "previous_valid_until": ch.previous_valid_until}


@router.get(
    "/channels/{channel_id}/quarantine", response=QuarantinePage, summary="Refused input with reasons"
)
def quarantine_list(request: HttpRequest, channel_id: str, cursor: str | None = None, limit: int = 50):
    p = need(request, "channels:read")
    ch = _get(p.workspace_id, channel_id)
    page = paginate(selectors.quarantine_of(p.workspace_id, ch), cursor=cursor, limit=limit)
    return {"items": [_quarantined(q) for q in page.items], "next_cursor": page.next_cursor}


def _quarantined(q: QuarantinedInput) -> dict[str, Any]:
    return {
        "id": q.public_id,
        "reason": q.reason,
        "detail": q.detail,
        "size": q.size,
        "excerpt": q.excerpt,
        "status": q.status,
        "created_at": q.created_at,
    }


@router.post(
    "/channels/{channel_id}/calls",
    response={200: CallOut, 201: CallOut},
    summary="Record a phone call (telephony integrations, agents); idempotent by call_id",
)
def call_create(request: HttpRequest, channel_id: str, body: CallBody):
    p = need(request, "inbox:write")
    with transaction.atomic(durable=True):
        logged = call_record(
            actor=p.actor,
            channel=_get(p.workspace_id, channel_id),
            call=CallIn(
                direction=body.direction,
                number=body.number,
                outcome=body.outcome,
                duration_seconds=body.duration_seconds,
                call_id=body.call_id,
                recording_url=body.recording_url,
                note=body.note,
                customer_id=body.customer_id,
                at=body.started_at,
            ),
        )
    out = {
        "conversation_id": logged.conversation_id,
        "message_id": logged.message_id,
        "task_id": logged.task_id,
        "tasks_completed": list(logged.tasks_completed),
        "duplicate": logged.duplicate,
    }
    return Status(200 if logged.duplicate else 201, out)
