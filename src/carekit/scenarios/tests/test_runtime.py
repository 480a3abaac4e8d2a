"""Live runs on the event stream: the defective-item template, quiet hours, crash-safe actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from carekit.core.ids import new_public_id
from carekit.customers import public as customers
from carekit.loyalty import public as loyalty
from carekit.scenarios import runtime, services, tasks
from carekit.scenarios.enums import MessageStatus, RunStatus
from carekit.scenarios.library import EXCHANGE_ACCEPTED
from carekit.scenarios.models import Run, ScenarioMessage
from carekit.scenarios.tests import factories
from carekit.scenarios.tests.factories import SYSTEM, emit_at
from carekit.testing.outbound import recording

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

T0 = datetime(2027, 3, 2, 7, 0, tzinfo=UTC)  # 10:00 in Moscow; after the wall clock, so no job fires early
RETURNED = "customers.order.returned"


def _return(cid: str, reason: str = "defect", order_id: str | None = None) -> dict:
    return {
        "order_id": order_id or new_public_id("ord"),
        "customer_id": cid,
        "return_id": new_public_id("ret"),
        "reason": reason,
        "items": [],
        "amount": "1200.00",
        "currency": "RUB",
    }


def _trace(run: Run) -> list[tuple[str, str, str, str]]:
    return [(s.kind, s.step, s.outcome, s.branch) for s in run.trace.order_by("seq")]


def test_defective_item_apology_offer_wait_and_bonus_exactly_once(
    workspace, django_capture_on_commit_callbacks
):
    cid = factories.customer(workspace)
    scenario = factories.published(workspace, factories.template("defective_item"))
    ret = _return(cid)
    with recording("email") as mail:
        emit_at(workspace, django_capture_on_commit_callbacks, RETURNED, ret, T0)
        run = Run.objects.get(scenario=scenario)
        assert run.status == RunStatus.WAITING
        assert run.wait_until == T0 + timedelta(hours=48)
        assert [m.subject for m in mail.sent] == ["We are sorry", "An exchange"]
        assert mail.sent[0].to == customers.contact_address(workspace.pk, cid, "email")
        assert "Anna Test" in mail.sent[0].body
        assert ret["order_id"] in mail.sent[0].body
        assert {m.idempotency_key for m in mail.sent} == {f"scn:{run.public_id}:1", f"scn:{run.public_id}:2"}
        # An acceptance for another order of the same customer does not resume the run.
        emit_at(
            workspace,
            django_capture_on_commit_callbacks,
            EXCHANGE_ACCEPTED,
            {"customer_id": cid, "order_id": new_public_id("ord")},
            T0 + timedelta(hours=2),
        )
        assert Run.objects.get(pk=run.pk).status == RunStatus.WAITING
        accepted = {"customer_id": cid, "order_id": ret["order_id"]}
        emit_at(
            workspace,
            django_capture_on_commit_callbacks,
            EXCHANGE_ACCEPTED,
            accepted,
            T0 + timedelta(hours=4),
        )
        emit_at(
            workspace,
            django_capture_on_commit_callbacks,
            EXCHANGE_ACCEPTED,
            accepted,
            T0 + timedelta(hours=5),
        )
        assert tasks.resume_due(now=T0 + timedelta(hours=49)) == 0
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    assert _trace(run) == [
        ("entry", "", "entered", ""),
        ("action", "apology", "done", "next"),
        ("action", "offer", "done", "next"),
        ("wait", "wait_exchange", "waiting", ""),
        ("resume", "wait_exchange", "event", "next"),
        ("action", "bonus", "done", "next"),
        ("action", "bonus_note", "done", "next"),
    ]
    entry, resume = run.trace.get(seq=0), run.trace.get(seq=4)
    assert entry.detail["compared"] == [
        {"var": "event.reason", "op": "eq", "expected": "defect", "actual": "defect", "result": True}
    ]
    assert resume.detail["compared"][0]["actual"] == ret["order_id"]
    assert resume.at == T0 + timedelta(hours=4)
    assert len(mail.sent) == 3
    assert loyalty.balances(workspace.pk, cid).pending + loyalty.balances(workspace.pk, cid).available == 500
    assert run.context["vars"] == {"bonus": "granted"}
    # The customer's timeline shows the run.
    timeline = customers.TimelineQuery(workspace.pk, cid)
    from carekit.scenarios import providers

    assert [i.ref for i in providers.timeline(timeline)] == [run.public_id]


def test_defective_item_without_acceptance_times_out_without_bonus(
    workspace, django_capture_on_commit_callbacks
):
    cid = factories.customer(workspace)
    scenario = factories.published(workspace, factories.template("defective_item"))
    with recording("email") as mail:
        emit_at(workspace, django_capture_on_commit_callbacks, RETURNED, _return(cid), T0)
        emit_at(workspace, django_capture_on_commit_callbacks, RETURNED, _return(cid, "wrong_size"), T0)
        assert tasks.resume_due(now=T0 + timedelta(hours=47, minutes=59)) == 0
        assert tasks.resume_due(now=T0 + timedelta(hours=48)) == 1
    run = Run.objects.get(scenario=scenario)
    assert run.status == RunStatus.COMPLETED
    assert _trace(run)[-1] == ("resume", "wait_exchange", "timeout", "timeout")
    assert len(mail.sent) == 2
    assert loyalty.balances(workspace.pk, cid).pending == 0


TIME_OF_DAY = {
    "schema": 1,
    "trigger": {
        "event": "customers.order.status_changed",
        "when": [{"var": "event.to", "op": "eq", "value": "paid"}],
    },
    "reentry": "always",
    "start": "clock",
    "steps": {
        "clock": {
            "type": "condition",
            "else": "night",
            "cases": [
                {
                    "name": "day",
                    "when": [{"var": "time.hour", "op": "between", "value": [9, 21]}],
                    "next": "day",
                }
            ],
        },
        "day": {
            "type": "action",
            "action": "message.send",
            "next": "end",
            "params": {"class": "marketing", "subject": "day", "template": "Good day offer"},
        },
        "night": {
            "type": "action",
            "action": "message.send",
            "next": "night_reply",
            "params": {"class": "marketing", "subject": "night", "template": "Late offer"},
        },
        "night_reply": {
            "type": "action",
            "action": "message.send",
            "next": "end",
            "params": {"class": "reply", "subject": "reply", "template": "We got your message"},
        },
    },
}


def _paid(cid: str) -> dict:
    return {"order_id": new_public_id("ord"), "customer_id": cid, "from": "placed", "to": "paid"}


def test_time_of_day_branch_and_quiet_hours_hold_marketing_never_a_reply(
    workspace, django_capture_on_commit_callbacks
):
    morning, evening = factories.customer(workspace), factories.customer(workspace)
    for cid in (morning, evening):
        with transaction.atomic():
            customers.cabinet_consent_set(
                workspace_id=workspace.pk,
                customer_id=cid,
                purpose="marketing",
                channel="email",
                granted=True,
                source="test",
            )
    factories.published(workspace, TIME_OF_DAY)
    at_10 = datetime(2027, 3, 2, 7, 0, tzinfo=UTC)  # 10:00 Moscow
    at_23 = datetime(2027, 3, 2, 20, 0, tzinfo=UTC)  # 23:00 Moscow
    with recording("email") as mail:
        emit_at(
            workspace,
            django_capture_on_commit_callbacks,
            "customers.order.status_changed",
            _paid(morning),
            at_10,
        )
        emit_at(
            workspace,
            django_capture_on_commit_callbacks,
            "customers.order.status_changed",
            _paid(evening),
            at_23,
        )
        assert [m.subject for m in mail.sent] == ["day", "reply"]
        held = ScenarioMessage.objects.get(customer_id=evening, subject="night")
        assert held.status == MessageStatus.PENDING
        assert held.due_at == datetime(2027, 3, 3, 6, 0, tzinfo=UTC)  # 09:00 Moscow, the next allowed minute
        assert tasks.send_due(now=datetime(2027, 3, 3, 5, 59, tzinfo=UTC)) == 0
        assert tasks.send_due(now=datetime(2027, 3, 3, 6, 0, tzinfo=UTC)) == 1
        assert [m.subject for m in mail.sent] == ["day", "reply", "night"]
    night_run = Run.objects.get(customer_id=evening)
    clock = night_run.trace.get(step="clock")
    assert clock.branch == "else"
    assert clock.detail["tried"][0]["compared"][0] == {
        "var": "time.hour",
        "op": "between",
        "expected": [9, 21],
        "actual": 23,
        "result": False,
    }
    assert night_run.trace.get(step="night").outcome == "held"
    assert night_run.trace.get(step="night_reply").outcome == "done"


def test_marketing_without_consent_is_blocked_and_caps_hold_by_class(
    workspace, django_capture_on_commit_callbacks
):
    cid = factories.customer(workspace)
    factories.published(workspace, TIME_OF_DAY)
    with recording("email") as mail:
        emit_at(
            workspace, django_capture_on_commit_callbacks, "customers.order.status_changed", _paid(cid), T0
        )
    assert mail.sent == []
    assert Run.objects.get(customer_id=cid).trace.get(step="day").outcome == "blocked"
    with transaction.atomic():
        customers.cabinet_consent_set(
            workspace_id=workspace.pk,
            customer_id=cid,
            purpose="marketing",
            channel="email",
            granted=True,
            source="test",
        )
    with recording("email") as mail:
        emit_at(
            workspace,
            django_capture_on_commit_callbacks,
            "customers.order.status_changed",
            _paid(cid),
            T0 + timedelta(hours=1),
        )
        emit_at(
            workspace,
            django_capture_on_commit_callbacks,
            "customers.order.status_changed",
            _paid(cid),
            T0 + timedelta(hours=2),
        )
    assert [m.subject for m in mail.sent] == ["day"]
    last = Run.objects.filter(customer_id=cid).order_by("-id").first()
    assert last is not None
    assert last.trace.get(step="day").outcome == "capped"


class Crash(BaseException):
    """Stands for the worker process dying: nothing after it runs and its transaction never commits."""


def test_action_retried_after_a_crash_mid_action_has_its_effect_once(
    workspace, django_capture_on_commit_callbacks, monkeypatch
):
    cid = factories.customer(workspace)
    scenario = factories.published(workspace, factories.template("defective_item"))
    ret = _return(cid)
    with recording("email"):
        emit_at(workspace, django_capture_on_commit_callbacks, RETURNED, ret, T0)
        # Time out the wait through the resume job, but make the 48 h wait lead to the bonus directly.
        run = Run.objects.get(scenario=scenario)
        accepted_at = T0 + timedelta(hours=3)
        real_persist = runtime.persist

        def dying_persist(*args, **kwargs):
            raise Crash("worker killed after the grant, before the step was recorded")

        monkeypatch.setattr(runtime, "persist", dying_persist)
        with pytest.raises(Crash):
            emit_at(
                workspace,
                django_capture_on_commit_callbacks,
                EXCHANGE_ACCEPTED,
                {"customer_id": cid, "order_id": ret["order_id"]},
                accepted_at,
            )
        monkeypatch.setattr(runtime, "persist", real_persist)
        assert loyalty.balances(workspace.pk, cid).pending == 0  # the grant rolled back with the crash
        # The delivery is retried (as the sweeper would after the lease expires).
        from carekit.core.events import delivery

        with django_capture_on_commit_callbacks(execute=True):
            delivery.sweep(now=datetime.now(UTC) + timedelta(hours=1))
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    assert [s.step for s in run.trace.filter(kind="action")] == ["apology", "offer", "bonus", "bonus_note"]
    assert loyalty.balances(workspace.pk, cid).pending + loyalty.balances(workspace.pk, cid).available == 500


def test_message_send_crash_after_provider_accepted_resends_with_the_same_key(
    workspace, django_capture_on_commit_callbacks, monkeypatch
):
    cid = factories.customer(workspace)
    factories.published(workspace, TIME_OF_DAY)
    from carekit.scenarios import sending

    real_mark = sending.transaction.atomic
    calls = {"n": 0}

    class DedupSender:
        channel = "email"

        def __init__(self):
            self.accepted: dict[str, object] = {}

        def send(self, message):
            self.accepted.setdefault(message.idempotency_key, message)
            calls["n"] += 1
            if calls["n"] == 1:
                raise Crash("killed after the provider accepted the message")
            from carekit.core.outbound import SendResult

            return SendResult(ok=True, provider_id="p-1")

    from carekit.core import outbound

    sender = DedupSender()
    previous = outbound._SENDERS.get("email")
    outbound.register_sender(sender, replace=True)
    try:
        with pytest.raises(Crash):
            emit_at(
                workspace,
                django_capture_on_commit_callbacks,
                "customers.order.status_changed",
                _paid(cid),
                datetime(2027, 3, 2, 20, 0, tzinfo=UTC),
            )  # the reply goes at once
        msg = ScenarioMessage.objects.get(subject="reply")
        assert msg.status == MessageStatus.SENDING
        assert tasks.send_due(now=msg.lease_until - timedelta(seconds=1)) == 0  # the lease still holds
        assert sending.send_one(msg.pk, now=msg.lease_until + timedelta(seconds=1)) == MessageStatus.SENT
    finally:
        if previous is not None:
            outbound.register_sender(previous, replace=True)
    assert real_mark is not None
    assert calls["n"] == 2
    assert list(sender.accepted) == [msg.idempotency_key]  # one message as the provider sees it


def test_kill_switch_stops_waiting_runs_and_new_entries(workspace, django_capture_on_commit_callbacks):
    cid = factories.customer(workspace)
    scenario = factories.published(workspace, factories.template("defective_item"))
    with recording("email"):
        emit_at(workspace, django_capture_on_commit_callbacks, RETURNED, _return(cid), T0)
        with transaction.atomic():
            assert services.scenario_kill(actor=SYSTEM, scenario=scenario, at=T0 + timedelta(hours=1)) == 1
        emit_at(
            workspace, django_capture_on_commit_callbacks, RETURNED, _return(cid), T0 + timedelta(hours=2)
        )
    assert list(Run.objects.filter(scenario=scenario).values_list("status", flat=True)) == [RunStatus.KILLED]
    assert tasks.resume_due(now=T0 + timedelta(hours=49)) == 0


def test_rate_limit_skips_entries_over_the_hourly_limit(workspace, django_capture_on_commit_callbacks):
    scenario = factories.published(workspace, factories.template("defective_item"), rate_limit_per_hour=2)
    with recording("email"):
        for i in range(3):
            emit_at(
                workspace,
                django_capture_on_commit_callbacks,
                RETURNED,
                _return(factories.customer(workspace)),
                T0 + timedelta(minutes=i),
            )
        emit_at(
            workspace,
            django_capture_on_commit_callbacks,
            RETURNED,
            _return(factories.customer(workspace)),
            T0 + timedelta(minutes=61),
        )
    scenario.refresh_from_db()
    assert Run.objects.filter(scenario=scenario).count() == 3
    assert scenario.rate_limited == 1


def test_runs_finish_on_the_version_they_started(workspace, django_capture_on_commit_callbacks):
    cid = factories.customer(workspace)
    scenario = factories.published(workspace, factories.template("defective_item"))
    ret = _return(cid)
    with recording("email") as mail:
        emit_at(workspace, django_capture_on_commit_callbacks, RETURNED, ret, T0)
        v2 = factories.template("defective_item")
        v2["steps"]["bonus"]["params"]["points"] = 50
        with transaction.atomic():
            draft = services.draft_save(actor=SYSTEM, scenario=scenario, definition=v2)
            services.version_publish(actor=SYSTEM, version=draft)
        emit_at(
            workspace,
            django_capture_on_commit_callbacks,
            EXCHANGE_ACCEPTED,
            {"customer_id": cid, "order_id": ret["order_id"]},
            T0 + timedelta(hours=1),
        )
    assert len(mail.sent) == 3
    assert loyalty.balances(workspace.pk, cid).pending + loyalty.balances(workspace.pk, cid).available == 500


def test_the_apology_goes_through_the_preferred_channel(workspace, django_capture_on_commit_callbacks):
    from carekit.customers import services as customer_services
    from carekit.customers.models import Customer

    cid = factories.customer(workspace, channel="telegram")
    with transaction.atomic():
        customer_services.identity_link(
            actor=SYSTEM,
            customer=Customer.objects.get(public_id=cid),
            kind="telegram",
            value="100200300",
            verified=True,
        )
    factories.published(workspace, factories.template("defective_item"))
    with recording("telegram") as tg, recording("email") as mail:
        emit_at(workspace, django_capture_on_commit_callbacks, RETURNED, _return(cid), T0)
    assert [(m.channel, m.to, m.subject) for m in tg.sent] == [
        ("telegram", "100200300", "We are sorry"),
        ("telegram", "100200300", "An exchange"),
    ]
    assert mail.sent == []
