"""The demo shop's people: fixed names, emails, roles and teams, so every load looks the same."""

from __future__ import annotations

from dataclasses import dataclass, field

from carekit.accounts import services
from carekit.accounts.enums import Role
from carekit.accounts.models import Membership, User
from carekit.core.events import Actor
from carekit.core.models import Workspace

DEMO_PASSWORD = "demo-wardrobe-2026"
SHOP_SLUG = "wardrobe"
OUTLET_SLUG = "wardrobe-outlet"

# (email, full name, role in the shop, role in the outlet or None, language)
PEOPLE: list[tuple[str, str, Role, Role | None, str]] = [
    ("anna.volkova@wardrobe.demo", "Anna Volkova", Role.OWNER, Role.OWNER, "ru"),
    ("ivan.petrov@wardrobe.demo", "Ivan Petrov", Role.ADMIN, None, "ru"),
    ("olga.smirnova@wardrobe.demo", "Olga Smirnova", Role.SUPERVISOR, Role.SUPERVISOR, "ru"),
    ("maria.sokolova@wardrobe.demo", "Maria Sokolova", Role.AGENT, Role.AGENT, "ru"),
    ("dmitry.orlov@wardrobe.demo", "Dmitry Orlov", Role.AGENT, None, "ru"),
    ("sergey.kuznetsov@wardrobe.demo", "Sergey Kuznetsov", Role.AGENT, None, "ru"),
    ("kate.miller@wardrobe.demo", "Kate Miller", Role.AGENT, Role.AGENT, "en"),
    ("elena.popova@wardrobe.demo", "Elena Popova", Role.MARKETER, None, "ru"),
    ("pavel.morozov@wardrobe.demo", "Pavel Morozov", Role.ANALYST, None, "ru"),
]

TEAMS: dict[str, list[str]] = {
    "Delivery and tracking": ["maria.sokolova@wardrobe.demo", "dmitry.orlov@wardrobe.demo"],
    "Returns and exchanges": ["sergey.kuznetsov@wardrobe.demo", "kate.miller@wardrobe.demo"],
    "VIP customers": ["olga.smirnova@wardrobe.demo", "maria.sokolova@wardrobe.demo"],
}
OUTLET_TEAMS: dict[str, list[str]] = {
    "Outlet support": ["maria.sokolova@wardrobe.demo", "kate.miller@wardrobe.demo"]
}


@dataclass
class DemoContext:
    """What later loaders build on: the workspaces, users and members by email, the acting system actor."""

    actor: Actor
    shop: Workspace
    outlet: Workspace
    users: dict[str, User] = field(default_factory=dict)
    members: dict[tuple[str, str], Membership] = field(default_factory=dict)  # (workspace slug, email)


def load_people(actor: Actor) -> DemoContext:
    users: dict[str, User] = {}
    for email, name, _shop_role, _outlet_role, language in PEOPLE:
        users[email] = services.user_create(
            actor=actor, email=email, password=DEMO_PASSWORD, full_name=name, language=language
        )
    owner = users[PEOPLE[0][0]]
    shop = services.workspace_create(actor=actor, name="Wardrobe Online Shop", owner=owner, slug=SHOP_SLUG)
    outlet = services.workspace_create(actor=actor, name="Wardrobe Outlet", owner=owner, slug=OUTLET_SLUG)
    ctx = DemoContext(actor=actor, shop=shop, outlet=outlet, users=users)
    for ws in (shop, outlet):
        ctx.members[(ws.slug, owner.email)] = Membership.objects.get(workspace=ws, user=owner)
    for email, _name, shop_role, outlet_role, _lang in PEOPLE[1:]:
        for ws, role in ((shop, shop_role), (outlet, outlet_role)):
            if role is not None:
                ctx.members[(ws.slug, email)] = services.member_add(
                    actor=actor, workspace=ws, user=users[email], role=role
                )
    for ws, teams in ((shop, TEAMS), (outlet, OUTLET_TEAMS)):
        for team_name, emails in teams.items():
            team = services.team_create(actor=actor, workspace=ws, name=team_name)
            for email in emails:
                services.team_add_member(actor=actor, team=team, membership=ctx.members[(ws.slug, email)])
    return ctx
