"""The customers API: bad input names the field and writes nothing; the claim attack gets no data."""

from __future__ import annotations

import pytest
from django.db import transaction

from carekit.core.models import Event
from carekit.customers import claims, services
from carekit.customers.models import Contact, Customer, Identity, Order
from carekit.customers.tests.factories import make_customer, make_order
from carekit.customers.tests.test_claims import code_from, mailbox  # noqa: F401  (fixture)
from carekit.testing.tenants import SYSTEM, api_caller

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _fields(resp) -> list[str]:
    return [d["field"] for d in resp.json()["error"]["details"]]


def _define(ws, key, type_, choices=()):
    with transaction.atomic():
        services.attribute_define(actor=SYSTEM, workspace=ws, key=key, type=type_, choices=choices)


def test_create_normalizes_contacts_and_attributes(api, workspace):
    _define(workspace, "shoe_size", "number")
    _define(workspace, "segment", "choice", ["gold", "silver"])
    resp = api.post(
        "/customers",
        {
            "first_name": "Anna",
            "emails": ["Anna@Example.com"],
            "phones": ["8 912 345 67 89"],
            "tags": ["VIP", " vip "],
            "attributes": {"shoe_size": "38", "segment": "gold"},
        },
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["emails"] == ["anna@example.com"]
    assert body["phones"] == ["+79123456789"]
    assert body["tags"] == ["vip"]
    assert body["attributes"] == {"shoe_size": 38, "segment": "gold"}
    assert sorted(i["kind"] for i in body["identities"]) == ["email", "phone"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phones": ["+7 12"]}, "phones[0]"),
        ({"emails": ["ok@example.com", "not an email"]}, "emails[1]"),
        ({"attributes": {"unknown": 1}}, "attributes.unknown"),
        ({"attributes": {"shoe_size": "big"}}, "attributes.shoe_size"),
        ({"attributes": {"segment": "bronze"}}, "attributes.segment"),
        ({"birth_date": "yesterday"}, "birth_date"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"nickname": "x"}, "nickname"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(api, workspace, body, field):
    _define(workspace, "shoe_size", "number")
    _define(workspace, "segment", "choice", ["gold"])
    events = Event.objects.count()
    resp = api.post("/customers", {"first_name": "Anna", "emails": ["anna@example.com"], **body})
    assert resp.status_code == 422, resp.content
    assert field in _fields(resp)
    assert Customer.objects.count() == 0
    assert Contact.objects.count() == 0
    assert Event.objects.count() == events


def test_patch_with_a_bad_phone_changes_nothing(api, workspace):
    c = make_customer(workspace, first_name="Anna", phones=["+79123456789"])
    resp = api.patch(f"/customers/{c.public_id}", {"first_name": "Maria", "phones": ["12"]})
    assert resp.status_code == 422
    assert _fields(resp) == ["phones[0]"]
    c.refresh_from_db()
    assert c.first_name == "Anna"
    assert list(Contact.objects.filter(customer=c).values_list("value", flat=True)) == ["+79123456789"]


def test_order_batch_with_a_bad_order_writes_nothing(api, workspace):
    c = make_customer(workspace)
    good = {
        "external_id": "A-1",
        "status": "paid",
        "currency": "RUB",
        "total": "10.00",
        "customer_id": c.public_id,
    }
    resp = api.post("/orders/batch", {"orders": [good, {**good, "external_id": "A-2", "total": "-1"}]})
    assert resp.status_code == 422
    assert _fields(resp) == ["orders.1.total"]
    resp = api.post("/orders/batch", {"orders": [good, {**good, "external_id": "A-2", "currency": "R$1"}]})
    assert resp.status_code == 422
    assert _fields(resp) == ["orders[1].currency"]
    assert Order.objects.count() == 0


def test_search_by_phone_email_and_name(api, workspace):
    a = make_customer(workspace, first_name="Anna", last_name="Ivanova", phones=["+79123456789"])
    make_customer(workspace, first_name="Boris", emails=["boris@example.com"])
    for q in ("8 912 345-67-89", "anna ivanova", "Ivanova"):
        assert [c["id"] for c in api.get("/customers", q=q).json()["items"]] == [a.public_id], q
    assert len(api.get("/customers", q="boris@example.com").json()["items"]) == 1


def test_order_upsert_and_return_through_the_api(api, workspace):
    c = make_customer(workspace)
    body = {
        "external_id": "A-9",
        "status": "shipped",
        "currency": "rub",
        "total": "200.00",
        "customer_id": c.public_id,
        "carrier": "CDEK",
        "tracking_number": "T-1",
        "items": [{"sku": "S", "quantity": 2, "price": "100.00"}],
    }
    first = api.post("/orders", body)
    assert first.status_code == 201
    assert api.post("/orders", {**body, "status": "delivered"}).status_code == 200
    oid = first.json()["id"]
    ret = api.post(
        f"/orders/{oid}/returns",
        {"reason": "defect", "items": [{"sku": "S", "quantity": 1, "amount": "100"}]},
    )
    assert ret.status_code == 201
    assert ret.json()["order_status"] == "partially_returned"
    assert api.get(f"/orders/{oid}").json()["status"] == "partially_returned"


def test_attack_unverified_claim_gives_the_visitor_nothing_of_the_owner(
    api,
    workspace,
    mailbox,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    owner = make_customer(workspace, first_name="Anna", emails=["anna@example.com"], phones=["+79123456789"])
    make_order(workspace, owner, "SECRET-1")

    with django_capture_on_commit_callbacks(execute=True):
        body = {"visitor_id": "attacker", "kind": "email", "value": "anna@example.com"}
        started = api.post("/customer-claims", body)
    assert started.status_code == 201
    claim = started.json()
    fresh = api.post(
        "/customer-claims", {"visitor_id": "someone", "kind": "email", "value": "nobody@example.com"}
    )
    assert set(claim) == set(fresh.json())  # the same shape whether or not the email is known
    assert claim["customer_id"] != owner.public_id

    resolved = api.post("/customers/resolve", {"kind": "visitor", "value": "attacker"}).json()
    assert resolved["customer_id"] == claim["customer_id"]
    visitor = api.get(f"/customers/{claim['customer_id']}").json()
    assert visitor["emails"] == []
    assert visitor["phones"] == []
    assert visitor["first_name"] == ""
    assert api.get(f"/customers/{claim['customer_id']}/orders").json()["items"] == []
    timeline = api.get(f"/customers/{claim['customer_id']}/timeline").json()["items"]
    assert [i["data"]["kind"] for i in timeline] == ["visitor"]

    wrong = api.post(f"/customer-claims/{claim['claim_id']}/verify", {"code": "000000"})
    if code_from(mailbox.sent[0]) == "000000":
        wrong = api.post(f"/customer-claims/{claim['claim_id']}/verify", {"code": "111111"})
    assert wrong.status_code == 403
    assert Identity.objects.get(kind="visitor", value="attacker").customer.public_id == claim["customer_id"]
    assert api.get(f"/customers/{claim['customer_id']}/orders").json()["items"] == []

    ok = api.post(f"/customer-claims/{claim['claim_id']}/verify", {"code": code_from(mailbox.sent[0])})
    assert ok.status_code == 200
    assert ok.json()["customer_id"] == owner.public_id
    assert Identity.objects.get(kind="visitor", value="attacker").customer_id == owner.pk


def test_settings_region_and_secret_rotation(api, workspace, other_workspace):
    first = api.get("/customer-settings").json()
    other = api_caller(other_workspace).get("/customer-settings").json()
    assert first["identity_secret"] != other["identity_secret"]
    assert api.patch("/customer-settings", {"default_region": "kz"}).json()["default_region"] == "KZ"
    bad = api.patch("/customer-settings", {"default_region": "XX"})
    assert bad.status_code == 422
    assert _fields(bad) == ["default_region"]
    rotated = api.post("/customer-settings/rotate-secret").json()
    assert rotated["identity_secret"] != first["identity_secret"]
    token = claims.host_token_sign(first["identity_secret"], kind="email", value="a@example.com")
    resp = api.post("/customers/resolve", {"kind": "visitor", "value": "v1", "host_token": token})
    assert resp.status_code == 401
    assert _fields(resp) == ["host_token"]
    assert Customer.objects.filter(workspace=workspace).count() == 0


def test_removing_an_email_stops_it_resolving_to_the_profile(api, workspace):
    c = make_customer(workspace, emails=["old@example.com", "keep@example.com"])
    resp = api.patch(f"/customers/{c.public_id}", {"emails": ["keep@example.com"]})
    assert resp.json()["emails"] == ["keep@example.com"]
    assert sorted(Identity.objects.filter(customer=c).values_list("value", flat=True)) == ["keep@example.com"]
    again = api.post("/customers/resolve", {"kind": "email", "value": "old@example.com"}).json()
    assert again["customer_id"] != c.public_id
