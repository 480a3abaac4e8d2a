"""Shell pages through the Django test client: scopes, tenancy, the switcher, retry, resend, the bell."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from carekit.accounts import services as accounts_services
from carekit.accounts.enums import Role
from carekit.core.events import Actor, emit
from carekit.core.models import DeliveryStatus as EventStatus
from carekit.core.models import EventDelivery
from carekit.core.realtime import notifications
from carekit.core.webhooks.enums import DeliveryStatus
from carekit.core.webhooks.models import WebhookDelivery
from carekit.core.webhooks.tests.routes import _delivery
from carekit.testing.tenants import add_member, make_user, make_workspace

ACTOR = Actor.system("test")


def _client(user, workspace=None) -> Client:
    c = Client()
    c.force_login(user)
    if workspace is not None:
        s = c.session
        s["carekit_workspace"] = workspace.public_id
        s.save()
    return c


def _dead_letter(ws) -> EventDelivery:
    with transaction.atomic():
        ev = emit(
            workspace_id=ws.pk, type="probe.thing.happened", subject_type="t", subject_id="1", actor=ACTOR
        )
    return EventDelivery.objects.create(
        event_id=ev.pk,
        workspace_id=ws.pk,
        handler="probe.gone",
        status=EventStatus.DEAD,
        attempts=8,
        last_error="boom",
    )


@pytest.fixture
def owner(db):
    return make_user(email="owner@shop.test")


@pytest.fixture
def shop(owner):
    return make_workspace("Shop", owner=owner)


@pytest.mark.sqlite
def test_anonymous_is_sent_to_login(db):
    resp = Client().get("/")
    assert resp.status_code == 302
    assert resp["Location"].startswith("/login/")


@pytest.mark.sqlite
def test_owner_sees_every_platform_page_and_agent_only_allowed_ones(owner, shop):
    c = _client(owner, shop)
    page = c.get("/").content.decode()
    for label in ("Dashboard", "Audit log", "Failed events", "Webhooks"):
        assert label in page
    for url in ("/", "/audit/", "/failed-events/", "/webhooks/", "/notifications/"):
        assert c.get(url).status_code == 200, url
    agent = add_member(shop, Role.AGENT).user
    a = _client(agent, shop)
    page = a.get("/").content.decode()
    assert "Audit log" not in page
    assert "Webhooks" not in page
    assert [a.get(u).status_code for u in ("/audit/", "/failed-events/", "/webhooks/")] == [403, 403, 403]


@pytest.mark.sqlite
def test_switcher_changes_workspace_only_to_ones_the_user_belongs_to(owner, shop):
    second = make_workspace("Outlet", owner=owner)
    foreign = make_workspace("Someone else")
    c = _client(owner, shop)
    assert c.post("/workspace/switch/", {"workspace": second.public_id}).status_code == 302
    assert c.session["carekit_workspace"] == second.public_id
    assert "You are working in Outlet." in c.get("/").content.decode()
    assert c.post("/workspace/switch/", {"workspace": foreign.public_id}).status_code == 404
    assert c.session["carekit_workspace"] == second.public_id


@pytest.mark.sqlite
def test_dead_letter_retry_is_scoped_to_the_workspace(owner, shop, other_workspace):
    mine, theirs = _dead_letter(shop), _dead_letter(other_workspace)
    c = _client(owner, shop)
    page = c.get("/failed-events/").content.decode()
    assert mine.event.public_id in page
    assert theirs.event.public_id not in page
    url = f"/failed-events/{theirs.event.public_id}/{theirs.handler}/retry/"
    assert c.post(url).status_code == 404
    resp = c.post(f"/failed-events/{mine.event.public_id}/{mine.handler}/retry/", HTTP_HX_REQUEST="true")
    assert resp.status_code == 200
    assert "Queued" in resp.content.decode()
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, mine.attempts) == (EventStatus.PENDING, 0)
    assert (theirs.status, theirs.attempts) == (EventStatus.DEAD, 8)


@pytest.mark.sqlite
def test_webhook_resend_is_scoped_to_the_workspace(owner, shop, other_workspace):
    mine, theirs = _delivery(shop), _delivery(other_workspace)
    c = _client(owner, shop)
    page = c.get("/webhooks/").content.decode()
    assert mine.public_id in page
    assert theirs.public_id not in page
    assert c.get(f"/webhooks/deliveries/{theirs.public_id}/").status_code == 404
    assert c.post(f"/webhooks/deliveries/{theirs.public_id}/resend/").status_code == 404
    assert c.get(f"/webhooks/deliveries/{mine.public_id}/").status_code == 200
    resp = c.post(f"/webhooks/deliveries/{mine.public_id}/resend/", HTTP_HX_REQUEST="true")
    assert "Queued" in resp.content.decode()
    assert WebhookDelivery.objects.get(pk=mine.pk).status == DeliveryStatus.PENDING
    assert WebhookDelivery.objects.get(pk=theirs.pk).status == DeliveryStatus.FAILED


@pytest.mark.sqlite
def test_being_added_to_a_team_notifies_the_member(owner, shop, django_capture_on_commit_callbacks):
    member = add_member(shop, Role.AGENT)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        team = accounts_services.team_create(actor=ACTOR, workspace=shop, name="Delivery")
        accounts_services.team_add_member(actor=ACTOR, team=team, membership=member)
    assert notifications.unread_count(shop.pk, member.user.public_id) == 1
    assert notifications.unread_count(shop.pk, owner.public_id) == 0
    c = _client(member.user, shop)
    assert "You were added to the team Delivery" in c.get("/notifications/bell/").content.decode()
    resp = c.post("/notifications/read/", HTTP_HX_REQUEST="true")
    assert resp.status_code == 200
    assert notifications.unread_count(shop.pk, member.user.public_id) == 0
