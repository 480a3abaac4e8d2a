"""Demo data for accounts: the clothing shop's people, roles and teams (fixed, so every load matches)."""

from __future__ import annotations

from carekit.accounts import services
from carekit.accounts.enums import Role
from carekit.accounts.models import Membership
from carekit.demo.public import DEMO_PASSWORD, OUTLET_SLUG, SHOP_SLUG, DemoContext

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

TEAMS: dict[str, dict[str, list[str]]] = {
    SHOP_SLUG: {
        "Delivery and tracking": ["maria.sokolova@wardrobe.demo", "dmitry.orlov@wardrobe.demo"],
        "Returns and exchanges": ["sergey.kuznetsov@wardrobe.demo", "kate.miller@wardrobe.demo"],
        "VIP customers": ["olga.smirnova@wardrobe.demo", "maria.sokolova@wardrobe.demo"],
    },
    OUTLET_SLUG: {"Outlet support": ["maria.sokolova@wardrobe.demo", "kate.miller@wardrobe.demo"]},
}


def load(ctx: DemoContext) -> None:
    actor = ctx.actor
    for email, name, _shop_role, _outlet_role, language in PEOPLE:
        ctx.users[email] = services.user_create(
            actor=actor, email=email, password=DEMO_PASSWORD, full_name=name, language=language
        )
    owner = ctx.users[PEOPLE[0][0]]
    for slug, name in ((SHOP_SLUG, "Wardrobe Online Shop"), (OUTLET_SLUG, "Wardrobe Outlet")):
        ws = services.workspace_create(actor=actor, name=name, owner=owner, slug=slug)
        ctx.workspaces[slug] = ws
        ctx.members[(slug, owner.email)] = Membership.objects.get(workspace=ws, user=owner)
    for email, _name, shop_role, outlet_role, _lang in PEOPLE[1:]:
        for slug, role in ((SHOP_SLUG, shop_role), (OUTLET_SLUG, outlet_role)):
            if role is not None:
                ctx.members[(slug, email)] = services.member_add(
                    actor=actor, workspace=ctx.workspaces[slug], user=ctx.users[email], role=role
                )
    for slug, teams in TEAMS.items():
        for team_name, emails in teams.items():
            team = services.team_create(actor=actor, workspace=ctx.workspaces[slug], name=team_name)
            for email in emails:
                services.team_add_member(actor=actor, team=team, membership=ctx.members[(slug, email)])
    ctx.sign_in += [PEOPLE[0][0], PEOPLE[3][0]]
