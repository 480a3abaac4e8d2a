"""Customers' own providers for its registries: timeline, export, erasure, and its customer references.

Customers registers itself like any other context, so the coverage test holds for its own tables too.
Its merge provider is empty on purpose: `merge.customer_merge` moves this context's rows itself,
because it needs their history (contacts, consents) that a generic provider would not keep.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

from carekit.customers import cabinet
from carekit.customers.enums import CustomerStatus
from carekit.customers.models import (
    Claim,
    Consent,
    ConsentRecord,
    Contact,
    Customer,
    DataExport,
    DuplicateCandidate,
    Identity,
    MergeRecord,
    Order,
    PortalLogin,
    Return,
)
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

PROVIDER = "customers"


def _opaque(prefix: str, pk: int) -> str:
    """A stable, opaque reference for rows without a public id: integer keys never leave the server."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{prefix}:{pk}".encode(), hashlib.sha256).hexdigest()
    return f"{prefix}_{digest[:16]}"


def _customer(workspace_id: int, customer_id: str) -> Customer | None:
    return Customer.objects.filter(workspace_id=workspace_id, public_id=customer_id).first()


def _window(qs, field: str, q: TimelineQuery):
    if q.before is not None:
        qs = qs.filter(**{f"{field}__lte": q.before})
    return qs.order_by(f"-{field}", "-pk")[: q.limit]


def timeline_items(q: TimelineQuery) -> list[TimelineItem]:
    customer = _customer(q.workspace_id, q.customer_id)
    if customer is None:
        return []
    want = q.kinds or None
    items: list[TimelineItem] = []
    if want is None or "customers.identity" in want:
        for i in _window(Identity.objects.filter(customer=customer), "created_at", q):
            items.append(
                TimelineItem(
                    i.created_at,
                    "customers.identity",
                    _opaque("idn", i.pk),
                    _("%(kind)s linked") % {"kind": i.get_kind_display()},
                    {"kind": i.kind, "value": i.value, "verified": i.verified},
                )
            )
    if want is None or "customers.order" in want:
        for o in _window(Order.objects.filter(customer=customer), "placed_at", q):
            items.append(
                TimelineItem(
                    o.placed_at,
                    "customers.order",
                    o.public_id,
                    _("Order %(number)s: %(status)s")
                    % {"number": o.external_id, "status": o.get_status_display()},
                    {
                        "order_id": o.public_id,
                        "status": o.status,
                        "total": str(o.total),
                        "currency": o.currency,
                        "carrier": o.carrier,
                        "tracking_number": o.tracking_number,
                    },
                )
            )
    if want is None or "customers.return" in want:
        for r in _window(
            Return.objects.filter(order__customer=customer).select_related("order"), "created_at", q
        ):
            items.append(
                TimelineItem(
                    r.created_at,
                    "customers.return",
                    r.public_id,
                    _("Return for order %(number)s") % {"number": r.order.external_id},
                    {"reason": r.reason, "amount": str(r.amount)},
                )
            )
    if want is None or "customers.consent" in want:
        for c in _window(ConsentRecord.objects.filter(customer=customer), "occurred_at", q):
            items.append(
                TimelineItem(
                    c.occurred_at,
                    "customers.consent",
                    _opaque("cns", c.pk),
                    (_("Consent given") if c.granted else _("Consent withdrawn")),
                    {"purpose": c.purpose, "channel": c.channel, "granted": c.granted, "source": c.source},
                )
            )
    if want is None or "customers.merge" in want:
        for m in _window(MergeRecord.objects.filter(survivor=customer), "created_at", q):
            items.append(
                TimelineItem(
                    m.created_at, "customers.merge", m.public_id, _("Profiles merged"), {"status": m.status}
                )
            )
    return items


def export_section(workspace_id: int, customer_id: str) -> dict[str, Any]:
    c = _customer(workspace_id, customer_id)
    if c is None:
        return {}
    return {
        "profile": {
            "id": c.public_id,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "company": c.company,
            "address": c.address,
            "language": c.language,
            "time_zone": c.time_zone,
            "birth_date": c.birth_date.isoformat() if c.birth_date else None,
            "tags": c.tags,
            "attributes": c.attributes,
            "preferred_channel": c.preferred_channel,
        },
        "contacts": [{"kind": x.kind, "value": x.value} for x in c.contacts.all().order_by("pk")],
        "identities": [{"kind": x.kind, "value": x.value} for x in c.identities.all().order_by("pk")],
        "consents": [
            {
                "purpose": r.purpose,
                "channel": r.channel,
                "granted": r.granted,
                "source": r.source,
                "text_version": r.text_version,
                "at": r.occurred_at.isoformat(),
            }
            for r in c.consent_records.all().order_by("pk")
        ],
        "orders": [
            {
                "id": o.public_id,
                "number": o.external_id,
                "status": o.status,
                "currency": o.currency,
                "total": str(o.total),
                "placed_at": o.placed_at.isoformat(),
                "carrier": o.carrier,
                "tracking_number": o.tracking_number,
                "items": [
                    {"sku": i.sku, "name": i.name, "quantity": i.quantity, "price": str(i.price)}
                    for i in o.items.all().order_by("pk")
                ],
            }
            for o in c.orders.all().order_by("pk")
        ],
    }


def erase(workspace_id: int, customer_id: str) -> None:
    """Remove personal values; keep orders' non-personal facts (amounts, items) for aggregates."""
    c = _customer(workspace_id, customer_id)
    if c is None:
        return
    ids = [c.pk, *Customer.objects.filter(merged_into=c).values_list("pk", flat=True)]
    Contact.objects.filter(customer_id__in=ids).delete()
    Identity.objects.filter(customer_id__in=ids).delete()
    Claim.objects.filter(claimant_id__in=ids).delete()
    PortalLogin.objects.filter(customer_id__in=ids).delete()
    for export in DataExport.objects.filter(customer_id__in=ids):
        cabinet.export_delete(export=export)
    DuplicateCandidate.objects.filter(Q(first_id__in=ids) | Q(second_id__in=ids)).delete()
    Order.objects.filter(customer_id__in=ids).update(tracking_number="", via_identity=None)
    # Merge snapshots hold copies of profile values.
    MergeRecord.objects.filter(Q(survivor_id__in=ids) | Q(merged_id__in=ids)).update(snapshot={}, moved={})
    Customer.objects.filter(pk__in=ids).update(
        status=CustomerStatus.ERASED,
        first_name="",
        last_name="",
        company="",
        address="",
        birth_date=None,
        age_band="",
        tags=[],
        attributes={},
        reachability={},
        preferred_channel="",
    )


def _no_op(ctx: MergeContext) -> None:
    return None


register_timeline_provider(PROVIDER, timeline_items)
register_export_provider(PROVIDER, export_section)
register_erasure_provider(PROVIDER, erase)
register_merge_provider(PROVIDER, merge=_no_op, unmerge=_no_op)
for _model, _field in (
    (Customer, "merged_into"),
    (Contact, "customer"),
    (Identity, "customer"),
    (Claim, "claimant"),
    (Consent, "customer"),
    (ConsentRecord, "customer"),
    (Order, "customer"),
    (MergeRecord, "survivor"),
    (MergeRecord, "merged"),
    (DuplicateCandidate, "first"),
    (DuplicateCandidate, "second"),
    (PortalLogin, "customer"),
    (DataExport, "customer"),
):
    register_customer_reference(_model, _field, PROVIDER)
