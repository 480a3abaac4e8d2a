"""Builders for inbox tests."""

from __future__ import annotations

import itertools
from datetime import datetime

from django.db import transaction

from carekit.conversations import services
from carekit.conversations.models import Conversation
from carekit.conversations.services import Inbound, NewAttachment, Received
from carekit.core.models import Workspace
from carekit.testing.tenants import SYSTEM

_seq = itertools.count(1)


def inbound(
    ws: Workspace,
    *,
    thread: str = "thread-1",
    ext: str | None = None,
    text: str = "Hello, where is my order?",
    html: str = "",
    at: datetime | None = None,
    customer: str | None = None,
    attachments: tuple[NewAttachment, ...] = (),
    channel_ref: str = "apc_test",
    **extra,
) -> Received:
    with transaction.atomic():
        return services.conversation_receive_message(
            actor=SYSTEM,
            workspace=ws,
            inbound=Inbound(
                channel="api",
                channel_ref=channel_ref,
                thread_key=thread,
                external_id=ext if ext is not None else f"ext-{next(_seq)}",
                identity_kind="external",
                identity_value=customer or f"cust-{thread}",
                text=text,
                html=html,
                attachments=attachments,
                **extra,
            ),
            at=at,
        )


def conversation(ws: Workspace, **kw) -> Conversation:
    return inbound(ws, thread=kw.pop("thread", f"t-{next(_seq)}"), **kw).conversation
