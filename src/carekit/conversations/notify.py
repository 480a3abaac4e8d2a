"""Agent notifications of the inbox (assignment, @mention, SLA warning and breach, team notices): in the
app always, and by e-mail for members whose preference says so. The mail goes after commit, by a job,
through core's outbound registry (channel "email"), keyed by the notification so a retry sends once
where the transport honours keys."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from carekit.accounts import public as accounts
from carekit.conversations.models import NotificationPreference
from carekit.core import outbound
from carekit.core.events import Actor, emit
from carekit.core.models import Workspace
from carekit.core.realtime import notifications
from carekit.core.realtime.models import Notification


def notify(
    *,
    actor: Actor,
    workspace_id: int,
    user_ids: Iterable[str],
    kind: str,
    subject_type: str,
    subject_id: str,
    params: Mapping[str, Any],
) -> list[Notification]:
    rows = notifications.notification_create(
        actor=actor,
        workspace_id=workspace_id,
        user_ids=user_ids,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        params=params,
    )
    by_mail = set(
        NotificationPreference.objects.filter(
            workspace_id=workspace_id, user_id__in=[r.user_id for r in rows], email=True
        ).values_list("user_id", flat=True)
    )
    for row in rows:
        if row.user_id in by_mail:
            transaction.on_commit(functools.partial(_enqueue, row.pk))
    return rows


def _enqueue(notification_pk: int) -> None:
    from carekit.conversations.tasks import email_notification

    email_notification(notification_pk)


def email_of(notification: Notification) -> outbound.OutboundMessage | None:
    agent = next(
        (a for a in accounts.agents(notification.workspace_id) if a.user_id == notification.user_id), None
    )
    if agent is None or not agent.email:
        return None
    link = ""
    if notification.subject_type == "conversation":
        link = settings.SITE_URL.rstrip("/") + reverse(
            "conversations:conversation", args=[notification.subject_id]
        )
    with translation.override(agent.language or "en"):
        title = notifications.title_of(notification)
        body = "\n\n".join(
            part
            for part in (
                title,
                _("Open it: %(link)s") % {"link": link} if link else "",
                _("You get these e-mails because your inbox notifications are set to e-mail too."),
            )
            if part
        )
        subject = f"Carekit: {title}"
    return outbound.OutboundMessage(
        workspace_id=notification.workspace_id,
        channel="email",
        to=agent.email,
        body=body,
        subject=subject[:200],
        message_class=outbound.MessageClass.SERVICE,
        idempotency_key=f"notification:{notification.public_id}",
    )


def preference_set(
    *, actor: Actor, workspace: Workspace, user_id: str, email: bool
) -> NotificationPreference:
    row, _created = NotificationPreference.objects.update_or_create(
        workspace=workspace, user_id=user_id, defaults={"email": email}
    )
    emit(
        workspace_id=workspace.pk,
        type="conversations.notification_preference.updated",
        subject_type="user",
        subject_id=user_id,
        actor=actor,
        payload={"user_id": user_id, "by_email": email},
    )
    return row


def wants_email(workspace_id: int, user_id: str) -> bool:
    return NotificationPreference.objects.filter(
        workspace_id=workspace_id, user_id=user_id, email=True
    ).exists()
