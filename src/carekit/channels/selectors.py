from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from carekit.channels.models import Channel, QuarantinedInput


def channels_of(workspace_id: int, *, kind: str | None = None) -> QuerySet[Channel]:
    qs = Channel.objects.filter(workspace_id=workspace_id)
    return qs.filter(kind=kind) if kind else qs


def channel_by_public_key(public_key: str) -> Channel | None:
    """Inbound webhooks and the widget name their channel by its public key; the workspace follows."""
    return Channel.objects.filter(public_key=public_key, is_active=True).first()


def channel_get(workspace_id: int, channel_id: str) -> Channel | None:
    return Channel.objects.filter(workspace_id=workspace_id, public_id=channel_id).first()


def quarantine_of(workspace_id: int, channel: Channel) -> QuerySet[QuarantinedInput]:
    return QuarantinedInput.objects.filter(workspace_id=workspace_id, channel=channel)


def active_of_kind(kind: str) -> QuerySet[Channel]:
    """Every workspace's active channels of one kind (pollers and periodic jobs; not for requests)."""
    return Channel.objects.filter(kind=kind, is_active=True).order_by("pk")


def channel_for_message(workspace_id: int | None, kind: str, channel_ref: str = "") -> Channel | None:
    """The channel an outbound message goes through: the instance it names (inbox replies carry it in
    the `X-Carekit-Channel` header), else the workspace's first active one of this kind (one-time codes
    and notices that know only the kind)."""
    if workspace_id is None:
        return None
    qs = Channel.objects.filter(workspace_id=workspace_id, kind=kind, is_active=True)
    if channel_ref:
        return qs.filter(public_id=channel_ref).first()
    return qs.order_by("pk").first()


@dataclass(frozen=True)
class Health:
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    undelivered: int  # outbound messages queued, being sent or failed
    held: int  # quarantined inputs not yet dismissed


def channel_health(channel: Channel) -> Health:
    from carekit.channels.enums import QuarantineStatus
    from carekit.conversations import public as conversations

    return Health(
        channel.last_inbound_at,
        channel.last_outbound_at,
        channel.last_error,
        channel.last_error_at,
        conversations.undelivered_count(channel.workspace_id, channel.kind, channel.public_id),
        QuarantinedInput.objects.filter(
            workspace_id=channel.workspace_id, channel=channel, status=QuarantineStatus.HELD
        ).count(),
    )
