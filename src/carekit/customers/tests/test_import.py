"""CSV import: 10,000 rows with 7 bad ones, in skip and all-or-nothing modes; the command."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import transaction

from carekit.core.models import Event
from carekit.customers import services
from carekit.customers.importing import customers_import
from carekit.customers.models import Contact, Customer, Identity
from carekit.customers.tests.factories import make_customer
from carekit.testing.tenants import SYSTEM

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

# line number in the file (header is line 1) -> (column, bad value)
BAD = {
    17: ("email", "anna@@example.com"),
    230: ("phone", "+7 12"),
    1999: ("birth_date", "31.02.1990"),
    4000: ("attr:shoe_size", "big"),
    5001: ("email", "no-at-sign.example.com"),
    7777: ("phone", "call me"),
    10001: ("attr:segment", "bronze"),
}


def _csv(n: int = 10_000) -> str:
    out = io.StringIO()
    out.write("first_name,last_name,email,phone,birth_date,tags,attr:shoe_size,attr:segment\n")
    for i in range(n):
        line = i + 2
        row = {
            "first_name": f"Name{i}",
            "last_name": "Иванова" if i % 2 else "Smith",
            "email": f"user{i}@example.com",
            "phone": f"8912{i:07d}",
            "birth_date": "1990-01-02" if i % 3 == 0 else "",
            "tags": "vip;new" if i % 5 == 0 else "",
            "attr:shoe_size": str(36 + i % 8),
            "attr:segment": "gold" if i % 2 else "silver",
        }
        if line in BAD:
            col, value = BAD[line]
            row[col] = value
        out.write(",".join(row.values()) + "\n")
    return out.getvalue()


@pytest.fixture
def defined(workspace):
    with transaction.atomic():
        services.attribute_define(actor=SYSTEM, workspace=workspace, key="shoe_size", type="number")
        services.attribute_define(
            actor=SYSTEM, workspace=workspace, key="segment", type="choice", choices=["gold", "silver"]
        )
    return workspace


def _import(ws, text, **kw):
    with transaction.atomic():
        return customers_import(actor=SYSTEM, workspace=ws, text=text, **kw)


def test_skip_mode_imports_the_rest_and_reports_exactly_the_bad_rows(defined):
    events = Event.objects.filter(type="customers.customer.created").count()
    report = _import(defined, _csv(), mode="skip")
    assert sorted((e.row, e.field) for e in report.errors) == sorted(
        (row, col) for row, (col, _v) in BAD.items()
    )
    assert all(e.reason for e in report.errors)
    assert (report.rows, report.imported, report.updated, report.skipped) == (10_000, 9_993, 0, 7)
    assert Customer.objects.filter(workspace=defined).count() == 9_993
    assert Identity.objects.filter(workspace=defined, kind="email").count() == 9_993
    assert Contact.objects.filter(workspace=defined, kind="phone").count() == 9_993
    assert Event.objects.filter(type="customers.customer.created").count() - events == 9_993
    c = Customer.objects.get(contacts__value="user3@example.com")
    assert (c.attributes, str(c.birth_date)) == ({"shoe_size": 39, "segment": "gold"}, "1990-01-02")
    assert Customer.objects.get(contacts__value="+79120000005").tags == ["new", "vip"]


def test_all_or_nothing_imports_nothing_when_any_row_is_bad(defined):
    report = _import(defined, _csv(), mode="all_or_nothing")
    assert sorted(e.row for e in report.errors) == sorted(BAD)
    assert (report.imported, report.skipped) == (0, 10_000)
    assert Customer.objects.filter(workspace=defined).count() == 0
    assert Event.objects.filter(type="customers.customer.created").count() == 0


def test_dry_run_reports_and_writes_nothing(defined):
    report = _import(defined, _csv(200), dry_run=True)
    assert (report.rows, report.imported, report.skipped, report.dry_run) == (200, 199, 1, True)
    assert Customer.objects.count() == 0


def test_known_email_updates_the_profile_and_a_shared_phone_stays_a_contact(defined):
    existing = make_customer(defined, first_name="Old", emails=["anna@example.com"], phones=["+79120000001"])
    text = "first_name,email,phone\nAnna,ANNA@example.com,\nPetr,petr@example.com,89120000001\n"
    report = _import(defined, text)
    assert (report.imported, report.updated, report.errors) == (1, 1, [])
    existing.refresh_from_db()
    assert existing.first_name == "Anna"
    petr = Customer.objects.get(first_name="Petr")
    assert list(petr.contacts.values_list("kind", "value").order_by("kind")) == [
        ("email", "petr@example.com"),
        ("phone", "+79120000001"),
    ]
    assert Identity.objects.get(kind="phone").customer_id == existing.pk


def test_unknown_column_refuses_the_file(defined):
    with pytest.raises(services.normalize.InvalidValue) as exc:
        _import(defined, "first_name,nickname\nAnna,A\n")
    assert exc.value.field == "nickname"


def test_command_imports_with_a_progress_bar(defined, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("first_name,email\nAnna,anna@example.com\nBad,bad@\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("import", "customers", str(path), "--workspace", defined.slug, stdout=out, stderr=err)
    assert "line 3: email:" in out.getvalue()
    assert "2 rows: imported 1, updated 0, skipped 1, 1 bad" in out.getvalue()
    assert Customer.objects.filter(workspace=defined).count() == 1


def test_orders_import_reports_bad_rows_and_upserts_the_rest(defined, api):
    make_customer(defined, first_name="Anna", emails=["anna@example.com"])
    text = (
        "external_id,email,status,currency,total,items,carrier,tracking_number,placed_at\n"
        "A-1,anna@example.com,paid,RUB,200.00,DR-1:2:100:dresses,,,2026-11-01T10:00:00+00:00\n"
        "A-2,new@example.com,shipped,RUB,50,SK-9:1:50,CDEK,T-1,\n"
        "A-3,anna@example.com,lost,RUB,1,,,,\n"
        "A-4,anna@example.com,paid,RUB,1,SK:x:1,,,2026-11-01 10:00\n"
        "A-1,anna@example.com,delivered,RUB,200.00,,,,\n"
    )
    resp = api.post("/customer-imports", {"what": "orders", "csv": text})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert sorted((e["row"], e["field"]) for e in body["errors"]) == [
        (4, "status"),
        (5, "items"),
        (5, "placed_at"),
    ]
    assert (body["imported"], body["updated"], body["skipped"]) == (2, 1, 2)
    from carekit.customers.models import Order

    assert dict(Order.objects.values_list("external_id", "status")) == {"A-1": "delivered", "A-2": "shipped"}
    assert Order.objects.get(external_id="A-1").items.get().quantity == 2
    assert Customer.objects.filter(workspace=defined).count() == 2
