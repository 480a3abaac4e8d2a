"""The demo loader: deterministic content, idempotent, and usable for sign-in."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from carekit.accounts import public as accounts
from carekit.core.models import Event, Workspace
from carekit.demo.public import DEMO_PASSWORD, OUTLET_SLUG, SHOP_SLUG


def _snapshot() -> dict:
    out = {}
    for ws in Workspace.objects.filter(slug__in=[SHOP_SLUG, OUTLET_SLUG]).order_by("slug"):
        agents = sorted((a.display_name, a.role) for a in accounts.agents(ws.pk))
        names = {a.member_id: a.display_name for a in accounts.agents(ws.pk)}
        teams = sorted((t.name, tuple(sorted(names[m] for m in t.member_ids))) for t in accounts.teams(ws.pk))
        out[ws.slug] = {"name": ws.name, "agents": agents, "teams": teams, **_contents(ws)}
    return out


def _contents(ws) -> dict:
    """What the other contexts' loaders put in: people's customers, orders, the inbox, the programme."""
    from carekit.conversations.models import CannedResponse, Conversation, Message, SlaPolicy
    from carekit.customers.models import Customer, Order
    from carekit.knowledge.models import Article
    from carekit.loyalty.models import Rule, Tier

    return {
        "customers": Customer.objects.filter(workspace=ws).count(),
        "orders": sorted(Order.objects.filter(workspace=ws).values_list("external_id", "status")),
        "conversations": sorted(Conversation.objects.filter(workspace=ws).values_list("subject", "status")),
        "messages": Message.objects.filter(workspace=ws).count(),
        "canned": CannedResponse.objects.filter(workspace=ws).count(),
        "sla": list(
            SlaPolicy.objects.filter(workspace=ws).values_list("first_response_minutes", "compensate_points")
        ),
        "articles": Article.objects.filter(workspace=ws, status="published").count(),
        "rules": sorted(Rule.objects.filter(workspace=ws).values_list("kind", flat=True)),
        "tiers": sorted(Tier.objects.filter(workspace=ws).values_list("name", flat=True)),
    }


@pytest.mark.sqlite
def test_demo_loads_the_shop_once(db, client):
    out = io.StringIO()
    call_command("demo", stdout=out)
    assert "Demo shop loaded" in out.getvalue()
    first = _snapshot()
    assert first["wardrobe"]["name"] == "Wardrobe Online Shop"
    assert len(first["wardrobe"]["agents"]) == 9
    assert len(first["wardrobe-outlet"]["agents"]) == 4
    shop = first["wardrobe"]
    assert (shop["customers"], len(shop["orders"]), len(shop["conversations"])) == (10, 12, 10)
    assert ("40234", "shipped") in shop["orders"]
    assert [s for s, st in shop["conversations"] if st == "open"] == [
        "Cardigan size",
        "Где мой заказ 40234?",
        "Кроссовки SN-077",
    ]
    assert shop["messages"] == 10 + 7  # each thread's first message, and seven answers
    assert (shop["canned"], shop["sla"], shop["tiers"]) == (6, [(5, 200)], ["Gold", "Silver"])
    assert shop["articles"] > 0
    assert len(shop["rules"]) == 5
    assert [t[0] for t in first["wardrobe"]["teams"]] == [
        "Delivery and tracking",
        "Returns and exchanges",
        "VIP customers",
    ]
    events = Event.objects.count()
    again = io.StringIO()
    call_command("demo", stdout=again)
    assert again.getvalue().strip() == "Demo data is already loaded."
    assert _snapshot() == first
    assert Event.objects.count() == events
    resp = client.post("/login/", {"email": "maria.sokolova@wardrobe.demo", "password": DEMO_PASSWORD})
    assert resp.status_code == 302
