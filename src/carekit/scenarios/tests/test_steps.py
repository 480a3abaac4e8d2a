"""Other step kinds on live runs: goals end a run early, time windows, random splits, the inbox port."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from carekit.core.ids import new_public_id
from carekit.core.models import Event
from carekit.loyalty.services import coupons
from carekit.scenarios import ports, public, tasks
from carekit.scenarios.enums import RunStatus
from carekit.scenarios.models import Run, ScenarioTask
from carekit.scenarios.tests import factories
from carekit.scenarios.tests.factories import emit_at
from carekit.testing.outbound import recording

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

STATUS = "customers.order.status_changed"
FRI_20 = datetime(2027, 3, 5, 17, 0, tzinfo=UTC)  # Friday 20:00 in Moscow


def _order(cid: str, to: str) -> dict:
    return {"order_id": new_public_id("ord"), "customer_id": cid, "to": to}


def test_a_goal_event_ends_a_waiting_run_early(workspace, django_capture_on_commit_callbacks):
    cid = factories.customer(workspace)
    scenario = factories.published(workspace, factories.template("win_back"))
    emit_at(workspace, django_capture_on_commit_callbacks, STATUS, _order(cid, "delivered"), FRI_20)
    run = Run.objects.get(scenario=scenario)
    assert (run.status, run.step) == (RunStatus.WAITING, "silence")
    emit_at(
        workspace, django_capture_on_commit_callbacks, STATUS, _order(cid, "paid"), FRI_20 + timedelta(days=3)
    )
    run.refresh_from_db()
    assert run.status == RunStatus.GOAL
    goal = run.trace.order_by("seq").last()
    assert (goal.kind, goal.outcome) == ("goal", "ordered again")
    assert tasks.resume_due(now=FRI_20 + timedelta(days=61)) == 0


def test_a_time_window_waits_for_the_next_weekday_opening(workspace, django_capture_on_commit_callbacks):
    cid = factories.customer(workspace)
    with transaction.atomic():
        coupons.campaign_create(
            actor=factories.SYSTEM,
            workspace_id=workspace.pk,
            name="winback",
            kind="percent",
            value=Decimal("10"),
        )
    scenario = factories.published(workspace, factories.template("win_back"))
    emit_at(workspace, django_capture_on_commit_callbacks, STATUS, _order(cid, "delivered"), FRI_20)
    silence_ends = FRI_20 + timedelta(days=60)  # Tuesday 4 May 20:00 Moscow: after the 10-19 window
    with recording("email"):
        assert tasks.resume_due(now=silence_ends) == 1
        run = Run.objects.get(scenario=scenario)
        assert run.step == "daytime"
        assert run.wait_until == datetime(2027, 5, 5, 7, 0, tzinfo=UTC)  # Wednesday 10:00 Moscow
        assert tasks.resume_due(now=run.wait_until) == 1
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    assert [t.step for t in run.trace.filter(kind="action")] == ["coupon", "invite"]


def test_random_split_is_deterministic_per_customer_and_trigger(
    workspace, django_capture_on_commit_callbacks
):
    split = {
        "schema": 1,
        "trigger": {"event": STATUS},
        "reentry": "always",
        "start": "ab",
        "steps": {
            "ab": {
                "type": "split",
                "arms": [
                    {"name": "a", "weight": 1, "next": "end"},
                    {"name": "b", "weight": 1, "next": "end"},
                ],
            },
        },
    }
    scenario = factories.published(workspace, split)
    cids = [f"cus_split{i}" for i in range(40)]
    for cid in cids:
        emit_at(workspace, django_capture_on_commit_callbacks, STATUS, _order(cid, "paid"), FRI_20)
    branches = {r.customer_id: r.trace.get(step="ab").branch for r in Run.objects.filter(scenario=scenario)}
    assert set(branches.values()) == {"a", "b"}
    from carekit.scenarios.engine import bucket

    assert all(
        branches[c] == ("a" if bucket(c, FRI_20.isoformat(), scenario.public_id, "ab", modulo=2) < 1 else "b")
        for c in cids
    )


def test_inbox_actions_use_the_port_and_the_local_stand_in_keeps_tasks(
    workspace, django_capture_on_commit_callbacks
):
    defn = {
        "schema": 1,
        "trigger": {"event": STATUS},
        "reentry": "always",
        "start": "assign",
        "steps": {
            "assign": {
                "type": "action",
                "action": "conversation.assign",
                "params": {"team": "x"},
                "next": "task",
            },
            "task": {
                "type": "action",
                "action": "task.create",
                "next": "hook",
                "params": {"title": "Call back", "team": "support", "due_in": "8h"},
            },
            "hook": {"type": "action", "action": "webhook", "params": {"topic": "vip"}, "next": "end"},
        },
    }
    scenario = factories.published(workspace, defn)
    cid = factories.customer(workspace)
    installed = ports.inbox()  # the inbox registers its port at start-up; first try the stand-in
    public.register_inbox_port(ports.LocalInbox())
    try:
        emit_at(workspace, django_capture_on_commit_callbacks, STATUS, _order(cid, "paid"), FRI_20)
    finally:
        public.register_inbox_port(installed)
    run = Run.objects.get(scenario=scenario)
    assert run.trace.get(step="assign").outcome == "skipped"
    task = ScenarioTask.objects.get(run=run)
    assert (task.title, task.team, task.due_at) == ("Call back", "support", FRI_20 + timedelta(hours=8))
    fired = Event.objects.get(type="scenarios.webhook.fired")
    assert fired.payload["topic"] == "vip"
    assert fired.payload["run_id"] == run.public_id

    class FakeInbox:
        def __init__(self):
            self.requests = []

        def perform(self, request):
            self.requests.append(request)
            return ports.InboxResult("done", ref="cnv_1")

        def conversation_facts(self, workspace_id, customer_id, at=None):
            return {"channel": "telegram", "sentiment": -0.8}

    fake = FakeInbox()
    public.register_inbox_port(fake)
    try:
        emit_at(
            workspace,
            django_capture_on_commit_callbacks,
            STATUS,
            _order(cid, "paid"),
            FRI_20 + timedelta(hours=1),
        )
    finally:
        public.register_inbox_port(installed)
    assert [r.action for r in fake.requests] == ["conversation.assign", "task.create"]
    assert fake.requests[0].idempotency_key.startswith("scn:run_")


def test_a_refused_action_fails_the_run_with_a_trace_and_no_partial_writes(
    workspace, django_capture_on_commit_callbacks
):
    cid = factories.customer(workspace)
    scenario = factories.published(workspace, factories.template("win_back"))  # no "winback" coupon exists
    emit_at(workspace, django_capture_on_commit_callbacks, STATUS, _order(cid, "delivered"), FRI_20)
    assert tasks.resume_due(now=FRI_20 + timedelta(days=60)) == 1
    waiting = Run.objects.get(scenario=scenario)
    assert tasks.resume_due(now=waiting.wait_until) == 1  # the weekday window opens
    run = Run.objects.get(scenario=scenario)
    assert run.status == RunStatus.FAILED
    failed = run.trace.order_by("seq").last()
    assert (failed.step, failed.outcome, failed.detail["error"]) == (
        "coupon",
        "error",
        "No such coupon template.",
    )
