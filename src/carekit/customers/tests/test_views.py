"""Agents' customer list (search, CSV export) and customer 360 page with the duplicates warning."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from carekit.accounts.enums import Role
from carekit.customers import duplicates
from carekit.customers.models import Customer
from carekit.customers.tests.factories import make_customer, make_order
from carekit.testing.tenants import add_member, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _client(ws, role=Role.AGENT) -> Client:
    user = make_user()
    add_member(ws, role=role, user=user)
    client = Client()
    client.force_login(user)
    session = client.session
    session["carekit_workspace"] = ws.public_id
    session.save()
    return client


def test_list_search_and_csv_export(workspace, other_workspace):
    make_customer(workspace, first_name="Anna", last_name="Ivanova", emails=["anna@example.com"])
    make_customer(workspace, first_name="Boris", emails=["boris@example.com"])
    make_customer(other_workspace, first_name="Anna", emails=["anna@other.example"])
    client = _client(workspace)
    page = client.get("/customers/", {"q": "anna"}).content.decode()
    assert "anna@example.com" in page
    assert "boris@example.com" not in page
    assert "anna@other.example" not in page
    csv_text = b"".join(client.get("/customers/export.csv").streaming_content).decode()
    assert csv_text.count("\n") == 3  # header + the workspace's two customers
    assert "anna@other.example" not in csv_text


def test_360_page_shows_orders_and_duplicates_and_merges(workspace, other_workspace):
    a = make_customer(workspace, first_name="Anna", emails=["anna@example.com"])
    b = make_customer(workspace, first_name="Анна", phones=["+79123456789"])
    make_order(workspace, a, "A-77", status="shipped", carrier="CDEK", tracking_number="TR-9")
    with transaction.atomic():
        duplicates.candidate_note(a, b, score=0.8, reasons=["name"])
    client = _client(workspace)
    page = client.get(f"/customers/{a.public_id}/").content.decode()
    assert "A-77" in page
    assert "TR-9" in page
    assert "Possible duplicates" in page
    assert client.post(f"/customers/{a.public_id}/merge", {"merged_id": b.public_id}).status_code == 302
    assert Customer.objects.get(pk=b.pk).status == "merged"
    foreign = make_customer(other_workspace)
    assert client.get(f"/customers/{foreign.public_id}/").status_code == 404


def test_marketer_cannot_merge(workspace):
    a, b = make_customer(workspace), make_customer(workspace)
    client = _client(workspace, role=Role.MARKETER)
    assert client.get(f"/customers/{a.public_id}/").status_code == 200
    assert client.post(f"/customers/{a.public_id}/merge", {"merged_id": b.public_id}).status_code == 403
    assert Customer.objects.get(pk=b.pk).status == "active"


def test_import_page_runs_the_job_and_shows_the_report(workspace, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from carekit.customers.models import ImportJob

    client = _client(workspace)
    data = b"first_name,email\nAnna,anna@example.com\nBad,bad@\nBoris,boris@example.com\n"
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(
            "/customers/imports/new",
            {"what": "customers", "mode": "skip", "file": SimpleUploadedFile("c.csv", data, "text/csv")},
        )
    assert resp.status_code == 302
    job = ImportJob.objects.get()
    assert (job.status, job.report["imported"], job.report["skipped"], job.file_name) == ("done", 2, 1, "")
    assert job.report["errors"] == [
        {"row": 3, "field": "email", "reason": "This is not a valid email address."}
    ]
    page = client.get(resp["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in page  # finished: the page stops polling
    assert "This is not a valid email address." in page
    assert Customer.objects.filter(workspace=workspace).count() == 2
