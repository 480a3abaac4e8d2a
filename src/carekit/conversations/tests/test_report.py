"""The team lead's report per team and per agent over time, computed from the event log: each figure goes
to whoever held the conversation when it happened; the page, its chart and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.test import Client

from carekit.accounts import services as account_services
from carekit.accounts.enums import Role
from carekit.conversations import lifecycle, reports, routing, services
from carekit.conversations.tests.factories import inbound
from carekit.testing.tenants import SYSTEM, add_member

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

MON = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


def _team(ws, name, members):
    with transaction.atomic():
        team = account_services.team_create(actor=SYSTEM, workspace=ws, name=name)
        for m in members:
            account_services.team_add_member(actor=SYSTEM, team=team, membership=m)
    return team


def _seed(ws):
    anna, boris = add_member(ws), add_member(ws)
    support, claims = _team(ws, "Support", [anna]), _team(ws, "Claims", [boris])
    with transaction.atomic():
        routing.rule_create(
            actor=SYSTEM, workspace=ws, name="lost", keywords=["lost"], team_id=claims.public_id, position=0
        )
        routing.rule_create(actor=SYSTEM, workspace=ws, name="rest", team_id=support.public_id, position=1)
    m = timedelta(minutes=1)

    def step(fn, **kw):
        with transaction.atomic():
            fn(actor=SYSTEM, **kw)

    a = inbound(ws, thread="a", text="Where is my order?", at=MON).conversation
    b = inbound(ws, thread="b", text="My parcel is lost", at=MON).conversation
    step(lifecycle.conversation_assign, conversation=a, assignee_id=anna.public_id, at=MON + m)
    step(services.message_send, conversation=a, text="Here it is", author_id=anna.public_id, at=MON + 5 * m)
    step(lifecycle.conversation_resolve, conversation=a, at=MON + 120 * m)
    step(lifecycle.conversation_assign, conversation=b, assignee_id=boris.public_id, at=MON)
    step(services.message_send, conversation=b, text="Looking", author_id=boris.public_id, at=MON + 20 * m)
    step(lifecycle.conversation_transfer, conversation=b, team_id=support.public_id, at=MON + 60 * m)
    step(lifecycle.conversation_assign, conversation=b, assignee_id=anna.public_id, at=MON + 60 * m)
    step(lifecycle.conversation_resolve, conversation=b, at=MON + timedelta(days=1))
    tue = MON + timedelta(days=1) - 60 * m
    c = inbound(ws, thread="c", text="Question", at=tue).conversation
    step(lifecycle.conversation_assign, conversation=c, assignee_id=anna.public_id, at=tue)
    step(services.message_send, conversation=c, text="Answer", author_id=anna.public_id, at=tue + 10 * m)
    # a system notice is not a response
    step(services.message_send, conversation=c, text="Notice", author_kind="system", at=tue + 11 * m)
    return anna, boris, support, claims


def _row(day, group, handled, n_frt, frt, res):
    return {
        "day": day,
        "group": group,
        "handled": handled,
        "first_responses": n_frt,
        "frt_avg_seconds": frt,
        "resolution_avg_seconds": res,
    }


def test_the_report_credits_whoever_held_the_conversation(workspace):
    anna, boris, support, claims = _seed(workspace)
    since, until = MON - timedelta(days=1), MON + timedelta(days=2)

    by_team = reports.report(workspace.pk, since, until, by="team")
    assert sorted(by_team, key=lambda r: (r["day"], r["group"])) == sorted(
        [
            _row("2026-11-16", claims.public_id, 0, 1, 1200.0, None),
            _row("2026-11-16", support.public_id, 1, 1, 300.0, 7200.0),
            _row("2026-11-17", support.public_id, 1, 1, 600.0, 86400.0),
        ],
        key=lambda r: (r["day"], r["group"]),
    )
    by_agent = reports.report(workspace.pk, since, until, by="agent")
    assert sorted(by_agent, key=lambda r: (r["day"], r["group"])) == sorted(
        [
            _row("2026-11-16", anna.public_id, 1, 1, 300.0, 7200.0),
            _row("2026-11-16", boris.public_id, 0, 1, 1200.0, None),
            _row("2026-11-17", anna.public_id, 1, 1, 600.0, 86400.0),
        ],
        key=lambda r: (r["day"], r["group"]),
    )
    # Only Tuesday: Monday's conversations still count with their creation time (read from before).
    tuesday = reports.report(workspace.pk, MON + timedelta(hours=14), until, by="team")
    assert tuesday == [_row("2026-11-17", support.public_id, 1, 1, 600.0, 86400.0)]


def test_the_page_and_the_csv_for_team_leads(workspace, monkeypatch):
    anna, boris, _support, _claims = _seed(workspace)
    lead = add_member(workspace, Role.SUPERVISOR)
    agent_client, client = Client(), Client()
    for c, m in ((client, lead), (agent_client, anna)):
        c.force_login(m.user)
        s = c.session
        s["carekit_workspace"] = workspace.public_id
        s.save()
    monkeypatch.setattr("django.utils.timezone.now", lambda: MON + timedelta(days=2))

    page = client.get("/inbox/report/?by=team&days=7")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<rect ") == 2  # Support handled one on Monday and one on Tuesday; Claims none
    assert "Claims" in html
    assert "Support" in html

    export = client.get("/inbox/report.csv?by=agent&days=7")
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert [(r["day"], r["agent_id"], r["handled"], r["frt_avg_seconds"]) for r in rows] == sorted(
        [
            ("2026-11-16", anna.public_id, "1", "300.0"),
            ("2026-11-16", boris.public_id, "0", "1200.0"),
            ("2026-11-17", anna.public_id, "1", "600.0"),
        ]
    )
    assert agent_client.get("/inbox/report/").status_code == 403  # agents have no inbox:admin
