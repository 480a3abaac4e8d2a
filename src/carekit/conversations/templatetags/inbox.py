from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, "") if mapping else ""


@register.filter
def capped(n: int, cap: int = 1000) -> str:
    return f"{cap}+" if n > cap else str(n)
