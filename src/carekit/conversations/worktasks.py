"""Tasks (callbacks, follow-ups, internal to-dos) shown in the inbox; other contexts create them
through `conversations.public`."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.conversations.enums import (
    TaskKind,
    TaskStatus,
)
from carekit.conversations.lifecycle import _member
from carekit.conversations.models import (
    Conversation,
    Task,
)
from carekit.core.errors import DomainError
from carekit.core.events import Actor, emit
from carekit.core.models import Workspace

# --- tasks ------------------------------------------------------------------------------------------


def task_create(
    *,
    actor: Actor,
    workspace: Workspace,
    title: str,
    kind: str = TaskKind.TODO,
    conversation: Conversation | None = None,
    customer_id: str = "",
    assignee_id: str = "",
    due_at: datetime | None = None,
    source: str = "",
) -> Task:
    title = title.strip()
    if not title:
        raise DomainError(_("A task needs a title."), field="title")
    if assignee_id:
        _member(workspace.pk, assignee_id)
    if conversation is not None and not customer_id:
        customer_id = conversation.customer_id
    task = Task.objects.create(
        workspace=workspace,
        kind=TaskKind(kind),
        title=title[:300],
        conversation=conversation,
        customer_id=customer_id,
        assignee_id=assignee_id,
        due_at=due_at,
        source=source[:60],
    )
    emit(
        workspace_id=workspace.pk,
        type="conversations.task.created",
        subject_type="task",
        subject_id=task.public_id,
        actor=actor,
        payload={
            "task_id": task.public_id,
            "kind": task.kind,
            "assignee_id": assignee_id,
            "conversation_id": conversation.public_id if conversation else "",
            "due_at": due_at.isoformat() if due_at else None,
        },
    )
    return task


def task_complete(*, actor: Actor, task: Task, cancel: bool = False) -> Task:
    if task.status != TaskStatus.OPEN:
        return task
    task.status = TaskStatus.CANCELLED if cancel else TaskStatus.DONE
    task.done_at = timezone.now()
    task.save(update_fields=["status", "done_at"])
    emit(
        workspace_id=task.workspace_id,
        type=f"conversations.task.{'cancelled' if cancel else 'completed'}",
        subject_type="task",
        subject_id=task.public_id,
        actor=actor,
        payload={"task_id": task.public_id},
    )
    return task
