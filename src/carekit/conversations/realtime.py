"""UI events of the inbox: thin, they carry ids and tell open pages what to refetch.

Every member of the workspace receives them (any agent may look at any inbox view); the page decides
whether the change concerns what it shows.
"""

from __future__ import annotations

from carekit.accounts import public as accounts
from carekit.conversations.models import Conversation
from carekit.core.realtime.publish import publish_on_commit
from carekit.core.realtime.schemas import ui_event_type

CHANGED = ui_event_type(
    "inbox.changed",
    fields={"conversation_id": str, "kind": str, "message_id": str},
    description="A conversation changed (kind: message, note, status, assignment, priority, sla, delivery); "
    "open inbox pages refetch the list row or the thread.",
)


def conversation_changed(conversation: Conversation, *, kind: str, message_id: str = "") -> None:
    recipients = [a.user_id for a in accounts.agents(conversation.workspace_id)]
    publish_on_commit(
        workspace_id=conversation.workspace_id,
        type=CHANGED.name,
        data={"conversation_id": conversation.public_id, "kind": kind, "message_id": message_id},
        recipients=recipients,
    )
