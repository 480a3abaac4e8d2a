"""Route fixtures for the API enumeration test (tests/test_routes.py).

Every API route needs a registered case. A case builder receives two workspaces, `own` (the caller's)
and `other`, creates whatever rows it needs, and returns the request to make as the `own` caller:

- `kind="foreign"`: the path or the body carries ids from `other`; the answer must be 404.
- `kind="list"`: a list endpoint; no item id in the answer may be one of `foreign_ids`, while
  `own_ids` must all appear (so the check cannot pass on an empty list).
- `kind="plain"`: no ids to cross (e.g. a create with only new data); only the scope check applies.

Every case is also called with a token that lacks the route's scope and must get 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from carekit.core.models import Workspace


@dataclass
class RouteCall:
    path: str
    body: Any = None
    kind: Literal["foreign", "list", "plain"] = "foreign"
    foreign_ids: set[str] = field(default_factory=set)
    own_ids: set[str] = field(default_factory=set)
    items_key: str = "items"
    item_id: Callable[[dict[str, Any]], str] = lambda item: item["id"]


@dataclass(frozen=True)
class RouteCase:
    method: str
    path: str  # the route's template as ninja declares it, e.g. /events/{event_id}
    scope: str
    build: Callable[[Workspace, Workspace], RouteCall]


CASES: dict[tuple[str, str], RouteCase] = {}


def route_case(method: str, path: str, *, scope: str):
    def decorator(build: Callable[[Workspace, Workspace], RouteCall]):
        key = (method.upper(), path)
        if key in CASES:
            raise ValueError(f"two cases for {key}")
        CASES[key] = RouteCase(method.upper(), path, scope, build)
        return build

    return decorator
