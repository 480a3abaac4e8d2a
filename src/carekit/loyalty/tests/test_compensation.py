"""compensation_grant: once per key, a per-customer cap across issuers, a budget; refusals recorded."""

from __future__ import annotations

import pytest
from django.db import transaction

from carekit.core.events import Actor
from carekit.core.models import Event
from carekit.loyalty import public
from carekit.loyalty.errors import InvalidAmount, KeyReused
from carekit.loyalty.models import Compensation, LedgerEntry, Program
from carekit.loyalty.services import coupons
from carekit.loyalty.tests import factories
from carekit.testing.transactions import call_inside_transaction

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

SLA = Actor.system("sla")


def _grant(ws, cid, key, issuer="sla", points=200, **kw):
    return call_inside_transaction(
        public.compensation_grant,
        workspace_id=ws.pk,
        customer_id=cid,
        reason="first reply late",
        idempotency_key=key,
        issuer=issuer,
        actor=SLA,
        points=points,
        **kw,
    )


def test_same_key_twice_grants_once(workspace):
    factories.program(workspace)
    cid = factories.customer_id()
    first = _grant(workspace, cid, "sla:conv1")
    again = _grant(workspace, cid, "sla:conv1")
    assert (first.status, again.status) == ("granted", "duplicate")
    assert again.compensation_id == first.compensation_id
    assert public.balances(workspace.pk, cid).available == 200
    assert Compensation.objects.count() == 1
    assert LedgerEntry.objects.filter(ref_type="compensation").count() == 1
    assert Program.objects.get(workspace=workspace).comp_budget_used == 200


def test_two_issuers_inside_cap_period_grant_once_and_record_refusal(workspace):
    factories.program(workspace, comp_cap_count=1, comp_cap_days=30)
    cid = factories.customer_id()
    sla = _grant(workspace, cid, "sla:conv1", issuer="sla")
    scenario = _grant(workspace, cid, "scenario:late-delivery:ord1", issuer="scenario")
    assert sla.status == "granted"
    assert (scenario.status, scenario.refusal) == ("refused", "cap")
    assert public.balances(workspace.pk, cid).available == 200
    refused = Compensation.objects.get(idempotency_key="scenario:late-delivery:ord1")
    assert (refused.status, refused.refusal, refused.issuer) == ("refused", "cap", "scenario")
    assert Event.objects.filter(type="loyalty.compensation.refused").count() == 1
    # The refusal is the answer for that key from now on.
    assert _grant(workspace, cid, "scenario:late-delivery:ord1", issuer="scenario").refusal == "cap"
    assert Program.objects.get(workspace=workspace).comp_budget_used == 200


def test_points_cap_counts_across_issuers(workspace):
    factories.program(workspace, comp_cap_count=5, comp_cap_points=300)
    cid = factories.customer_id()
    assert _grant(workspace, cid, "a", issuer="sla", points=200).status == "granted"
    assert _grant(workspace, cid, "b", issuer="agent", points=150).refusal == "cap"
    assert _grant(workspace, cid, "c", issuer="agent", points=100).status == "granted"
    assert public.balances(workspace.pk, cid).available == 300


def test_budget_refuses_when_spent(workspace):
    factories.program(workspace, comp_budget_points=500, comp_cap_count=10, comp_cap_points=10_000)
    results = [_grant(workspace, factories.customer_id(), f"k{i}", points=200) for i in range(3)]
    assert [r.status for r in results] == ["granted", "granted", "refused"]
    assert results[2].refusal == "budget"
    assert Program.objects.get(workspace=workspace).comp_budget_used == 400


def test_coupon_compensation_issues_one_code(workspace):
    factories.program(workspace)
    with transaction.atomic():
        coupons.campaign_create(
            actor=SLA, workspace_id=workspace.pk, name="Sorry 10%", kind="percent", value=10
        )
    cid = factories.customer_id()
    first = _grant(workspace, cid, "sla:c9", points=0, coupon_template="Sorry 10%")
    again = _grant(workspace, cid, "sla:c9", points=0, coupon_template="Sorry 10%")
    assert first.status == "granted"
    assert len(first.coupon_code or "") == 16
    assert again.coupon_code == first.coupon_code
    assert Event.objects.filter(type="loyalty.coupon.issued").count() == 1


def test_bad_input_changes_nothing(workspace):
    factories.program(workspace)
    cid = factories.customer_id()
    with pytest.raises(InvalidAmount):
        _grant(workspace, cid, "neg", points=-5)
    with pytest.raises(InvalidAmount):
        _grant(workspace, cid, "frac", points=1.5)
    _grant(workspace, cid, "k1")
    with pytest.raises(KeyReused):
        _grant(workspace, factories.customer_id(), "k1")
    assert Compensation.objects.count() == 1


def test_balances_of_unknown_customer_and_other_workspace(workspace, other_workspace):
    factories.program(workspace)
    cid = factories.customer_id()
    _grant(workspace, cid, "k1")
    assert public.balances(other_workspace.pk, cid) == public.Balances(0, 0, 0, 0)
    b = public.balances(workspace.pk, cid)
    assert (b.pending, b.available, b.held, b.debt) == (0, 200, 0, 0)


def test_agents_grant_within_their_role_limit_through_the_api(workspace):
    from carekit.testing.tenants import api_caller

    factories.program(workspace, agent_comp_max_points=300, comp_cap_count=5, comp_cap_points=5000)
    agent = api_caller(workspace, ["loyalty:compensate"])
    owner = api_caller(workspace, ["*"])
    cid = factories.customer_id()
    body = {"customer_id": cid, "reason": "late delivery", "idempotency_key": "a1", "points": 301}
    resp = agent.post("/loyalty/compensations", body)
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "over_role_limit"
    assert Compensation.objects.count() == 0
    assert agent.post("/loyalty/compensations", {**body, "points": 300}).json()["status"] == "granted"
    assert (
        owner.post("/loyalty/compensations", {**body, "idempotency_key": "o1"}).json()["status"] == "granted"
    )
    assert public.balances(workspace.pk, cid).available == 601
