"""Customers API: profiles, identities, claims, consents, timeline, merges, duplicates, orders, import.

Thin: parse, scope, call one service inside the durable transaction, serialize.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router

from carekit.core.api import ApiError, need, paginate
from carekit.core.models import Workspace
from carekit.customers import (
    claims,
    consents,
    duplicates,
    importing,
    importing_orders,
    merge,
    privacy,
    selectors,
    services,
)
from carekit.customers import orders as order_services
from carekit.customers import schemas as s
from carekit.customers.models import Customer, DuplicateCandidate, MergeRecord, Order
from carekit.customers.timeline import timeline

router = Router(tags=["customers"])


def _ws(workspace_id: int) -> Workspace:
    return Workspace.objects.get(pk=workspace_id)


def _profile_input(body: s.ProfileIn) -> services.ProfileInput:
    return services.ProfileInput(**body.model_dump(exclude_unset=True))


def _customer(c: Customer) -> dict[str, Any]:
    contacts = list(c.contacts.all())
    return {
        "id": c.public_id,
        "status": c.status,
        **{f: getattr(c, f) for f in services.PROFILE_FIELDS},
        "tags": c.tags,
        "attributes": c.attributes,
        "reachability": c.reachability,
        "emails": sorted(x.value for x in contacts if x.kind == "email"),
        "phones": sorted(x.value for x in contacts if x.kind == "phone"),
        "first_seen_at": c.first_seen_at,
        "last_seen_at": c.last_seen_at,
        "merged_into": c.merged_into.public_id if c.merged_into_id and c.merged_into else None,
    }


def _detail(c: Customer) -> dict[str, Any]:
    dups = duplicates.open_candidates_for(c).select_related("first", "second")
    return {
        **_customer(c),
        "identities": [
            {"kind": i.kind, "value": i.value, "verified": i.verified, "created_at": i.created_at}
            for i in selectors.identities(c)
        ],
        "duplicate_ids": [d.second.public_id if d.first_id == c.pk else d.first.public_id for d in dups],
    }


def _order(o: Order) -> dict[str, Any]:
    return {
        "id": o.public_id,
        "external_id": o.external_id,
        "customer_id": o.customer.public_id,
        "status": o.status,
        "currency": o.currency,
        "total": o.total,
        "items": [
            {"sku": i.sku, "name": i.name, "category": i.category, "quantity": i.quantity, "price": i.price}
            for i in o.items.all()
        ],
        **{k: getattr(o, k) for k in ("placed_at", "paid_at", "carrier", "tracking_number")},
        **{k: getattr(o, k) for k in ("promised_at", "shipped_at", "delivered_at")},
    }


def _merge(m: MergeRecord) -> dict[str, Any]:
    return {
        "id": m.public_id,
        "survivor_id": m.survivor.public_id,
        "merged_id": m.merged.public_id,
        "status": m.status,
        "conflicts": m.snapshot.get("conflicts", {}),
        "created_at": m.created_at,
    }


def _dup(d: DuplicateCandidate) -> dict[str, Any]:
    return {
        "id": d.public_id,
        "first_id": d.first.public_id,
        "second_id": d.second.public_id,
        "score": d.score,
        "reasons": d.reasons,
        "status": d.status,
    }


# --- profiles -------------------------------------------------------------------------------------


@router.get(
    "/customers", response=s.CustomerPage, summary="Search customers by name, email, phone or identity"
)
def list_customers(
    request: HttpRequest, q: str = "", tag: str = "", cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    p = need(request, "customers:read")
    page = paginate(selectors.customers(p.workspace_id, q=q, tag=tag), cursor=cursor, limit=limit)
    return {"items": [_customer(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/customers", response={201: s.CustomerDetail})
def create_customer(request: HttpRequest, body: s.ProfileIn) -> tuple[int, dict[str, Any]]:
    p = need(request, "customers:write")
    with transaction.atomic(durable=True):
        c = services.customer_create(actor=p.actor, workspace=_ws(p.workspace_id), data=_profile_input(body))
    return 201, _detail(c)


@router.post("/customers/resolve", response=s.ResolveOut, summary="Find or create a customer by identity")
def resolve_customer(request: HttpRequest, body: s.ResolveIn) -> dict[str, Any]:
    p = need(request, "customers:write")
    with transaction.atomic(durable=True):
        r = services.customer_resolve(
            actor=p.actor,
            workspace=_ws(p.workspace_id),
            kind=body.kind,
            value=body.value,
            also=[(i.kind, i.value) for i in body.also],
            host_token=body.host_token,
        )
    return {
        "customer_id": r.customer.public_id,
        "created": r.created,
        "linked": list(r.linked),
        "conflicts": list(r.conflicts),
    }


@router.get("/customers/{customer_id}", response=s.CustomerDetail)
def get_customer(request: HttpRequest, customer_id: str) -> dict[str, Any]:
    p = need(request, "customers:read")
    return _detail(selectors.customer(p.workspace_id, customer_id))


@router.patch("/customers/{customer_id}", response=s.CustomerDetail)
def update_customer(request: HttpRequest, customer_id: str, body: s.ProfileIn) -> dict[str, Any]:
    p = need(request, "customers:write")
    with transaction.atomic(durable=True):
        c = services.customer_update(
            actor=p.actor, customer=selectors.customer(p.workspace_id, customer_id), data=_profile_input(body)
        )
    return _detail(c)


@router.get("/customers/{customer_id}/timeline", response=s.TimelinePageOut)
def customer_timeline(
    request: HttpRequest, customer_id: str, cursor: str | None = None, limit: int = 50, kinds: str = ""
) -> dict[str, Any]:
    p = need(request, "customers:read")
    c = selectors.customer(p.workspace_id, customer_id)
    wanted = frozenset(k.strip() for k in kinds.split(",") if k.strip())
    page = timeline(p.workspace_id, c.public_id, cursor=cursor, limit=limit, kinds=wanted)
    return {"items": [vars(i) | {"data": dict(i.data)} for i in page.items], "next_cursor": page.next_cursor}


@router.get("/customers/{customer_id}/consents", response=s.ConsentsOut)
def customer_consents(request: HttpRequest, customer_id: str) -> dict[str, Any]:
    p = need(request, "customers:read")
    c = selectors.customer(p.workspace_id, customer_id)
    return {
        "current": list(selectors.consents(c)),
        "history": list(selectors.consent_history(c).order_by("occurred_at", "pk")),
    }


@router.post("/customers/{customer_id}/consents", response=s.ConsentOut)
def set_consent(request: HttpRequest, customer_id: str, body: s.ConsentIn) -> Any:
    p = need(request, "customers:write")
    with transaction.atomic(durable=True):
        return consents.consent_set(
            actor=p.actor,
            customer=selectors.customer(p.workspace_id, customer_id),
            purpose=body.purpose,
            channel=body.channel,
            granted=body.granted,
            source=body.source,
            text_version=body.text_version,
        )


@router.get("/customers/{customer_id}/orders", response=s.OrderPage)
def customer_orders(
    request: HttpRequest, customer_id: str, cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    p = need(request, "customers:read")
    c = selectors.customer(p.workspace_id, customer_id)
    page = paginate(selectors.orders(p.workspace_id, customer=c), cursor=cursor, limit=limit)
    return {"items": [_order(o) for o in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/customers/{customer_id}/merge", response=s.MergeOut, summary="Merge another profile into this one"
)
def merge_customer(request: HttpRequest, customer_id: str, body: s.MergeIn) -> dict[str, Any]:
    p = need(request, "customers:merge")
    with transaction.atomic(durable=True):
        survivor = selectors.customer(p.workspace_id, customer_id)
        merged = selectors.customer(p.workspace_id, body.merged_id)
        record = merge.customer_merge(actor=p.actor, survivor=survivor, merged=merged)
    return _merge(record)


@router.get(
    "/customers/{customer_id}/export", response=dict[str, Any], summary="Everything about the customer"
)
def export_customer(request: HttpRequest, customer_id: str) -> dict[str, Any]:
    p = need(request, "customers:privacy")
    c = selectors.customer(p.workspace_id, customer_id)
    return privacy.customer_export_data(p.workspace_id, c.public_id)


@router.post("/customers/{customer_id}/erase", response={204: None})
def erase_customer(request: HttpRequest, customer_id: str) -> tuple[int, None]:
    p = need(request, "customers:privacy")
    with transaction.atomic(durable=True):
        privacy.customer_erase(actor=p.actor, customer=selectors.customer(p.workspace_id, customer_id))
    return 204, None


# --- merges and duplicates ------------------------------------------------------------------------


@router.post("/customer-merges/{merge_id}/unmerge", response=s.MergeOut)
def unmerge(request: HttpRequest, merge_id: str) -> dict[str, Any]:
    p = need(request, "customers:merge")
    with transaction.atomic(durable=True):
        record = selectors.merge_record(p.workspace_id, merge_id)
        merge.customer_unmerge(actor=p.actor, record=record)
        record.refresh_from_db()
    return _merge(record)


@router.get("/customer-duplicates", response=s.DuplicatePage, summary="The review queue of likely duplicates")
def list_duplicates(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
    p = need(request, "customers:read")
    page = paginate(selectors.duplicate_candidates(p.workspace_id), cursor=cursor, limit=limit)
    return {"items": [_dup(d) for d in page.items], "next_cursor": page.next_cursor}


@router.post("/customer-duplicates/scan", response=s.ScanOut)
def scan_duplicates(request: HttpRequest) -> dict[str, Any]:
    p = need(request, "customers:merge")
    with transaction.atomic(durable=True):
        added = duplicates.duplicates_scan(actor=p.actor, workspace_id=p.workspace_id)
    return {"added": added}


@router.post("/customer-duplicates/{candidate_id}/dismiss", response=s.DuplicateOut)
def dismiss_duplicate(request: HttpRequest, candidate_id: str) -> dict[str, Any]:
    p = need(request, "customers:merge")
    with transaction.atomic(durable=True):
        d = duplicates.duplicate_dismiss(
            actor=p.actor, candidate=selectors.duplicate_candidate(p.workspace_id, candidate_id)
        )
    return _dup(d)


# --- attributes -----------------------------------------------------------------------------------


def _attribute(d: Any) -> dict[str, Any]:
    return {"id": d.key, "key": d.key, "type": d.type, "label": d.label, "choices": d.choices}


@router.get("/customer-attributes", response=s.AttributePage)
def list_attributes(request: HttpRequest) -> dict[str, Any]:
    p = need(request, "customers:read")
    return {"items": [_attribute(d) for d in selectors.attribute_definitions(p.workspace_id)]}


@router.post("/customer-attributes", response={201: s.AttributeOut})
def define_attribute(request: HttpRequest, body: s.AttributeIn) -> tuple[int, Any]:
    p = need(request, "customers:admin")
    with transaction.atomic(durable=True):
        d = services.attribute_define(
            actor=p.actor,
            workspace=_ws(p.workspace_id),
            key=body.key,
            type=body.type,
            label=body.label,
            choices=body.choices,
        )
    return 201, _attribute(d)


# --- settings -------------------------------------------------------------------------------------


def _settings(obj: Any) -> dict[str, Any]:
    return {"default_region": obj.default_region, "identity_secret": obj.identity_secret}


@router.get("/customer-settings", response=s.SettingsOut, summary="Phone region and the host-site secret")
def get_settings(request: HttpRequest) -> dict[str, Any]:
    p = need(request, "customers:admin")
    with transaction.atomic(durable=True):  # settings are created on first use
        return _settings(services.settings_for(p.workspace_id))


@router.patch("/customer-settings", response=s.SettingsOut)
def update_settings(request: HttpRequest, body: s.SettingsIn) -> dict[str, Any]:
    p = need(request, "customers:admin")
    with transaction.atomic(durable=True):
        obj = services.settings_update(
            actor=p.actor, workspace=_ws(p.workspace_id), default_region=body.default_region
        )
    return _settings(obj)


@router.post("/customer-settings/rotate-secret", response=s.SettingsOut)
def rotate_secret(request: HttpRequest) -> dict[str, Any]:
    p = need(request, "customers:admin")
    with transaction.atomic(durable=True):
        obj = services.identity_secret_rotate(actor=p.actor, workspace=_ws(p.workspace_id))
    return _settings(obj)


# --- claims (a visitor typed an email or phone) ---------------------------------------------------


@router.post(
    "/customer-claims", response={201: s.ClaimOut}, summary="Send a one-time code to a typed contact"
)
def start_claim(request: HttpRequest, body: s.ClaimIn) -> tuple[int, dict[str, Any]]:
    p = need(request, "customers:write")
    with transaction.atomic(durable=True):
        started = claims.claim_start(
            actor=p.actor,
            workspace=_ws(p.workspace_id),
            visitor_kind="visitor",
            visitor_value=body.visitor_id,
            kind=body.kind,
            value=body.value,
        )
    # The same answer whether or not a profile holds the contact: nothing to enumerate.
    return 201, {
        "claim_id": started.claim.public_id,
        "customer_id": started.visitor.public_id,
        "status": "pending",
    }


@router.post("/customer-claims/{claim_id}/verify", response=s.ClaimOut)
def verify_claim(request: HttpRequest, claim_id: str, body: s.CodeIn) -> dict[str, Any]:
    p = need(request, "customers:write")
    with transaction.atomic(durable=True):
        claim = selectors.claim(p.workspace_id, claim_id)
        result = claims.claim_verify(
            actor=p.actor, workspace=_ws(p.workspace_id), claim=claim, code=body.code
        )
    if result.customer is None:  # raised after commit, so the counted attempt stays counted
        raise ApiError(403, result.error, result.message, [{"field": "code"}])
    return {"claim_id": claim.public_id, "customer_id": result.customer.public_id, "status": "verified"}


# --- orders ---------------------------------------------------------------------------------------


def _order_input(body: s.OrderIn) -> order_services.OrderInput:
    data = body.model_dump(exclude={"identity", "items"})
    return order_services.OrderInput(
        **data,
        identity=(body.identity.kind, body.identity.value) if body.identity else None,
        items=None
        if body.items is None
        else [order_services.ItemInput(**i.model_dump()) for i in body.items],
    )


@router.get("/orders", response=s.OrderPage)
def list_orders(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
    p = need(request, "customers:read")
    page = paginate(selectors.orders(p.workspace_id), cursor=cursor, limit=limit)
    return {"items": [_order(o) for o in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/orders", response={200: s.OrderOut, 201: s.OrderOut}, summary="Create or update by external id"
)
def upsert_order(request: HttpRequest, body: s.OrderIn) -> tuple[int, dict[str, Any]]:
    p = need(request, "customers:write")
    with transaction.atomic(durable=True):
        up = order_services.order_upsert(
            actor=p.actor, workspace=_ws(p.workspace_id), data=_order_input(body)
        )
    return (201 if up.created else 200), _order(up.order)


@router.post("/orders/batch", response=s.OrderBatchOut, summary="Upsert up to 500 orders, all or nothing")
def upsert_orders(request: HttpRequest, body: s.OrderBatchIn) -> dict[str, Any]:
    p = need(request, "customers:write")
    with transaction.atomic(durable=True):
        done = order_services.orders_upsert_batch(
            actor=p.actor, workspace=_ws(p.workspace_id), orders=[_order_input(o) for o in body.orders]
        )
    return {
        "items": [_order(u.order) for u in done],
        "created": sum(u.created for u in done),
        "updated": sum(not u.created for u in done),
    }


@router.get("/orders/{order_id}", response=s.OrderOut)
def get_order(request: HttpRequest, order_id: str) -> dict[str, Any]:
    p = need(request, "customers:read")
    return _order(selectors.order(p.workspace_id, order_id))


@router.post("/orders/{order_id}/returns", response={201: s.ReturnOut})
def record_return(request: HttpRequest, order_id: str, body: s.ReturnIn) -> tuple[int, dict[str, Any]]:
    p = need(request, "customers:write")
    with transaction.atomic(durable=True):
        order = selectors.order(p.workspace_id, order_id)
        ret = order_services.return_record(
            actor=p.actor,
            order=order,
            reason=body.reason,
            items=[order_services.ReturnItemInput(i.sku, i.quantity, i.amount) for i in body.items],
            external_id=body.external_id,
        )
    return 201, {
        "id": ret.public_id,
        "order_id": order.public_id,
        "reason": ret.reason,
        "amount": ret.amount,
        "order_status": order.status,
    }


# --- import ---------------------------------------------------------------------------------------


@router.post("/customer-imports", response=s.ImportOut, summary="Import customers from CSV text")
def import_customers(request: HttpRequest, body: s.ImportIn) -> dict[str, Any]:
    p = need(request, "customers:write")
    with transaction.atomic(durable=True):
        run = importing_orders.orders_import if body.what == "orders" else importing.customers_import
        report = run(
            actor=p.actor, workspace=_ws(p.workspace_id), text=body.csv, mode=body.mode, dry_run=body.dry_run
        )
    return {**vars(report), "errors": [vars(e) for e in report.errors]}
