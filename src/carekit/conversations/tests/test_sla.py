"""SLA with a frozen clock: business hours, pauses, warnings, breaches and exactly-once compensation.

Every time is passed explicitly (`at=`), so nothing depends on the wall clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from carekit.conversations import lifecycle, services
from carekit.conversations.business_hours import Calendar, add_business_seconds, business_seconds_between
from carekit.conversations.enums import AuthorKind, ClockState, Direction
from carekit.conversations.models import BusinessCalendar, Message, SlaClock, SlaPolicy
from carekit.conversations.tasks import sla_run_due
from carekit.conversations.tests.factories import inbound
from carekit.core.models import Event
from carekit.loyalty import public as loyalty
from carekit.testing.tenants import SYSTEM

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

MSK = ZoneInfo("Europe/Moscow")
FRIDAY_1858 = datetime(2026, 11, 20, 18, 58, tzinfo=MSK)
MONDAY_0903 = datetime(2026, 11, 23, 9, 3, tzinfo=MSK)
WEEKDAYS = {str(d): [["09:00", "19:00"]] for d in range(5)}


def _policy(ws, *, holidays=(), **kw) -> SlaPolicy:
    cal = BusinessCalendar.objects.create(
        workspace=ws, name="Office", time_zone="Europe/Moscow", hours=WEEKDAYS, holidays=list(holidays)
    )
    defaults = {"first_response_minutes": 5, "compensate_points": 100, "calendar": cal}
    defaults.update(kw)
    return SlaPolicy.objects.create(workspace=ws, name="Chat promise", **defaults)


def _clock(conv, target="first_response") -> SlaClock:
    return SlaClock.objects.get(conversation=conv, target=target)


def _sla_events(ws):
    return list(
        Event.objects.filter(workspace=ws, type__startswith="conversations.sla.")
        .order_by("pk")
        .values_list("type", flat=True)
    )


def test_friday_1858_with_five_business_minutes_breaches_monday_0903_once(workspace):
    _policy(workspace)
    r = inbound(workspace, at=FRIDAY_1858)
    conv = r.conversation
    assert _clock(conv).due_at == MONDAY_0903

    # not before: the whole weekend and the first two minutes of Monday pass without a breach
    assert sla_run_due(at=datetime(2026, 11, 21, 12, 0, tzinfo=MSK)) == (0, 0)
    assert sla_run_due(at=MONDAY_0903 - timedelta(seconds=1)) == (1, 0)  # warned at 80 %
    assert _clock(conv).state == ClockState.RUNNING

    assert sla_run_due(at=MONDAY_0903) == (0, 1)
    assert sla_run_due(at=MONDAY_0903 + timedelta(minutes=1)) == (0, 0)  # the job ran twice: no-op

    clock = _clock(conv)
    assert (clock.state, clock.stopped_at, clock.compensation) == (
        ClockState.BREACHED,
        MONDAY_0903,
        "granted",
    )
    # a second grant with the same key, from any issuer, is a duplicate
    again = loyalty.compensation_grant(
        workspace_id=workspace.pk,
        customer_id=conv.customer_id,
        reason="manual",
        idempotency_key=f"sla:{conv.public_id}:first_response",
        issuer="agent",
        actor=SYSTEM,
        points=100,
    )
    assert (again.status, again.compensation_id) == ("duplicate", clock.compensation_id)
    assert (
        loyalty.balances(workspace.pk, conv.customer_id).pending
        + loyalty.balances(workspace.pk, conv.customer_id).available
        == 100
    )

    notices = Message.objects.filter(
        conversation=conv, direction=Direction.OUTBOUND, author_kind=AuthorKind.SYSTEM
    )
    assert [m.text for m in notices] == [
        "We are sorry: we did not answer as fast as we promised. We have added 100 points to your account."
    ]
    assert _sla_events(workspace) == [
        "conversations.sla.started",
        "conversations.sla.warned",
        "conversations.sla.breached",
        "conversations.sla.compensated",
    ]


def test_a_second_breach_inside_the_cap_period_is_refused_and_recorded(workspace):
    _policy(workspace)
    first = inbound(workspace, thread="a", customer="same", at=FRIDAY_1858).conversation
    second = inbound(
        workspace, thread="b", customer="same", at=FRIDAY_1858 + timedelta(seconds=30)
    ).conversation
    assert sla_run_due(at=MONDAY_0903 + timedelta(minutes=1))[1] == 2
    assert (_clock(first).compensation, _clock(second).compensation) == ("granted", "refused")
    assert _clock(second).compensation_refusal == "cap"
    refused = Event.objects.get(type="conversations.sla.compensation_refused")
    assert refused.payload["refusal"] == "cap"
    assert refused.payload["conversation_id"] == second.public_id
    assert not Message.objects.filter(conversation=second, author_kind=AuthorKind.SYSTEM).exists()


def test_an_answer_in_time_meets_the_target(workspace):
    _policy(workspace)
    conv = inbound(workspace, at=FRIDAY_1858).conversation
    with transaction.atomic():
        services.message_send(
            actor=SYSTEM, conversation=conv, text="Hi!", at=MONDAY_0903 - timedelta(minutes=1)
        )
    clock = _clock(conv)
    assert (clock.state, clock.consumed_seconds) == (ClockState.MET, 240)
    assert sla_run_due(at=MONDAY_0903 + timedelta(hours=1)) == (0, 0)


def test_holidays_are_not_business_time(workspace):
    _policy(workspace, holidays=["2026-11-23"])
    conv = inbound(workspace, at=FRIDAY_1858).conversation
    assert _clock(conv).due_at == MONDAY_0903 + timedelta(days=1)


def test_waiting_on_the_customer_pauses_the_resolution_clock(workspace):
    _policy(workspace, first_response_minutes=None, resolution_minutes=60)
    monday_10 = datetime(2026, 11, 23, 10, 0, tzinfo=MSK)
    conv = inbound(workspace, at=monday_10).conversation
    with transaction.atomic():
        lifecycle.conversation_wait_on_customer(
            actor=SYSTEM, conversation=conv, at=monday_10 + timedelta(minutes=20)
        )
    clock = _clock(conv, "resolution")
    assert (clock.state, clock.consumed_seconds, clock.due_at) == (ClockState.PAUSED, 1200, None)
    assert sla_run_due(at=monday_10 + timedelta(days=1)) == (0, 0)
    # the customer answers the next day at 12:00: 40 minutes remain
    inbound(workspace, at=monday_10 + timedelta(days=1, hours=2))
    clock = _clock(conv, "resolution")
    assert clock.state == ClockState.RUNNING
    assert clock.due_at == monday_10 + timedelta(days=1, hours=2, minutes=40)
    assert _sla_events(workspace) == [
        "conversations.sla.started",
        "conversations.sla.paused",
        "conversations.sla.resumed",
    ]


def test_breach_actions_raise_priority(workspace):
    _policy(workspace, compensate_points=0, raise_priority=True)
    conv = inbound(workspace, at=FRIDAY_1858).conversation
    sla_run_due(at=MONDAY_0903)
    conv.refresh_from_db()
    assert conv.priority == "high"
    assert not Event.objects.filter(type="conversations.sla.compensated").exists()


def test_business_time_arithmetic():
    cal = Calendar.of("Europe/Moscow", WEEKDAYS, [])
    assert add_business_seconds(cal, FRIDAY_1858, 300) == MONDAY_0903
    assert business_seconds_between(cal, FRIDAY_1858, MONDAY_0903) == 300
    saturday = datetime(2026, 11, 21, 15, 0, tzinfo=MSK)
    assert add_business_seconds(cal, saturday, 60) == datetime(2026, 11, 23, 9, 1, tzinfo=MSK)
    assert add_business_seconds(Calendar.always(), saturday, 60) == saturday + timedelta(minutes=1)


def test_a_transfer_to_a_specialist_team_restarts_the_clocks_under_its_own_policy(workspace):
    from carekit.accounts import services as account_services

    with transaction.atomic():
        team = account_services.team_create(actor=SYSTEM, workspace=workspace, name="Engineers")
    SlaPolicy.objects.create(
        workspace=workspace, name="Engineers", position=1, team_id=team.public_id, first_response_minutes=60
    )
    SlaPolicy.objects.create(workspace=workspace, name="Default", position=2, first_response_minutes=5)
    monday_10 = datetime(2026, 11, 23, 10, 0, tzinfo=MSK)
    conv = inbound(workspace, at=monday_10).conversation
    assert _clock(conv).target_seconds == 300
    with transaction.atomic():
        lifecycle.conversation_transfer(
            actor=SYSTEM, conversation=conv, team_id=team.public_id, at=monday_10 + timedelta(minutes=2)
        )
    clocks = list(SlaClock.objects.filter(conversation=conv, target="first_response").order_by("pk"))
    assert [(c.state, c.target_seconds) for c in clocks] == [("cancelled", 300), ("running", 3600)]
    assert clocks[1].due_at == monday_10 + timedelta(minutes=62)
