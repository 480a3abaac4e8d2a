"""The demo shop's web chat channel (`carekit demo`), served on /demo/shop/."""

from __future__ import annotations

from carekit.channels import selectors, services
from carekit.channels.models import Channel
from carekit.core.models import Workspace
from carekit.demo.public import SHOP_SLUG, DemoContext

NAME = "Website chat"


def load(ctx: DemoContext) -> None:
    services.channel_create(
        actor=ctx.actor,
        workspace=ctx.shop,
        kind="webchat",
        name=NAME,
        config={"title": "Wardrobe", "color": "#7c3aed"},
    )


def demo_channel() -> Channel | None:
    ws = Workspace.objects.filter(slug=SHOP_SLUG).first()
    if ws is None:
        return None
    return selectors.channels_of(ws.pk, kind="webchat").filter(name=NAME, is_active=True).first()
