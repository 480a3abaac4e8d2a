"""The bot's rows that name a customer follow merges and disappear on erasure (customers' registries)."""

from __future__ import annotations

from carekit.bot.models import ConsultationSlot, Dialogue
from carekit.customers import public as customers

PROVIDER = "bot"


def _merge(ctx: customers.MergeContext) -> None:
    Dialogue.objects.filter(workspace_id=ctx.workspace_id, customer_id=ctx.merged_id).update(
        customer_id=ctx.survivor_id
    )
    ConsultationSlot.objects.filter(workspace_id=ctx.workspace_id, customer_id=ctx.merged_id).update(
        customer_id=ctx.survivor_id
    )


def _unmerge(ctx: customers.MergeContext) -> None:
    # Dialogues are per conversation; the conversation's own provider decides where it goes back.
    return None


def _erase(workspace_id: int, customer_id: str) -> None:
    # Turns and collected fields hold what the customer wrote: they go with the dialogue.
    Dialogue.objects.filter(workspace_id=workspace_id, customer_id=customer_id).delete()
    ConsultationSlot.objects.filter(workspace_id=workspace_id, customer_id=customer_id).update(
        customer_id="", conversation_id=""
    )


def register() -> None:
    customers.register_merge_provider(PROVIDER, merge=_merge, unmerge=_unmerge)
    customers.register_erasure_provider(PROVIDER, _erase)
    customers.register_customer_reference(Dialogue, "customer_id", PROVIDER)
    customers.register_customer_reference(ConsultationSlot, "customer_id", PROVIDER)
