"""Routing: rules, capacity, least load, round robin, presence, refilling freed slots."""

from __future__ import annotations

import pytest
from django.db import transaction

from carekit.accounts import services as account_services
from carekit.conversations import lifecycle, routing
from carekit.conversations.enums import ConversationStatus, Presence
from carekit.conversations.models import Conversation
from carekit.conversations.tests.factories import conversation
from carekit.testing.tenants import SYSTEM, add_member

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _team_of(ws, members, name="Support"):
    with transaction.atomic():
        team = account_services.team_create(actor=SYSTEM, workspace=ws, name=name)
        for m in members:
            account_services.team_add_member(actor=SYSTEM, team=team, membership=m)
    return team


def _online(ws, member, capacity=2, **kw):
    with transaction.atomic():
        return routing.presence_set(
            actor=SYSTEM,
            workspace=ws,
            member_id=member.public_id,
            presence=Presence.ONLINE,
            capacity=capacity,
            **kw,
        )


def _loads(ws):
    counts: dict[str, int] = {}
    for c in Conversation.objects.filter(workspace=ws, status=ConversationStatus.OPEN):
        counts[c.assignee_id] = counts.get(c.assignee_id, 0) + 1
    return counts


def test_three_agents_at_capacity_two_get_six_conversations_and_the_seventh_waits(workspace):
    agents = [add_member(workspace) for _ in range(3)]
    team = _team_of(workspace, agents)
    with transaction.atomic():
        routing.rule_create(actor=SYSTEM, workspace=workspace, name="all", team_id=team.public_id)
    for a in agents:
        _online(workspace, a, capacity=2)
    convs = [conversation(workspace) for _ in range(6)]
    assert _loads(workspace) == {a.public_id: 2 for a in agents}
    assert all(Conversation.objects.get(pk=c.pk).team_id == team.public_id for c in convs)

    seventh = conversation(workspace)
    seventh.refresh_from_db()
    assert seventh.assignee_id == ""

    done = Conversation.objects.get(pk=convs[0].pk)
    freed = done.assignee_id
    with transaction.atomic():
        lifecycle.conversation_resolve(actor=SYSTEM, conversation=done)
    seventh.refresh_from_db()
    assert seventh.assignee_id == freed
    assert _loads(workspace) == {a.public_id: 2 for a in agents}


def test_least_load_spreads_evenly_before_stacking(workspace):
    a, b = add_member(workspace), add_member(workspace)
    _online(workspace, a, capacity=5)
    _online(workspace, b, capacity=5)
    for _ in range(4):
        conversation(workspace)
    assert _loads(workspace) == {a.public_id: 2, b.public_id: 2}


def test_round_robin_takes_turns(workspace):
    agents = [add_member(workspace) for _ in range(3)]
    team = _team_of(workspace, agents)
    with transaction.atomic():
        routing.rule_create(actor=SYSTEM, workspace=workspace, name="all", team_id=team.public_id)
        routing.team_routing_set(
            actor=SYSTEM, workspace=workspace, team_id=team.public_id, strategy="round_robin"
        )
    for a in agents:
        _online(workspace, a, capacity=10)
    order = [Conversation.objects.get(pk=conversation(workspace).pk).assignee_id for _ in range(6)]
    assert order[:3] == order[3:]
    assert sorted(order[:3]) == sorted(a.public_id for a in agents)


def test_offline_and_away_agents_get_nothing_and_going_online_pulls_the_queue(workspace):
    a = add_member(workspace)
    with transaction.atomic():
        routing.presence_set(actor=SYSTEM, workspace=workspace, member_id=a.public_id, presence=Presence.AWAY)
    c = conversation(workspace)
    assert Conversation.objects.get(pk=c.pk).assignee_id == ""
    _online(workspace, a, capacity=1)
    assert Conversation.objects.get(pk=c.pk).assignee_id == a.public_id


def test_rules_route_by_keyword_and_language_to_team_and_priority(workspace):
    a, b = add_member(workspace), add_member(workspace)
    billing = _team_of(workspace, [a], "Billing")
    general = _team_of(workspace, [b], "General")
    with transaction.atomic():
        routing.rule_create(
            actor=SYSTEM,
            workspace=workspace,
            name="refunds",
            position=1,
            keywords=["refund"],
            team_id=billing.public_id,
            priority="high",
        )
        routing.rule_create(
            actor=SYSTEM, workspace=workspace, name="rest", position=2, team_id=general.public_id
        )
    _online(workspace, a)
    _online(workspace, b)
    c1 = Conversation.objects.get(pk=conversation(workspace, text="I want a REFUND please").pk)
    c2 = Conversation.objects.get(pk=conversation(workspace, text="Where is my parcel?").pk)
    assert (c1.team_id, c1.priority, c1.assignee_id) == (billing.public_id, "high", a.public_id)
    assert (c2.team_id, c2.priority, c2.assignee_id) == (general.public_id, "normal", b.public_id)


def test_per_channel_capacity(workspace):
    a = add_member(workspace)
    _online(workspace, a, capacity=10, channel_capacity={"api": 1})
    c1, c2 = conversation(workspace), conversation(workspace)
    assert Conversation.objects.get(pk=c1.pk).assignee_id == a.public_id
    assert Conversation.objects.get(pk=c2.pk).assignee_id == ""


def test_auto_away_after_idle_minutes(workspace):
    from datetime import timedelta

    from django.utils import timezone

    a = add_member(workspace)
    _online(workspace, a)
    with transaction.atomic():
        n = routing.agents_auto_away(actor=SYSTEM, at=timezone.now() + timedelta(minutes=16))
    assert n == 1
    assert routing.AgentState.objects.get(member_id=a.public_id).presence == Presence.AWAY


def test_a_rule_on_tags_matches_the_customers_tags_too(workspace):
    from carekit.customers.tests.factories import make_customer

    vip_team = _team_of(workspace, [], name="VIP")
    with transaction.atomic():
        routing.rule_create(
            actor=SYSTEM,
            workspace=workspace,
            name="vip",
            tags=["vip"],
            team_id=vip_team.public_id,
            priority="high",
        )
    vip = make_customer(workspace, first_name="Vera", tags=["vip"])
    plain = make_customer(workspace, first_name="Petr")
    routed = conversation(workspace, customer_id=vip.public_id)
    other = conversation(workspace, customer_id=plain.public_id)
    routed.refresh_from_db()
    other.refresh_from_db()
    assert (routed.team_id, routed.priority) == (vip_team.public_id, "high")
    assert (other.team_id, other.priority) == ("", "normal")


def test_a_rule_that_requires_a_skill_assigns_only_agents_with_it(workspace):
    expert, novice = add_member(workspace), add_member(workspace)
    team = _team_of(workspace, [expert, novice])
    with transaction.atomic():
        routing.rule_create(
            actor=SYSTEM,
            workspace=workspace,
            name="returns",
            keywords=["refund"],
            team_id=team.public_id,
            skill="returns",
            position=0,
        )
        routing.rule_create(
            actor=SYSTEM, workspace=workspace, name="rest", team_id=team.public_id, position=1
        )
    _online(workspace, expert, capacity=2, skills=["returns", "english"])
    _online(workspace, novice, capacity=5)

    needs = [conversation(workspace, text="I want a refund") for _ in range(3)]
    plain = conversation(workspace, text="Where is my parcel?")
    rows = {c.pk: Conversation.objects.get(pk=c.pk) for c in [*needs, plain]}
    assert [rows[c.pk].required_skill for c in needs] == ["returns"] * 3
    # the expert takes two (its capacity); the third waits although the novice has room
    assert [rows[c.pk].assignee_id for c in needs] == [expert.public_id, expert.public_id, ""]
    assert rows[plain.pk].assignee_id == novice.public_id

    with transaction.atomic():
        lifecycle.conversation_resolve(actor=SYSTEM, conversation=rows[needs[0].pk])
    assert Conversation.objects.get(pk=needs[2].pk).assignee_id == expert.public_id
