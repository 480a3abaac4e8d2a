from __future__ import annotations

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
