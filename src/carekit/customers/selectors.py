"""Reads for customers. Every selector takes the workspace; another workspace's id is a 404."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from carekit.customers import normalize
from carekit.customers.enums import CustomerStatus
from carekit.customers.models import (
    AttributeDefinition,
    Claim,
    Consent,
    ConsentRecord,
    Customer,
    DuplicateCandidate,
    Identity,
    MergeRecord,
    Order,
)


def customers(
    workspace_id: int, *, q: str = "", tag: str = "", status: str = CustomerStatus.ACTIVE
) -> QuerySet[Customer]:
    """Search by name, email, phone or identity value; filters by tag and status."""
    qs = Customer.objects.filter(workspace_id=workspace_id)
    if status:
        qs = qs.filter(status=status)
    if tag:
        qs = (
            qs.filter(tags__contains=[tag.strip().lower()])
            if _json_contains()
            else qs.filter(tags__icontains=f'"{tag.strip().lower()}"')
        )
    q = q.strip()
    if q:
        values = {q.lower()}
        try:
            from carekit.customers.services import region_of

            values.add(normalize.phone(q, region=region_of(workspace_id)))
        except normalize.InvalidValue:
            pass
        by_value = Q(contacts__value__in=values) | Q(identities__value__in=values)
        parts = q.split()
        by_name = Q()
        for part in parts:
            by_name &= Q(first_name__icontains=part) | Q(last_name__icontains=part)
        qs = qs.filter(by_value | by_name | Q(company__icontains=q)).distinct()
    return qs.prefetch_related("contacts")


def _json_contains() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def customer(workspace_id: int, public_id: str) -> Customer:
    return Customer.objects.get(workspace_id=workspace_id, public_id=public_id)


def active_customer(workspace_id: int, public_id: str) -> Customer:
    """The profile, following merges to the survivor (old ids keep working)."""
    c = customer(workspace_id, public_id)
    hops = 0
    while c.status == CustomerStatus.MERGED and c.merged_into_id and hops < 20:
        c = Customer.objects.get(pk=c.merged_into_id, workspace_id=workspace_id)
        hops += 1
    return c


def identities(customer: Customer) -> QuerySet[Identity]:
    return Identity.objects.filter(workspace_id=customer.workspace_id, customer=customer).order_by(
        "created_at", "pk"
    )


def consents(customer: Customer) -> QuerySet[Consent]:
    return Consent.objects.filter(workspace_id=customer.workspace_id, customer=customer).order_by(
        "purpose", "channel"
    )


def consent_history(customer: Customer) -> QuerySet[ConsentRecord]:
    return ConsentRecord.objects.filter(workspace_id=customer.workspace_id, customer=customer)


def orders(workspace_id: int, *, customer: Customer | None = None) -> QuerySet[Order]:
    qs = Order.objects.filter(workspace_id=workspace_id).select_related("customer").prefetch_related("items")
    if customer is not None:
        qs = qs.filter(customer=customer)
    return qs


def order(workspace_id: int, public_id: str) -> Order:
    return Order.objects.select_related("customer", "workspace").get(
        workspace_id=workspace_id, public_id=public_id
    )


def claim(workspace_id: int, public_id: str) -> Claim:
    return Claim.objects.select_related("claimant").get(workspace_id=workspace_id, public_id=public_id)


def merge_record(workspace_id: int, public_id: str) -> MergeRecord:
    return MergeRecord.objects.select_related("survivor", "merged").get(
        workspace_id=workspace_id, public_id=public_id
    )


def duplicate_candidates(workspace_id: int, *, status: str = "open") -> QuerySet[DuplicateCandidate]:
    """The review queue; pairs whose profile was merged or erased since drop out of it."""
    return DuplicateCandidate.objects.filter(
        workspace_id=workspace_id,
        status=status,
        first__status=CustomerStatus.ACTIVE,
        second__status=CustomerStatus.ACTIVE,
    ).select_related("first", "second")


def duplicate_candidate(workspace_id: int, public_id: str) -> DuplicateCandidate:
    return DuplicateCandidate.objects.select_related("first", "second").get(
        workspace_id=workspace_id, public_id=public_id
    )


def attribute_definitions(workspace_id: int) -> QuerySet[AttributeDefinition]:
    return AttributeDefinition.objects.filter(workspace_id=workspace_id).order_by("key")
