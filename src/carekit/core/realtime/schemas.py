"""UI event types: each has a schema (its fields and their types), checked when it is published.

The UI event protocol (STYLE.md "real-time events are a protocol"): a client loads state, then applies
events. Contexts declare their event types here at import time; `publish_on_commit` refuses an
undeclared type or a payload that does not match, so the protocol cannot drift silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

UI_EVENT_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


class UiEventError(ValueError):
    pass


@dataclass(frozen=True)
class UiEventType:
    name: str
    fields: Mapping[str, type | tuple[type, ...]]
    description: str = ""

    def check(self, data: Mapping[str, Any]) -> None:
        missing = set(self.fields) - set(data)
        extra = set(data) - set(self.fields)
        if missing or extra:
            raise UiEventError(
                f"{self.name}: fields do not match the schema "
                f"(missing {sorted(missing)}, extra {sorted(extra)})"
            )
        for key, kind in self.fields.items():
            value = data[key]
            # bool is an int subclass; a schema asking for int must not accept True
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise UiEventError(f"{self.name}.{key}: expected {kind}, got {type(value).__name__}")


_TYPES: dict[str, UiEventType] = {}


def ui_event_type(
    name: str, *, fields: Mapping[str, type | tuple[type, ...]], description: str = ""
) -> UiEventType:
    """Declare a UI event type (`<area>.<verb>`); declaring the same name twice must agree."""
    if not UI_EVENT_RE.match(name):
        raise UiEventError(f"UI event type {name!r} is not <area>.<verb>")
    spec = UiEventType(name, dict(fields), description)
    existing = _TYPES.get(name)
    if existing is not None and dict(existing.fields) != dict(spec.fields):
        raise UiEventError(f"UI event type {name!r} declared twice with different fields")
    _TYPES[name] = spec
    return spec


def get_type(name: str) -> UiEventType:
    try:
        return _TYPES[name]
    except KeyError:
        raise UiEventError(f"UI event type {name!r} is not declared") from None


def all_types() -> list[UiEventType]:
    return sorted(_TYPES.values(), key=lambda t: t.name)
