"""The inbox port of scenarios: a run creates, assigns, tags, prioritizes and annotates conversations and
puts a guided script in the agent's sidebar, whose authority limits hold; sentiment conditions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from carekit.accounts import public as accounts
from carekit.accounts import services as account_services
from carekit.accounts.enums import Role
from carekit.conversations import scripts
from carekit.conversations.automation import InboxForScenarios
from carekit.conversations.enums import ConversationStatus, Priority
from carekit.conversations.models import AutomationEffect, Conversation, Note, Script, ScriptTick, Task
from carekit.conversations.tests.factories import inbound
from carekit.core.errors import Conflict
from carekit.core.ids import new_public_id
from carekit.loyalty import public as loyalty
from carekit.loyalty.services import programs
from carekit.scenarios import dryrun, ports
from carekit.scenarios.models import Run
from carekit.scenarios.tests import factories
from carekit.scenarios.tests.factories import emit_at
from carekit.testing.tenants import SYSTEM, add_member, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

STATUS = "customers.order.status_changed"
AT = datetime(2027, 3, 3, 9, 0, tzinfo=UTC)  # Wednesday 12:00 in Moscow
LIMITS = {"agent": 300, "supervisor": 1000}


def _team(ws, name, members):
    with transaction.atomic():
        team = account_services.team_create(actor=SYSTEM, workspace=ws, name=name)
        for m in members:
            account_services.team_add_member(actor=SYSTEM, team=team, membership=m)
    return team


def _playbook() -> dict:
    return {
        "schema": 1,
        "trigger": {"event": STATUS, "when": [{"var": "event.to", "op": "eq", "value": "lost"}]},
        "start": "open",
        "steps": {
            "open": {
                "type": "action",
                "action": "conversation.create",
                "params": {"subject": "Your parcel was lost", "channel": "email"},
                "next": "assign",
            },
            "assign": {
                "type": "action",
                "action": "conversation.assign",
                "params": {"team": "Claims", "agent": "lead.agent@example.test"},
                "next": "tag",
            },
            "tag": {
                "type": "action",
                "action": "conversation.tag",
                "params": {"tag": "lost"},
                "next": "urgent",
            },
            "urgent": {
                "type": "action",
                "action": "conversation.prioritize",
                "params": {"priority": "urgent"},
                "next": "note",
            },
            "note": {
                "type": "action",
                "action": "note.add",
                "params": {"text": "The carrier confirmed the loss."},
                "next": "script",
            },
            "script": {
                "type": "action",
                "action": "script.suggest",
                "params": {
                    "title": "Lost parcel",
                    "steps": [
                        "Apologise and confirm the address",
                        {"text": "Grant 200 points", "points": 200},
                        {"text": "Grant 800 points", "points": 800},
                    ],
                    "max_compensation_by_role": LIMITS,
                },
                "next": "task",
            },
            "task": {
                "type": "action",
                "action": "task.create",
                "params": {"title": "Call the carrier", "due_in": "4h"},
                "next": "end",
            },
        },
    }


def test_a_scenario_run_creates_assigns_tags_notes_and_suggests_a_script(
    workspace, django_capture_on_commit_callbacks
):
    agent = add_member(workspace, user=make_user(email="lead.agent@example.test"))
    claims = _team(workspace, "Claims", [agent])
    factories.published(workspace, _playbook())
    cid = factories.customer(workspace)
    order = {"order_id": new_public_id("ord"), "customer_id": cid, "to": "lost"}

    emit_at(workspace, django_capture_on_commit_callbacks, STATUS, order, AT)

    run = Run.objects.get(customer_id=cid)
    assert [(s.step, s.outcome) for s in run.trace.filter(kind="action").order_by("seq")] == [
        ("open", "done"),
        ("assign", "done"),
        ("tag", "done"),
        ("urgent", "done"),
        ("note", "done"),
        ("script", "done"),
        ("task", "done"),
    ]
    conv = Conversation.objects.get(workspace=workspace, customer_id=cid)
    assert (conv.subject, conv.channel, conv.status) == (
        "Your parcel was lost",
        "email",
        ConversationStatus.OPEN,
    )
    assert (conv.team_id, conv.assignee_id) == (claims.public_id, agent.public_id)
    assert (conv.tags, conv.priority) == (["lost"], Priority.URGENT)
    assert list(Note.objects.filter(conversation=conv).values_list("text", flat=True)) == [
        "The carrier confirmed the loss."
    ]
    script = Script.objects.get(conversation=conv)
    assert script.steps == [
        {"text": "Apologise and confirm the address", "points": 0},
        {"text": "Grant 200 points", "points": 200},
        {"text": "Grant 800 points", "points": 800},
    ]
    task = Task.objects.get(workspace=workspace)
    assert (task.title, task.conversation_id, task.due_at) == (
        "Call the carrier",
        conv.pk,
        AT + timedelta(hours=4),
    )
    assert AutomationEffect.objects.filter(workspace=workspace).count() == 7

    # A retried step (same idempotency key) acts once.
    step = run.trace.get(step="tag")
    again = InboxForScenarios().perform(
        ports.InboxRequest(
            workspace.pk,
            run.public_id,
            cid,
            f"scn:{run.public_id}:{step.seq}",
            "conversation.tag",
            {"tag": "second"},
            AT,
        )
    )
    assert (again.outcome, again.ref) == ("duplicate", conv.public_id)
    conv.refresh_from_db()
    assert conv.tags == ["lost"]


def test_actions_on_a_customer_without_a_conversation_are_skipped(
    workspace, django_capture_on_commit_callbacks
):
    defn = _playbook()
    defn["start"] = "tag"
    del defn["steps"]["open"], defn["steps"]["assign"]
    factories.published(workspace, defn)
    cid = factories.customer(workspace)
    emit_at(
        workspace,
        django_capture_on_commit_callbacks,
        STATUS,
        {"order_id": "o1", "customer_id": cid, "to": "lost"},
        AT,
    )
    run = Run.objects.get(customer_id=cid)
    tag = run.trace.get(step="tag")
    assert (tag.outcome, tag.detail["reason"]) == ("skipped", "no open conversation")
    assert Conversation.objects.filter(workspace=workspace).count() == 0


def _script(ws, conv) -> Script:
    with transaction.atomic():
        return scripts.script_create(
            actor=SYSTEM,
            conversation=conv,
            steps=[
                "Apologise",
                {"text": "Grant 200 points", "points": 200},
                {"text": "Grant 800 points", "points": 800},
            ],
            limits=LIMITS,
        )


def _ref(ws, member) -> accounts.AgentRef:
    return next(a for a in accounts.agents(ws.pk) if a.member_id == member.public_id)


def test_authority_limits_an_agent_grants_within_300_and_a_lead_above(workspace):
    agent = _ref(workspace, add_member(workspace, role=Role.AGENT))
    lead = _ref(workspace, add_member(workspace, role=Role.SUPERVISOR))
    conv = inbound(workspace).conversation
    script = _script(workspace, conv)
    with transaction.atomic():
        program = programs.program_ensure(actor=SYSTEM, workspace_id=workspace.pk)
        programs.program_update(actor=SYSTEM, program=program, changes={"comp_cap_count": 5})

    # What the sidebar shows the agent: the 800-point step needs a lead; the lead sees no such mark.
    seen = scripts.scripts_for(conv, agent.role)[0]
    assert (seen.limit, [s.needs_lead for s in seen.steps]) == (300, [False, False, True])
    assert [s.needs_lead for s in scripts.scripts_for(conv, lead.role)[0].steps] == [False, False, False]

    with transaction.atomic():
        scripts.script_tick(actor=SYSTEM, script=script, index=0, member=agent)
        scripts.script_tick(actor=SYSTEM, script=script, index=1, member=agent)
    with pytest.raises(scripts.NeedsLead) as refused, transaction.atomic():
        scripts.script_tick(actor=SYSTEM, script=script, index=2, member=agent)
    assert refused.value.code == "needs_lead"
    assert ScriptTick.objects.filter(script=script).count() == 2
    balance = loyalty.balances(workspace.pk, conv.customer_id)
    assert balance.pending + balance.available == 200

    with transaction.atomic():
        tick = scripts.script_tick(actor=SYSTEM, script=script, index=2, member=lead)
    assert (tick.outcome, tick.member_id) == ("granted", lead.member_id)
    balance = loyalty.balances(workspace.pk, conv.customer_id)
    assert balance.pending + balance.available == 1000
    with pytest.raises(Conflict), transaction.atomic():
        scripts.script_tick(actor=SYSTEM, script=script, index=1, member=lead)
    assert [s.done for s in scripts.scripts_for(conv, agent.role)[0].steps] == [True, True, True]


def test_role_limits_fall_back_to_the_roles_below():
    assert scripts.limit_for("agent", {"agent": 300}) == 300
    assert scripts.limit_for("supervisor", {"agent": 300}) == 300
    assert scripts.limit_for("supervisor", {"agent": 300, "supervisor": 1000}) == 1000
    assert scripts.limit_for("admin", {"agent": 300}) is None
    assert scripts.limit_for("marketer", {"agent": 300}) == 0


# --- sentiment ----------------------------------------------------------------------------------------

ANGRY = "This is terrible, the item arrived broken and nobody answers. I am very angry!"
HAPPY = "Thank you so much, everything arrived quickly, great service!"


def _mood_scenario() -> dict:
    return {
        "schema": 1,
        "trigger": {"event": "conversations.message.received"},
        "reentry": "always",
        "start": "mood",
        "steps": {
            "mood": {
                "type": "condition",
                "cases": [
                    {
                        "name": "negative",
                        "when": [{"var": "conversation.sentiment", "op": "lt", "value": -0.3}],
                        "next": "upset",
                    }
                ],
                "else": "calm",
            },
            "upset": {
                "type": "action",
                "action": "conversation.tag",
                "params": {"tag": "upset"},
                "next": "end",
            },
            "calm": {
                "type": "action",
                "action": "conversation.tag",
                "params": {"tag": "calm"},
                "next": "end",
            },
        },
    }


def test_a_condition_on_sentiment_takes_each_branch_live_and_in_a_dry_run(
    workspace, django_capture_on_commit_callbacks
):
    scenario = factories.published(workspace, _mood_scenario())
    with django_capture_on_commit_callbacks(execute=True):
        angry = inbound(workspace, thread="a", customer="angry", text=ANGRY, at=AT).conversation
    with django_capture_on_commit_callbacks(execute=True):
        happy = inbound(
            workspace, thread="h", customer="happy", text=HAPPY, at=AT + timedelta(minutes=1)
        ).conversation
    angry.refresh_from_db()
    happy.refresh_from_db()
    assert (angry.tags, happy.tags) == (["upset"], ["calm"])
    runs = {r.customer_id: r for r in Run.objects.filter(scenario=scenario)}
    upset = runs[angry.customer_id].trace.get(step="mood")
    assert upset.branch == "negative"
    assert upset.detail["tried"][0]["compared"][0]["actual"] < -0.3
    assert runs[happy.customer_id].trace.get(step="mood").branch == "else"

    # The angry customer then writes kindly: the dry-run over the same history still sees the first
    # message as negative (sentiment as of each event's time), like the live run did.
    with django_capture_on_commit_callbacks(execute=True):
        inbound(workspace, thread="a", customer="angry", text=HAPPY, at=AT + timedelta(minutes=5))
    report = dryrun.dry_run(
        workspace_id=workspace.pk,
        definition=_mood_scenario(),
        days=1,
        now=AT + timedelta(hours=1),
    )
    assert report.entries == 3
    assert report.branches["mood"] == {"negative": 1, "else": 2}


def test_the_sidebar_shows_the_script_and_ticks_within_the_viewer_authority(workspace):
    from django.test import Client

    from carekit.conversations.models import Activity

    agent, lead = add_member(workspace, role=Role.AGENT), add_member(workspace, role=Role.SUPERVISOR)
    conv = inbound(workspace).conversation
    script = _script(workspace, conv)
    clients = {}
    for m in (agent, lead):
        c = Client()
        c.force_login(m.user)
        s = c.session
        s["carekit_workspace"] = workspace.public_id
        s.save()
        clients[m.public_id] = c
    page = clients[agent.public_id].get(f"/inbox/c/{conv.public_id}/").content.decode()
    assert "Grant 800 points" in page
    assert page.count("Needs a team lead") == 1
    assert "You may grant up to 300 points." in page

    tick = f"/inbox/c/{conv.public_id}/script/{script.public_id}/2/"
    refused = clients[agent.public_id].post(tick, HTTP_HX_REQUEST="true")
    assert refused.status_code == 200
    assert "your role may grant up to 300" in refused.content.decode()
    assert ScriptTick.objects.filter(script=script).count() == 0
    assert Activity.objects.filter(conversation=conv, kind="script").count() == 1  # the suggestion only

    done = clients[lead.public_id].post(tick)
    assert done.status_code == 302
    assert list(ScriptTick.objects.filter(script=script).values_list("index", "member_id")) == [
        (2, lead.public_id)
    ]
