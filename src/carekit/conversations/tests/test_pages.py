"""The agent workspace through the Django test client: views and counts, the conversation page, replies,
canned fills, tenancy, and a bound on the queries of the inbox page."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from carekit.accounts.enums import Role
from carekit.conversations import replies, routing
from carekit.conversations.enums import Presence
from carekit.conversations.models import Message
from carekit.conversations.tests.factories import conversation
from carekit.testing.tenants import SYSTEM, add_member, make_workspace

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _client(member, workspace) -> Client:
    c = Client()
    c.force_login(member.user)
    s = c.session
    s["carekit_workspace"] = workspace.public_id
    s.save()
    return c


@pytest.fixture
def agent(workspace):
    m = add_member(workspace, Role.AGENT)
    with transaction.atomic():
        routing.presence_set(
            actor=SYSTEM, workspace=workspace, member_id=m.public_id, presence=Presence.ONLINE
        )
    return m


def test_inbox_views_show_counts_and_rows(workspace, agent):
    mine = conversation(workspace, text="Where is my parcel?")
    c = _client(agent, workspace)
    page = c.get("/inbox/?view=mine")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="count-mine">1<' in html
    assert "Where is my parcel?" in html
    assert f"/inbox/c/{mine.public_id}/" in html
    assert c.get("/inbox/rows/?view=unassigned").content.decode().count("data-conversation=") == 0


def test_the_conversation_page_shows_thread_customer_and_sla(workspace, agent):
    conv = conversation(workspace, text="Hello there")
    c = _client(agent, workspace)
    page = c.get(f"/inbox/c/{conv.public_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Hello there" in html
    assert 'id="points">0<' in html
    assert "No SLA applies." in html


def test_reply_and_note_through_the_page(workspace, agent, django_capture_on_commit_callbacks):
    from carekit.testing.outbound import recording

    conv = conversation(workspace)
    c = _client(agent, workspace)
    with recording("api") as sender, django_capture_on_commit_callbacks(execute=True):
        resp = c.post(
            f"/inbox/c/{conv.public_id}/reply/", {"text": "On its way!"}, headers={"HX-Request": "true"}
        )
    assert resp.status_code == 200
    assert "On its way!" in resp.content.decode()
    assert [m.body for m in sender.sent] == ["On its way!"]
    resp = c.post(f"/inbox/c/{conv.public_id}/note/", {"text": "VIP"})
    assert resp.status_code == 302
    assert Message.objects.filter(conversation=conv).count() == 2


def test_canned_fill_renders_variables(workspace, agent):
    conv = conversation(workspace)
    with transaction.atomic():
        canned = replies.canned_response_create(
            actor=SYSTEM, workspace=workspace, shortcut="hi", title="Hi", body="Ticket {conversation.id}"
        )
    c = _client(agent, workspace)
    resp = c.get(f"/inbox/c/{conv.public_id}/canned/{canned.public_id}/")
    assert resp.content.decode() == f"Ticket {conv.public_id}"


def test_another_workspaces_conversation_is_a_404(workspace, agent):
    other = make_workspace()
    theirs = conversation(other)
    c = _client(agent, workspace)
    assert c.get(f"/inbox/c/{theirs.public_id}/").status_code == 404
    assert c.post(f"/inbox/c/{theirs.public_id}/reply/", {"text": "x"}).status_code == 404


def test_an_analyst_may_read_but_not_answer(workspace):
    analyst = add_member(workspace, Role.ANALYST)
    conv = conversation(workspace)
    c = _client(analyst, workspace)
    assert c.get("/inbox/").status_code == 200
    assert c.post(f"/inbox/c/{conv.public_id}/reply/", {"text": "x"}).status_code == 403


def test_the_inbox_page_needs_a_bounded_number_of_queries(workspace, agent):
    c = _client(agent, workspace)
    conversation(workspace)
    c.get("/inbox/?view=all")
    with CaptureQueriesContext(connection) as few:
        c.get("/inbox/?view=all")
    for _ in range(30):
        conversation(workspace)
    with CaptureQueriesContext(connection) as many:
        resp = c.get("/inbox/?view=all")
    assert resp.content.decode().count("data-conversation=") == 31
    assert len(many) == len(few)
    assert len(many) <= 25


def test_the_supervisor_sees_queues_loads_and_a_csv_report(workspace, agent):
    supervisor = add_member(workspace, Role.SUPERVISOR)
    conversation(workspace)
    c = _client(supervisor, workspace)
    page = c.get("/inbox/supervisor/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "1 / 5" in html  # the online agent took the conversation (default capacity 5)
    csv = c.get("/inbox/supervisor/report.csv")
    lines = csv.content.decode().strip().splitlines()
    assert lines[0] == "day,conversations,frt_avg_seconds,resolution_avg_seconds,sla_attainment"
    assert lines[1].split(",")[1] == "1"
    # an agent may not open it
    assert _client(agent, workspace).get("/inbox/supervisor/").status_code == 403


def test_my_open_tasks_are_shown_in_the_inbox(workspace, agent):
    from carekit.conversations import public

    conv = conversation(workspace)
    with transaction.atomic():
        task_id = public.task_create(
            actor=SYSTEM,
            workspace_id=workspace.pk,
            title="Call back about the refund",
            kind="callback",
            conversation_id=conv.public_id,
            assignee_id=agent.public_id,
            source="scenarios",
        )
    html = _client(agent, workspace).get("/inbox/").content.decode()
    assert f'data-task="{task_id}"' in html
    assert "Call back about the refund" in html


def test_a_macro_applies_from_the_conversation_page(workspace, agent):
    conv = conversation(workspace)
    with transaction.atomic():
        macro = replies.macro_create(
            actor=SYSTEM,
            workspace=workspace,
            name="Urgent",
            actions=[{"type": "priority", "value": "urgent"}],
        )
    c = _client(agent, workspace)
    assert "Urgent" in c.get(f"/inbox/c/{conv.public_id}/").content.decode()
    c.post(f"/inbox/c/{conv.public_id}/action/", {"action": "macro", "value": macro.public_id})
    conv.refresh_from_db()
    assert conv.priority == "urgent"
