"""The shell's navigation: contexts register their entries; the shell shows those the user may open."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    key: str
    label: Promise | str
    url_name: str
    scope: str | None = None  # the permission needed to see the entry; None: every member
    order: int = 100


_ITEMS: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    _ITEMS[item.key] = item


def items() -> list[NavItem]:
    return sorted(_ITEMS.values(), key=lambda i: (i.order, i.key))


register(NavItem("dashboard", _("Dashboard"), "home", order=0))
register(NavItem("inbox", _("Inbox"), "conversations:inbox", scope="inbox:read", order=10))
register(NavItem("customers", _("Customers"), "customers:list", scope="customers:read", order=20))
register(NavItem("loyalty", _("Loyalty"), "loyalty:overview", scope="loyalty:read", order=30))
register(NavItem("scenarios", _("Scenarios"), "scenarios:list", scope="scenarios:read", order=40))
register(NavItem("supervisor", _("Supervisor"), "conversations:supervisor", scope="inbox:admin", order=11))
register(NavItem("audit", _("Audit log"), "ui:audit", scope="audit:read", order=900))
register(NavItem("dead_letters", _("Failed events"), "ui:dead_letters", scope="events:manage", order=910))
register(NavItem("webhooks", _("Webhooks"), "ui:webhooks", scope="webhooks:manage", order=920))
register(NavItem("bot", _("Bot"), "bot:measures", scope="bot:read", order=45))
register(NavItem("channels", _("Channels"), "channels:list", scope="channels:manage", order=930))
