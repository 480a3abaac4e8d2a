"""What a context's `demo.py` loader receives: the demo workspaces and people loaded so far.

`carekit demo` calls `load(ctx)` of every installed app's `demo` module in INSTALLED_APPS order
(accounts first, so the shop and its people exist), inside one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from carekit.core.events import Actor
from carekit.core.models import Workspace

DEMO_PASSWORD = "demo-wardrobe-2026"
SHOP_SLUG = "wardrobe"
OUTLET_SLUG = "wardrobe-outlet"


@dataclass
class DemoContext:
    actor: Actor
    workspaces: dict[str, Workspace] = field(default_factory=dict)  # by slug
    users: dict[str, Any] = field(default_factory=dict)  # accounts users by email
    members: dict[tuple[str, str], Any] = field(default_factory=dict)  # (slug, email) -> membership
    sign_in: list[str] = field(default_factory=list)  # emails worth showing at the end
    # What one loader leaves for the next (e.g. "customers": the demo customers' ids, in order).
    shared: dict[str, Any] = field(default_factory=dict)

    @property
    def shop(self) -> Workspace:
        return self.workspaces[SHOP_SLUG]
