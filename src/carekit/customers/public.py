"""What other contexts may use from customers: registries, frozen facts and a few calls; never models.

The shapes are fixed in docs/contracts.md. Functions here run inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from carekit.core.events import Actor
from carekit.core.models import Workspace
from carekit.customers import consents as _consents
from carekit.customers import services as _services
from carekit.customers.enums import CustomerStatus
from carekit.customers.models import Customer
from carekit.customers.registry import (
    MergeContext,
    TimelineItem,
    TimelineQuery,
    register_customer_reference,
    register_erasure_provider,
    register_export_provider,
    register_merge_provider,
    register_timeline_provider,
)

__all__ = [
    "CustomerRef",
    "MergeContext",
    "ResolvedRef",
    "TimelineItem",
    "TimelineQuery",
    "consent_allows",
    "customer",
    "register_customer_reference",
    "register_erasure_provider",
    "register_export_provider",
    "register_merge_provider",
    "register_timeline_provider",
    "resolve",
]


@dataclass(frozen=True)
class CustomerRef:
    customer_id: str
    status: str
    display_name: str
    language: str
    time_zone: str
    preferred_channel: str


@dataclass(frozen=True)
class ResolvedRef:
    customer_id: str
    created: bool


def _ref(c: Customer) -> CustomerRef:
    return CustomerRef(c.public_id, c.status, c.display_name, c.language, c.time_zone, c.preferred_channel)


def customer(workspace_id: int, customer_id: str) -> CustomerRef | None:
    """The profile by id, following merges to the survivor; None if unknown in this workspace."""
    c = Customer.objects.filter(workspace_id=workspace_id, public_id=customer_id).first()
    while c is not None and c.status == CustomerStatus.MERGED and c.merged_into_id:
        c = Customer.objects.filter(pk=c.merged_into_id).first()
    return _ref(c) if c else None


def resolve(
    *, actor: Actor, workspace_id: int, kind: str, value: str, host_token: str | None = None
) -> ResolvedRef:
    """Find or create the customer by one exact channel identity (e.g. a Telegram user id).

    Contact data a visitor types is not an identity: it must go through the claim flow.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("customers.public.resolve runs inside the caller's transaction")
    ws = Workspace.objects.get(pk=workspace_id)
    r = _services.customer_resolve(actor=actor, workspace=ws, kind=kind, value=value, host_token=host_token)
    return ResolvedRef(r.customer.public_id, r.created)


def consent_allows(workspace_id: int, customer_id: str, message_class: str, channel: str) -> bool:
    """Whether a message of this class (reply, service, marketing) may go out through this channel."""
    c = Customer.objects.filter(workspace_id=workspace_id, public_id=customer_id).first()
    while c is not None and c.status == CustomerStatus.MERGED and c.merged_into_id:
        c = Customer.objects.filter(pk=c.merged_into_id).first()
    return c is not None and _consents.consent_allows(c, message_class, channel)
