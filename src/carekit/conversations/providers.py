"""Providers for the customers context's registries (merge, unmerge, erasure, export, timeline).

Two merge providers because unmerge hands back primary keys per provider: one for conversations and one
for tasks, so the keys of the two tables never mix. They run inside the caller's transaction.
"""

from __future__ import annotations

from django.db.models import Q

from carekit.conversations.models import Attachment, Conversation, Message, Note, Task
from carekit.core.webhooks.models import WebhookDelivery
from carekit.customers import public as customers

CONVERSATIONS = "conversations"
TASKS = "conversations.tasks"
ERASED = "[erased]"


def _merge(model: type[Conversation] | type[Task]):
    def merge(ctx: customers.MergeContext) -> None:
        model.objects.filter(workspace_id=ctx.workspace_id, customer_id=ctx.merged_id).update(
            customer_id=ctx.survivor_id
        )

    return merge


def _unmerge(model: type[Conversation] | type[Task], provider: str):
    def unmerge(ctx: customers.MergeContext) -> None:
        pks = ctx.row_ids.get(provider, ())
        model.objects.filter(workspace_id=ctx.workspace_id, pk__in=pks, customer_id=ctx.survivor_id).update(
            customer_id=ctx.merged_id
        )

    return unmerge


def erase(workspace_id: int, customer_id: str) -> None:
    """Blank what the customer wrote and what was written to them; ids and timings stay for statistics."""
    convs = Conversation.objects.filter(workspace_id=workspace_id, customer_id=customer_id)
    messages = Message.objects.filter(workspace_id=workspace_id, conversation__in=convs)
    for att in Attachment.objects.filter(workspace_id=workspace_id, message__in=messages):
        att.file.delete(save=False)
        att.delete()
    message_ids = list(messages.values_list("public_id", flat=True))
    messages.update(text=ERASED, html="", data={})
    Note.objects.filter(workspace_id=workspace_id, conversation__in=convs).update(text=ERASED)
    WebhookDelivery.objects.filter(workspace_id=workspace_id, event_public_id__in=message_ids).update(
        payload={}
    )
    for conv in convs:
        conv.subject = ""
        conv.thread_key = f"erased:{conv.public_id}"
        conv.pinned = {}  # the bot's summary quotes what the customer wrote
        conv.save(update_fields=["subject", "thread_key", "pinned"])


def erase_tasks(workspace_id: int, customer_id: str) -> None:
    Task.objects.filter(workspace_id=workspace_id, customer_id=customer_id).update(title=ERASED)


def export(workspace_id: int, customer_id: str) -> dict:
    convs = Conversation.objects.filter(workspace_id=workspace_id, customer_id=customer_id).order_by("pk")
    out = []
    for conv in convs:
        out.append(
            {
                "id": conv.public_id,
                "channel": conv.channel,
                "subject": conv.subject,
                "status": conv.status,
                "created_at": conv.created_at.isoformat(),
                "messages": [
                    {
                        "id": m.public_id,
                        "direction": m.direction,
                        "text": m.text,
                        "created_at": m.created_at.isoformat(),
                    }
                    for m in conv.messages.order_by("pk")
                ],
            }
        )
    return {"conversations": out}


def timeline(query: customers.TimelineQuery) -> list[customers.TimelineItem]:
    """Every conversation of the customer, across channels and lifecycle restarts, as one timeline."""
    kind = "conversations.conversation"
    if query.kinds and kind not in query.kinds:
        return []
    qs = Conversation.objects.filter(workspace_id=query.workspace_id, customer_id=query.customer_id)
    if query.before is not None:
        qs = qs.filter(Q(created_at__lte=query.before))
    return [
        customers.TimelineItem(
            occurred_at=c.created_at,
            kind=kind,
            ref=c.public_id,
            title=c.subject or f"{c.channel} conversation",
            data={"status": c.status, "channel": c.channel, "messages": c.message_count},
        )
        for c in qs.order_by("-created_at")[: query.limit]
    ]


def register() -> None:
    customers.register_merge_provider(
        CONVERSATIONS, merge=_merge(Conversation), unmerge=_unmerge(Conversation, CONVERSATIONS)
    )
    customers.register_merge_provider(TASKS, merge=_merge(Task), unmerge=_unmerge(Task, TASKS))
    customers.register_erasure_provider(CONVERSATIONS, erase)
    customers.register_erasure_provider(TASKS, erase_tasks)
    customers.register_export_provider(CONVERSATIONS, export)
    customers.register_timeline_provider(CONVERSATIONS, timeline)
    customers.register_customer_reference(Conversation, "customer_id", CONVERSATIONS)
    customers.register_customer_reference(Task, "customer_id", TASKS)
