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


def demo_channel(public_key: str = "") -> Channel | None:
    """The demo shop's widget channel, or another web chat channel of the demo shop named by its key."""
    ws = Workspace.objects.filter(slug=SHOP_SLUG).first()
    if ws is None:
        return None
    qs = selectors.channels_of(ws.pk, kind="webchat").filter(is_active=True)
    return (qs.filter(public_key=public_key) if public_key else qs.filter(name=NAME)).first()
