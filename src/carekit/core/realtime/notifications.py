"""Notifications: the write path, the state a client loads, and the events that keep it current.

A client loads `bell_state()`, then applies `notification.created` / `notification.read` events with
`apply_event` (mirrored in carekit/shell.js); a test checks that stale state plus events equals a fresh
load. Titles are rendered per reader from the kind's registered, translatable template.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from carekit.core.events import Actor
from carekit.core.realtime.models import Notification
from carekit.core.realtime.publish import publish_on_commit
from carekit.core.realtime.schemas import ui_event_type

BELL_SIZE = 20

CREATED = ui_event_type(
    "notification.created",
    fields={"id": str, "kind": str},
    description="A notification for this user; the client adds it and refetches the bell list.",
)
READ = ui_event_type(
    "notification.read",
    fields={"ids": list},
    description="These notifications were read (possibly in another tab).",
)

_KINDS: dict[str, Promise | str] = {"system.message": _("Message from the system: %(text)s")}


def register_kind(kind: str, title: Promise | str) -> None:
    """Declare a notification kind and its translatable title (may use %(param)s of the params)."""
    _KINDS[kind] = title


def title_of(n: Notification) -> str:
    template = _KINDS.get(n.kind)
    if template is None:
        return n.kind
    try:
        return str(template) % n.params
    except (KeyError, TypeError, ValueError):
        return str(template)


def notification_create(
    *,
    actor: Actor,
    workspace_id: int,
    user_ids: Iterable[str],
    kind: str,
    subject_type: str = "",
    subject_id: str = "",
    params: Mapping[str, Any] | None = None,
) -> list[Notification]:
    """Notify users (public ids); each recipient's open tabs get the event after commit.

    No domain event is emitted: a notification is derived from one, and re-emitting would make every
    webhook and scenario see each notification twice.
    """
    if kind not in _KINDS:
        raise ValueError(f"notification kind {kind!r} is not registered")
    rows = [
        Notification(
            workspace_id=workspace_id,
            user_id=uid,
            kind=kind,
            subject_type=subject_type,
            subject_id=subject_id,
            params=dict(params or {}),
        )
        for uid in dict.fromkeys(user_ids)
    ]
    for row in rows:
        row.save()
        publish_on_commit(
            workspace_id=workspace_id,
            type=CREATED.name,
            data={"id": row.public_id, "kind": kind},
            recipients=[row.user_id],
        )
    return rows


def notification_mark_read(
    *, actor: Actor, workspace_id: int, user_id: str, ids: Iterable[str] | None = None
) -> int:
    """Mark the user's notifications read (all unread ones when `ids` is None)."""
    qs = Notification.objects.filter(workspace_id=workspace_id, user_id=user_id, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(public_id__in=list(ids))
    chosen = sorted(qs.values_list("public_id", flat=True))
    if not chosen:
        return 0
    Notification.objects.filter(workspace_id=workspace_id, public_id__in=chosen).update(
        read_at=timezone.now()
    )
    publish_on_commit(workspace_id=workspace_id, type=READ.name, data={"ids": chosen}, recipients=[user_id])
    return len(chosen)


# --- reads --------------------------------------------------------------------------------------


def recent(workspace_id: int, user_id: str, limit: int = BELL_SIZE) -> list[Notification]:
    return list(
        Notification.objects.filter(workspace_id=workspace_id, user_id=user_id).order_by("-id")[:limit]
    )


def unread_count(workspace_id: int, user_id: str) -> int:
    return Notification.objects.filter(
        workspace_id=workspace_id, user_id=user_id, read_at__isnull=True
    ).count()


@dataclass
class BellState:
    unread: int
    items: list[dict[str, Any]]  # newest first: {"id", "read"}


def bell_state(workspace_id: int, user_id: str) -> BellState:
    return BellState(
        unread=unread_count(workspace_id, user_id),
        items=[{"id": n.public_id, "read": n.read_at is not None} for n in recent(workspace_id, user_id)],
    )


def apply_event(state: BellState, event: Mapping[str, Any]) -> BellState:
    """Apply one UI event to a loaded state (the client does the same in shell.js)."""
    kind, data = event["type"], event["data"]
    items = [dict(i) for i in state.items]
    unread = state.unread
    if kind == CREATED.name:
        if not any(i["id"] == data["id"] for i in items):
            items.insert(0, {"id": data["id"], "read": False})
            unread += 1
    elif kind == READ.name:
        wanted = set(data["ids"])
        unread -= len(wanted)
        for item in items:
            if item["id"] in wanted:
                item["read"] = True
    return BellState(unread=max(unread, 0), items=items[:BELL_SIZE])
