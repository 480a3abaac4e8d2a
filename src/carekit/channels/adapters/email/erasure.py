"""Erasure (ARCHITECTURE.md rule 10): the addresses and subjects the email adapter keeps for a customer's
conversations are blanked when customers erases the customer."""

from __future__ import annotations

from carekit.channels.models import EmailRecord, EmailThread
from carekit.conversations import public as conversations
from carekit.customers import public as customers

PROVIDER = "channels.email"
MAX_CONVERSATIONS = 100_000


def erase(workspace_id: int, customer_id: str) -> None:
    ids = [
        c.conversation_id
        for c in conversations.conversations_of(workspace_id, customer_id, limit=MAX_CONVERSATIONS)
    ]
    if not ids:
        return
    records = EmailRecord.objects.filter(workspace_id=workspace_id, conversation_id__in=ids)
    thread_ids = set(records.exclude(thread=None).values_list("thread_id", flat=True))
    EmailRecord.objects.filter(workspace_id=workspace_id, thread_id__in=thread_ids).update(
        from_address="", to=[], cc=[], bcc=[], subject=""
    )
    records.update(from_address="", to=[], cc=[], bcc=[], subject="")
    EmailThread.objects.filter(workspace_id=workspace_id, pk__in=thread_ids).update(
        address="", cc=[], subject=""
    )


def register() -> None:
    customers.register_erasure_provider(PROVIDER, erase)
