"""Every API route has a case, and every route keeps tenants apart and checks its scope."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import carekit
from carekit.testing.routes import CASES, RouteCase
from carekit.testing.tenants import api_caller, make_workspace
from config.api import api

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _load_cases() -> None:
    for mod in pkgutil.walk_packages(carekit.__path__, "carekit."):
        if mod.name.endswith(".tests.routes"):
            importlib.import_module(mod.name)


def _routes() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    out = []
    for path, ops in schema["paths"].items():
        for method in ops:
            out.append((method.upper(), path.removeprefix("/api/v1")))
    return sorted(out)


_load_cases()
ROUTES = _routes()


def test_every_route_has_a_case():
    missing = [r for r in ROUTES if r not in CASES]
    stale = [k for k in CASES if k not in ROUTES]
    assert missing == [], f"API routes without a route case (add one in <context>/tests/routes.py): {missing}"
    assert stale == [], f"route cases for routes that do not exist: {stale}"


def _case_ids() -> list[str]:
    return [f"{m} {p}" for m, p in ROUTES]


@pytest.fixture(params=ROUTES, ids=_case_ids())
def case(request) -> RouteCase:
    if request.param not in CASES:
        pytest.fail(f"no route case for {request.param}")
    return CASES[request.param]


def test_route_keeps_workspaces_apart(case: RouteCase):
    own, other = make_workspace(), make_workspace()
    call = case.build(own, other)
    caller = api_caller(own, ["*"])
    resp = caller.call(case.method, call.path, call.body)
    if call.kind == "foreign":
        assert resp.status_code == 404, (case.method, case.path, resp.status_code, resp.content[:300])
        assert resp.json()["error"]["code"] == "not_found"
    elif call.kind == "list":
        assert resp.status_code == 200, resp.content[:300]
        ids = {call.item_id(item) for item in resp.json()[call.items_key]}
        assert call.own_ids, "a list case must create rows of its own workspace"
        assert call.own_ids <= ids, "the list misses the caller's own rows"
        assert not (ids & call.foreign_ids), "the list leaks another workspace's rows"
    else:
        assert resp.status_code < 400, resp.content[:300]


def test_route_refuses_token_without_scope(case: RouteCase):
    own, other = make_workspace(), make_workspace()
    call = case.build(own, other)
    area = case.scope.split(":")[0]
    unrelated = "accounts:read" if area != "accounts" else "audit:read"
    caller = api_caller(own, [unrelated])
    resp = caller.call(case.method, call.path, call.body)
    assert resp.status_code == 403, (case.method, case.path, resp.status_code)
    assert resp.json()["error"]["code"] == "forbidden"
