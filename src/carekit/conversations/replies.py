"""Standards for replies: canned responses with variables and macros (named bundles of actions)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from carekit.conversations.enums import (
    Priority,
)
from carekit.conversations.errors import NotFound
from carekit.conversations.lifecycle import (
    conversation_assign,
    conversation_resolve,
    conversation_set_priority,
    conversation_snooze,
    conversation_tag,
    conversation_transfer,
    conversation_wait_on_customer,
)
from carekit.conversations.models import (
    CannedResponse,
    Conversation,
    Macro,
)
from carekit.conversations.services import message_send, note_add, settings_for
from carekit.core.errors import Conflict, DomainError
from carekit.core.events import Actor, emit
from carekit.core.models import Workspace
from carekit.customers import public as customers

# --- canned responses -------------------------------------------------------------------------------


def canned_response_create(
    *, actor: Actor, workspace: Workspace, shortcut: str, title: str, body: str, language: str = "en"
) -> CannedResponse:
    if not body.strip() or not shortcut.strip():
        raise DomainError(_("A canned response needs a shortcut and a text."), field="body")
    if CannedResponse.objects.filter(workspace=workspace, shortcut=shortcut, language=language).exists():
        raise Conflict(
            _("This shortcut already exists for this language."), code="duplicate", field="shortcut"
        )
    row = CannedResponse.objects.create(
        workspace=workspace, shortcut=shortcut, title=title or shortcut, body=body, language=language
    )
    emit(
        workspace_id=workspace.pk,
        type="conversations.canned_response.created",
        subject_type="canned_response",
        subject_id=row.public_id,
        actor=actor,
        payload={"canned_response_id": row.public_id, "language": language},
    )
    return row


VARIABLE_RE = re.compile(r"\{([a-z_]+)\.([a-z_]+)\}")


def canned_render(canned: CannedResponse, conversation: Conversation) -> str:
    """Fill {customer.*} and {order.*} variables from the customer's profile and latest order;
    an unknown or empty variable becomes an empty string, never the raw placeholder."""
    view = customers.cabinet_view(conversation.workspace_id, conversation.customer_id)
    order = view.orders[0] if view and view.orders else None
    cfg = settings_for(conversation.workspace_id)
    values: dict[tuple[str, str], str] = {}
    if view is not None:
        values[("customer", "first_name")] = view.first_name
        values[("customer", "last_name")] = view.last_name
        values[("customer", "name")] = " ".join(p for p in (view.first_name, view.last_name) if p)
    if order is not None:
        values[("order", "number")] = order.number
        values[("order", "status")] = order.status_label
        values[("order", "tracking_number")] = order.tracking_number
        tpl = cfg.tracking_url_template
        values[("order", "tracking_url")] = (
            tpl.replace("{tracking_number}", order.tracking_number)
            if tpl and order.tracking_number
            else order.tracking_number
        )
    values[("conversation", "id")] = conversation.public_id
    return VARIABLE_RE.sub(lambda m: values.get((m.group(1), m.group(2)), ""), canned.body)


def canned_for(workspace_id: int, shortcut: str, language: str) -> CannedResponse | None:
    rows = list(CannedResponse.objects.filter(workspace_id=workspace_id, shortcut=shortcut))
    return next((r for r in rows if r.language == language), rows[0] if rows else None)


# --- macros -----------------------------------------------------------------------------------------

MACRO_ACTIONS = {"reply", "note", "priority", "tag", "assign", "transfer", "resolve", "pending", "snooze"}


def macro_create(*, actor: Actor, workspace: Workspace, name: str, actions: list[dict[str, Any]]) -> Macro:
    """Validate every step now, so applying a macro never fails half-way on a typo."""
    if not name.strip() or not actions:
        raise DomainError(_("A macro needs a name and at least one action."), field="actions")
    for step in actions:
        kind = step.get("type")
        if kind not in MACRO_ACTIONS:
            raise DomainError(_("Unknown macro action: %(type)s") % {"type": kind}, field="actions")
        if kind == "reply" and not (step.get("text") or step.get("canned_id")):
            raise DomainError(_("A reply step needs a text or a canned response."), field="actions")
        known = CannedResponse.objects.filter(workspace=workspace, public_id=step.get("canned_id") or "")
        if kind == "reply" and step.get("canned_id") and not known.exists():
            raise NotFound(_("Unknown canned response."), field="actions")
        if kind == "priority" and step.get("value") not in Priority.values:
            raise DomainError(_("Unknown priority."), field="actions")
    macro = Macro.objects.create(workspace=workspace, name=name.strip()[:120], actions=actions)
    emit(
        workspace_id=workspace.pk,
        type="conversations.macro.created",
        subject_type="macro",
        subject_id=macro.public_id,
        actor=actor,
        payload={"macro_id": macro.public_id, "steps": [s["type"] for s in actions]},
    )
    return macro


def macro_apply(
    *, actor: Actor, macro: Macro, conversation: Conversation, author_id: str = ""
) -> Conversation:
    """Run the macro's steps in order, in the caller's transaction (all or nothing)."""
    conv = conversation
    for step in macro.actions:
        kind, value = step["type"], str(step.get("value", ""))
        if kind == "reply":
            text = step.get("text", "")
            canned_id = step.get("canned_id", "")
            if canned_id:
                canned = CannedResponse.objects.get(workspace_id=conv.workspace_id, public_id=canned_id)
                text = canned_render(
                    canned_for(conv.workspace_id, canned.shortcut, conv.language) or canned, conv
                )
            message_send(
                actor=actor, conversation=conv, text=text, author_id=author_id, canned_response_id=canned_id
            )
        elif kind == "note":
            note_add(actor=actor, conversation=conv, author_id=author_id, text=step.get("text", ""))
        elif kind == "priority":
            conversation_set_priority(actor=actor, conversation=conv, priority=value)
        elif kind == "tag":
            conversation_tag(actor=actor, conversation=conv, add=[value])
        elif kind == "assign":
            conversation_assign(actor=actor, conversation=conv, assignee_id=value)
        elif kind == "transfer":
            conversation_transfer(actor=actor, conversation=conv, team_id=value)
        elif kind == "resolve":
            conversation_resolve(actor=actor, conversation=conv)
        elif kind == "pending":
            conversation_wait_on_customer(actor=actor, conversation=conv)
        else:
            hours = int(value) if value.isdigit() else 4
            conversation_snooze(actor=actor, conversation=conv, until=timezone.now() + timedelta(hours=hours))
        conv.refresh_from_db()
    emit(
        workspace_id=conv.workspace_id,
        type="conversations.macro.applied",
        subject_type="conversation",
        subject_id=conv.public_id,
        actor=actor,
        payload={"macro_id": macro.public_id, "conversation_id": conv.public_id},
    )
    return conv
