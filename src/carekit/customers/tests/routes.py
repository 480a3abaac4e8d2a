"""Route cases for the customers API (see carekit.testing.routes)."""

from __future__ import annotations

from django.db import transaction

from carekit.core.models import Workspace
from carekit.customers import claims, duplicates, merge
from carekit.customers.tests.factories import make_customer, make_order
from carekit.testing.routes import RouteCall, route_case
from carekit.testing.tenants import SYSTEM


def _cid(ws: Workspace) -> str:
    return make_customer(ws, first_name="Route").public_id


def _merge_record(ws: Workspace):
    a, b = make_customer(ws), make_customer(ws)
    with transaction.atomic():
        return merge.customer_merge(actor=SYSTEM, survivor=a, merged=b)


def _candidate(ws: Workspace):
    a, b = make_customer(ws), make_customer(ws)
    with transaction.atomic():
        return duplicates.candidate_note(a, b, score=0.9, reasons=["email"])


def _order_body(customer_id: str) -> dict:
    return {
        "external_id": "R-1",
        "status": "paid",
        "currency": "RUB",
        "total": "10.00",
        "customer_id": customer_id,
    }


@route_case("GET", "/customers", scope="customers:read")
def _list(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/customers", kind="list", own_ids={_cid(own)}, foreign_ids={_cid(other)})


@route_case("POST", "/customers", scope="customers:write")
def _create(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/customers", body={"first_name": "Anna", "emails": ["anna@example.com"]}, kind="plain")


@route_case("POST", "/customers/resolve", scope="customers:write")
def _resolve(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/customers/resolve", body={"kind": "telegram", "value": "42"}, kind="plain")


@route_case("GET", "/customers/{customer_id}", scope="customers:read")
def _get(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/customers/{_cid(other)}")


@route_case("PATCH", "/customers/{customer_id}", scope="customers:write")
def _patch(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/customers/{_cid(other)}", body={"company": "X"})


@route_case("GET", "/customers/{customer_id}/timeline", scope="customers:read")
def _timeline(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/customers/{_cid(other)}/timeline")


@route_case("GET", "/customers/{customer_id}/consents", scope="customers:read")
def _consents(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/customers/{_cid(other)}/consents")


@route_case("POST", "/customers/{customer_id}/consents", scope="customers:write")
def _consent_set(own: Workspace, other: Workspace) -> RouteCall:
    body = {"purpose": "marketing", "channel": "email", "granted": True}
    return RouteCall(f"/customers/{_cid(other)}/consents", body=body)


@route_case("GET", "/customers/{customer_id}/orders", scope="customers:read")
def _orders_of(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/customers/{_cid(other)}/orders")


@route_case("POST", "/customers/{customer_id}/merge", scope="customers:merge")
def _merge(own: Workspace, other: Workspace) -> RouteCall:
    # The foreign id is in the body: another workspace's profile merged into one of ours.
    return RouteCall(f"/customers/{_cid(own)}/merge", body={"merged_id": _cid(other)})


@route_case("GET", "/customers/{customer_id}/export", scope="customers:privacy")
def _export(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/customers/{_cid(other)}/export")


@route_case("POST", "/customers/{customer_id}/erase", scope="customers:privacy")
def _erase(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/customers/{_cid(other)}/erase")


@route_case("POST", "/customer-merges/{merge_id}/unmerge", scope="customers:merge")
def _unmerge(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/customer-merges/{_merge_record(other).public_id}/unmerge")


@route_case("GET", "/customer-duplicates", scope="customers:read")
def _dups(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(
        "/customer-duplicates",
        kind="list",
        own_ids={_candidate(own).public_id},
        foreign_ids={_candidate(other).public_id},
    )


@route_case("POST", "/customer-duplicates/scan", scope="customers:merge")
def _scan(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/customer-duplicates/scan", kind="plain")


@route_case("POST", "/customer-duplicates/{candidate_id}/dismiss", scope="customers:merge")
def _dismiss(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/customer-duplicates/{_candidate(other).public_id}/dismiss")


def _attribute(ws: Workspace, key: str) -> str:
    from carekit.customers import services

    with transaction.atomic():
        return services.attribute_define(actor=SYSTEM, workspace=ws, key=key, type="text").key


@route_case("GET", "/customer-attributes", scope="customers:read")
def _attributes(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(
        "/customer-attributes",
        kind="list",
        own_ids={_attribute(own, "mine")},
        foreign_ids={_attribute(other, "theirs")},
    )


@route_case("POST", "/customer-attributes", scope="customers:admin")
def _attribute_define(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/customer-attributes", body={"key": "shoe_size", "type": "number"}, kind="plain")


@route_case("POST", "/customer-claims", scope="customers:write")
def _claim(own: Workspace, other: Workspace) -> RouteCall:
    body = {"visitor_id": "v-1", "kind": "email", "value": "anna@example.com"}
    return RouteCall("/customer-claims", body=body, kind="plain")


@route_case("POST", "/customer-claims/{claim_id}/verify", scope="customers:write")
def _claim_verify(own: Workspace, other: Workspace) -> RouteCall:
    with transaction.atomic():
        started = claims.claim_start(
            actor=SYSTEM,
            workspace=other,
            visitor_kind="visitor",
            visitor_value="v",
            kind="email",
            value="a@b.ru",
        )
    return RouteCall(f"/customer-claims/{started.claim.public_id}/verify", body={"code": "123456"})


@route_case("GET", "/orders", scope="customers:read")
def _orders(own: Workspace, other: Workspace) -> RouteCall:
    mine = make_order(own, make_customer(own), "O-1").public_id
    theirs = make_order(other, make_customer(other), "O-1").public_id
    return RouteCall("/orders", kind="list", own_ids={mine}, foreign_ids={theirs})


@route_case("POST", "/orders", scope="customers:write")
def _order_upsert(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/orders", body=_order_body(_cid(other)))


@route_case("POST", "/orders/batch", scope="customers:write")
def _order_batch(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/orders/batch", body={"orders": [_order_body(_cid(other))]})


@route_case("GET", "/orders/{order_id}", scope="customers:read")
def _order_get(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(f"/orders/{make_order(other, make_customer(other)).public_id}")


@route_case("POST", "/orders/{order_id}/returns", scope="customers:write")
def _order_return(own: Workspace, other: Workspace) -> RouteCall:
    order = make_order(other, make_customer(other))
    body = {"reason": "defect", "items": [{"sku": "DR-1", "quantity": 1, "amount": "10.00"}]}
    return RouteCall(f"/orders/{order.public_id}/returns", body=body)


@route_case("POST", "/customer-imports", scope="customers:write")
def _import(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall(
        "/customer-imports", body={"csv": "first_name,email\nAnna,anna@example.com\n"}, kind="plain"
    )


@route_case("GET", "/customer-settings", scope="customers:admin")
def _settings_get(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/customer-settings", kind="plain")


@route_case("PATCH", "/customer-settings", scope="customers:admin")
def _settings_patch(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/customer-settings", body={"default_region": "KZ"}, kind="plain")


@route_case("POST", "/customer-settings/rotate-secret", scope="customers:admin")
def _settings_rotate(own: Workspace, other: Workspace) -> RouteCall:
    return RouteCall("/customer-settings/rotate-secret", kind="plain")
