"""The customer's cabinet: code sign-in, orders, consents, export, erasure; unsubscribe in two clicks."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client

from carekit.customers import consents, public
from carekit.customers.models import Consent, ConsentRecord, Customer
from carekit.customers.tests.factories import make_customer, make_order
from carekit.customers.tests.test_claims import mailbox  # noqa: F401  (fixture)
from carekit.testing.tenants import SYSTEM

SEEDED = {
    "first_name": "Zinaida",
    "last_name": "Prokhorova",
    "email": "zinaida.prokhorova@example.org",
    "phone": "+79161234567",
    "address": "Ulitsa Tikhaya 7, Tver",
}


def _code(message) -> str:
    found = re.search(r"\b(\d{6})\b", message.body)
    assert found
    return found.group(1)


def _seed(ws):
    c = make_customer(
        ws,
        first_name=SEEDED["first_name"],
        last_name=SEEDED["last_name"],
        emails=[SEEDED["email"]],
        phones=[SEEDED["phone"]],
        address=SEEDED["address"],
    )
    make_order(ws, c, "Z-100", status="shipped", carrier="CDEK", tracking_number="CD123")
    with transaction.atomic():
        consents.consent_set(
            actor=SYSTEM, customer=c, purpose="marketing", channel="email", granted=True, source="checkout"
        )
    return c


def _sign_in(client: Client, ws, mailbox) -> None:  # noqa: F811
    assert client.post(f"/portal/{ws.slug}/sign-in", {"email": SEEDED["email"].upper()}).status_code == 302
    code = _code(mailbox.sent[-1])
    resp = client.post(f"/portal/{ws.slug}/sign-in/code", {"code": code})
    assert resp.status_code == 302
    assert resp["Location"] == f"/portal/{ws.slug}/"


def db_text_dump() -> str:
    """A text dump of the whole database (SQLite: iterdump; PostgreSQL: pg_dump of the test database)."""
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    s = connection.settings_dict
    out = subprocess.run(
        ["pg_dump", "-h", s["HOST"] or "127.0.0.1", "-p", str(s["PORT"] or 5432), "-U", s["USER"], s["NAME"]],
        check=True,
        capture_output=True,
        env={**os.environ, "PGPASSWORD": s.get("PASSWORD") or ""},
    )
    return out.stdout.decode()


def _personal_hits(text: str) -> list[str]:
    return [v for v in SEEDED.values() if v.lower() in text.lower()]


@pytest.mark.django_db(transaction=True)
@pytest.mark.sqlite
def test_cabinet_flow_then_erasure_leaves_no_personal_values(workspace, mailbox):  # noqa: F811
    customer = _seed(workspace)
    client = Client()
    assert client.get(f"/portal/{workspace.slug}/").status_code == 302  # not signed in
    _sign_in(client, workspace, mailbox)

    page = client.get(f"/portal/{workspace.slug}/").content.decode()
    assert "Z-100" in page
    assert "Shipped" in page
    assert "CD123" in page

    resp = client.post(
        f"/portal/{workspace.slug}/consents", {"purpose": "marketing", "channel": "email", "granted": "0"}
    )
    assert resp.status_code == 302
    assert public.consent_allows(workspace.pk, customer.public_id, "marketing", "email") is False
    assert ConsentRecord.objects.filter(customer=customer, source="portal", granted=False).count() == 1

    client.post(f"/portal/{workspace.slug}/export")
    page = client.get(f"/portal/{workspace.slug}/").content.decode()
    link = re.search(r'href="(/portal/[^"]+/export/(exp_[a-z0-9]+))"', page)
    assert link, page
    download = client.get(link.group(1))
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.content)) as zf:
        data = json.loads(zf.read("data.json"))
        assert "customers-orders.csv" in zf.namelist()
    assert data["customers"]["profile"]["last_name"] == SEEDED["last_name"]
    assert data["customers"]["orders"][0]["number"] == "Z-100"
    assert client.get(link.group(1)).status_code == 404  # deleted after download

    client.post(f"/portal/{workspace.slug}/export")  # a second export, left waiting: erasure removes it
    resp = client.post(f"/portal/{workspace.slug}/erase", {"confirm": "yes"})
    assert resp.status_code == 200
    assert mailbox.sent[-1].to == SEEDED["email"]
    assert "erased" in mailbox.sent[-1].body
    assert Customer.objects.get(pk=customer.pk).status == "erased"
    assert client.get(f"/portal/{workspace.slug}/").status_code == 302

    # A text dump of the whole database, the raw database and WAL files, and the files under var/.
    dump = db_text_dump()
    assert _personal_hits(dump) == []
    db_file = Path(connection.settings_dict["NAME"])
    for path in (db_file, Path(f"{db_file}-wal")) if connection.vendor == "sqlite" else ():
        if path.exists():
            raw = path.read_bytes()
            assert [v for v in SEEDED.values() if v.encode() in raw] == [], path
    for sub in ("exports", "mail"):
        folder = Path(settings.VAR_DIR) / sub
        for f in folder.rglob("*") if folder.exists() else []:
            if f.is_file():
                assert _personal_hits(f.read_text(errors="ignore")) == [], f
    huey_file = Path(settings.HUEY_FILE)
    if huey_file.exists():
        assert [v for v in SEEDED.values() if v.encode() in huey_file.read_bytes()] == []


@pytest.mark.django_db
@pytest.mark.sqlite
def test_wrong_code_and_unknown_email_get_the_same_answer(workspace, mailbox):  # noqa: F811
    _seed(workspace)
    client = Client()
    known = client.post(f"/portal/{workspace.slug}/sign-in", {"email": SEEDED["email"]})
    unknown = Client().post(f"/portal/{workspace.slug}/sign-in", {"email": "stranger@example.org"})
    assert (known.status_code, unknown.status_code) == (302, 302)
    assert known["Location"] == unknown["Location"]
    resp = client.post(f"/portal/{workspace.slug}/sign-in/code", {"code": "not-a-code"})
    assert resp.status_code == 400
    assert client.get(f"/portal/{workspace.slug}/").status_code == 302


@pytest.mark.django_db
@pytest.mark.sqlite
def test_sign_in_is_rate_limited(workspace, mailbox):  # noqa: F811
    _seed(workspace)
    client = Client()
    for _ in range(5):
        assert client.post(f"/portal/{workspace.slug}/sign-in", {"email": SEEDED["email"]}).status_code == 302
    assert client.post(f"/portal/{workspace.slug}/sign-in", {"email": SEEDED["email"]}).status_code == 400


@pytest.mark.django_db
@pytest.mark.sqlite
def test_unsubscribe_in_two_clicks_without_signing_in(workspace, other_workspace):
    customer = _seed(workspace)
    token = public.unsubscribe_token(workspace.pk, customer.public_id, "email")
    client = Client()
    first = client.get(f"/portal/{workspace.slug}/unsubscribe/{token}")  # click 1: the link in the email
    assert first.status_code == 200
    assert Consent.objects.get(customer=customer, purpose="marketing", channel="email").granted is True
    second = client.post(f"/portal/{workspace.slug}/unsubscribe/{token}")  # click 2: the button
    assert second.status_code == 200
    assert Consent.objects.get(customer=customer, purpose="marketing", channel="email").granted is False
    assert client.get(f"/portal/{other_workspace.slug}/unsubscribe/{token}").status_code == 404
    assert client.get(f"/portal/{workspace.slug}/unsubscribe/{token}x").status_code == 404


@pytest.mark.django_db
@pytest.mark.sqlite
def test_magic_link_signs_in_once(workspace, mailbox, django_capture_on_commit_callbacks):  # noqa: F811
    _seed(workspace)
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/portal/{workspace.slug}/sign-in", {"email": SEEDED["email"]})
    link = re.search(r"(/portal/\S+/sign-in/link/\S+)", mailbox.sent[-1].body)
    assert link
    assert client.get(link.group(1)).status_code == 200  # opening the link (or a mail scanner) uses nothing
    assert client.post(link.group(1)).status_code == 302
    assert client.get(f"/portal/{workspace.slug}/").status_code == 200
    assert Client().post(link.group(1)).status_code == 400  # used up


@pytest.mark.django_db
@pytest.mark.sqlite
def test_erasure_removes_sent_mail_files_naming_the_customer(
    workspace, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.EMAIL_TRANSPORT = "file"
    settings.EMAIL_FILE_PATH = tmp_path
    customer = _seed(workspace)
    (tmp_path / "1.eml").write_text(f"To: {SEEDED['email']}\n\nYour code: 123456\n")
    (tmp_path / "2.eml").write_text("To: someone@example.net\n\nHello\n")
    with django_capture_on_commit_callbacks(execute=True):
        assert public.cabinet_erase(workspace_id=workspace.pk, customer_id=customer.public_id)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2.eml"]


@pytest.mark.django_db
@pytest.mark.sqlite
def test_edit_details_and_channel_preference(workspace, mailbox, django_capture_on_commit_callbacks):  # noqa: F811
    customer = _seed(workspace)
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/portal/{workspace.slug}/sign-in", {"email": SEEDED["email"]})
    client.post(f"/portal/{workspace.slug}/sign-in/code", {"code": _code(mailbox.sent[-1])})
    form = {
        "first_name": "Zina",
        "last_name": "P",
        "phones": "8 916 123-45-68",
        "preferred_channel": "telegram",
    }
    assert client.post(f"/portal/{workspace.slug}/profile", form).status_code == 302
    customer.refresh_from_db()
    assert (customer.first_name, customer.preferred_channel) == ("Zina", "telegram")
    assert list(customer.contacts.filter(kind="phone").values_list("value", flat=True)) == ["+79161234568"]
    bad = {**form, "phones": "12"}
    client.post(f"/portal/{workspace.slug}/profile", bad)
    customer.refresh_from_db()
    assert list(customer.contacts.filter(kind="phone").values_list("value", flat=True)) == ["+79161234568"]


@pytest.mark.django_db
@pytest.mark.sqlite
def test_cabinet_shows_own_conversations_and_points_but_no_notes_or_unsent_messages(
    workspace,
    mailbox,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    from carekit.conversations import services as inbox
    from carekit.conversations.enums import DeliveryState
    from carekit.conversations.models import Message
    from carekit.conversations.tests.factories import inbound
    from carekit.loyalty.tests.factories import account, program

    customer = _seed(workspace)
    other = make_customer(workspace, first_name="Other", emails=["other@example.org"])
    conv = inbound(workspace, customer_id=customer.public_id, text="Where is Z-100, please?").conversation
    inbound(workspace, thread="other", customer_id=other.public_id, text="Secret of another customer")
    with transaction.atomic():
        sent = inbox.message_send(actor=SYSTEM, conversation=conv, text="It ships tomorrow.")
        unsent = inbox.message_send(actor=SYSTEM, conversation=conv, text="Draft that never left")
        inbox.note_add(actor=SYSTEM, conversation=conv, author_id="", text="Internal: customer is VIP")
    Message.objects.filter(pk=sent.pk).update(state=DeliveryState.SENT)
    Message.objects.filter(pk=unsent.pk).update(state=DeliveryState.FAILED)
    account(program(workspace), customer.public_id, available=150)
    customer.refresh_from_db()

    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/portal/{workspace.slug}/sign-in", {"email": SEEDED["email"]})
    client.post(f"/portal/{workspace.slug}/sign-in/code", {"code": _code(mailbox.sent[-1])})
    page = client.get(f"/portal/{workspace.slug}/").content.decode()
    assert page.count(f'data-conversation="{conv.public_id}"') == 1
    assert page.count("<li class=") == 2
    assert "Where is Z-100, please?" in page
    assert "It ships tomorrow." in page
    for hidden in ("Draft that never left", "Internal: customer is VIP", "Secret of another customer"):
        assert hidden not in page
    assert 'data-available="150"' in page
