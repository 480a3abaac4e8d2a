"""Demo data for the knowledge base: the shipped ru/en e-commerce articles, published."""

from __future__ import annotations

from carekit.demo.public import DemoContext
from carekit.knowledge.services import seed_default_articles


def load(ctx: DemoContext) -> None:
    seed_default_articles(actor=ctx.actor, workspace=ctx.shop)
